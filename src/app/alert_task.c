/*
 * The alert worker's pass (spec-alerts §7-§9) and the blueprint metrics (§5-§6), wired from
 * the pure computations of core/alerts.c, the store ports (core/store.h for the catalog and
 * provider orders, core/alert_store.h for aggregates, follow-ups and cooldowns) and the
 * notifiers (adapters/notify). Differences from the original, each decided in DECISIONS 16:
 *
 *  - alertsSent counts the alerts (guardrail and load) that at least one channel delivered in
 *    this pass, not the number of alerts found;
 *  - an alert already delivered on a channel is not sent there again within
 *    PROVIDER_AUTOMATION_ALERT_COOLDOWN_SECONDS unless its fingerprint changed (reasons, or
 *    the rounded shares of a load alert); auto actions are events and always go out;
 *  - Slack and email are sent concurrently, each retried with backoff until a deadline, so a
 *    receiver that is down delays neither the other channel nor the run record for long;
 *  - load alerts are computed from the full windows, before any top-N cut;
 *  - the run is recorded wherever it ran from (the in-process loop too), with status
 *    "partial" when a configured channel failed to deliver and "failed" when the pass could
 *    not run.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/notify/notify.h"
#include "adapters/store/store_alerts.h"
#include "app/alerts.h"
#include "app/metrics.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/sb.h"
#include "core/pyjson.h"
#include "core/alert_store.h"
#include "core/alerts.h"
#include "core/snapshot.h"
#include "core/status.h"

static void log_fields(enum log_level level, const char *message, json_t *fields)
{
    char *text = pyjson_dumps(fields, PYJSON_COMPACT);
    log_event(level, message, text);
    free(text);
    json_decref(fields);
}

static char *store_error(struct store *s, const char *what)
{
    struct sb sb = SB_INIT;
    sb_printf(&sb, "%s: %s", what, s->ops->last_error(s));
    return sb_detach(&sb);
}

/* ---- Snapshot (§3.2) ---- */

/* [{"id", "name", "telemetry"}] of every catalog provider, by name: the telemetry of its
 * latest `limit` provider orders. */
static int build_snapshot(struct store *s, int limit, json_t **out, char **error)
{
    json_t *providers = NULL;
    *out = NULL;
    if (s->ops->providers_list(s, &providers) != 0) {
        *error = store_error(s, "snapshot: providers");
        return ERR_DB;
    }
    json_t *list = json_array();
    size_t i;
    json_t *prov;
    json_array_foreach (providers, i, prov) {
        const char *id = json_string_value(json_object_get(prov, "id"));
        json_t *rows = NULL;
        if (!id)
            continue;
        if (s->ops->provider_orders_list(s, id, (size_t)(limit > 0 ? limit : 25), &rows) != 0) {
            *error = store_error(s, "snapshot: provider orders");
            json_decref(list);
            json_decref(providers);
            return ERR_DB;
        }
        json_t *tel = snapshot_telemetry_new();
        size_t k;
        json_t *row;
        json_array_foreach (rows, k, row)
            snapshot_add_order(tel, row);
        json_decref(rows);
        json_t *entry = json_object();
        json_object_set_new(entry, "id", json_string(id));
        json_object_set(entry, "name", json_object_get(prov, "name"));
        json_object_set_new(entry, "telemetry", tel);
        json_array_append_new(list, entry);
    }
    json_decref(providers);
    *out = list;
    return 0;
}

/* ---- Engagement windows ---- */

static struct load_alert_params load_params(const struct config *cfg)
{
    struct load_alert_params p = {
        .short_days = cfg->load_alert_short_window_days,
        .long_days = cfg->load_alert_long_window_days,
        .share_threshold = cfg->load_alert_share_threshold,
        .delta_threshold = cfg->load_alert_delta_threshold,
        .min_engagements = cfg->load_alert_min_engagements,
        .limit = cfg->load_alert_max_results > 0 ? cfg->load_alert_max_results : 1,
    };
    return p;
}

/* The full (untruncated) windows of days[0..n) (ascending), from one aggregate query. */
static int engagement_windows(struct store *s, const struct alert_store_ops *aops, const int *days,
                              size_t n, int64_t now_us, json_t **out, char **error)
{
    int64_t starts[8];
    for (size_t i = 0; i < n; i++)
        starts[i] = now_us - (int64_t)days[i] * 86400LL * 1000000LL;
    struct preset_engagement_row *rows = NULL;
    size_t nrows = 0;
    if (aops->preset_engagements(s, starts, n, &rows, &nrows) != 0) {
        *error = store_error(s, "preset engagements");
        return ERR_DB;
    }
    *out = preset_windows_build(rows, nrows, days, n, now_us);
    preset_engagement_rows_free(rows, nrows);
    return 0;
}

