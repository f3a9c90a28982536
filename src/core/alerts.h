/*
 * The alert worker's domain (spec-alerts §4, §6-§8, DECISIONS 16), pure functions over jansson
 * values: guardrail alerts from the snapshot telemetry, the preset/provider engagement windows
 * and the provider-load alerts computed from them, deep links, the auto pause/resume plan,
 * the notification texts (email, Slack), the cooldown fingerprints and the retry policy of
 * the senders. The I/O around them (store queries, webhooks, SMTP) is app/alert_task.c's.
 *
 * Digest items and windows use the original's camelCase keys, in the original's key order.
 */
#ifndef SMPLAT_CORE_ALERTS_H
#define SMPLAT_CORE_ALERTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Guardrail alerts (§4) ---- */

struct alert_thresholds {
    int fail;   /* PROVIDER_AUTOMATION_ALERT_GUARDRAIL_FAIL_THRESHOLD, raw */
    int warn;   /* ..._GUARDRAIL_WARN_THRESHOLD, raw */
    int replay; /* ..._REPLAY_FAILURE_THRESHOLD, raw */
};

/* The reasons list (§4.2): new array of strings, each part only when its count is non-zero. */
json_t *alerts_reasons(json_int_t fails, json_int_t warns, json_int_t replay_failed,
                       json_int_t replay_total);

/* Guardrail alerts of a snapshot: providers is an array of {"id", "name", "telemetry"} in
 * snapshot order. Thresholds are clamped to >= 1 here (the evaluator's rule). Returns a new
 * array of alertsDigest items (§4.3). */
json_t *alerts_evaluate(const json_t *providers, const struct alert_thresholds *t);

/* ---- Preset/provider engagement windows (§5.3) and load alerts (§6) ---- */

/* One aggregated group of provider orders: (preset, provider, service) within one bucket. A
 * row of bucket b belongs to every window whose index is >= b (windows ascending by days). */
struct preset_engagement_row {
    char *preset_id; /* stringified, never NULL or empty */
    char *preset_label;
    char *provider_id;
    char *provider_name;
    char *service_id;
    char *service_action;
    char *currency;
    int bucket; /* index into the window list: the smallest window containing the rows */
    int64_t engagements;
    double amount_total;
};

void preset_engagement_rows_free(struct preset_engagement_row *rows, size_t n);

/* Sorted, de-duplicated window set: {7, 30, 90, extra[0..n)}. Returns the count written to
 * out (capacity 8). */
size_t alerts_window_set(const int *extra, size_t nextra, int out[8]);

/* The "windows" object of presetProviderEngagements, NOT truncated (DECISIONS 16: load
 * alerts are computed before the per-window top-N cut): {"<days>": {"days", "start",
 * "entries": [...]}} with every entry's engagementShare, entries sorted by (engagements,
 * amountTotal) descending. days[0..ndays) ascending; rows as above. New object. */
json_t *preset_windows_build(const struct preset_engagement_row *rows, size_t nrows,
                             const int *days, size_t ndays, int64_t now_us);

/* A copy of windows with each window's entries truncated to limit. New object. */
json_t *preset_windows_truncate(const json_t *windows, size_t limit);

struct load_alert_params {
    int short_days;
    int long_days;
    double share_threshold;
    double delta_threshold;
    int min_engagements;
    int limit;
};

/* The load alerts of §6 over windows (full, untruncated), with relative links (§6.1), sorted
 * by (shareDelta, shortShare) descending and truncated to limit. New array. */
json_t *load_alerts_compute(const json_t *windows, const struct load_alert_params *p);

/* The loadAlertsDigest items of the worker (§7 step 3b-3e, §7.2): links normalised and made
 * absolute on frontend_url. New array. */
json_t *load_alerts_digest(const json_t *load_alerts, const struct load_alert_params *p,
                           const char *frontend_url);

/* ---- Links (§6.1, §7 step 3d) ---- */

/* Python's quote_plus over the UTF-8 bytes of s. New string. */
char *alerts_quote_plus(const char *s);
/* {"merchandising", "fulfillment", "orders"} relative links of a preset and provider (either
 * may be NULL or empty, then its links are omitted). New object. */
json_t *alerts_links(const char *preset_id, const char *provider_id);
/* link absolute on frontend_url: kept when it is already http(s), else frontend_url without
 * its trailing '/' + '/' + link without its leading '/'s. New string. */
char *alerts_absolutize(const char *frontend_url, const char *link);

/* ---- Auto pause / resume (§7.1) ---- */

struct guardrail_status_row {
    char *provider_id;
    char *provider_name;
    char *last_source;
    char *last_follow_up_id;
    int is_paused;
};

void guardrail_status_rows_free(struct guardrail_status_row *rows, size_t n);

struct auto_action {
    int pause;                                 /* 1 pause, 0 resume */
    const char *provider_id;                   /* borrowed */
    const json_t *alert;                       /* pause: the digest item (borrowed) */
    const struct guardrail_status_row *status; /* resume: the status row (borrowed) */
};

