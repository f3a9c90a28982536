/*
 * Configuration from the environment and ./.env. One table describes every
 * variable: its name, type, default and help line. Loading walks the table, so
 * a variable cannot be parsed in one place and documented differently in
 * another, and .env.example is printed from the same table. Parsing is strict:
 * a value that does not parse is an error that names the variable, never a
 * silent default (INTERFACE.md §3).
 */
#include "codec/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/num.h"
#include "base/sb.h"
#include "core/crontab.h"

enum var_type { T_BOOL, T_INT, T_DOUBLE, T_STR };

struct var {
    const char *name;
    enum var_type type;
    size_t offset;
    const char *def; /* NULL: unset */
    int min;         /* for T_INT: smallest accepted value */
    int max;
    const char *help;
};

#define OFF(field) offsetof(struct config, field)
#define NOMIN (-2147483647 - 1)
#define NOMAX 2147483647

static const struct var vars[] = {
    /* Storage and service */
    {"DATABASE_URL", T_STR, OFF(database_url), "sqlite:///./smplat.db", 0, 0,
     "sqlite:///path or postgresql://user:pass@host:port/db"},
    {"REDIS_URL", T_STR, OFF(redis_url), NULL, 0, 0,
     "unset: run status lives in the database; set: in Redis under the "
     "original keys"},
    {"SMPLAT_HOST", T_STR, OFF(host), "127.0.0.1", 0, 0, "listen address of smplat serve"},
    {"SMPLAT_PORT", T_INT, OFF(port), "8000", 1, 65535, "listen port of smplat serve"},
    {"SMPLAT_API_TOKEN", T_STR, OFF(api_token), NULL, 0, 0,
     "when set, /api/v1 needs Authorization: Bearer <token> or X-API-Key: "
     "<token>"},
    {"CHECKOUT_API_KEY", T_STR, OFF(checkout_api_key), NULL, 0, 0,
     "accepted like SMPLAT_API_TOKEN (the storefront's key)"},
    {"SMPLAT_ALLOW_UNAUTHENTICATED", T_BOOL, OFF(allow_unauthenticated), "false", 0, 0,
     "allow serve on a non-loopback address without a token"},
    {"SMPLAT_LOG_FORMAT", T_STR, OFF(log_format), "text", 0, 0, "text or json (one object a line)"},
    {"SMPLAT_LOG_LEVEL", T_STR, OFF(log_level), "info", 0, 0, "debug, info, warning or error"},
    /* Replay */
    {"PROVIDER_REPLAY_WORKER_ENABLED", T_BOOL, OFF(replay_worker_enabled), "false", 0, 0,
     "run the replay loop inside serve; gates the Celery replay task"},
    {"PROVIDER_REPLAY_WORKER_INTERVAL_SECONDS", T_INT, OFF(replay_worker_interval_seconds), "300",
     0, NOMAX, "seconds between in-process replay passes (0 means 300)"},
    {"PROVIDER_REPLAY_WORKER_LIMIT", T_INT, OFF(replay_worker_limit), "25", NOMIN, NOMAX,
     "default batch size (0 means 25; negative makes passes no-ops)"},
    {"PROVIDER_REPLAY_MAX_ATTEMPTS", T_INT, OFF(replay_max_attempts), "3", 1, 100,
     "attempts of a scheduled replay that fails for a retryable reason"},
    {"PROVIDER_REPLAY_RETRY_BACKOFF_SECONDS", T_INT, OFF(replay_retry_backoff_seconds), "30", 0,
     86400,
     "delay before the first retry; doubles per attempt (Retry-After wins when "
     "longer)"},
    {"PROVIDER_REPLAY_LEASE_SECONDS", T_INT, OFF(replay_lease_seconds), "120", 1, 86400,
     "how long a claimed entry stays reserved for a runner that stopped "
     "answering"},
    {"PROVIDER_PLACEMENT_LEASE_SECONDS", T_INT, OFF(placement_lease_seconds), "300", 1, 86400,
     "seconds past its request timeout before an interrupted order placement is recorded "
     "as outcome unknown"},
    {"PROVIDER_REPLAY_PROVIDER_CONCURRENCY", T_INT, OFF(replay_provider_concurrency), "4", 1, 256,
     "replay requests in flight at once per provider"},
    {"PROVIDER_AUTOMATION_REPLAY_TASK_QUEUE", T_STR, OFF(replay_task_queue), "provider-replay", 0,
     0, "Celery queue of provider_automation.run_replay_batch"},
    /* Outbound */
    {"PROVIDER_ALLOWED_HOSTS", T_STR, OFF(provider_allowed_hosts), NULL, 0, 0,
     "optional comma list of host names provider endpoints may call"},
    {"PROVIDER_ALLOW_PRIVATE_NETWORKS", T_BOOL, OFF(provider_allow_private_networks), "false", 0, 0,
     "allow provider endpoints on loopback and private addresses"},
    /* Alerts */
    {"PROVIDER_AUTOMATION_ALERT_WORKER_ENABLED", T_BOOL, OFF(alert_worker_enabled), "false", 0, 0,
     "run the alert loop inside serve; gates the Celery alert task"},
    {"PROVIDER_AUTOMATION_ALERT_INTERVAL_SECONDS", T_INT, OFF(alert_interval_seconds), "900", 0,
     NOMAX, "seconds between in-process alert passes"},
    {"PROVIDER_AUTOMATION_ALERT_SNAPSHOT_LIMIT", T_INT, OFF(alert_snapshot_limit), "25", 0, NOMAX,
     "recent provider orders per provider the alert pass looks at"},
    {"PROVIDER_AUTOMATION_ALERT_GUARDRAIL_FAIL_THRESHOLD", T_INT,
     OFF(alert_guardrail_fail_threshold), "3", 0, NOMAX, "guardrail fails that raise an alert"},
    {"PROVIDER_AUTOMATION_ALERT_GUARDRAIL_WARN_THRESHOLD", T_INT,
     OFF(alert_guardrail_warn_threshold), "5", 0, NOMAX, "guardrail warnings that raise an alert"},
    {"PROVIDER_AUTOMATION_ALERT_REPLAY_FAILURE_THRESHOLD", T_INT,
     OFF(alert_replay_failure_threshold), "3", 0, NOMAX,
     "replay failures that raise an alert (and pause the provider)"},
    {"PROVIDER_AUTOMATION_ALERT_COOLDOWN_SECONDS", T_INT, OFF(alert_cooldown_seconds), "3600", 0,
     NOMAX, "the same alert is not re-sent within this time unless it changed"},
    {"PROVIDER_AUTOMATION_ALERT_EMAIL_RECIPIENTS", T_STR, OFF(alert_email_recipients), "", 0, 0,
     "comma list of alert email recipients"},
    {"PROVIDER_AUTOMATION_ALERT_SLACK_WEBHOOK_URL", T_STR, OFF(alert_slack_webhook_url), NULL, 0, 0,
     "Slack incoming webhook for alerts"},
    {"PROVIDER_AUTOMATION_ALERT_SLACK_CHANNEL", T_STR, OFF(alert_slack_channel), NULL, 0, 0,
     "Slack channel override"},
    {"PROVIDER_AUTOMATION_ALERT_TASK_QUEUE", T_STR, OFF(alert_task_queue), "provider-alerts", 0, 0,
     "Celery queue of provider_automation.evaluate_alerts"},
    {"PROVIDER_LOAD_ALERT_ENABLED", T_BOOL, OFF(load_alert_enabled), "true", 0, 0,
     "raise provider-load alerts"},
    {"PROVIDER_LOAD_ALERT_SHORT_WINDOW_DAYS", T_INT, OFF(load_alert_short_window_days), "7", 1,
     NOMAX, "short window of the provider-load comparison"},
    {"PROVIDER_LOAD_ALERT_LONG_WINDOW_DAYS", T_INT, OFF(load_alert_long_window_days), "90", 1,
     NOMAX, "long window of the provider-load comparison"},
    {"PROVIDER_LOAD_ALERT_SHARE_THRESHOLD", T_DOUBLE, OFF(load_alert_share_threshold), "0.6", 0, 0,
     "share of a preset's engagements that raises a load alert"},
    {"PROVIDER_LOAD_ALERT_DELTA_THRESHOLD", T_DOUBLE, OFF(load_alert_delta_threshold), "0.2", 0, 0,
     "short-minus-long share increase that raises a load alert"},
    {"PROVIDER_LOAD_ALERT_MIN_ENGAGEMENTS", T_INT, OFF(load_alert_min_engagements), "10", 0, NOMAX,
     "engagements a preset needs in the short window"},
    {"PROVIDER_LOAD_ALERT_MAX_RESULTS", T_INT, OFF(load_alert_max_results), "25", 0, NOMAX,
     "most load alerts reported"},
    {"PROVIDER_AUTOMATION_STATUS_HISTORY_LIMIT", T_INT, OFF(status_history_limit), "20", 0, NOMAX,
     "kept for compatibility"},
    {"GUARDRAIL_WORKFLOW_TELEMETRY_SUMMARY_URL", T_STR,
     OFF(guardrail_workflow_telemetry_summary_url), NULL, 0, 0,
     "guardrail workflow telemetry (out of scope; accepted)"},
    {"FRONTEND_URL", T_STR, OFF(frontend_url), "http://localhost:3000", 0, 0,
     "base of absolute deep links in notifications"},
    {"SMTP_HOST", T_STR, OFF(smtp_host), NULL, 0, 0, "SMTP server for alert email"},
    {"SMTP_PORT", T_INT, OFF(smtp_port), "587", 1, 65535, "SMTP port"},
    {"SMTP_USERNAME", T_STR, OFF(smtp_username), NULL, 0, 0, "SMTP login (with SMTP_PASSWORD)"},
    {"SMTP_PASSWORD", T_STR, OFF(smtp_password), NULL, 0, 0, "SMTP password (never logged)"},
    {"SMTP_USE_TLS", T_BOOL, OFF(smtp_use_tls), "true", 0, 0, "STARTTLS before login"},
    {"SMTP_SENDER_EMAIL", T_STR, OFF(smtp_sender_email), NULL, 0, 0, "From address of alert email"},
    /* Celery */
    {"CELERY_BROKER_URL", T_STR, OFF(celery_broker_url), NULL, 0, 0,
     "Celery broker (unset: REDIS_URL)"},
    {"CELERY_RESULT_BACKEND", T_STR, OFF(celery_result_backend), NULL, 0, 0,
     "Celery result backend (unset: REDIS_URL)"},
    {"CELERY_DEFAULT_QUEUE", T_STR, OFF(celery_default_queue), "smplat-default", 0, 0,
     "Celery default queue"},
    {"CELERY_RESULT_EXPIRES", T_INT, OFF(celery_result_expires), "86400", 0, NOMAX,
     "seconds a task result is kept (0: forever)"},
    {"SMPLAT_BEAT_REPLAY_SCHEDULE", T_STR, OFF(beat_replay_schedule), "*/5 * * * *", 0, 0,
     "crontab (UTC) of smplat beat's replay batch; 6 fields: seconds first"},
    {"SMPLAT_BEAT_REPLAY_LIMIT", T_INT, OFF(beat_replay_limit), "50", 1, NOMAX,
     "limit kwarg of the replay batch smplat beat publishes"},
    {"SMPLAT_BEAT_ALERTS_SCHEDULE", T_STR, OFF(beat_alerts_schedule), "*/15 * * * *", 0, 0,
     "crontab (UTC) of smplat beat's alert pass"},
    {"SMPLAT_WORKER_VISIBILITY_TIMEOUT", T_INT, OFF(worker_visibility_timeout), "3600", 1, NOMAX,
     "seconds before an unacked message of a dead worker is restored (kombu visibility_timeout)"},
    {"SMPLAT_WORKER_MAX_DELIVERIES", T_INT, OFF(worker_max_deliveries), "5", 1, NOMAX,
     "deliveries after which a message is moved to smplat.dead-letter"},
    {"SMPLAT_WORKER_SHUTDOWN_GRACE_SECONDS", T_INT, OFF(worker_shutdown_grace_seconds), "30", 0,
     NOMAX, "on SIGTERM, how long running tasks may finish before they are restored"},
    {"SMPLAT_WORKER_PREFETCH_MULTIPLIER", T_INT, OFF(worker_prefetch_multiplier), "1", 1, 1000,
     "messages held per worker thread (Celery worker_prefetch_multiplier)"},
    /* Tooling */
    {"SMPLAT_API_BASE_URL", T_STR, OFF(api_base_url), "http://127.0.0.1:8000", 0, 0,
     "API base URL of smplat export-runs"},
    {"SMPLAT_AUTOMATION_EXPORT_DIR", T_STR, OFF(export_dir), NULL, 0, 0,
     "export-runs writes a timestamped file here when no --output is given"},
    {"SMPLAT_AUTOMATION_AUTH_TOKEN", T_STR, OFF(automation_auth_token), NULL, 0, 0,
     "token export-runs sends"},
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

struct dotenv {
    char **keys;
    char **values;
    size_t n;
};

static void dotenv_release(struct dotenv *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->keys[i]);
        free(d->values[i]);
    }
    free(d->keys);
    free(d->values);
}

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* KEY=VALUE lines; '#' comments; optional "export "; single or double quotes
 * around values. */
