/*
 * `smplat worker`: a native Celery worker on the Redis broker (docs/CELERY.md).
 *
 * The main thread consumes: it takes messages (taken and recorded as unacked
 * in one step, adapters/broker), decodes them, holds messages whose eta is in
 * the future, and hands the rest to --concurrency worker threads through a
 * bounded queue (prefetch = concurrency x SMPLAT_WORKER_PREFETCH_MULTIPLIER).
 * It also restores messages of dead workers (kombu's restore_visible) and
 * keeps the unacked_index scores of what it holds fresh, so that a restore by
 * anyone never takes a message from a live worker.
 *
 * Each worker thread has its own database connections (one struct app) and
 * its own Redis connections. It runs the task, then stores the result and
 * acknowledges the message in one step: acknowledgement is late, so a worker
 * killed mid-task leaves the message unacked and it runs again elsewhere (the
 * replay pass itself never sends an entry twice, DECISIONS 1). A message
 * delivered more than SMPLAT_WORKER_MAX_DELIVERIES times is dead-lettered.
 *
 * SIGTERM/SIGINT: stop taking, put held and queued messages back on their
 * queues at once, let running tasks finish for up to
 * SMPLAT_WORKER_SHUTDOWN_GRACE_SECONDS, then put back what still runs.
 */
#include <errno.h>
#include <pthread.h>
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
#include "base/sb.h"
#include "codec/celery.h"
#include "core/pyjson.h"

#define MAX_HELD_ETA 1000
#define DEAD_LETTER_KEY "smplat.dead-letter"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct job {
    struct job *next;
    struct celery_msg msg;
    char *raw;
    size_t len;
    char *key;
    long long count;
};

struct worker;

struct thread_slot {
    struct worker *w;
    struct app app;
    struct broker *b;
    pthread_t thread;
    int started;
    struct job *running; /* guarded by w->mu */
};

struct worker {
    const struct config *cfg;
    const char *broker_url;
    const char *result_url;
    char hostname[128];
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a job was queued, or stopping */
    pthread_cond_t room_cv; /* a job finished */
    struct job *ready_head, *ready_tail;
    size_t nready;
    size_t nrunning;
    int stopping;
    int64_t give_up_us; /* threads stop retrying result writes after this */
    struct thread_slot *slots;
    int nslots;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    celery_msg_release(&j->msg);
    free(j->raw);
    free(j->key);
    free(j);
}

static void log_fields(enum log_level level, const char *message, json_t *fields)
{
    char *text = pyjson_dumps(fields, PYJSON_COMPACT);
    log_event(level, message, text);
    free(text);
    json_decref(fields);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_requested)
        ;
}

/* Stores meta (may be NULL: ack only) and acks tag, retrying through broker
 * outages until it works or the shutdown grace time is over. */
static int finish_with_retry(struct worker *w, struct broker *b, const char *task_id,
                             const char *meta, const char *tag)
{
    long backoff = 100;
    for (;;) {
        int rc = broker_finish(b, task_id, meta, w->cfg->celery_result_expires, tag);
        if (rc >= 0)
            return rc;
        pthread_mutex_lock(&w->mu);
        int64_t give_up = w->give_up_us;
        pthread_mutex_unlock(&w->mu);
        if (give_up && time_now_us() > give_up) {
            log_fields(LOG_ERROR, "Cannot store task result; the message stays unacked",
                       json_pack("{s:s,s:s}", "task_id", task_id ? task_id : "", "error",
                                 broker_last_error(b)));
            return rc;
        }
        log_fields(LOG_WARNING, "Cannot store task result; retrying",
                   json_pack("{s:s,s:s}", "task_id", task_id ? task_id : "", "error",
                             broker_last_error(b)));
        sleep_ms(backoff);
        backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
    }
}

static char *meta_text(enum celery_state state, const json_t *result, const char *traceback,
                       const struct celery_msg *m)
{
    struct celery_meta meta = {
        .state = state,
        .result = result,
        .traceback = traceback,
        .task_id = m->id,
        .date_done_us =
            state == CELERY_STARTED || state == CELERY_RETRY ? CELERY_NO_TIME : time_now_us(),
        .group_id = m->group,
        .parent_id = m->parent_id,
    };
    return celery_meta_encode(&meta);
}