/* ---- Blueprint metrics ---- */

int alerts_blueprint_metrics(struct store *s, const struct config *cfg,
                             const struct blueprint_query *q, json_t **out, char **error)
{
    const struct alert_store_ops *aops = store_alert_ops(s);
    int64_t now = time_now_us();
    int64_t since = now - (int64_t)q->window_days * 86400LL * 1000000LL;
    char buf[ISO_BUFSZ];
    json_t *res = json_object(), *rows = NULL;
    int64_t norders = 0, nitems = 0;
    double revenue = 0.0;
    *out = NULL;
    if (!aops) {
        *error = xstrdup("blueprint metrics: unsupported database");
        json_decref(res);
        return ERR_CONFIG;
    }
    iso_format_utc(since, buf);
    json_object_set_new(res, "window",
                        json_pack("{s:i,s:s}", "days", q->window_days, "start", buf));
    if (aops->blueprint_orders(s, since, &norders, &nitems, &revenue) != 0)
        goto fail;
    json_object_set_new(res, "orders",
                        json_pack("{s:I,s:I,s:f}", "total", (json_int_t)norders, "items",
                                  (json_int_t)nitems, "itemRevenue", revenue));
    static const struct {
        const char *key;
        enum blueprint_block block;
    } blocks[] = {{"options", BLUEPRINT_OPTIONS},
                  {"addOns", BLUEPRINT_ADD_ONS},
                  {"providerEngagements", BLUEPRINT_PROVIDERS},
                  {"presets", BLUEPRINT_PRESETS}};
    int limits[] = {q->option_limit, q->add_on_limit, q->provider_limit, q->preset_limit};
    for (size_t i = 0; i < 4; i++) {
        if (aops->blueprint_block(s, blocks[i].block, since, (size_t)limits[i], &rows) != 0)
            goto fail;
        json_object_set_new(res, blocks[i].key, rows);
    }
    struct load_alert_params lp = load_params(cfg);
    int extra[2] = {lp.short_days, lp.long_days}, days[8];
    size_t ndays = alerts_window_set(extra, 2, days);
    json_t *windows = NULL;
    if (engagement_windows(s, aops, days, ndays, now, &windows, error) != 0) {
        json_decref(res);
        return ERR_DB;
    }
    json_t *load = cfg->load_alert_enabled ? load_alerts_compute(windows, &lp) : json_array();
    iso_format_utc(now, buf);
    json_t *ppe = json_object();
    json_object_set_new(ppe, "generatedAt", json_string(buf));
    json_object_set_new(ppe, "windows",
                        preset_windows_truncate(windows, (size_t)q->provider_limit));
    json_decref(windows);
    json_object_set_new(res, "presetProviderEngagements", ppe);
    json_object_set_new(res, "providerLoadAlerts", load);
    *out = res;
    return 0;
fail:
    *error = store_error(s, "blueprint metrics");
    json_decref(res);
    return ERR_DB;
}

/* ---- Notifications ---- */

/* Recipients: a JSON array of strings, or a comma list (items trimmed, empty ones dropped). */
static json_t *recipients(const char *value)
{
    json_t *out = json_array();
    if (!value)
        return out;
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[') {
        json_t *arr = json_loads(p, 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v) {
            if (json_is_string(v) && json_string_length(v) > 0)
                json_array_append(out, v);
        }
        json_decref(arr);
        return out;
    }
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *a = p, *b = p + len;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a)
            json_array_append_new(out, json_stringn(a, (size_t)(b - a)));
        p += len;
        if (*p == ',')
            p++;
    }
    return out;
}

/* One channel's share of a pass: the alerts due on it (not in cooldown) and its text. */
struct channel {
    const char *name; /* "slack" | "email" */
    int configured;
    json_t *due_alerts; /* subsets of the digests */
    json_t *due_load;
    json_t *due_keys; /* [[key, fingerprint, kind, index]] for the cooldown table */
    char *text;
    int attempted, delivered;
    char *error;
};

