/*
 * GET /api/v1/reporting/blueprint-metrics (spec-alerts §5-§6, INTERFACE.md §5, DECISIONS 16):
 * validates the snake_case query (422 with the FastAPI-style detail array when out of range)
 * and answers the blueprint metrics of app/alert_task.c, which honor PROVIDER_LOAD_ALERT_*.
 */
#include <stdlib.h>

#include "app/alerts.h"
#include "app/api_routes.h"
#include "app/validate.h"
#include "base/log.h"

void reporting_blueprint_metrics(void *ctx, const struct http_req *req,
                                 const struct route_params *p, struct http_reply *rep)
{
    (void)p;
    struct api *api = ctx;
    long window = 30, option = 50, add_on = 50, provider = 50, preset = 50;
    json_t *errors = json_array();
    int bad = 0;
    bad |= validate_query_int(req, "window_days", 1, 365, &window, errors) < 0;
    bad |= validate_query_int(req, "option_limit", 1, 250, &option, errors) < 0;
    bad |= validate_query_int(req, "add_on_limit", 1, 250, &add_on, errors) < 0;
    bad |= validate_query_int(req, "provider_limit", 1, 250, &provider, errors) < 0;
    bad |= validate_query_int(req, "preset_limit", 1, 250, &preset, errors) < 0;
    if (bad) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    struct blueprint_query q = {(int)window, (int)option, (int)add_on, (int)provider, (int)preset};
    json_t *out = NULL;
    char *error = NULL;
    int rc = alerts_blueprint_metrics(s, api->cfg, &q, &out, &error);
    api_store_release(api, s);
    if (rc != 0) {
        log_msgf(LOG_ERROR, "blueprint metrics failed: %s", error ? error : "unknown");
        free(error);
        reply_detail(rep, 500, "Internal Server Error");
        return;
    }
    reply_json(rep, 200, out);
}
