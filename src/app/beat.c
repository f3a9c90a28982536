/*
 * `smplat beat`: publishes the periodic tasks as Celery messages a Python
 * worker accepts as well as ours (docs/CELERY.md): the replay batch
 * (SMPLAT_BEAT_REPLAY_SCHEDULE, default every 5 minutes, kwarg limit
 * SMPLAT_BEAT_REPLAY_LIMIT=50) and the alert pass
 * (SMPLAT_BEAT_ALERTS_SCHEDULE, every 15 minutes). Schedules are crontabs in
 * UTC (core/crontab.h).
 *
 * Any number of beats may run: each slot (entry, fire time) is published by
 * whoever takes its lease first, and lease and publish are one Redis step.
 * After downtime, a beat publishes the most recent missed slot once (not every
 * missed one). A slot is skipped while the task of the previous one has no
 * final result yet (it waits in the queue or still runs), so runs never stack;
 * each message also expires at the next slot, so a backlog of beat messages
 * cannot build up in a queue no worker reads.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapters/broker/redis_broker.h"
#include "app/celery_tasks.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/num.h"
#include "base/uuid.h"
#include "codec/celery.h"
#include "core/pyjson.h"
#include "core/crontab.h"

static volatile sig_atomic_t beat_stop;

static void on_signal(int sig)
{
    (void)sig;
    beat_stop = 1;
}

struct entry {
    const char *name; /* lease and record key part */
    const char *task;
    const char *queue;
    json_t *kwargs;
    struct crontab cron;
    int64_t next; /* Unix seconds */
};

static void log_fields(enum log_level level, const char *message, json_t *fields)
{
    char *text = pyjson_dumps(fields, PYJSON_COMPACT);
    log_event(level, message, text);
    free(text);
    json_decref(fields);
}

/* Whether the task published for the previous slot is still pending or
 * running: its record exists, its result is not final, and it is younger
 * than stale_s (past that it is assumed lost). */
static int previous_running(struct broker *b, const struct entry *e, int64_t now, int64_t stale_s)
{
    char key[160];
    snprintf(key, sizeof(key), "smplat:beat:%s:task", e->name);
    char *record = NULL;
    if (broker_get(b, key, &record) != 0 || !record)
        return 0;
    char id[64] = "";
    long long published = 0;
    int running = 0;
    if (sscanf(record, "%63s %lld", id, &published) == 2 && now - published < stale_s) {
        char *meta = NULL;
        if (broker_get_result(b, id, &meta) == 0) {
            json_t *doc = NULL;
            const char *status = NULL;
            running = !meta || celery_meta_decode(meta, strlen(meta), &doc, &status) != 0 ||
                      (strcmp(status, "SUCCESS") != 0 && strcmp(status, "FAILURE") != 0 &&
                       strcmp(status, "REVOKED") != 0);
            json_decref(doc);
            free(meta);
        }
    }
    free(record);
    return running;
}

/* Publishes slot of e unless another beat did or the previous run is not
 * over. 1 published, 0 not, ERR_IO. */
static int fire(struct broker *b, const struct entry *e, int64_t slot, const char *origin,
                int64_t stale_s)
{
    int64_t now = time_now_us() / 1000000;
    char slot_iso[ISO_BUFSZ];
    iso_format_utc(slot * 1000000LL, slot_iso);
    if (previous_running(b, e, now, stale_s)) {
        log_fields(LOG_WARNING, "Previous run not finished; beat slot skipped",
                   json_pack("{s:s,s:s}", "entry", e->name, "slot", slot_iso));
        return 0;
    }
    int64_t next = crontab_next(&e->cron, slot);
    int64_t interval = next > slot ? next - slot : 60;
    char id[UUID_STRLEN + 1];
    struct celery_publish p = {
        .task = e->task,
        .queue = e->queue,
        .kwargs = e->kwargs,
        .eta_us = CELERY_NO_TIME,
        .expires_us = next > now ? next * 1000000LL : CELERY_NO_TIME,
        .priority = 0,
        .origin = origin,
    };
    char *env = celery_msg_encode(&p, id);
    char lease[160], record_key[160], last_key[160], record[128];
    snprintf(lease, sizeof(lease), "smplat:beat:%s:slot:%lld", e->name, (long long)slot);
    snprintf(record_key, sizeof(record_key), "smplat:beat:%s:task", e->name);
    snprintf(last_key, sizeof(last_key), "smplat:beat:%s:last", e->name);
    snprintf(record, sizeof(record), "%s %lld", id, (long long)now);
    long long lease_ms = (long long)(interval * 2 < 3600 ? 3600 : interval * 2) * 1000LL;
    int rc = broker_lease_publish(b, lease, lease_ms, e->queue, 0, env, record_key, record,
                                  last_key, (long long)slot);
    free(env);
    if (rc == 1)
        log_fields(LOG_INFO, "Beat published task",
                   json_pack("{s:s,s:s,s:s,s:s}", "entry", e->name, "task", e->task, "task_id", id,
                             "slot", slot_iso));
    else if (rc == 0)
        log_fields(LOG_DEBUG, "Beat slot already published by another beat",
                   json_pack("{s:s,s:s}", "entry", e->name, "slot", slot_iso));
    return rc;
}

