/*
 * smplat serve: the HTTP server plus the in-process replay loop (DECISIONS 8:
 * its passes are recorded like every other path), the alert loop, and the sweep of
 * abandoned order placements. SIGTERM or SIGINT: stop accepting, let in-flight requests and
 * the current pass finish, exit 0.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/store/store_open.h"
#include "app/alerts.h"
#include "app/api.h"
#include "app/placement.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "core/pyjson.h"

struct loop {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int interval_seconds;
    int limit;
    const char *database_url; /* borrowed */
};

/* Waits up to `seconds` or until told to stop. 1 when stopping. */
static int loop_wait(struct loop *l, int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        if (pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0)
            break;
    }
    int stop = l->stop;
    pthread_mutex_unlock(&l->mu);
    return stop;
}

static void *replay_loop(void *arg)
{
    struct loop *l = arg;
    struct app app;
    if (app_config(&app) != 0 || app_open(&app) != 0) {
        app_close(&app);
        log_msgf(LOG_ERROR, "Provider order replay worker could not start");
        return NULL;
    }
    char fields[96];
    snprintf(fields, sizeof(fields), "{\"interval_seconds\":%d,\"limit\":%d}", l->interval_seconds,
             l->limit);
    log_event(LOG_INFO, "Provider order replay worker started", fields);
    do {
        json_t *summary = NULL;
        char *error = NULL;
        if (task_run_scheduled(&app, 0, &summary, &error) != 0) {
            json_t *f = json_pack("{s:s}", "error", error ? error : "unknown");
            char *ft = pyjson_dumps(f, PYJSON_COMPACT);
            log_event(LOG_ERROR, "Provider order replay iteration failed", ft);
            free(ft);
            json_decref(f);
            free(error);
        }
        json_decref(summary);
    } while (!loop_wait(l, l->interval_seconds));
    log_event(LOG_INFO, "Provider order replay worker stopped", NULL);
    app_close(&app);
    return NULL;
}

/* The placement sweep (app/placement.c): placements whose placer stopped while its request
 * was in flight are recorded as outcome unknown once their lease ran out, for every order, at
 * once and then every interval. It runs whether or not the replay loop does: placements are
 * made by this server's API, so wherever they are made, a sweep runs. */
static void *placement_loop(void *arg)
{
    struct loop *l = arg;
    struct store *s = NULL;
    int reported = 0;
    do {
        char *error = NULL;
        if (!s && !(s = store_open(l->database_url, &error))) {
            if (!reported)
                log_msgf(LOG_ERROR, "placement sweep: %s", error ? error : "cannot open the store");
            reported = 1;
            free(error);
            continue;
        }
        if (placement_sweep(s, NULL, time_now_us(), PLACEMENT_SWEEP_LIMIT) < 0) {
            log_msgf(LOG_ERROR, "placement sweep: %s", s->ops->last_error(s));
            /* A broken connection is reopened at the next pass. */
            s->ops->close(s);
            s = NULL;
        }
    } while (!loop_wait(l, l->interval_seconds));
    if (s)
        s->ops->close(s);
    return NULL;
}

/* The in-process alert loop (spec-alerts §10): a pass at once, then every interval. Unlike the
 * original's loop, each pass is recorded like every other path (DECISIONS 8). */
static void *alert_loop(void *arg)
{
    struct loop *l = arg;
    struct app app;
    if (app_config(&app) != 0 || app_open(&app) != 0) {
        app_close(&app);
        log_msgf(LOG_ERROR, "Provider automation alert worker could not start");
        return NULL;
    }
    char fields[64];
    snprintf(fields, sizeof(fields), "{\"interval_seconds\":%d}", l->interval_seconds);
    log_event(LOG_INFO, "Provider automation alert worker started", fields);
    do {
        json_t *summary = NULL;
        char *error = NULL;
        if (task_run_alerts(&app, &summary, &error) != 0) {
            json_t *f = json_pack("{s:s}", "error", error ? error : "unknown");
            char *ft = pyjson_dumps(f, PYJSON_COMPACT);
            log_event(LOG_ERROR, "Provider automation alert iteration failed", ft);
            free(ft);
            json_decref(f);
            free(error);
        }
        json_decref(summary);
    } while (!loop_wait(l, l->interval_seconds));
    log_event(LOG_INFO, "Provider automation alert worker stopped", NULL);
    app_close(&app);
    return NULL;
}

static int is_loopback(const char *host)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1)
        return 0;
    return (ntohl(a.s_addr) >> 24) == 127;
}

