/*
 * The alert worker's task layer (spec-alerts §7-§9, DECISIONS 8 and 16): what the
 * provider-alerts command, the in-process alert loop of serve, "Run now" and the Celery
 * worker share, and the blueprint metrics of GET /api/v1/reporting/blueprint-metrics.
 */
#ifndef SMPLAT_APP_ALERTS_H
#define SMPLAT_APP_ALERTS_H

#include <jansson.h>

#include "app/app.h"

/* One pass of the alert worker: snapshot, guardrail and load alerts, auto pause/resume,
 * Slack and email (with cooldown and retries), then the status blob (key
 * provider_automation:status:alerts) and one run-history row (run_type 'alert'). Returns 0
 * with *summary (new reference), or a negative code with *error (owned) when the pass could
 * not read or write the database; the failure is recorded in the run history. */
int task_run_alerts(struct app *app, json_t **summary, char **error);

struct blueprint_query {
    int window_days;    /* 1..365 */
    int option_limit;   /* 1..250 */
    int add_on_limit;   /* 1..250 */
    int provider_limit; /* 1..250 */
    int preset_limit;   /* 1..250 */
};

/* The blueprint metrics (spec-alerts §5-§6, DECISIONS 16: PROVIDER_LOAD_ALERT_* honored, load
 * alerts computed before the per-window cut). 0 with *out new, or a negative code with
 * *error owned. */
int alerts_blueprint_metrics(struct store *s, const struct config *cfg,
                             const struct blueprint_query *q, json_t **out, char **error);

#endif
