/*
 * Process-wide Prometheus metrics of smplat serve: HTTP requests by route and status, replay
 * outcomes by provider, run durations by run type, and the replay backlog (read from the store
 * at scrape time). Thread-safe.
 */
#ifndef SMPLAT_APP_METRICS_H
#define SMPLAT_APP_METRICS_H

#include "base/sb.h"
#include "core/store.h"

/* route: a static string. */
void metrics_http_request(const char *route, int status);
/* outcome: "executed", "failed" or "retrying". */
void metrics_replay_outcome(const char *provider_id, const char *outcome);
/* run_type: "replay" | "alert"; status: "success" | "partial" | "failed". */
void metrics_run(const char *run_type, const char *status, double seconds);
/* Appends the exposition text; store may be NULL (no backlog gauge). */
void metrics_render(struct sb *out, struct store *store);

#endif
