/*
 * The pure half of placing provider orders for a new order. Key names and shapes are the
 * original's (spec-replay §1.10), because the payload written here is the automation log
 * every later replay, refill and listing reads.
 */
#include "core/placement.h"

#include <ctype.h>
#include <string.h>

#include "base/sb.h"
#include "core/endpoint.h"
#include "core/payload.h"
#include "core/template.h"

static int blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

json_t *placement_addons(const json_t *selected_options)
{
    json_t *out = json_array();
    const json_t *addons =
        json_is_object(selected_options) ? json_object_get(selected_options, "addOns") : NULL;
    size_t i;
    json_t *a;
    if (!json_is_array(addons))
        return out;
    json_array_foreach (addons, i, a) {
        const json_t *mode = json_object_get(a, "pricingMode");
        const json_t *sid = json_object_get(a, "serviceId");
        if (json_is_object(a) && json_is_string(mode) &&
            strcmp(json_string_value(mode), "serviceOverride") == 0 && json_is_string(sid) &&
            !blank(json_string_value(sid)))
            json_array_append(out, a);
    }
    return out;
}

/* Sets key to a copy of v unless v is absent or null. */
static void set_present(json_t *obj, const char *key, const json_t *v)
{
    if (v && !json_is_null(v))
        json_object_set_new(obj, key, json_deep_copy(v));
}

json_t *placement_service_descriptor(const json_t *row)
{
    static const char *const required[][2] = {
        {"id", "id"},         {"providerId", "provider_id"}, {"name", "name"},
        {"action", "action"}, {"status", "status"},          {"healthStatus", "health_status"}};
    static const char *const optional[][2] = {{"category", "category"},
                                              {"defaultCurrency", "default_currency"},
                                              {"allowedRegions", "allowed_regions"},
                                              {"metadata", "metadata_json"},
                                              {"rateLimitPerMinute", "rate_limit_per_minute"},
                                              {"healthPayload", "health_payload"}};
    json_t *d = json_object();
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const json_t *v = json_object_get(row, required[i][1]);
        json_object_set_new(d, required[i][0], v ? json_deep_copy(v) : json_null());
    }
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
        set_present(d, optional[i][0], json_object_get(row, optional[i][1]));
    return d;
}

json_t *placement_payload(const char *order_id, const json_t *item, const json_t *addon,
                          const json_t *service_descriptor)
{
    json_t *p = json_object();
    json_object_set_new(p, "orderId", json_string(order_id));
    set_present(p, "orderItemId", json_object_get(item, "id"));
    set_present(p, "productId", json_object_get(item, "product_id"));
    const json_t *attrs = json_object_get(item, "attributes");
    if (json_is_object(attrs))
        set_present(p, "productSlug", json_object_get(attrs, "productSlug"));
    set_present(p, "addOnId", json_object_get(addon, "id"));
    set_present(p, "pricingMode", json_object_get(addon, "pricingMode"));
    json_t *amount = payload_to_float(json_object_get(addon, "pricingAmount"));
    set_present(p, "requestedAmount", amount);
    json_decref(amount);
    json_t *delta = payload_to_float(json_object_get(addon, "priceDelta"));
    set_present(p, "fallbackDelta", delta);
    json_decref(delta);
    set_present(p, "service", service_descriptor);
    const json_t *override = json_object_get(addon, "serviceProviderId");
    if (!json_is_string(override))
        override = json_object_get(addon, "providerId");
    if (json_is_string(override))
        set_present(p, "serviceProviderIdOverride", override);
    static const char *const copied[] = {"providerCostAmount", "providerCostCurrency",
                                         "marginTarget", "fulfillmentMode"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        set_present(p, copied[i], json_object_get(addon, copied[i]));
    const json_t *tmpl = json_object_get(addon, "payloadTemplate");
    if (json_is_object(tmpl))
        set_present(p, "payloadTemplate", tmpl);
    set_present(p, "dripPerDay", json_object_get(addon, "dripPerDay"));
    set_present(p, "previewQuantity", json_object_get(addon, "previewQuantity"));
    const json_t *rules = json_object_get(addon, "serviceRules");
    if (json_is_array(rules))
        set_present(p, "serviceRules", rules);
    return p;
}

static json_t *copy_or_null(const json_t *v)
{
    return v ? json_deep_copy(v) : json_null();
}

json_t *placement_context(const json_t *provider_metadata, const json_t *payload,
                          const char *provider_id)
{
    json_t *ctx = endpoint_metadata_context(provider_metadata);
    static const char *const keys[] = {"requestedAmount", "fallbackDelta", "orderId",
                                       "orderItemId",     "productId",     "serviceId"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(payload, keys[i]);
        if (i == 5) { /* serviceId: the service's id, from the descriptor */
            const json_t *svc = json_object_get(payload, "service");
            v = json_is_object(svc) ? json_object_get(svc, "id") : NULL;
        }
        json_object_set_new(ctx, keys[i], copy_or_null(v));
    }
    const json_t *override = json_object_get(payload, "serviceProviderIdOverride");
    json_object_set_new(ctx, "providerId",
                        json_is_string(override) ? json_deep_copy(override)
                                                 : json_string(provider_id ? provider_id : ""));
    static const char *const more[] = {"pricingMode", "dripPerDay", "previewQuantity",
                                       "serviceRules"};
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        json_object_set_new(ctx, more[i], copy_or_null(json_object_get(payload, more[i])));
    const json_t *tmpl = json_object_get(payload, "payloadTemplate");
    if (json_is_object(tmpl))
        json_object_set_new(ctx, "payloadTemplate", json_deep_copy(tmpl));
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)payload, k, v) {
        if ((json_is_string(v) || json_is_number(v) || json_is_boolean(v)) &&
            !json_object_get(ctx, k))
            json_object_set_new(ctx, k, json_deep_copy(v));
    }
    return ctx;
}

/* str() of a string or a number (not a boolean) that is not empty; NULL otherwise. */
static char *id_text(const json_t *v)
{
    if (!v || !(json_is_string(v) || json_is_integer(v) || json_is_real(v)))
        return NULL;
    struct sb sb = SB_INIT;
    template_pystr(&sb, v);
    if (sb.len == 0) {
        sb_release(&sb);
        return NULL;
    }
    return sb_detach(&sb);
}

char *placement_remote_id(const json_t *endpoint, const json_t *parsed)
{
    const json_t *resp = json_object_get(endpoint, "response");
    const json_t *path = json_is_object(resp) ? json_object_get(resp, "providerOrderIdPath") : NULL;
    if (json_is_string(path) && parsed) {
        char *id = id_text(json_path_get(parsed, json_string_value(path)));
        if (id)
            return id;
    }
    static const char *const keys[] = {"providerOrderId", "orderId", "order_id", "id"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *id = id_text(json_object_get(parsed, keys[i]));
        if (id)
            return id;
    }
    return NULL;
}