static int dotenv_read(const char *path, struct dotenv *d, char **error)
{
    memset(d, 0, sizeof(*d));
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[8192];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq) {
            struct sb sb = SB_INIT;
            sb_printf(&sb, "%s:%d: expected KEY=VALUE", path, lineno);
            *error = sb_detach(&sb);
            fclose(f);
            return ERR_CONFIG;
        }
        *eq = '\0';
        char *key = trim(s);
        char *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        } else {
            char *hash = strstr(val, " #");
            if (hash) {
                *hash = '\0';
                val = trim(val);
            }
        }
        d->keys = xrealloc(d->keys, (d->n + 1) * sizeof(char *));
        d->values = xrealloc(d->values, (d->n + 1) * sizeof(char *));
        d->keys[d->n] = xstrdup(key);
        d->values[d->n] = xstrdup(val);
        d->n++;
    }
    fclose(f);
    return 0;
}

static const char *dotenv_get(const struct dotenv *d, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->keys[i], key) == 0)
            found = d->values[i]; /* the last assignment wins */
    return found;
}

static int bad_value(char **error, const char *name, const char *value, const char *expected)
{
    struct sb sb = SB_INIT;
    sb_printf(&sb, "invalid value for %s: '%s' (expected %s)", name, value, expected);
    *error = sb_detach(&sb);
    return ERR_CONFIG;
}

