/*
 * `smplat worker [-Q q1,q2] [--concurrency N]` and `smplat beat`: parse, wire,
 * run (app/worker.c, app/beat.c), return an exit code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/celery_tasks.h"
#include "base/num.h"
#include "base/sb.h"
#include "base/strlist.h"
#include "cmd/args.h"
#include "cmd/commands.h"

static const char worker_usage[] =
    "usage: smplat worker [-Q QUEUES] [--concurrency N]\n"
    "\n"
    "  -Q, --queues QUEUES   comma list of queues (default: "
    "PROVIDER_AUTOMATION_REPLAY_TASK_QUEUE,PROVIDER_AUTOMATION_ALERT_TASK_QUEUE)\n"
    "  --concurrency N       worker threads (default 1)\n";

static const char beat_usage[] = "usage: smplat beat\n"
                                 "\n"
                                 "  publishes the periodic tasks (SMPLAT_BEAT_*_SCHEDULE)\n";

static int usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const char *usage, const char *fmt, ...)
{
    fputs(usage, stderr);
    fprintf(stderr, "smplat: error: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

int cmd_worker(int argc, char **argv)
{
    const char *queues_s = NULL, *conc_s = NULL;
    struct arg_spec specs[] = {
        {"queues", 'Q', 1, &queues_s}, {"concurrency", 'c', 1, &conc_s}, {NULL, 0, 0, NULL}};
    char err[256];
    int rc = args_parse(argc - 1, argv + 1, specs, err, sizeof(err));
    if (rc == 1) {
        fputs(worker_usage, stdout);
        return EXIT_OK;
    }
    if (rc < 0)
        return usage_error(worker_usage, "%s", err);
    int concurrency = 1;
    if (conc_s &&
        (num_parse_int(conc_s, &concurrency) != 0 || concurrency < 1 || concurrency > 256))
        return usage_error(worker_usage, "argument --concurrency: invalid value: '%s'", conc_s);
    struct app app;
    if ((rc = app_config(&app)) != 0)
        return rc;
    char **queues = NULL;
    size_t nq = 0;
    strlist_append_split(&queues, &nq, queues_s);
    if (!queues_s) {
        strlist_append_split(&queues, &nq, app.cfg.replay_task_queue);
        strlist_append_split(&queues, &nq, app.cfg.alert_task_queue);
    }
    if (nq == 0) {
        app_close(&app);
        return usage_error(worker_usage, "argument -Q: no queue given");
    }
    struct worker_options opt = {.queues = queues, .nqueues = nq, .concurrency = concurrency};
    rc = worker_run(&app, &opt);
    for (size_t i = 0; i < nq; i++)
        free(queues[i]);
    free(queues);
    app_close(&app);
    return rc;
}

int cmd_beat(int argc, char **argv)
{
    struct arg_spec specs[] = {{NULL, 0, 0, NULL}};
    char err[256];
    int rc = args_parse(argc - 1, argv + 1, specs, err, sizeof(err));
    if (rc == 1) {
        fputs(beat_usage, stdout);
        return EXIT_OK;
    }
    if (rc < 0)
        return usage_error(beat_usage, "%s", err);
    struct app app;
    if ((rc = app_config(&app)) != 0)
        return rc;
    rc = beat_run(&app);
    app_close(&app);
    return rc;
}
