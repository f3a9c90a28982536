/*
 * The tasks `smplat worker` runs, by Celery name (spec-replay §13): the
 * replay batch (kwarg or first argument `limit`), the alert pass, and the
 * no-op `smplat.ping` used by the benchmark and health checks. Each answers
 * what the Python task returned, including the skipped results when its
 * worker is disabled, and reports failures as Celery exception dicts that a
 * Python client turns back into exceptions.
 */
#include <stdlib.h>
#include <string.h>

#include "app/alerts.h"
#include "app/celery_tasks.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/celery.h"
#include "core/alerts.h"

/* kwargs a task does not take fail as Python's call would. */
static int check_kwargs(const char *fn, const json_t *kwargs, const char *const *allowed,
                        json_t **exc)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)kwargs, key, v) {
        (void)v;
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char msg[256];
            snprintf(msg, sizeof(msg), "%s() got an unexpected keyword argument '%s'", fn, key);
            *exc = celery_exc("TypeError", "builtins", msg);
            return ERR_INVALID;
        }
    }
    return 0;
}

static int run_replay_batch(struct app *app, const json_t *args, const json_t *kwargs,
                            json_t **result, json_t **exc)
{
    static const char *const allowed[] = {"limit", NULL};
    if (check_kwargs("run_replay_batch", kwargs, allowed, exc) != 0)
        return ERR_INVALID;
    const json_t *limit = json_object_get(kwargs, "limit");
    if (json_array_size(args) > 1 || (json_array_size(args) == 1 && limit)) {
        *exc = celery_exc("TypeError", "builtins",
                          "run_replay_batch() takes at most 1 argument (limit)");
        return ERR_INVALID;
    }
    if (!limit)
        limit = json_array_get(args, 0);
    int n = 0;
    if (limit && !json_is_null(limit)) {
        if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
            json_integer_value(limit) > 100000) {
            *exc = celery_exc("ValueError", "builtins", "limit must be a positive integer");
            return ERR_INVALID;
        }
        n = (int)json_integer_value(limit);
    }
    if (!app->cfg.replay_worker_enabled) {
        log_event(LOG_INFO, "Provider replay worker disabled; skipping Celery task.", NULL);
        *result = json_pack("{s:i,s:i,s:i,s:b}", "processed", 0, "succeeded", 0, "failed", 0,
                            "skipped", 1);
        return 0;
    }
    char *error = NULL;
    if (task_run_scheduled(app, n, result, &error) != 0) {
        *exc = celery_exc("RuntimeError", "builtins", error ? error : "replay pass failed");
        free(error);
        return ERR_IO;
    }
    return 0;
}

static int evaluate_alerts(struct app *app, const json_t *args, const json_t *kwargs,
                           json_t **result, json_t **exc)
{
    (void)args;
    (void)kwargs;
    if (!app->cfg.alert_worker_enabled) {
        log_event(LOG_INFO, "Provider automation alert worker disabled; skipping Celery task.",
                  NULL);
        *result = alerts_skipped_result();
        return 0;
    }
    char *error = NULL;
    if (task_run_alerts(app, result, &error) != 0) {
        *exc = celery_exc("RuntimeError", "builtins", error ? error : "alert pass failed");
        free(error);
        return ERR_IO;
    }
    return 0;
}

static int ping(struct app *app, const json_t *args, const json_t *kwargs, json_t **result,
                json_t **exc)
{
    (void)app;
    (void)args;
    (void)kwargs;
    (void)exc;
    *result = json_string("pong");
    return 0;
}

static const struct celery_task_def tasks[] = {
    {CELERY_TASK_REPLAY, run_replay_batch},
    {CELERY_TASK_ALERTS, evaluate_alerts},
    {CELERY_TASK_PING, ping},
};

const struct celery_task_def *celery_task_find(const char *name)
{
    for (size_t i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++)
        if (strcmp(tasks[i].name, name) == 0)
            return &tasks[i];
    return NULL;
}