/* Runs one job and records its outcome (spec: celery-wire.md §10 steps 4-10). */
static void execute(struct thread_slot *s, struct job *j)
{
    struct worker *w = s->w;
    const struct celery_msg *m = &j->msg;
    char *meta = NULL;
    int64_t started = time_now_us();
    if (m->expires_us != CELERY_NO_TIME && m->expires_us < started) {
        json_t *exc = celery_exc("TaskRevokedError", "celery.exceptions", "expired");
        meta = meta_text(CELERY_REVOKED, exc, NULL, m);
        json_decref(exc);
        log_fields(LOG_INFO, "Discarding expired task",
                   json_pack("{s:s,s:s}", "task", m->task, "task_id", m->id));
    } else {
        const struct celery_task_def *def = celery_task_find(m->task);
        if (!def) {
            log_fields(LOG_ERROR, "Received unregistered task",
                       json_pack("{s:s,s:s}", "task", m->task, "task_id", m->id));
            json_t *exc = celery_exc("NotRegistered", "celery.exceptions", m->task);
            meta = meta_text(CELERY_FAILURE, exc, NULL, m);
            json_decref(exc);
        } else {
            json_t *result = NULL, *exc = NULL;
            int rc = def->run(&s->app, m->args, m->kwargs, &result, &exc);
            double secs = (double)(time_now_us() - started) / 1e6;
            if (rc == 0) {
                if (!m->ignore_result)
                    meta = meta_text(CELERY_SUCCESS, result, NULL, m);
                char *rtext = pyjson_dumps(result, PYJSON_COMPACT);
                json_t *f =
                    json_pack("{s:s,s:s,s:f}", "task", m->task, "task_id", m->id, "runtime", secs);
                json_object_set_new(f, "result", json_string(rtext ? rtext : ""));
                free(rtext);
                log_fields(LOG_INFO, "Task succeeded", f);
            } else {
                if (!exc)
                    exc = celery_exc("RuntimeError", "builtins", "task failed");
                const char *type = json_string_value(json_object_get(exc, "exc_type"));
                const char *msg =
                    json_string_value(json_array_get(json_object_get(exc, "exc_message"), 0));
                struct sb tb;
                sb_init(&tb);
                sb_printf(
                    &tb,
                    "Traceback (most recent call last):\n  smplat worker (C), task %s\n%s: %s\n",
                    m->task, type ? type : "Error", msg ? msg : "");
                meta = meta_text(CELERY_FAILURE, exc, sb_str(&tb), m);
                sb_release(&tb);
                log_fields(LOG_ERROR, "Task failed",
                           json_pack("{s:s,s:s,s:s,s:f}", "task", m->task, "task_id", m->id,
                                     "error", msg ? msg : "", "runtime", secs));
            }
            json_decref(result);
            json_decref(exc);
        }
    }
    finish_with_retry(w, s->b, m->id, meta, m->delivery_tag);
    free(meta);
}

static void *worker_thread(void *arg)
{
    struct thread_slot *s = arg;
    struct worker *w = s->w;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->ready_head && !w->stopping)
            pthread_cond_wait(&w->work_cv, &w->mu);
        struct job *j = w->ready_head;
        if (!j) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        w->ready_head = j->next;
        if (!w->ready_head)
            w->ready_tail = NULL;
        w->nready--;
        w->nrunning++;
        s->running = j;
        pthread_mutex_unlock(&w->mu);
        execute(s, j);
        pthread_mutex_lock(&w->mu);
        s->running = NULL;
        w->nrunning--;
        pthread_cond_broadcast(&w->room_cv);
        pthread_mutex_unlock(&w->mu);
        job_free(j);
    }
    return NULL;
}

/* Puts a message we hold back at the tail of its queue (the next one served),
 * flagged redelivered, as kombu's warm shutdown does. */
static void restore_job(struct broker *b, struct job *j, int ran)
{
    char *value = celery_unacked_value(j->raw, j->len, j->msg.exchange,
                                       j->msg.routing_key ? j->msg.routing_key : "");
    char *env = NULL, *dest = NULL, *ex = NULL;
    if (j->msg.delivery_tag &&
        celery_restore_envelope(value, strlen(value), &env, &dest, &ex) == 0) {
        for (int attempt = 0; attempt < 3; attempt++) {
            if (broker_requeue(b, j->msg.delivery_tag, dest, env, 0, !ran) >= 0)
                break;
            sleep_ms(200);
        }
    }
    free(value);
    free(env);
    free(dest);
    free(ex);
}

static void push_ready(struct worker *w, struct job *j)
{
    pthread_mutex_lock(&w->mu);
    j->next = NULL;
    if (w->ready_tail)
        w->ready_tail->next = j;
    else
        w->ready_head = j;
    w->ready_tail = j;
    w->nready++;
    pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
}

