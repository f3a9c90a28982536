/*
 * The HTTP API routes that exist so far, the built-in demo provider, and the
 * run-status payloads of spec-api-ui §4.17-4.19 and §6.2. Each request borrows
 * a store connection from a small pool for its duration; nothing else is shared
 * between pool threads except the Redis status connection, which is used under
 * a mutex.
 */
#include "app/api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http_client/curl.h"
#include "adapters/status/status.h"
#include "adapters/store/store_open.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/num.h"
#include "base/sb.h"
#include "codec/pyjson.h"
#include "core/status.h"

#define API_PREFIX "/api/v1/fulfillment/providers"

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
        free(error);
    }
    return s;
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
}

static void reply_json(struct http_reply *rep, int status, json_t *body)
{
    rep->status = status;
    rep->content_type = "application/json";
    rep->body = pyjson_dumps(body, PYJSON_COMPACT);
    rep->body_len = strlen(rep->body);
    json_decref(body);
}

static void reply_detail(struct http_reply *rep, int status, const char *detail)
{
    reply_json(rep, status, json_pack("{s:s}", "detail", detail));
}

/* 422 in the shape of FastAPI's validation errors. */
static void reply_422(struct http_reply *rep, const char *where, const char *name, const char *type,
                      const char *msg, const char *input)
{
    json_t *err = json_pack("{s:s,s:[s,s],s:s}", "type", type, "loc", where, name, "msg", msg);
    json_object_set_new(err, "input", input ? json_string(input) : json_null());
    reply_json(rep, 422, json_pack("{s:[o]}", "detail", err));
}

/* Reads a status value from the configured status store. */
static int status_get(struct api *api, struct store *s, const char *key, char **value)
{
    if (api->redis) {
        pthread_mutex_lock(&api->redis_mu);
        int rc = api->redis->get(api->redis, key, value);
        pthread_mutex_unlock(&api->redis_mu);
        return rc;
    }
    return s->ops->status_get(s, key, value);
}

/* ranAt of a typed HTTP field: "Z" form (spec-api-ui §1.3). */
static json_t *typed_time(int64_t us)
{
    char buf[ISO_BUFSZ];
    iso_format_z(us, buf);
    return json_string(buf);
}

static json_t *typed_time_text(const char *iso)
{
    struct iso_time t;
    if (iso && iso_parse(iso, strlen(iso), &t) == 0 && (!t.has_offset || t.offset_sec == 0))
        return typed_time(t.utc_us);
    return iso ? json_string(iso) : json_null();
}

static void setdefault(json_t *obj, const char *key, json_t *value)
{
    if (!json_object_get(obj, key))
        json_object_set_new(obj, key, value);
    else
        json_decref(value);
}

/* spec-replay §11 to_status_payload. New reference. */
json_t *api_run_status_payload(const struct run_row *run)
{
    json_t *summary = json_is_object(run->summary) ? json_deep_copy(run->summary) : json_object();
    if (run->backlog_total >= 0)
        setdefault(summary, "scheduledBacklog", json_integer(run->backlog_total));
    if (run->next_scheduled_us != STORE_NO_TIME) {
        char buf[ISO_BUFSZ];
        iso_format_utc(run->next_scheduled_us, buf);
        setdefault(summary, "nextScheduledAt", json_string(buf));
    }
    if (run->alerts_sent >= 0)
        setdefault(summary, "alertsSent", json_integer(run->alerts_sent));
    json_t *meta = run->metadata;
    if (json_is_object(meta)) {
        const char *digests[] = {"alertsDigest", "loadAlertsDigest"};
        for (size_t i = 0; i < 2; i++) {
            json_t *v = json_object_get(meta, digests[i]);
            if (v && !json_is_null(v))
                setdefault(summary, digests[i], json_deep_copy(v));
        }
        json_t *paused = json_object_get(meta, "autoPausedProviders");
        if (json_is_array(paused)) {
            setdefault(summary, "autoPausedProviders", json_deep_copy(paused));
            json_object_set_new(summary, "autoPaused",
                                json_integer((json_int_t)json_array_size(paused)));
        }
        json_t *resumed = json_object_get(meta, "autoResumedProviders");
        if (json_is_array(resumed)) {
            setdefault(summary, "autoResumedProviders", json_deep_copy(resumed));
            json_object_set_new(summary, "autoResumed",
                                json_integer((json_int_t)json_array_size(resumed)));
        }
    }
    json_t *out = json_object();
    json_object_set_new(out, "ranAt", typed_time(run->created_us));
    json_object_set_new(out, "summary", summary);
    json_object_set_new(out, "metadata",
                        json_is_object(meta) && json_object_size(meta) > 0 ? json_deep_copy(meta)
                                                                           : json_null());
    return out;
}