/* Picks the items of list that are due on channel ch (cooldown), into *due. */
static int pick_due(struct store *s, const struct alert_store_ops *aops, struct channel *ch,
                    const json_t *list, int load, int64_t now, int64_t cooldown_us, json_t *due)
{
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item) {
        char *key = NULL, *fp = NULL, *prev = NULL;
        int64_t prev_us = 0;
        if (load)
            alerts_load_key(item, &key, &fp);
        else
            alerts_guardrail_key(item, &key, &fp);
        int rc = aops->cooldown_get(s, ch->name, key, &prev, &prev_us);
        if (rc == 0 && alerts_cooldown_due(prev, prev_us, fp, now, cooldown_us)) {
            json_array_append(due, item);
            json_array_append_new(ch->due_keys, json_pack("{s:s,s:s,s:b,s:I}", "key", key, "fp", fp,
                                                          "load", load, "index", (json_int_t)i));
        }
        free(key);
        free(fp);
        free(prev);
        if (rc != 0)
            return rc;
    }
    return 0;
}

struct email_job {
    const struct config *cfg;
    json_t *to;
    const char *body;
    int delivered;
    char *error;
};

static void *email_thread(void *arg)
{
    struct email_job *job = arg;
    struct smtp_config sc = {
        .host = job->cfg->smtp_host,
        .port = job->cfg->smtp_port,
        .username = job->cfg->smtp_username,
        .password = job->cfg->smtp_password,
        .use_tls = job->cfg->smtp_use_tls,
        .from = job->cfg->smtp_sender_email,
        .timeout_ms = 10000,
    };
    size_t i;
    json_t *rcpt;
    json_array_foreach (job->to, i, rcpt) {
        struct notify_result r;
        if (smtp_send(&sc, json_string_value(rcpt), ALERTS_EMAIL_SUBJECT, job->body, &r) == 0) {
            job->delivered = 1;
        } else {
            log_fields(LOG_WARNING, "Failed to send provider automation alert email",
                       json_pack("{s:s,s:i,s:s}", "recipient", json_string_value(rcpt), "attempts",
                                 r.attempts, "error", r.error ? r.error : "unknown"));
            if (!job->error)
                job->error = xstrdup(r.error ? r.error : "unknown");
        }
        notify_result_release(&r);
    }
    return NULL;
}

/* Set when a Slack message of this pass could not be delivered after its retries: the
 * pass's later messages get one attempt each, so a dead webhook costs one retry budget. */
static __thread int slack_down;

static void slack_send(struct app *app, const char *text, int *delivered, char **error)
{
    json_t *payload = alerts_slack_payload(text, app->cfg.alert_slack_channel);
    char *body = pyjson_dumps(payload, PYJSON_COMPACT);
    json_decref(payload);
    struct notify_result r;
    if (slack_post(app->transport, app->cfg.alert_slack_webhook_url, body, slack_down ? 1 : 0,
                   &r) == 0) {
        *delivered = 1;
    } else {
        slack_down = 1;
        log_fields(
            LOG_WARNING, "Failed to send provider automation Slack alert",
            json_pack("{s:i,s:s}", "attempts", r.attempts, "error", r.error ? r.error : "unknown"));
        if (error && !*error)
            *error = xstrdup(r.error ? r.error : "unknown");
    }
    notify_result_release(&r);
    free(body);
}

/* The follow-up Slack message of each auto action (§8.4), sent as it happens. */
static void notify_followup(struct app *app, const char *provider_id, const char *name, int pause)
{
    if (!app->cfg.alert_slack_webhook_url || !*app->cfg.alert_slack_webhook_url)
        return;
    char *text = alerts_followup_slack_text(provider_id, name, pause ? "pause" : "resume",
                                            pause ? ALERTS_PAUSE_NOTES : ALERTS_RESUME_NOTES, pause,
                                            app->cfg.frontend_url);
    int delivered = 0;
    slack_send(app, text, &delivered, NULL);
    free(text);
}

/* {providerId: ["label (handle, type)", ...]} of the alerted providers' latest contexts. */
static json_t *platform_contexts(struct store *s, const json_t *alerts)
{
    json_t *out = json_object();
    size_t i;
    json_t *a;
    json_array_foreach (alerts, i, a) {
        const char *id = json_string_value(json_object_get(a, "providerId"));
        json_t *rows = NULL;
        if (!id || json_object_get(out, id))
            continue;
        if (s->ops->platform_contexts(s, id, 3, &rows) != 0)
            continue; /* failure-tolerant: the block is omitted */
        json_t *labels = json_array();
        size_t k;
        json_t *row;
        json_array_foreach (rows, k, row) {
            char *label = alerts_context_label(row);
            json_array_append_new(labels, json_string(label));
            free(label);
        }
        json_decref(rows);
        json_object_set_new(out, id, labels);
    }
    return out;
}

