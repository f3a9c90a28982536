/*
 * GET /automation/snapshot (spec-api-ui §4.16, §5.8): the telemetry of every provider's latest
 * provider orders, providers by name, and their sum. The counting is core's (core/snapshot.c);
 * this file reads the catalog and the orders and shapes the answer.
 */
#include <stdlib.h>

#include "app/api_routes.h"
#include "app/validate.h"
#include "base/log.h"
#include "core/snapshot.h"

void automation_snapshot(void *ctx, const struct http_req *req, const struct route_params *p,
                         struct http_reply *rep)
{
    (void)p;
    struct api *api = ctx;
    long limit = 25;
    json_t *errors = json_array();
    if (validate_query_int(req, "limitPerProvider", 1, 250, &limit, errors) < 0) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    json_t *providers = NULL;
    if (s->ops->providers_list(s, &providers) != 0) {
        log_msgf(LOG_ERROR, "snapshot: cannot list providers: %s", s->ops->last_error(s));
        reply_detail(rep, 500, "Internal Server Error");
        api_store_release(api, s);
        return;
    }
    json_t *agg = snapshot_telemetry_new(), *list = json_array();
    size_t i;
    json_t *prov;
    int failed = 0;
    json_array_foreach (providers, i, prov) {
        const char *id = json_string_value(json_object_get(prov, "id"));
        json_t *rows = NULL;
        if (!id)
            continue;
        if (s->ops->provider_orders_list(s, id, (size_t)limit, &rows) != 0) {
            log_msgf(LOG_ERROR, "snapshot: provider orders of %s: %s", id, s->ops->last_error(s));
            failed = 1;
            break;
        }
        json_t *tel = snapshot_telemetry_new();
        size_t k;
        json_t *row;
        json_array_foreach (rows, k, row)
            snapshot_add_order(tel, row);
        json_decref(rows);
        snapshot_merge(agg, tel);
        json_t *entry = json_object();
        json_object_set_new(entry, "id", json_string(id));
        json_object_set(entry, "name", json_object_get(prov, "name"));
        json_object_set_new(entry, "telemetry", tel);
        json_array_append_new(list, entry);
    }
    json_decref(providers);
    api_store_release(api, s);
    if (failed) {
        json_decref(agg);
        json_decref(list);
        reply_detail(rep, 500, "Internal Server Error");
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "aggregated", agg);
    json_object_set_new(out, "providers", list);
    reply_json(rep, 200, out);
}
