/*
 * Run status and run history over HTTP (spec-api-ui §4.17-4.20, §6.2): the status blobs with
 * their backfill from the run history, the history itself, and "Run now". DECISIONS 15: when
 * the status store is down, the status answers from the run history.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/store_open.h"
#include "app/alerts.h"
#include "app/api_routes.h"
#include "app/validate.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "base/log.h"
#include "core/pyjson.h"
#include "core/status.h"

/* ranAt of a typed HTTP field: "Z" form (spec-api-ui §1.3). */
json_t *api_time(int64_t us)
{
    char buf[ISO_BUFSZ];
    iso_format_z(us, buf);
    return json_string(buf);
}

static json_t *typed_time_text(const char *iso)
{
    struct iso_time t;
    if (iso && iso_parse(iso, strlen(iso), &t) == 0 && (!t.has_offset || t.offset_sec == 0))
        return api_time(t.utc_us);
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
    json_object_set_new(out, "ranAt", api_time(run->created_us));
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
    if (api_status_get(api, s, key, &text) != 0) {
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
void automation_replay_run(void *ctx, const struct http_req *req, const struct route_params *p,
                           struct http_reply *rep)
{
    (void)p;
    struct api *api = ctx;
    long limit = 0;
    json_t *errors = json_array();
    if (validate_query_int(req, "limit", 1, 500, &limit, errors) < 0) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    struct app app;
    memset(&app, 0, sizeof(app));
    if (app_config(&app) != 0 || app_open(&app) != 0) {
        app_close(&app);
        reply_detail(rep, 500, "replay worker could not start");
        return;
    }
    json_t *summary = NULL;
    char *error = NULL;
    if (task_run_scheduled(&app, (int)limit, &summary, &error) != 0) {
        log_msgf(LOG_ERROR, "scheduled replay pass failed: %s", error);
        free(error);
    }
    app_close(&app);
    int failed = 0;
    json_t *entry = status_entry(api, s, STATUS_KEY_REPLAY, &failed);
    if (!entry) {
        entry = json_object();
        json_object_set_new(entry, "ranAt", api_time(time_now_us()));
        json_object_set_new(
            entry, "summary",
            summary ? json_incref(summary)
                    : json_pack("{s:i,s:i,s:i}", "processed", 0, "succeeded", 0, "failed", 0));
        json_object_set_new(entry, "metadata", json_null());
    }
    json_decref(summary);
    api_store_release(api, s);
    reply_json(rep, 200, entry);
}

void automation_status(void *ctx, const struct http_req *req, const struct route_params *p,
                       struct http_reply *rep)
{
    (void)req;
    (void)p;
    struct api *api = ctx;
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    reply_json(rep, 200, api_status(api, s));
    api_store_release(api, s);
}

/* Changes whenever a run is recorded or removed, answered from an index in microseconds: on
 * SQLite the rowid range (rows are only appended, and retention deletes the oldest), on
 * PostgreSQL the newest created_at of each run type and the table's insert/delete counters. */
#define HISTORY_TOKEN_SQLITE                                                                       \
    "SELECT COALESCE((SELECT MIN(rowid) FROM provider_automation_runs), 0) || ':' || "             \
    "COALESCE((SELECT MAX(rowid) FROM provider_automation_runs), 0)"
#define HISTORY_TOKEN_PG                                                                           \
    "SELECT COALESCE((SELECT MAX(created_at) FROM provider_automation_runs WHERE run_type = "      \
    "'replay')::text, '') || ':' || COALESCE((SELECT MAX(created_at) FROM "                        \
    "provider_automation_runs WHERE run_type = 'alert')::text, '') || ':' || "                     \
    "COALESCE((SELECT n_tup_ins || '/' || n_tup_del FROM pg_stat_all_tables WHERE relid = "        \
    "'provider_automation_runs'::regclass), '')"

void automation_history(void *ctx, const struct http_req *req, const struct route_params *p,
                        struct http_reply *rep)
{
    (void)p;
    struct api *api = ctx;
    long limit = 10;
    json_t *errors = json_array();
    if (validate_query_int(req, "limit", 1, 100, &limit, errors) < 0) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    /* The history only changes when a run is recorded, by this process or any other: a
     * cheap indexed query yields a version token, and a response rendered for the same token
     * and limit is served as is. */
    char *token = NULL;
    if (store_query_value(
            s, strcmp(s->ops->name, "sqlite") == 0 ? HISTORY_TOKEN_SQLITE : HISTORY_TOKEN_PG,
            &token) != 0) {
        free(token);
        token = NULL;
    }
    size_t slot = (size_t)limit % API_HISTORY_CACHE;
    if (token) {
        pthread_mutex_lock(&api->history_mu);
        if (api->history_cache[slot].limit == limit && api->history_cache[slot].token &&
            strcmp(api->history_cache[slot].token, token) == 0) {
            rep->status = 200;
            rep->content_type = "application/json";
            rep->body = xstrndup(api->history_cache[slot].body, api->history_cache[slot].len);
            rep->body_len = api->history_cache[slot].len;
            pthread_mutex_unlock(&api->history_mu);
            api_store_release(api, s);
            free(token);
            return;
        }
        pthread_mutex_unlock(&api->history_mu);
    }
    json_t *out = json_object();
    json_object_set_new(out, "replay", history_list(s, "replay", (int)limit));
    json_object_set_new(out, "alerts", history_list(s, "alert", (int)limit));
    api_store_release(api, s);
    reply_json(rep, 200, out);
    if (token) {
        pthread_mutex_lock(&api->history_mu);
        free(api->history_cache[slot].token);
        free(api->history_cache[slot].body);
        api->history_cache[slot].limit = limit;
        api->history_cache[slot].token = token;
        api->history_cache[slot].body = xstrndup(rep->body, rep->body_len);
        api->history_cache[slot].len = rep->body_len;
        pthread_mutex_unlock(&api->history_mu);
    }
}

/* spec-api-ui §4.20: one alert pass (whatever PROVIDER_AUTOMATION_ALERT_WORKER_ENABLED says),
 * then the status store's alerts entry; the pass's own summary when the store has none
 * (DECISIONS 15). */
void automation_alerts_run(void *ctx, const struct http_req *req, const struct route_params *p,
                           struct http_reply *rep)
{
    (void)req;
    (void)p;
    struct api *api = ctx;
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    struct app app;
    memset(&app, 0, sizeof(app));
    if (app_config(&app) != 0 || app_open(&app) != 0) {
        app_close(&app);
        api_store_release(api, s);
        reply_detail(rep, 500, "alert worker could not start");
        return;
    }
    json_t *summary = NULL;
    char *error = NULL;
    if (task_run_alerts(&app, &summary, &error) != 0) {
        log_msgf(LOG_ERROR, "provider automation alert pass failed: %s", error);
        free(error);
    }
    app_close(&app);
    int failed = 0;
    json_t *entry = status_entry(api, s, STATUS_KEY_ALERTS, &failed);
    if (!entry) {
        entry = json_object();
        json_object_set_new(entry, "ranAt", api_time(time_now_us()));
        json_object_set_new(entry, "summary",
                            summary ? json_incref(summary) : json_pack("{s:i}", "alertsSent", 0));
        json_object_set_new(entry, "metadata", json_null());
    }
    json_decref(summary);
    api_store_release(api, s);
    reply_json(rep, 200, entry);
}