/* Sends the pass's notifications; returns how many distinct alerts were delivered on at least
 * one channel, and sets *channel_failed when a configured channel did not deliver. */
static int notify_all(struct app *app, const struct alert_store_ops *aops, const json_t *alerts,
                      const json_t *load, const json_t *paused, const json_t *resumed,
                      int *channel_failed)
{
    struct store *s = app->store;
    const struct config *cfg = &app->cfg;
    int64_t now = time_now_us();
    int64_t cooldown_us =
        (int64_t)(cfg->alert_cooldown_seconds > 0 ? cfg->alert_cooldown_seconds : 0) * 1000000LL;
    int actions = json_array_size(paused) + json_array_size(resumed) > 0;
    json_t *to = recipients(cfg->alert_email_recipients);
    struct channel ch[2] = {{.name = "slack"}, {.name = "email"}};
    ch[0].configured = cfg->alert_slack_webhook_url && *cfg->alert_slack_webhook_url;
    ch[1].configured = json_array_size(to) > 0 && cfg->smtp_host && *cfg->smtp_host &&
                       cfg->smtp_sender_email && *cfg->smtp_sender_email;
    *channel_failed = 0;
    for (int c = 0; c < 2; c++) {
        ch[c].due_alerts = json_array();
        ch[c].due_load = json_array();
        ch[c].due_keys = json_array();
        if (!ch[c].configured)
            continue;
        if (pick_due(s, aops, &ch[c], alerts, 0, now, cooldown_us, ch[c].due_alerts) != 0 ||
            pick_due(s, aops, &ch[c], load, 1, now, cooldown_us, ch[c].due_load) != 0) {
            log_fields(LOG_WARNING, "Failed to read alert cooldowns",
                       json_pack("{s:s}", "error", s->ops->last_error(s)));
            /* Without the cooldown state, send everything rather than nothing. */
            json_array_clear(ch[c].due_alerts);
            json_array_clear(ch[c].due_load);
            json_array_extend(ch[c].due_alerts, (json_t *)alerts);
            json_array_extend(ch[c].due_load, (json_t *)load);
        }
        if (json_array_size(ch[c].due_alerts) + json_array_size(ch[c].due_load) == 0 && !actions)
            continue;
        ch[c].attempted = 1;
        if (c == 0) {
            json_t *contexts = platform_contexts(s, ch[c].due_alerts);
            ch[c].text = alerts_slack_text(ch[c].due_alerts, ch[c].due_load, paused, resumed,
                                           contexts, cfg->frontend_url);
            json_decref(contexts);
        } else {
            ch[c].text = alerts_email_body(ch[c].due_alerts, ch[c].due_load, paused, resumed,
                                           cfg->frontend_url);
        }
    }
    /* Email goes out on its own thread while Slack is posted here: a slow or dead receiver
     * on one channel does not hold up the other. */
    struct email_job job = {.cfg = cfg, .to = to, .body = ch[1].text};
    pthread_t th;
    int threaded = 0;
    if (ch[1].attempted)
        threaded = pthread_create(&th, NULL, email_thread, &job) == 0;
    if (ch[1].attempted && !threaded)
        email_thread(&job);
    if (ch[0].attempted)
        slack_send(app, ch[0].text, &ch[0].delivered, &ch[0].error);
    if (threaded)
        pthread_join(th, NULL);
    ch[1].delivered = job.delivered;
    ch[1].error = job.error;

    /* Cooldown state of what was delivered, and the count of delivered alerts. */
    size_t na = json_array_size(alerts), nl = json_array_size(load);
    char *sent = xcalloc(na + nl + 1, 1);
    for (int c = 0; c < 2; c++) {
        if (ch[c].attempted && !ch[c].delivered)
            *channel_failed = 1;
        if (ch[c].delivered) {
            size_t i;
            json_t *k;
            json_array_foreach (ch[c].due_keys, i, k) {
                size_t idx = (size_t)json_integer_value(json_object_get(k, "index"));
                int is_load = json_is_true(json_object_get(k, "load"));
                sent[is_load ? na + idx : idx] = 1;
                if (aops->cooldown_put(s, ch[c].name, json_string_value(json_object_get(k, "key")),
                                       json_string_value(json_object_get(k, "fp")), now) != 0)
                    log_fields(LOG_WARNING, "Failed to record alert cooldown",
                               json_pack("{s:s}", "error", s->ops->last_error(s)));
            }
        }
        json_decref(ch[c].due_alerts);
        json_decref(ch[c].due_load);
        json_decref(ch[c].due_keys);
        free(ch[c].text);
        free(ch[c].error);
    }
    int count = 0;
    for (size_t i = 0; i < na + nl; i++)
        count += sent[i];
    free(sent);
    json_decref(to);
    return count;
}

