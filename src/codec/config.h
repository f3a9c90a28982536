/*
 * Configuration: every environment variable of INTERFACE.md §3 and the
 * reference tables, read from the environment and from ./.env (the environment
 * wins), parsed strictly. One table (config.c) lists each variable with its
 * type, default and help line; .env.example is generated from it (`smplat
 * config-example`) and a test keeps the two equal.
 */
#ifndef SMPLAT_CODEC_CONFIG_H
#define SMPLAT_CODEC_CONFIG_H

#include <stddef.h>

struct config {
    /* Replay worker */
    int replay_worker_enabled;
    int replay_worker_interval_seconds;
    int replay_worker_limit;
    int replay_max_attempts;
    int replay_retry_backoff_seconds;
    int replay_lease_seconds;
    int replay_provider_concurrency;
    int placement_lease_seconds;
    char *replay_task_queue;
    /* Alerts */
    int alert_worker_enabled;
    int alert_interval_seconds;
    int alert_snapshot_limit;
    int alert_guardrail_fail_threshold;
    int alert_guardrail_warn_threshold;
    int alert_replay_failure_threshold;
    int alert_cooldown_seconds;
    char *alert_email_recipients; /* comma list */
    char *alert_slack_webhook_url;
    char *alert_slack_channel;
    char *alert_task_queue;
    int load_alert_enabled;
    int load_alert_short_window_days;
    int load_alert_long_window_days;
    double load_alert_share_threshold;
    double load_alert_delta_threshold;
    int load_alert_min_engagements;
    int load_alert_max_results;
    int status_history_limit;
    char *guardrail_workflow_telemetry_summary_url;
    char *frontend_url;
    /* Email */
    char *smtp_host;
    int smtp_port;
    char *smtp_username;
    char *smtp_password;
    int smtp_use_tls;
    char *smtp_sender_email;
    /* Storage, Redis, Celery */
    char *database_url;
    char *redis_url;
    char *celery_broker_url;
    char *celery_result_backend;
    char *celery_default_queue;
    /* Native Celery worker and beat (docs/CELERY.md) */
    char *beat_replay_schedule; /* crontab, 5 or 6 fields */
    char *beat_alerts_schedule;
    int beat_replay_limit;
    int celery_result_expires;
    int worker_visibility_timeout;
    int worker_max_deliveries;
    int worker_shutdown_grace_seconds;
    int worker_prefetch_multiplier;
    /* HTTP service */
    char *host;
    int port;
    char *api_token;
    char *checkout_api_key;
    int allow_unauthenticated;
    /* Outbound */
    char *provider_allowed_hosts; /* comma list */
    int provider_allow_private_networks;
    /* Logging and tooling */
    char *log_format; /* "text" | "json" */
    char *log_level;  /* "debug" | "info" | "warning" | "error" */
    char *api_base_url;
    char *export_dir;
    char *automation_auth_token;
};

/* Loads the configuration. dotenv_path: a .env file to read when present (NULL:
 * none). Returns 0, or ERR_CONFIG with *error (owned) naming the variable and
 * the bad value. */
int config_load(struct config *cfg, const char *dotenv_path, char **error);
void config_release(struct config *cfg);

/* Writes the .env.example text (every variable, its default, one line of help).
 * Owned. */
char *config_example(void);

#endif