int serve_run(const char *host_arg, int port_arg, int demo)
{
    struct app app;
    int rc = app_config(&app);
    if (rc != 0)
        return rc;
    if (demo) {
        /* The demo replays against its own provider on loopback, every 20 seconds.
         */
        if (!getenv("PROVIDER_ALLOW_PRIVATE_NETWORKS"))
            app.cfg.provider_allow_private_networks = 1;
        if (!getenv("PROVIDER_REPLAY_WORKER_ENABLED"))
            app.cfg.replay_worker_enabled = 1;
        if (!getenv("PROVIDER_REPLAY_WORKER_INTERVAL_SECONDS"))
            app.cfg.replay_worker_interval_seconds = 20;
        setenv("PROVIDER_ALLOW_PRIVATE_NETWORKS",
               app.cfg.provider_allow_private_networks ? "true" : "false", 1);
    }
    const char *host = host_arg ? host_arg : app.cfg.host;
    int port = port_arg > 0 ? port_arg : app.cfg.port;
    int has_token = (app.cfg.api_token && *app.cfg.api_token) ||
                    (app.cfg.checkout_api_key && *app.cfg.checkout_api_key);
    if (!has_token && !is_loopback(host) && !app.cfg.allow_unauthenticated) {
        log_msgf(LOG_ERROR,
                 "refusing to listen on %s without SMPLAT_API_TOKEN or CHECKOUT_API_KEY "
                 "(set SMPLAT_ALLOW_UNAUTHENTICATED=true to allow it)",
                 host);
        app_close(&app);
        return EXIT_USAGE;
    }
    if ((rc = app_open(&app)) != 0) {
        app_close(&app);
        return rc;
    }
    if (demo) {
        char *error = NULL;
        if (demo_seed(app.store, port, &error) != 0) {
            log_msgf(LOG_ERROR, "demo seeding failed: %s", error ? error : "unknown");
            free(error);
            app_close(&app);
            return EXIT_FAILED;
        }
    }
    /* Signals are taken synchronously by this thread; every other thread blocks
     * them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct api api;
    char *error = NULL;
    if (api_init(&api, &app.cfg, &error) != 0) {
        log_msgf(LOG_ERROR, "configuration error: %s", error);
        free(error);
        app_close(&app);
        return EXIT_USAGE;
    }
    struct http_handler h;
    api_handler(&api, &h);
    struct http_server *srv = http_server_start(host, port, 4, &h, &error);
    if (!srv) {
        log_msgf(LOG_ERROR, "%s", error);
        free(error);
        api_release(&api);
        app_close(&app);
        return EXIT_FAILED;
    }
    log_msgf(LOG_INFO, "serving on http://%s:%d (database: %s)", host, port, app.store->ops->name);
    struct loop replay = {0};
    pthread_mutex_init(&replay.mu, NULL);
    pthread_cond_init(&replay.cv, NULL);
    int replay_running = 0;
    if (app.cfg.replay_worker_enabled) {
        replay.interval_seconds = app.cfg.replay_worker_interval_seconds > 0
                                      ? app.cfg.replay_worker_interval_seconds
                                      : 300;
        replay.limit = app.cfg.replay_worker_limit ? app.cfg.replay_worker_limit : 25;
        replay_running = pthread_create(&replay.thread, NULL, replay_loop, &replay) == 0;
    }
    struct loop alerts = {0};
    pthread_mutex_init(&alerts.mu, NULL);
    pthread_cond_init(&alerts.cv, NULL);
    int alerts_running = 0;
    if (app.cfg.alert_worker_enabled) {
        alerts.interval_seconds =
            app.cfg.alert_interval_seconds > 0 ? app.cfg.alert_interval_seconds : 900;
        alerts_running = pthread_create(&alerts.thread, NULL, alert_loop, &alerts) == 0;
    }
    /* Sweeping more often than the lease is pointless, less often than a minute lazy. */
    struct loop sweep = {0};
    pthread_mutex_init(&sweep.mu, NULL);
    pthread_cond_init(&sweep.cv, NULL);
    sweep.interval_seconds =
        app.cfg.placement_lease_seconds < 60 ? app.cfg.placement_lease_seconds : 60;
    sweep.database_url = app.cfg.database_url;
    int sweep_running = pthread_create(&sweep.thread, NULL, placement_loop, &sweep) == 0;
    int sig = 0;
    sigwait(&set, &sig);
    log_msgf(LOG_INFO, "received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    http_server_stop(srv);
    if (replay_running) {
        pthread_mutex_lock(&replay.mu);
        replay.stop = 1;
        pthread_cond_signal(&replay.cv);
        pthread_mutex_unlock(&replay.mu);
        pthread_join(replay.thread, NULL);
    }
    if (sweep_running) {
        pthread_mutex_lock(&sweep.mu);
        sweep.stop = 1;
        pthread_cond_signal(&sweep.cv);
        pthread_mutex_unlock(&sweep.mu);
        pthread_join(sweep.thread, NULL);
    }
    if (alerts_running) {
        pthread_mutex_lock(&alerts.mu);
        alerts.stop = 1;
        pthread_cond_signal(&alerts.cv);
        pthread_mutex_unlock(&alerts.mu);
        pthread_join(alerts.thread, NULL);
    }
    api_release(&api);
    app_close(&app);
    return EXIT_OK;
}