/* ---- Recording ---- */

static void record_status(struct app *app, const json_t *summary)
{
    char ran_at[ISO_BUFSZ];
    iso_format_utc(time_now_us(), ran_at);
    json_t *blob = json_object();
    json_object_set_new(blob, "ranAt", json_string(ran_at));
    json_object_set(blob, "summary", (json_t *)summary);
    char *text = pyjson_dumps(blob, PYJSON_ENSURE_ASCII);
    if (app->status->put(app->status, STATUS_KEY_ALERTS, text) != 0)
        log_fields(LOG_WARNING, "Failed to record alert status",
                   json_pack("{s:s}", "error", app->status->last_error(app->status)));
    free(text);
    json_decref(blob);
}

static void record_run(struct app *app, const char *status, const json_t *summary,
                       json_int_t alerts_sent)
{
    json_t *meta = json_object();
    static const char *const keys[] = {"alertsDigest", "loadAlertsDigest", "autoPausedProviders",
                                       "autoResumedProviders"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(summary, keys[i]);
        if (json_is_array(v))
            json_object_set(meta, keys[i], v);
    }
    struct run_record run = {
        .run_type = "alert",
        .status = status,
        .summary = (json_t *)summary,
        .metadata = meta,
        .backlog_total = -1,
        .next_scheduled_us = STORE_NO_TIME,
        .alerts_sent = alerts_sent,
        .created_us = time_now_us(),
    };
    if (app->store->ops->run_insert(app->store, &run) != 0)
        log_fields(LOG_WARNING, "Failed to record automation run history",
                   json_pack("{s:s,s:s}", "error", app->store->ops->last_error(app->store),
                             "run_type", "alert"));
    json_decref(meta);
}

/* ---- The pass ---- */