/* Decides what to do with a message just taken: drop (acked), dead-letter,
 * hold until its eta, or queue it for a worker thread. Returns the job when it
 * is to be held for its eta. */
static struct job *accept_delivery(struct worker *w, struct broker *b, struct broker_delivery *d)
{
    if (d->count < 0) {
        log_fields(LOG_ERROR, "Received a message without delivery_tag; discarded",
                   json_pack("{s:s}", "queue", d->key));
        return NULL;
    }
    struct job *j = xcalloc(1, sizeof(*j));
    j->raw = d->raw;
    j->len = d->len;
    j->key = d->key;
    j->count = d->count;
    d->raw = d->key = NULL;
    char why[160] = "";
    int rc = celery_msg_decode(j->raw, j->len, &j->msg, why, sizeof(why));
    if (rc != 0) {
        /* Never executed, no result stored: what Celery does with a message it
         * cannot or must not decode (ContentDisallowed, invalid message). */
        json_t *f = json_pack("{s:s,s:s}", "reason", why, "queue", j->key);
        if (j->msg.content_type)
            json_object_set_new(f, "content_type", json_string(j->msg.content_type));
        if (j->msg.id)
            json_object_set_new(f, "task_id", json_string(j->msg.id));
        log_fields(LOG_ERROR,
                   rc == CELERY_E_CONTENT_TYPE
                       ? "Refusing to deserialize untrusted content; message discarded"
                       : "Received invalid task message; message discarded",
                   f);
        const char *tag = j->msg.delivery_tag;
        if (tag)
            finish_with_retry(w, b, NULL, NULL, tag);
        job_free(j);
        return NULL;
    }
    log_fields(LOG_DEBUG, "Task received",
               json_pack("{s:s,s:s,s:I}", "task", j->msg.task, "task_id", j->msg.id, "delivery",
                         (json_int_t)j->count));
    if (j->count > w->cfg->worker_max_deliveries) {
        log_fields(LOG_ERROR, "Message delivered too many times; moved to the dead-letter list",
                   json_pack("{s:s,s:s,s:I,s:s}", "task", j->msg.task, "task_id", j->msg.id,
                             "deliveries", (json_int_t)j->count, "list", DEAD_LETTER_KEY));
        if (broker_dead_letter(b, j->msg.delivery_tag, j->raw, j->len, DEAD_LETTER_KEY) >= 0) {
            char msg[128];
            snprintf(msg, sizeof(msg), "message dead-lettered after %lld deliveries", j->count);
            json_t *exc = celery_exc("RuntimeError", "builtins", msg);
            char *meta = meta_text(CELERY_FAILURE, exc, NULL, &j->msg);
            json_decref(exc);
            finish_with_retry(w, b, j->msg.id, meta, NULL);
            free(meta);
        }
        job_free(j);
        return NULL;
    }
    if (j->msg.eta_us != CELERY_NO_TIME && j->msg.eta_us > time_now_us())
        return j;
    push_ready(w, j);
    return NULL;
}

/* Tags of every message this worker holds, for the unacked_index refresh. */
static char **held_tags(struct worker *w, struct job *eta, size_t *n)
{
    *n = 0;
    char **tags = NULL;
    size_t cap = 0;
#define ADD_TAG(jp)                                                                                \
    do {                                                                                           \
        if ((jp)->msg.delivery_tag) {                                                              \
            if (*n == cap) {                                                                       \
                cap = cap ? cap * 2 : 16;                                                          \
                tags = xrealloc(tags, cap * sizeof(*tags));                                        \
            }                                                                                      \
            tags[(*n)++] = xstrdup((jp)->msg.delivery_tag);                                        \
        }                                                                                          \
    } while (0)
    for (struct job *j = eta; j; j = j->next)
        ADD_TAG(j);
    pthread_mutex_lock(&w->mu);
    for (struct job *j = w->ready_head; j; j = j->next)
        ADD_TAG(j);
    for (int i = 0; i < w->nslots; i++)
        if (w->slots[i].running)
            ADD_TAG(w->slots[i].running);
    pthread_mutex_unlock(&w->mu);
#undef ADD_TAG
    return tags;
}

