/*
 * Turns configuration into working parts. Every command goes through app_config
 * and, when it needs the database, app_open; errors are logged here once, with
 * the exit code the command returns (2 for configuration, 1 for a failure to
 * reach what the configuration names).
 */
#include "app/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/http_client/curl.h"
#include "adapters/status/status.h"
#include "adapters/store/store_open.h"
#include "app/metrics.h"
#include "base/error.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/strlist.h"
#include "base/uuid.h"

int app_config(struct app *app)
{
    memset(app, 0, sizeof(*app));
    char *error = NULL;
    log_setup(LOG_FORMAT_TEXT, LOG_INFO);
    if (config_load(&app->cfg, ".env", &error) != 0) {
        log_msgf(LOG_ERROR, "configuration error: %s", error);
        free(error);
        return EXIT_USAGE;
    }
    enum log_level level = LOG_INFO;
    if (strcmp(app->cfg.log_level, "debug") == 0)
        level = LOG_DEBUG;
    else if (strcmp(app->cfg.log_level, "warning") == 0)
        level = LOG_WARNING;
    else if (strcmp(app->cfg.log_level, "error") == 0)
        level = LOG_ERROR;
    log_setup(strcmp(app->cfg.log_format, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT, level);
    return 0;
}

static void count_outcome(void *ctx, const char *provider_id, const char *outcome)
{
    (void)ctx;
    metrics_replay_outcome(provider_id, outcome);
}

/* A provider/webhook transport under the configured outbound policy (DECISIONS 13):
 * PROVIDER_ALLOW_PRIVATE_NETWORKS and PROVIDER_ALLOWED_HOSTS. NULL with *error (owned). */
struct http_transport *app_transport_new(const struct config *cfg, char **error)
{
    struct outbound_policy policy = {0};
    policy.allow_private = cfg->provider_allow_private_networks;
    strlist_append_split(&policy.allowed_hosts, &policy.nallowed, cfg->provider_allowed_hosts);
    struct http_transport *t = curl_transport_new(&policy, error);
    strlist_free(policy.allowed_hosts, policy.nallowed);
    return t;
}

int app_open(struct app *app)
{
    char *error = NULL;
    app->store = store_open(app->cfg.database_url, &error);
    if (!app->store) {
        log_msgf(LOG_ERROR, "cannot open DATABASE_URL: %s", error ? error : "unknown error");
        free(error);
        return EXIT_FAILED;
    }
    if (app->store->ops->migrate(app->store) != 0) {
        log_msgf(LOG_ERROR, "database migration failed: %s",
                 app->store->ops->last_error(app->store));
        return EXIT_FAILED;
    }
    if (app->cfg.redis_url) {
        app->status = status_redis_new(app->cfg.redis_url, &error);
        if (!app->status) {
            log_msgf(LOG_ERROR, "configuration error: REDIS_URL: %s", error);
            free(error);
            return EXIT_USAGE;
        }
    } else {
        app->status = status_db_new(app->store);
    }
    app->transport = app_transport_new(&app->cfg, &error);
    if (!app->transport) {
        log_msgf(LOG_ERROR, "cannot start the HTTP client: %s", error ? error : "unknown error");
        free(error);
        return EXIT_FAILED;
    }
    char host[64] = "localhost";
    gethostname(host, sizeof(host) - 1);
    char rnd[UUID_STRLEN + 1];
    uuid4(rnd);
    snprintf(app->owner, sizeof(app->owner), "%s:%ld:%.8s", host, (long)getpid(), rnd);
    struct replay_env *env = &app->replay;
    env->store = app->store;
    env->transport = app->transport;
    env->owner = app->owner;
    env->max_attempts = app->cfg.replay_max_attempts;
    env->retry_backoff_us = (int64_t)app->cfg.replay_retry_backoff_seconds * 1000000LL;
    env->lease_us = (int64_t)app->cfg.replay_lease_seconds * 1000000LL;
    env->provider_concurrency = app->cfg.replay_provider_concurrency;
    env->chunk = 256;
    env->on_outcome = count_outcome;
    return 0;
}

void app_close(struct app *app)
{
    if (app->transport)
        app->transport->free(app->transport);
    if (app->status)
        app->status->free(app->status);
    if (app->store)
        app->store->ops->close(app->store);
    config_release(&app->cfg);
    memset(app, 0, sizeof(*app));
}