static int run_pass(struct app *app, const struct alert_store_ops *aops, json_t **summary,
                    int *channel_failed, char **error)
{
    struct store *s = app->store;
    const struct config *cfg = &app->cfg;
    json_t *snapshot = NULL, *windows = NULL, *alerts = NULL, *load_digest = NULL;
    json_t *paused = json_array(), *resumed = json_array();
    struct guardrail_status_row *statuses = NULL;
    size_t nstatuses = 0;
    struct auto_action *acts = NULL;
    size_t nacts = 0;
    int rc;
    int64_t now = time_now_us();

    rc = build_snapshot(s, cfg->alert_snapshot_limit, &snapshot, error);
    if (rc != 0)
        goto out;
    struct load_alert_params lp = load_params(cfg);
    if (cfg->load_alert_enabled) {
        int days[2] = {lp.short_days, lp.long_days};
        size_t nd = 2;
        if (days[0] > days[1]) {
            days[0] = lp.long_days;
            days[1] = lp.short_days;
        }
        if (days[0] == days[1])
            nd = 1;
        rc = engagement_windows(s, aops, days, nd, now, &windows, error);
        if (rc != 0)
            goto out;
        json_t *load = load_alerts_compute(windows, &lp);
        load_digest = load_alerts_digest(load, &lp, cfg->frontend_url);
        json_decref(load);
    } else {
        load_digest = json_array();
    }
    struct alert_thresholds th = {cfg->alert_guardrail_fail_threshold,
                                  cfg->alert_guardrail_warn_threshold,
                                  cfg->alert_replay_failure_threshold};
    alerts = alerts_evaluate(snapshot, &th);

    /* Auto pause / resume (§7.1): each follow-up commits on its own, as in the original. */
    if (aops->guardrail_statuses(s, &statuses, &nstatuses) != 0) {
        *error = store_error(s, "guardrail statuses");
        rc = ERR_DB;
        goto out;
    }
    alerts_plan_actions(alerts, statuses, nstatuses, &th, &acts, &nacts);
    for (size_t i = 0; i < nacts; i++) {
        char fid[37];
        const char *name = acts[i].pause
                               ? json_string_value(json_object_get(acts[i].alert, "providerName"))
                               : (acts[i].status->provider_name && *acts[i].status->provider_name
                                      ? acts[i].status->provider_name
                                      : acts[i].provider_id);
        if (aops->followup_record(s, acts[i].provider_id, name, acts[i].pause ? "pause" : "resume",
                                  acts[i].pause ? ALERTS_PAUSE_NOTES : ALERTS_RESUME_NOTES,
                                  "automation", time_now_us(), fid) != 0) {
            *error = store_error(s, "guardrail follow-up");
            rc = ERR_DB;
            goto out;
        }
        if (acts[i].pause)
            json_array_append_new(paused, alerts_auto_paused_item(acts[i].alert, fid));
        else
            json_array_append_new(resumed, alerts_auto_resumed_item(acts[i].status, fid));
        log_fields(LOG_INFO,
                   acts[i].pause ? "Provider auto-paused by alert worker"
                                 : "Provider auto-resumed by alert worker",
                   json_pack("{s:s,s:s}", "provider_id", acts[i].provider_id, "follow_up_id", fid));
        notify_followup(app, acts[i].provider_id, name, acts[i].pause);
    }

    int sent = 0;
    if (json_array_size(alerts) + json_array_size(load_digest) + json_array_size(paused) +
            json_array_size(resumed) >
        0)
        sent = notify_all(app, aops, alerts, load_digest, paused, resumed, channel_failed);

    json_t *sum = json_object();
    json_object_set_new(sum, "alerts", json_integer((json_int_t)json_array_size(alerts)));
    json_object_set_new(sum, "alertsSent", json_integer(sent));
    json_object_set(sum, "alertsDigest", alerts);
    json_object_set_new(sum, "loadAlerts", json_integer((json_int_t)json_array_size(load_digest)));
    json_object_set(sum, "loadAlertsDigest", load_digest);
    json_object_set_new(sum, "autoPaused", json_integer((json_int_t)json_array_size(paused)));
    json_object_set_new(sum, "autoResumed", json_integer((json_int_t)json_array_size(resumed)));
    json_object_set(sum, "autoPausedProviders", paused);
    json_object_set(sum, "autoResumedProviders", resumed);
    *summary = sum;
out:
    free(acts);
    guardrail_status_rows_free(statuses, nstatuses);
    json_decref(snapshot);
    json_decref(windows);
    json_decref(alerts);
    json_decref(load_digest);
    json_decref(paused);
    json_decref(resumed);
    return rc;
}

int task_run_alerts(struct app *app, json_t **summary, char **error)
{
    const struct alert_store_ops *aops = store_alert_ops(app->store);
    int channel_failed = 0;
    *summary = NULL;
    *error = NULL;
    if (!aops) {
        *error = xstrdup("the alert worker does not support this database");
        return ERR_CONFIG;
    }
    int64_t started = time_now_us();
    json_t *sum = NULL;
    slack_down = 0;
    int rc = run_pass(app, aops, &sum, &channel_failed, error);
    double seconds = (double)(time_now_us() - started) / 1e6;
    if (rc != 0) {
        metrics_run("alert", "failed", seconds);
        json_t *failed = json_pack("{s:i,s:i,s:s}", "alerts", 0, "alertsSent", 0, "error",
                                   *error ? *error : "unknown");
        record_run(app, "failed", failed, 0);
        json_decref(failed);
        return rc;
    }
    const char *status = channel_failed ? "partial" : "success";
    metrics_run("alert", status, seconds);
    json_t *f = json_pack("{s:O,s:O,s:O,s:O,s:O}", "alerts", json_object_get(sum, "alerts"),
                          "alertsSent", json_object_get(sum, "alertsSent"), "loadAlerts",
                          json_object_get(sum, "loadAlerts"), "autoPaused",
                          json_object_get(sum, "autoPaused"), "autoResumed",
                          json_object_get(sum, "autoResumed"));
    log_fields(LOG_INFO, "Provider automation alerts evaluated", f);
    record_status(app, sum);
    record_run(app, status, sum, json_integer_value(json_object_get(sum, "alertsSent")));
    *summary = sum;
    return 0;
}
