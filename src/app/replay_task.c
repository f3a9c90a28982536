/*
 * The task layer of replays (spec-replay §9): what the CLI, the in-process
 * loop, Celery and "Run now" share. A pass is recorded wherever it ran from
 * (DECISIONS 8): the status blob
 * {"ranAt", "summary"} and one provider_automation_runs row whose status says
 * how it went (DECISIONS 7). Recording failures are logged and swallowed, as in
 * the original: the pass itself happened.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/metrics.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/sb.h"
#include "core/pyjson.h"

static void log_summary(const char *message, const char *key, const json_t *value)
{
    json_t *f = json_object();
    json_object_set(f, key, (json_t *)value);
    char *text = pyjson_dumps(f, PYJSON_COMPACT);
    log_event(LOG_INFO, message, text);
    free(text);
    json_decref(f);
}

static void record_status(struct app *app, const char *key, const json_t *summary)
{
    char ran_at[ISO_BUFSZ];
    iso_format_utc(time_now_us(), ran_at);
    json_t *blob = json_object();
    json_object_set_new(blob, "ranAt", json_string(ran_at));
    json_object_set(blob, "summary", (json_t *)summary);
    char *text = pyjson_dumps(blob, PYJSON_ENSURE_ASCII);
    if (app->status->put(app->status, key, text) != 0) {
        json_t *f = json_pack("{s:s}", "error", app->status->last_error(app->status));
        char *ft = pyjson_dumps(f, PYJSON_COMPACT);
        log_event(LOG_WARNING, "Failed to record replay status", ft);
        free(ft);
        json_decref(f);
    }
    free(text);
    json_decref(blob);
}

static void record_run(struct app *app, const char *status, const json_t *summary,
                       const struct replay_summary *s)
{
    struct run_record run = {
        .run_type = "replay",
        .status = status,
        .summary = (json_t *)summary,
        .metadata = NULL,
        .backlog_total = s && !s->no_backlog && s->backlog >= 0 ? s->backlog : -1,
        .next_scheduled_us = s && !s->no_backlog ? s->next_due_us : STORE_NO_TIME,
        .alerts_sent = -1,
        .created_us = time_now_us(),
    };
    if (app->store->ops->run_insert(app->store, &run) != 0) {
        json_t *f = json_pack("{s:s,s:s}", "error", app->store->ops->last_error(app->store),
                              "run_type", "replay");
        char *ft = pyjson_dumps(f, PYJSON_COMPACT);
        log_event(LOG_WARNING, "Failed to record automation run history", ft);
        free(ft);
        json_decref(f);
    }
}

int task_run_scheduled(struct app *app, int limit, json_t **summary, char **error)
{
    int effective = limit != 0 ? limit : app->cfg.replay_worker_limit;
    if (effective == 0)
        effective = 25;
    struct replay_summary s;
    int64_t started = time_now_us();
    int rc = replay_run_scheduled(&app->replay, effective, &s, error);
    double seconds = (double)(time_now_us() - started) / 1e6;
    metrics_run("replay", rc != 0 ? "failed" : replay_summary_status(&s), seconds);
    if (rc != 0) {
        /* The pass stopped part way: record what it did and why, so the history
         * shows it. */
        json_t *partial = replay_summary_json(&s);
        json_object_set_new(partial, "error", json_string(*error));
        record_status(app, "provider_automation:status:replay", partial);
        record_run(app, "failed", partial, NULL);
        json_decref(partial);
        return rc;
    }
    json_t *sum = replay_summary_json(&s);
    log_summary("Scheduled provider replays processed", "summary", sum);
    record_status(app, "provider_automation:status:replay", sum);
    record_run(app, replay_summary_status(&s), sum, &s);
    *summary = sum;
    return 0;
}

int task_replay_single(struct app *app, const char *provider_id, const char *po_id,
                       const json_t *amount, json_t **entry, char **error)
{
    json_t *extra = json_pack("{s:s}", "trigger", "cli_replay");
    struct replay_trigger trig = {
        .actor_type = "automation",
        .actor_id = NULL,
        .notes = "Automation replay executed via CLI",
        .extra = extra,
    };
    int rc = replay_now(&app->replay, provider_id, po_id, amount, &trig, entry, error);
    json_decref(extra);
    if (rc != 0)
        return rc;
    json_t *sum = json_pack("{s:i,s:i,s:i}", "processed", 1, "succeeded", 1, "failed", 0);
    record_status(app, "provider_automation:status:replay", sum);
    json_decref(sum);
    json_t *f = json_object();
    json_object_set_new(f, "provider_id", json_string(provider_id));
    json_object_set_new(f, "provider_order_id", json_string(po_id));
    json_object_set_new(f, "status", json_string("executed"));
    json_object_set_new(f, "rule_ids",
                        json_object_get(*entry, "ruleIds")
                            ? json_incref(json_object_get(*entry, "ruleIds"))
                            : json_array());
    char *ft = pyjson_dumps(f, PYJSON_COMPACT);
    log_event(LOG_INFO, "Provider order replayed", ft);
    free(ft);
    json_decref(f);
    return 0;
}