/* At start: the latest slot missed since the last publication, once. */
static void catch_up(struct broker *b, struct entry *e, int64_t now, const char *origin,
                     int64_t stale_s)
{
    char key[160];
    snprintf(key, sizeof(key), "smplat:beat:%s:last", e->name);
    char *last_s = NULL;
    if (broker_get(b, key, &last_s) != 0 || !last_s)
        return;
    int64_t last = 0;
    int bad = num_parse_i64(last_s, &last) != 0;
    free(last_s);
    if (bad)
        return;
    int64_t prev = crontab_prev(&e->cron, now);
    if (prev > last) {
        log_fields(LOG_INFO, "Beat catching up a missed slot",
                   json_pack("{s:s,s:I}", "entry", e->name, "missed_since", (json_int_t)last));
        fire(b, e, prev, origin, stale_s);
    }
}

int beat_run(struct app *app)
{
    const struct config *cfg = &app->cfg;
    const char *burl = cfg->celery_broker_url ? cfg->celery_broker_url : cfg->redis_url;
    const char *rurl = cfg->celery_result_backend ? cfg->celery_result_backend : cfg->redis_url;
    if (!burl) {
        log_msgf(LOG_ERROR, "configuration error: set CELERY_BROKER_URL or REDIS_URL");
        return EXIT_USAGE;
    }
    char *error = NULL;
    struct broker *b = broker_new(burl, rurl ? rurl : burl, &error);
    if (!b) {
        log_msgf(LOG_ERROR, "configuration error: CELERY_BROKER_URL: %s", error);
        free(error);
        return EXIT_USAGE;
    }
    struct entry entries[2] = {
        {.name = "provider-replay",
         .task = CELERY_TASK_REPLAY,
         .queue = cfg->replay_task_queue,
         .kwargs = json_pack("{s:i}", "limit", cfg->beat_replay_limit)},
        {.name = "provider-alerts",
         .task = CELERY_TASK_ALERTS,
         .queue = cfg->alert_task_queue,
         .kwargs = json_object()},
    };
    /* Validated by config_load already. */
    crontab_parse(cfg->beat_replay_schedule, &entries[0].cron, NULL, 0);
    crontab_parse(cfg->beat_alerts_schedule, &entries[1].cron, NULL, 0);
    char host[64] = "localhost", origin[128];
    gethostname(host, sizeof(host) - 1);
    snprintf(origin, sizeof(origin), "beat%ld@%s", (long)getpid(), host);
    int64_t stale_s = cfg->worker_visibility_timeout;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_fields(LOG_INFO, "Celery beat ready",
               json_pack("{s:s,s:s,s:s}", "origin", origin, "replay_schedule",
                         cfg->beat_replay_schedule, "alerts_schedule", cfg->beat_alerts_schedule));
    int64_t now = time_now_us() / 1000000;
    int caught_up = 0, down = 0;
    for (size_t i = 0; i < 2; i++)
        entries[i].next = crontab_next(&entries[i].cron, now);
    while (!beat_stop) {
        now = time_now_us() / 1000000;
        if (!caught_up) {
            if (broker_ping(b) == 0) {
                for (size_t i = 0; i < 2; i++)
                    catch_up(b, &entries[i], now, origin, stale_s);
                caught_up = 1;
            }
        }
        for (size_t i = 0; i < 2; i++) {
            struct entry *e = &entries[i];
            if (e->next < 0 || e->next > now)
                continue;
            /* Late (the broker was down or the machine slept): the latest
             * slot only. */
            int64_t slot = crontab_prev(&e->cron, now);
            int rc = fire(b, e, slot, origin, stale_s);
            if (rc < 0) {
                if (!down)
                    log_fields(LOG_WARNING, "Cannot reach the broker; retrying",
                               json_pack("{s:s}", "error", broker_last_error(b)));
                down = 1;
                continue; /* try the same slot again */
            }
            if (down)
                log_event(LOG_INFO, "Connected to the broker again", NULL);
            down = 0;
            e->next = crontab_next(&e->cron, now);
        }
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
    }
    log_event(LOG_INFO, "Beat stopped", NULL);
    for (size_t i = 0; i < 2; i++)
        json_decref(entries[i].kwargs);
    broker_free(b);
    return EXIT_OK;
}