static char **build_keys(char **queues, size_t nq, size_t *nkeys)
{
    static const int steps[] = {0, 3, 6, 9};
    char **keys = xcalloc(nq * 4, sizeof(*keys));
    *nkeys = 0;
    for (size_t s = 0; s < 4; s++)
        for (size_t q = 0; q < nq; q++)
            keys[(*nkeys)++] = celery_queue_key(queues[q], steps[s]);
    return keys;
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* The consume loop of the main thread; returns when a stop was requested. */
static void consume(struct worker *w, struct broker *b, char **queues, size_t nq, int prefetch)
{
    struct job *eta = NULL; /* held until due, sorted by nothing: few */
    size_t neta = 0;
    int64_t vis_us = (int64_t)w->cfg->worker_visibility_timeout * 1000000LL;
    int64_t refresh_every = vis_us / 4;
    if (refresh_every > 60000000LL)
        refresh_every = 60000000LL;
    if (refresh_every < 500000LL)
        refresh_every = 500000LL;
    int64_t restore_every = vis_us / 2 < 10000000LL ? vis_us / 2 : 10000000LL;
    if (restore_every < 500000LL)
        restore_every = 500000LL;
    int64_t last_restore = 0, last_refresh = time_now_us();
    long backoff = 100;
    int down = 0;
    size_t rot = 0;
    char **order = xcalloc(nq, sizeof(*order));
    for (size_t i = 0; i < nq; i++)
        order[i] = queues[i];
    while (!stop_requested) {
        int64_t now = time_now_us();
        int err = 0;
        if (now - last_restore >= restore_every) {
            int n = broker_restore_visible(b, w->cfg->worker_visibility_timeout);
            if (n > 0)
                log_fields(LOG_WARNING, "Restored unacknowledged messages",
                           json_pack("{s:i}", "count", n));
            err |= n < 0;
            last_restore = now;
        }
        if (!err && now - last_refresh >= refresh_every) {
            size_t nt;
            char **tags = held_tags(w, eta, &nt);
            err |= broker_refresh(b, tags, nt) < 0;
            for (size_t i = 0; i < nt; i++)
                free(tags[i]);
            free(tags);
            last_refresh = now;
        }
        /* Messages whose eta came. */
        for (struct job **pp = &eta; *pp;) {
            struct job *j = *pp;
            if (j->msg.eta_us <= now) {
                *pp = j->next;
                neta--;
                push_ready(w, j);
            } else {
                pp = &j->next;
            }
        }
        pthread_mutex_lock(&w->mu);
        size_t inflight = w->nready + w->nrunning;
        if (inflight >= (size_t)prefetch || neta >= MAX_HELD_ETA) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 50000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->room_cv, &w->mu, &until);
            pthread_mutex_unlock(&w->mu);
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        struct broker_delivery d;
        int rc = err ? ERR_IO : 0;
        if (rc == 0) {
            size_t nkeys;
            char **keys = build_keys(order, nq, &nkeys);
            rc = broker_take(b, keys, nkeys, &d);
            if (rc == 0) {
                double wait = 0.1;
                for (struct job *j = eta; j; j = j->next) {
                    double left = (double)(j->msg.eta_us - now) / 1e6;
                    if (left < wait)
                        wait = left < 0.005 ? 0.005 : left;
                }
                rc = broker_wait(b, keys[rot++ % nq], wait);
            }
            free_keys(keys, nkeys);
        }
        if (rc < 0) {
            if (!down)
                log_fields(LOG_WARNING, "Cannot reach the broker; retrying",
                           json_pack("{s:s}", "error", broker_last_error(b)));
            down = 1;
            sleep_ms(backoff);
            backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
            last_restore = 0; /* restore again once back */
            continue;
        }
        if (down)
            log_event(LOG_INFO, "Connected to the broker again", NULL);
        down = 0;
        backoff = 100;
        if (rc == 1) {
            /* Round robin: the queue that delivered goes to the end. */
            char *q = celery_key_queue(d.key);
            for (size_t i = 0; i + 1 < nq; i++) {
                if (strcmp(order[i], q) == 0) {
                    char *t = order[i];
                    memmove(&order[i], &order[i + 1], (nq - i - 1) * sizeof(*order));
                    order[nq - 1] = t;
                    break;
                }
            }
            free(q);
            struct job *held = accept_delivery(w, b, &d);
            broker_delivery_release(&d);
            if (held) {
                held->next = eta;
                eta = held;
                neta++;
            }
        }
    }
    free(order);
    /* Warm shutdown: what is held or queued goes back at once. */
    pthread_mutex_lock(&w->mu);
    struct job *queued = w->ready_head;
    w->ready_head = w->ready_tail = NULL;
    w->nready = 0;
    w->stopping = 1;
    w->give_up_us = time_now_us() + (int64_t)w->cfg->worker_shutdown_grace_seconds * 1000000LL;
    pthread_cond_broadcast(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    int restored = 0;
    for (struct job *lists[2] = {eta, queued}, **l = lists; l < lists + 2; l++) {
        for (struct job *j = *l; j;) {
            struct job *next = j->next;
            restore_job(b, j, 0);
            restored++;
            job_free(j);
            j = next;
        }
    }
    if (restored)
        log_fields(LOG_INFO, "Restored held messages on shutdown",
                   json_pack("{s:i}", "count", restored));
}

int worker_run(struct app *app, const struct worker_options *opt)
{
    const struct config *cfg = &app->cfg;
    const char *burl = cfg->celery_broker_url ? cfg->celery_broker_url : cfg->redis_url;
    const char *rurl = cfg->celery_result_backend ? cfg->celery_result_backend : cfg->redis_url;
    if (!burl) {
        log_msgf(LOG_ERROR, "configuration error: set CELERY_BROKER_URL or REDIS_URL");
        return EXIT_USAGE;
    }
    if (!rurl)
        rurl = burl;
    char *error = NULL;
    struct broker *b = broker_new(burl, rurl, &error);
    if (!b) {
        log_msgf(LOG_ERROR, "configuration error: CELERY_BROKER_URL: %s", error);
        free(error);
        return EXIT_USAGE;
    }
    struct worker w = {0};
    w.cfg = cfg;
    char host[64] = "localhost";
    gethostname(host, sizeof(host) - 1);
    snprintf(w.hostname, sizeof(w.hostname), "smplat@%s", host);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.work_cv, NULL);
    pthread_cond_init(&w.room_cv, NULL);
    int n = opt->concurrency > 0 ? opt->concurrency : 1;
    w.slots = xcalloc((size_t)n, sizeof(*w.slots));
    w.nslots = n;
    int rc = EXIT_OK;
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        struct thread_slot *s = &w.slots[i];
        s->w = &w;
        if ((rc = app_config(&s->app)) != 0 || (rc = app_open(&s->app)) != 0)
            break;
        s->b = broker_new(burl, rurl, &error);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (rc == EXIT_OK) {
        for (int i = 0; i < n; i++)
            w.slots[i].started =
                pthread_create(&w.slots[i].thread, NULL, worker_thread, &w.slots[i]) == 0;
        struct sb qs;
        sb_init(&qs);
        for (size_t i = 0; i < opt->nqueues; i++)
            sb_printf(&qs, "%s%s", i ? "," : "", opt->queues[i]);
        int prefetch = n * cfg->worker_prefetch_multiplier;
        log_fields(LOG_INFO, "Celery worker ready",
                   json_pack("{s:s,s:s,s:i,s:i}", "hostname", w.hostname, "queues", sb_str(&qs),
                             "concurrency", n, "prefetch", prefetch));
        sb_release(&qs);
        if (broker_ping(b) != 0)
            log_fields(LOG_WARNING, "Cannot reach the broker yet; retrying",
                       json_pack("{s:s}", "error", broker_last_error(b)));
        consume(&w, b, opt->queues, opt->nqueues, prefetch);
        log_event(LOG_INFO, "Warm shutdown", NULL);
        /* Running tasks get the grace time, then go back to their queue. */
        int64_t deadline = w.give_up_us;
        pthread_mutex_lock(&w.mu);
        while (w.nrunning > 0 && time_now_us() < deadline) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&w.room_cv, &w.mu, &until);
        }
        int abandoned = 0;
        for (int i = 0; i < n; i++) {
            if (w.slots[i].running) {
                restore_job(b, w.slots[i].running, 1);
                abandoned = 1;
            }
        }
        pthread_mutex_unlock(&w.mu);
        if (abandoned) {
            log_event(LOG_WARNING, "Shutdown grace time over; running tasks restored", NULL);
            broker_free(b);
            return EXIT_FAILED; /* threads still run: leave without joining */
        }
        for (int i = 0; i < n; i++)
            if (w.slots[i].started)
                pthread_join(w.slots[i].thread, NULL);
    }
    for (int i = 0; i < n; i++) {
        app_close(&w.slots[i].app);
        broker_free(w.slots[i].b);
    }
    free(w.slots);
    broker_free(b);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.work_cv);
    pthread_cond_destroy(&w.room_cv);
    return rc;
}