/* A status blob from the status store as a RunStatus (metadata null). NULL when
 * absent. */
static json_t *status_entry(struct api *api, struct store *s, const char *key, int *store_failed)
{
    char *text = NULL;
    if (status_get(api, s, key, &text) != 0) {
        *store_failed = 1; /* DECISIONS 15: answer from the run history instead */
        return NULL;
    }
    if (!text)
        return NULL;
    char err[128];
    json_t *blob = pyjson_loads(text, strlen(text), 64, err, sizeof(err));
    free(text);
    if (!json_is_object(blob)) {
        json_t *f = json_pack("{s:s}", "key", key);
        char *ft = pyjson_dumps(f, PYJSON_COMPACT);
        log_event(LOG_WARNING, "Failed to decode automation status payload", ft);
        free(ft);
        json_decref(f);
        json_decref(blob);
        return NULL;
    }
    json_t *out = json_object();
    json_t *ran = json_object_get(blob, "ranAt");
    json_object_set_new(out, "ranAt",
                        typed_time_text(json_is_string(ran) ? json_string_value(ran) : NULL));
    json_t *summary = json_object_get(blob, "summary");
    json_object_set_new(out, "summary",
                        json_is_object(summary) ? json_incref(summary) : json_object());
    json_object_set_new(out, "metadata", json_null());
    json_decref(blob);
    return out;
}

static json_t *latest_run(struct store *s, const char *run_type)
{
    struct run_row *rows = NULL;
    size_t n = 0;
    if (s->ops->run_list(s, run_type, 1, &rows, &n) != 0 || n == 0) {
        free(rows);
        return NULL;
    }
    json_t *out = api_run_status_payload(&rows[0]);
    for (size_t i = 0; i < n; i++)
        run_row_release(&rows[i]);
    free(rows);
    return out;
}

/* spec-api-ui §4.17 step 2. */
static json_t *backfill(struct store *s, json_t *entry, const char *run_type,
                        const char *const *required)
{
    if (!entry)
        return latest_run(s, run_type);
    json_t *summary = json_object_get(entry, "summary");
    int missing = 0;
    for (const char *const *r = required; *r; r++)
        if (!json_object_get(summary, *r))
            missing = 1;
    if (!missing)
        return entry;
    json_t *latest = latest_run(s, run_type);
    if (latest) {
        json_t *ls = json_object_get(latest, "summary");
        for (const char *const *r = required; *r; r++) {
            json_t *v = json_object_get(ls, *r);
            if (!json_object_get(summary, *r) && v && !json_is_null(v))
                json_object_set(summary, *r, v);
        }
        json_decref(latest);
    }
    return entry;
}

json_t *api_status(struct api *api, struct store *s)
{
    static const char *const replay_req[] = {"scheduledBacklog", "nextScheduledAt", NULL};
    static const char *const alert_req[] = {"alertsDigest", NULL};
    int failed = 0;
    json_t *replay = status_entry(api, s, STATUS_KEY_REPLAY, &failed);
    json_t *alerts = status_entry(api, s, STATUS_KEY_ALERTS, &failed);
    replay = backfill(s, replay, "replay", replay_req);
    alerts = backfill(s, alerts, "alert", alert_req);
    json_t *out = json_object();
    json_object_set_new(out, "replay", replay ? replay : json_null());
    json_object_set_new(out, "alerts", alerts ? alerts : json_null());
    return out;
}

static json_t *history_list(struct store *s, const char *run_type, int limit)
{
    json_t *arr = json_array();
    struct run_row *rows = NULL;
    size_t n = 0;
    if (s->ops->run_list(s, run_type, (size_t)limit, &rows, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(arr, api_run_status_payload(&rows[i]));
            run_row_release(&rows[i]);
        }
    }
    free(rows);
    return arr;
}

/* Query integer in [lo, hi]; 1 when absent (uses def), 0 when ok, -1 after
 * replying 422. */
static int query_int(const struct http_req *req, struct http_reply *rep, const char *name, int lo,
                     int hi, int *out)
{
    const char *v = http_req_query(req, name);
    if (!v)
        return 1;
    int i;
    if (num_parse_int(v, &i) != 0) {
        reply_422(rep, "query", name, "int_parsing",
                  "Input should be a valid integer, unable to parse string as an integer", v);
        return -1;
    }
    if (i < lo) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Input should be greater than or equal to %d", lo);
        reply_422(rep, "query", name, "greater_than_equal", msg, v);
        return -1;
    }
    if (i > hi) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Input should be less than or equal to %d", hi);
        reply_422(rep, "query", name, "less_than_equal", msg, v);
        return -1;
    }
    *out = i;
    return 0;
}

