/*
 * The HTTP API of smplat serve: the route table (registration order matters, as in the
 * original), authentication (DECISIONS 12), request metrics, /healthz, /metrics and the
 * built-in demo provider. Each request borrows a store connection from a small pool for its
 * duration; nothing else is shared between pool threads except the Redis status connection,
 * used under a mutex, and the metrics, under theirs.
 */
#include "app/api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/http_server/router.h"
#include "adapters/status/status.h"
#include "adapters/store/store_open.h"
#include "app/admin.h"
#include "app/api_routes.h"
#include "app/metrics.h"
#include "app/validate.h"
#include "base/error.h"
#include "base/log.h"
#include "base/sb.h"

#define P "/api/v1/fulfillment/providers"

static const struct route routes[] = {
    {"GET", P, "providers_list", catalog_list_providers},
    {"GET", P "/platform-contexts", "platform_contexts", catalog_platform_contexts},
    {"GET", P "/{provider_id}", "provider_get", catalog_get_provider},
    {"POST", P "/{provider_id}/balance/refresh", "balance_refresh", catalog_refresh_balance},
    {"GET", P "/{provider_id}/orders", "provider_orders", orders_list_for_provider},
    {"GET", P "/automation/snapshot", "automation_snapshot", automation_snapshot},
    {"GET", P "/automation/status", "automation_status", automation_status},
    {"GET", P "/automation/status/history", "automation_history", automation_history},
    {"POST", P "/automation/replay/run", "replay_run", automation_replay_run},
    {"POST", P "/automation/alerts/run", "alerts_run", automation_alerts_run},
    {"GET", "/api/v1/reporting/blueprint-metrics", "blueprint_metrics",
     reporting_blueprint_metrics},
    {"POST", "/api/v1/reporting/guardrails/followups", "guardrail_followup_create",
     followups_record},
    {"GET", "/api/v1/reporting/guardrails/followups", "guardrail_followups", followups_list},
    {"POST", P "/{provider_id}/orders/{provider_order_id}/refill", "refill", orders_refill},
    {"GET", P "/orders/by-order/{order_id}", "orders_by_order", orders_by_order},
    {"POST", P "/{provider_id}/orders/{provider_order_id}/replay", "replay", orders_replay},
    {"POST", P, "provider_create", catalog_create_provider},
    {"PATCH", P "/{provider_id}", "provider_update", catalog_update_provider},
    {"DELETE", P "/{provider_id}", "provider_delete", catalog_delete_provider},
    {"POST", P "/{provider_id}/services", "service_create", catalog_create_service},
    {"GET", P "/{provider_id}/services/{service_id}", "service_get", catalog_get_service},
    {"PATCH", P "/{provider_id}/services/{service_id}", "service_update", catalog_update_service},
    {"DELETE", P "/{provider_id}/services/{service_id}", "service_delete", catalog_delete_service},
    {"GET", "/api/v1/orders/{order_id}/state-events", "order_state_events", orders_state_events},
    {"GET", "/api/v1/orders", "orders_list", orders_list},
    {"POST", "/api/v1/orders", "order_create", orders_create},
    {"GET", "/api/v1/orders/{order_id}", "order_get", orders_get},
    {"PATCH", "/api/v1/orders/{order_id}", "order_update", orders_update},
    /* The admin pages (app/admin.c): not under /api/v1, so not behind the API token. */
    {"GET", "/admin", "admin_index", admin_index},
    {"GET", "/admin/orders", "admin_page", admin_page},
    {"GET", "/admin/fulfillment/providers", "admin_page", admin_page},
    {"GET", "/admin/fulfillment/providers/{provider_id}", "admin_page", admin_page},
    {"GET", "/admin/merchandising", "admin_page", admin_page},
    {"GET", "/admin/reports", "admin_page", admin_page},
    {"GET", "/admin/assets/{name}", "admin_asset", admin_asset},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

struct store *api_store_acquire(struct api *api)
{
    pthread_mutex_lock(&api->mu);
    struct store *s = NULL;
    if (api->nfree > 0)
        s = api->free_stores[--api->nfree];
    pthread_mutex_unlock(&api->mu);
    if (s)
        return s;
    char *error = NULL;
    s = store_open(api->cfg->database_url, &error);
    if (!s) {
        log_msgf(LOG_ERROR, "cannot open DATABASE_URL: %s", error ? error : "unknown error");
        pthread_mutex_lock(&api->mu);
        snprintf(api->open_error, sizeof(api->open_error), "%s", error ? error : "unknown error");
        pthread_mutex_unlock(&api->mu);
        free(error);
    }
    return s;
}

void api_reply_unavailable(struct api *api, struct http_reply *rep)
{
    char detail[sizeof(api->open_error) + 64];
    pthread_mutex_lock(&api->mu);
    snprintf(detail, sizeof(detail), "Database unavailable: %s", api->open_error);
    pthread_mutex_unlock(&api->mu);
    reply_detail(rep, 503, detail);
}

void api_store_release(struct api *api, struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&api->mu);
    if (api->nfree < API_POOL_MAX) {
        api->free_stores[api->nfree++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&api->mu);
    if (s)
        s->ops->close(s);
}

int api_init(struct api *api, const struct config *cfg, char **error)
{
    memset(api, 0, sizeof(*api));
    api->cfg = cfg;
    pthread_mutex_init(&api->mu, NULL);
    pthread_mutex_init(&api->redis_mu, NULL);
    pthread_mutex_init(&api->history_mu, NULL);
    if (cfg->redis_url) {
        api->redis = status_redis_new(cfg->redis_url, error);
        if (!api->redis)
            return ERR_CONFIG;
    }
    return 0;
}

void api_release(struct api *api)
{
    for (size_t i = 0; i < api->nfree; i++)
        api->free_stores[i]->ops->close(api->free_stores[i]);
    if (api->redis)
        api->redis->free(api->redis);
    pthread_mutex_destroy(&api->mu);
    pthread_mutex_destroy(&api->redis_mu);
    pthread_mutex_destroy(&api->history_mu);
    for (size_t i = 0; i < API_HISTORY_CACHE; i++) {
        free(api->history_cache[i].token);
        free(api->history_cache[i].body);
    }
}

/* Reads a status value from the configured status store. */
int api_status_get(struct api *api, struct store *s, const char *key, char **value)
{
    if (api->redis) {
        pthread_mutex_lock(&api->redis_mu);
        int rc = api->redis->get(api->redis, key, value);
        pthread_mutex_unlock(&api->redis_mu);
        return rc;
    }
    return s->ops->status_get(s, key, value);
}

static int token_equal(const char *given, const char *expected)
{
    size_t gl = strlen(given), el = strlen(expected);
    unsigned char diff = (unsigned char)(gl != el);
    for (size_t i = 0; i < el; i++)
        diff |= (unsigned char)(expected[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

/* DECISIONS 12. */
static int authorized(struct api *api, const struct http_req *req)
{
    const char *tokens[2] = {api->cfg->api_token, api->cfg->checkout_api_key};
    if ((!tokens[0] || !*tokens[0]) && (!tokens[1] || !*tokens[1]))
        return 1;
    const char *given = http_req_header(req, "X-API-Key");
    const char *auth = http_req_header(req, "Authorization");
    if (!given && auth && strncasecmp(auth, "Bearer ", 7) == 0)
        given = auth + 7;
    if (!given)
        return 0;
    int ok = 0;
    for (int i = 0; i < 2; i++)
        if (tokens[i] && *tokens[i] && token_equal(given, tokens[i]))
            ok = 1;
    return ok;
}

/* The built-in demo provider: an SMM-panel-like endpoint answering order
 * requests. */
static void demo_provider(struct api *api, const struct http_req *req, struct http_reply *rep)
{
    unsigned long n = __atomic_add_fetch(&api->demo_orders, 1, __ATOMIC_RELAXED);
    size_t len;
    const char *body = http_req_body(req, &len);
    /* Every seventh request answers like a panel out of funds, so failures show
     * up too. */
    if (n % 7 == 0 || (body && strstr(body, "quantity=999999"))) {
        reply_json(rep, 200, json_pack("{s:s}", "error", "Not enough funds on balance"));
        return;
    }
    reply_json(rep, 200, json_pack("{s:I,s:s}", "order", (json_int_t)(100000 + n), "status", "ok"));
}

/* Prometheus text exposition (app/metrics.c). */
static void metrics_reply(struct api *api, struct http_reply *rep)
{
    struct sb sb = SB_INIT;
    struct store *s = api_store_acquire(api);
    metrics_render(&sb, s);
    api_store_release(api, s);
    rep->status = 200;
    rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
    rep->body_len = sb.len;
    rep->body = sb_detach(&sb);
}

static void handle(void *ctx, const struct http_req *req, struct http_reply *rep)
{
    struct api *api = ctx;
    const char *method = http_req_method(req);
    const char *path = http_req_path(req);
    const char *route = "unmatched";
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (strcmp(path, "/healthz") == 0) {
        route = "healthz";
        if (is_get)
            reply_json(rep, 200, json_pack("{s:s}", "status", "ok"));
        else
            reply_detail(rep, 405, "Method Not Allowed");
    } else if (strcmp(path, "/metrics") == 0) {
        route = "metrics";
        if (is_get)
            metrics_reply(api, rep);
        else
            reply_detail(rep, 405, "Method Not Allowed");
    } else if (strcmp(path, "/demo-provider/api/v2") == 0) {
        route = "demo_provider";
        if (strcmp(method, "POST") == 0)
            demo_provider(api, req, rep);
        else
            reply_detail(rep, 405, "Method Not Allowed");
    } else if (strncmp(path, "/api/v1/", 8) == 0 && !authorized(api, req)) {
        route = "unauthorized";
        reply_detail(rep, 401, "Invalid API key");
    } else {
        struct route_params params;
        int i = router_match(routes, NROUTES, method, path, &params);
        if (i >= 0) {
            route = routes[i].name;
            routes[i].handle(api, req, &params, rep);
        } else if (i == ROUTER_METHOD_NOT_ALLOWED) {
            reply_detail(rep, 405, "Method Not Allowed");
        } else {
            reply_detail(rep, 404, "Not Found");
        }
    }
    metrics_http_request(route, rep->status);
}

void api_handler(struct api *api, struct http_handler *h)
{
    h->handle = handle;
    h->ctx = api;
}