static int set_var(struct config *cfg, const struct var *v, const char *value, char **error)
{
    char *base = (char *)cfg;
    switch (v->type) {
    case T_BOOL: {
        int b;
        if (num_parse_bool(value, &b) != 0)
            return bad_value(error, v->name, value, "true/false, 1/0, yes/no or on/off");
        *(int *)(base + v->offset) = b;
        return 0;
    }
    case T_INT: {
        int i;
        if (num_parse_int(value, &i) != 0)
            return bad_value(error, v->name, value, "an integer");
        if (i < v->min || i > v->max) {
            struct sb sb = SB_INIT;
            if (v->max == NOMAX)
                sb_printf(&sb, "at least %d", v->min);
            else
                sb_printf(&sb, "an integer from %d to %d", v->min, v->max);
            int rc = bad_value(error, v->name, value, sb_str(&sb));
            sb_release(&sb);
            return rc;
        }
        *(int *)(base + v->offset) = i;
        return 0;
    }
    case T_DOUBLE: {
        double d;
        if (num_parse_double(value, &d) != 0 || d != d)
            return bad_value(error, v->name, value, "a number");
        *(double *)(base + v->offset) = d;
        return 0;
    }
    case T_STR: {
        char **slot = (char **)(base + v->offset);
        free(*slot);
        *slot = xstrdup(value);
        return 0;
    }
    }
    return ERR_INVALID;
}

