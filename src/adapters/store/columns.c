/* The column descriptions of columns.h and the assembly of catalog rows. */
#include "adapters/store/columns.h"

#include <string.h>

const struct col provider_cols[] = {
    {"id", COL_TEXT},
    {"name", COL_TEXT},
    {"description", COL_TEXT},
    {"base_url", COL_TEXT},
    {"allowed_regions", COL_JSON},
    {"credentials", COL_JSON},
    {"metadata_json", COL_JSON},
    {"rate_limit_per_minute", COL_INT},
    {"status", COL_TEXT},
    {"health_status", COL_TEXT},
    {"last_health_check_at", COL_TIME},
    {"health_payload", COL_JSON},
    {"created_at", COL_TIME},
    {"updated_at", COL_TIME},
    {NULL, COL_TEXT},
};

const struct col service_cols[] = {
    {"id", COL_TEXT},
    {"provider_id", COL_TEXT},
    {"name", COL_TEXT},
    {"action", COL_TEXT},
    {"category", COL_TEXT},
    {"default_currency", COL_TEXT},
    {"allowed_regions", COL_JSON},
    {"credentials", COL_JSON},
    {"metadata_json", COL_JSON},
    {"health_payload", COL_JSON},
    {"rate_limit_per_minute", COL_INT},
    {"status", COL_TEXT},
    {"health_status", COL_TEXT},
    {"last_health_check_at", COL_TIME},
    {"created_at", COL_TIME},
    {"updated_at", COL_TIME},
    {NULL, COL_TEXT},
};

const struct col balance_cols[] = {
    {"id", COL_TEXT},         {"provider_id", COL_TEXT}, {"balance_amount", COL_NUM},
    {"currency", COL_TEXT},   {"payload", COL_JSON},     {"retrieved_at", COL_TIME},
    {"created_at", COL_TIME}, {"updated_at", COL_TIME},  {NULL, COL_TEXT},
};

const struct col context_cols[] = {
    {"platform_id", COL_TEXT},   {"label", COL_TEXT},        {"handle", COL_TEXT},
    {"platform_type", COL_TEXT}, {"last_seen_at", COL_TIME}, {NULL, COL_TEXT},
};

const struct col po_cols[] = {
    {"id", COL_UUID},
    {"order_id", COL_UUID},
    {"order_item_id", COL_UUID},
    {"provider_id", COL_TEXT},
    {"provider_name", COL_TEXT},
    {"service_id", COL_TEXT},
    {"service_action", COL_TEXT},
    {"amount", COL_NUM},
    {"currency", COL_TEXT},
    {"payload", COL_JSON},
    {"created_at", COL_TIME},
    {"updated_at", COL_TIME},
    {NULL, COL_TEXT},
};

const struct col order_cols[] = {
    {"id", COL_UUID},     {"order_number", COL_TEXT}, {"status", COL_TEXT},
    {"source", COL_TEXT}, {"currency", COL_TEXT},     {"subtotal", COL_NUM},
    {"tax", COL_NUM},     {"total", COL_NUM},         {"user_id", COL_UUID},
    {"notes", COL_TEXT},  {"created_at", COL_TIME},   {"updated_at", COL_TIME},
    {NULL, COL_TEXT},
};

const struct col item_cols[] = {
    {"id", COL_UUID},
    {"order_id", COL_UUID},
    {"product_id", COL_UUID},
    {"product_title", COL_TEXT},
    {"quantity", COL_INT},
    {"unit_price", COL_NUM},
    {"total_price", COL_NUM},
    {"selected_options", COL_JSON},
    {"attributes", COL_JSON},
    {"platform_context", COL_JSON},
    {"baseline_metrics", COL_JSON},
    {"delivery_snapshots", COL_JSON},
    {"target_metrics", COL_JSON},
    {"customer_social_account_id", COL_UUID},
    {"created_at", COL_TIME},
    {"updated_at", COL_TIME},
    {NULL, COL_TEXT},
};

const struct col event_cols[] = {
    {"id", COL_UUID},          {"order_id", COL_UUID},   {"event_type", COL_TEXT},
    {"actor_type", COL_TEXT},  {"actor_id", COL_TEXT},   {"actor_label", COL_TEXT},
    {"from_status", COL_TEXT}, {"to_status", COL_TEXT},  {"notes", COL_TEXT},
    {"metadata", COL_JSON},    {"created_at", COL_TIME}, {NULL, COL_TEXT},
};

const struct col *col_find(const struct col *cols, const char *name)
{
    for (; cols->name; cols++)
        if (strcmp(cols->name, name) == 0)
            return cols;
    return NULL;
}

void catalog_attach(json_t *providers, json_t *services, json_t *balances)
{
    json_t *by_id = json_object(), *p, *r;
    size_t i;

    json_array_foreach (providers, i, p) {
        json_object_set_new(p, "services", json_array());
        json_object_set_new(p, "balance", json_null());
        json_object_set(by_id, json_string_value(json_object_get(p, "id")), p);
    }
    json_array_foreach (services, i, r) {
        const char *pid = json_string_value(json_object_get(r, "provider_id"));
        json_t *owner = pid ? json_object_get(by_id, pid) : NULL;
        if (owner)
            json_array_append(json_object_get(owner, "services"), r);
    }
    json_array_foreach (balances, i, r) {
        const char *pid = json_string_value(json_object_get(r, "provider_id"));
        json_t *owner = pid ? json_object_get(by_id, pid) : NULL;
        if (owner)
            json_object_set(owner, "balance", r);
    }
    json_decref(by_id);
}