#define ALERTS_PAUSE_NOTES "Auto pause triggered by provider automation alerts worker"
#define ALERTS_RESUME_NOTES "Automation worker resumed provider after guardrails cleared"

/* What to pause and resume: pauses of alerted providers over the raw fail or replay
 * thresholds that are not paused already, by provider id; then resumes of providers paused by
 * automation that have no alert at all. *out is a new array of *n actions (free()). */
void alerts_plan_actions(const json_t *digest, const struct guardrail_status_row *statuses,
                         size_t nstatuses, const struct alert_thresholds *raw,
                         struct auto_action **out, size_t *n);

/* The autoPausedProviders / autoResumedProviders items (§7.1). New objects. */
json_t *alerts_auto_paused_item(const json_t *alert, const char *follow_up_id);
json_t *alerts_auto_resumed_item(const struct guardrail_status_row *st, const char *follow_up_id);

/* ---- Notification texts (§8) ---- */

#define ALERTS_EMAIL_SUBJECT "Provider automation alerts"

/* The email body (§8.2) from the digests and auto-action lists (any may be NULL or empty).
 * New string, lines joined with "\n". */
char *alerts_email_body(const json_t *alerts, const json_t *load_alerts, const json_t *paused,
                        const json_t *resumed, const char *frontend_url);

/* The Slack text (§8.3). contexts: NULL or {providerId: [context strings]}. New string. */
char *alerts_slack_text(const json_t *alerts, const json_t *load_alerts, const json_t *paused,
                        const json_t *resumed, const json_t *contexts, const char *frontend_url);

/* The follow-up Slack text of an auto action (§8.4, the worker's form). New string. */
char *alerts_followup_slack_text(const char *provider_id, const char *provider_name,
                                 const char *action, const char *notes, int is_paused,
                                 const char *frontend_url);

/* Everything the follow-up Slack message (§8.4) can show; all borrowed, NULL when absent. */
struct followup_message {
    const char *provider_id;
    const char *provider_name;
    const char *action;
    const char *notes;
    const json_t *attachments;      /* [{fileName|file_name, assetUrl}, ...] */
    int has_status;                 /* a status row is known: the Status line */
    int is_paused;                  /* its is_paused */
    const json_t *platform_context; /* {label, handle, ...} */
    const json_t *telemetry;        /* the §3.3 telemetry: the telemetry block (HTTP path) */
    const char *conversion_cursor;
    const char *conversion_href;
};

/* The follow-up Slack text of any follow-up (§8.4), with the attachments, context,
 * telemetry and conversion lines when given. With only the worker's fields it is exactly
 * alerts_followup_slack_text's message. New string. */
char *alerts_followup_message(const struct followup_message *m, const char *frontend_url);

/* {"text": text} plus "channel" when channel is non-empty. New object. */
json_t *alerts_slack_payload(const char *text, const char *channel);

/* A platform context row {label, handle, platform_type} as Slack shows it. New string. */
char *alerts_context_label(const json_t *row);

/* Python's format(v, ",.0f"): rounded half-even, with thousands separators. */
void alerts_format_thousands(double v, char *out, size_t cap);

/* ---- Cooldown (DECISIONS 16) ---- */

/* Key and fingerprint of an alert for the cooldown table: guardrail alerts by provider, with
 * the reasons as fingerprint; load alerts by (preset, provider, service), with the rounded
 * shares as fingerprint. New strings. */
void alerts_guardrail_key(const json_t *item, char **key, char **fingerprint);
void alerts_load_key(const json_t *item, char **key, char **fingerprint);

/* 1 when an alert with fingerprint fp should be sent now: never sent (prev_fp NULL), changed,
 * or last sent at least cooldown_us ago. */
int alerts_cooldown_due(const char *prev_fp, int64_t prev_sent_us, const char *fp, int64_t now_us,
                        int64_t cooldown_us);

/* ---- Retry policy of the senders ---- */

#define ALERTS_SEND_ATTEMPTS 5
#define ALERTS_SEND_BASE_DELAY_US 250000LL
#define ALERTS_SEND_DEADLINE_US 20000000LL

/* The wait before attempt `attempt` (2, 3, ...) after a retryable failure: Retry-After when
 * the receiver gave one (retry_after_us >= 0), else base * 2^(attempt-2). -1 when no attempt
 * should follow: too many attempts, or the wait would end after deadline_us. */
int64_t alerts_retry_delay_us(int attempt, int64_t retry_after_us, int64_t now_us,
                              int64_t deadline_us);

/* 1 when an HTTP status of a webhook answer is worth retrying: 429 and 5xx. */
int alerts_http_status_retryable(long status);

/* ---- Celery gating ---- */

/* {"alertsSent": 0, "skipped": true}: the result of the Celery task when the alert worker is
 * disabled. New object. */
json_t *alerts_skipped_result(void);

#endif