static int one_of(const char *s, const char *const *options)
{
    for (; *options; options++)
        if (strcmp(s, *options) == 0)
            return 1;
    return 0;
}

/* Checks that concern the meaning of a value, not its type. */
static int validate(struct config *cfg, char **error)
{
    static const char *const formats[] = {"text", "json", NULL};
    static const char *const levels[] = {"debug", "info", "warning", "error", NULL};
    for (char *p = cfg->log_format; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (char *p = cfg->log_level; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!one_of(cfg->log_format, formats))
        return bad_value(error, "SMPLAT_LOG_FORMAT", cfg->log_format, "text or json");
    if (!one_of(cfg->log_level, levels))
        return bad_value(error, "SMPLAT_LOG_LEVEL", cfg->log_level,
                         "debug, info, warning or error");
    const char *db = cfg->database_url;
    if (strncmp(db, "sqlite", 6) != 0 && strncmp(db, "postgresql", 10) != 0 &&
        strncmp(db, "postgres://", 11) != 0)
        return bad_value(error, "DATABASE_URL", db, "sqlite:///path or postgresql://...");
    const char *const redis_vars[] = {"REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"};
    const char *const redis_vals[] = {cfg->redis_url, cfg->celery_broker_url,
                                      cfg->celery_result_backend};
    for (size_t i = 0; i < 3; i++) {
        const char *r = redis_vals[i];
        if (r && *r && strncmp(r, "redis://", 8) != 0 && strncmp(r, "rediss://", 9) != 0 &&
            strncmp(r, "unix://", 7) != 0)
            return bad_value(error, redis_vars[i], r, "redis://host:port/db");
    }
    const char *const cron_vars[] = {"SMPLAT_BEAT_REPLAY_SCHEDULE", "SMPLAT_BEAT_ALERTS_SCHEDULE"};
    const char *const cron_vals[] = {cfg->beat_replay_schedule, cfg->beat_alerts_schedule};
    for (size_t i = 0; i < 2; i++) {
        struct crontab ct;
        char why[160];
        if (crontab_parse(cron_vals[i], &ct, why, sizeof(why)) != 0)
            return bad_value(error, cron_vars[i], cron_vals[i], why);
    }
    /* An empty REDIS_URL means unset, like an empty optional string in the
     * original. */
    if (cfg->redis_url && !*cfg->redis_url) {
        free(cfg->redis_url);
        cfg->redis_url = NULL;
    }
    return 0;
}

int config_load(struct config *cfg, const char *dotenv_path, char **error)
{
    memset(cfg, 0, sizeof(*cfg));
    *error = NULL;
    struct dotenv d = {0};
    int rc = 0;
    if (dotenv_path && (rc = dotenv_read(dotenv_path, &d, error)) != 0)
        return rc;
    for (size_t i = 0; i < NVARS && rc == 0; i++) {
        const struct var *v = &vars[i];
        if (v->def)
            rc = set_var(cfg, v, v->def, error);
        if (rc != 0)
            break;
        const char *val = getenv(v->name);
        if (!val)
            val = dotenv_get(&d, v->name);
        if (val)
            rc = set_var(cfg, v, val, error);
    }
    dotenv_release(&d);
    if (rc == 0)
        rc = validate(cfg, error);
    if (rc != 0)
        config_release(cfg);
    return rc;
}

void config_release(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NVARS; i++)
        if (vars[i].type == T_STR) {
            char **slot = (char **)((char *)cfg + vars[i].offset);
            free(*slot);
            *slot = NULL;
        }
}

char *config_example(void)
{
    struct sb sb = SB_INIT;
    sb_puts(&sb, "# smplat-automation configuration. Every variable with its default.\n"
                 "# Copy to .env and edit; the environment wins over this file.\n");
    for (size_t i = 0; i < NVARS; i++) {
        sb_printf(&sb, "\n# %s\n", vars[i].help);
        if (vars[i].def)
            sb_printf(&sb, "%s=%s\n", vars[i].name, vars[i].def);
        else
            sb_printf(&sb, "# %s=\n", vars[i].name);
    }
    return sb_detach(&sb);
}