/* Constant-time comparison: the time taken does not depend on where the strings
 * differ. */
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

static void run_replay_now(struct api *api, struct store *s, const struct http_req *req,
                           struct http_reply *rep)
{
    int limit = 0;
    if (query_int(req, rep, "limit", 1, 500, &limit) < 0)
        return;
    struct app app;
    memset(&app, 0, sizeof(app));
    if (app_config(&app) != 0 || app_open(&app) != 0) {
        app_close(&app);
        reply_detail(rep, 500, "replay worker could not start");
        return;
    }
    json_t *summary = NULL;
    char *error = NULL;
    if (task_run_scheduled(&app, limit, &summary, &error) != 0) {
        log_msgf(LOG_ERROR, "scheduled replay pass failed: %s", error);
        free(error);
    }
    app_close(&app);
    int failed = 0;
    json_t *entry = status_entry(api, s, STATUS_KEY_REPLAY, &failed);
    if (!entry) {
        entry = json_object();
        json_object_set_new(entry, "ranAt", typed_time(time_now_us()));
        json_object_set_new(
            entry, "summary",
            summary ? json_incref(summary)
                    : json_pack("{s:i,s:i,s:i}", "processed", 0, "succeeded", 0, "failed", 0));
        json_object_set_new(entry, "metadata", json_null());
    }
    json_decref(summary);
    reply_json(rep, 200, entry);
}

static void handle(void *ctx, const struct http_req *req, struct http_reply *rep)
{
    struct api *api = ctx;
    const char *method = http_req_method(req);
    const char *path = http_req_path(req);
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int is_post = strcmp(method, "POST") == 0;

    if (strcmp(path, "/healthz") == 0) {
        if (!is_get) {
            reply_detail(rep, 405, "Method Not Allowed");
            return;
        }
        {
            reply_json(rep, 200, json_pack("{s:s}", "status", "ok"));
            return;
        }
    }
    if (strcmp(path, "/demo-provider/api/v2") == 0) {
        if (!is_post) {
            reply_detail(rep, 405, "Method Not Allowed");
            return;
        }
        {
            demo_provider(api, req, rep);
            return;
        }
    }
    if (strncmp(path, "/api/v1/", 8) != 0) {
        reply_detail(rep, 404, "Not Found");
        return;
    }
    if (!authorized(api, req)) {
        reply_detail(rep, 401, "Invalid API key");
        return;
    }

    char route[256];
    snprintf(route, sizeof(route), "%s", path);
    size_t rl = strlen(route);
    if (rl > 1 && route[rl - 1] == '/')
        route[rl - 1] = '\0';
    enum { R_NONE, R_STATUS, R_HISTORY, R_REPLAY_RUN } r = R_NONE;
    if (strcmp(route, API_PREFIX "/automation/status") == 0)
        r = R_STATUS;
    else if (strcmp(route, API_PREFIX "/automation/status/history") == 0)
        r = R_HISTORY;
    else if (strcmp(route, API_PREFIX "/automation/replay/run") == 0)
        r = R_REPLAY_RUN;
    if (r == R_NONE) {
        reply_detail(rep, 404, "Not Found");
        return;
    }
    if ((r == R_REPLAY_RUN && !is_post) || (r != R_REPLAY_RUN && !is_get)) {
        reply_detail(rep, 405, "Method Not Allowed");
        return;
    }

    struct store *s = api_store_acquire(api);
    if (!s) {
        reply_detail(rep, 503, "database unavailable");
        return;
    }
    if (r == R_STATUS) {
        reply_json(rep, 200, api_status(api, s));
    } else if (r == R_HISTORY) {
        int limit = 10;
        if (query_int(req, rep, "limit", 1, 100, &limit) >= 0) {
            json_t *out = json_object();
            json_object_set_new(out, "replay", history_list(s, "replay", limit));
            json_object_set_new(out, "alerts", history_list(s, "alert", limit));
            reply_json(rep, 200, out);
        }
    } else {
        run_replay_now(api, s, req, rep);
    }
    api_store_release(api, s);
}

void api_handler(struct api *api, struct http_handler *h)
{
    h->handle = handle;
    h->ctx = api;
}
