/*
 * The Celery side of the service (docs/CELERY.md): the tasks our worker runs,
 * and the worker and beat loops of `smplat worker` and `smplat beat`.
 */
#ifndef SMPLAT_APP_CELERY_TASKS_H
#define SMPLAT_APP_CELERY_TASKS_H

#include <jansson.h>

#include "app/app.h"

#define CELERY_TASK_REPLAY "provider_automation.run_replay_batch"
#define CELERY_TASK_ALERTS "provider_automation.evaluate_alerts"
#define CELERY_TASK_PING "smplat.ping"

/* Runs one task. args and kwargs are borrowed. Returns 0 with *result (new
 * reference), or a negative code with *exc (new reference: a Celery exception
 * dict, celery_exc()). */
typedef int (*celery_task_fn)(struct app *app, const json_t *args, const json_t *kwargs,
                              json_t **result, json_t **exc);

struct celery_task_def {
    const char *name;
    celery_task_fn run;
};

/* The registered task of that name, or NULL (Celery's NotRegistered). */
const struct celery_task_def *celery_task_find(const char *name);

struct worker_options {
    char **queues; /* borrowed */
    size_t nqueues;
    int concurrency;
};

/* `smplat worker`: consumes until SIGTERM/SIGINT. app is configured
 * (app_config) but not opened; worker_run opens one app per thread and closes
 * them. Returns an exit code. */
int worker_run(struct app *app, const struct worker_options *opt);

/* `smplat beat`: publishes the periodic tasks until SIGTERM/SIGINT. app is
 * configured, not opened (beat needs no database). Returns an exit code. */
int beat_run(struct app *app);

#endif
