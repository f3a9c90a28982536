/*
 * Replays: one provider order now (spec-replay §4, the CLI and the HTTP "replay
 * now"), and one pass of the scheduled-replay worker (§7 with DECISIONS 1 to
 * 11). Orchestration over the store and transport ports; testable with fakes of
 * both.
 */
#ifndef SMPLAT_CORE_REPLAY_H
#define SMPLAT_CORE_REPLAY_H

#include <jansson.h>
#include <stdint.h>

#include "core/store.h"
#include "core/transport.h"

struct replay_env {
    struct store *store;
    struct http_transport *transport;
    int64_t (*now_us)(void *clock_ctx);
    void *clock_ctx;
    const char *owner;        /* claim owner: host, pid and a random part */
    int max_attempts;         /* PROVIDER_REPLAY_MAX_ATTEMPTS, >= 1 */
    int64_t retry_backoff_us; /* first retry delay; doubles per attempt */
    int64_t lease_us;         /* PROVIDER_REPLAY_LEASE_SECONDS */
    int provider_concurrency; /* requests in flight per provider */
    int chunk;                /* entries claimed at a time */
    /* Optional: told each scheduled outcome ("executed", "failed", "retrying") by provider. */
    void (*on_outcome)(void *ctx, const char *provider_id, const char *outcome);
    void *outcome_ctx;
};

struct replay_summary {
    int64_t processed;
    int64_t succeeded;
    int64_t failed;
    int64_t retrying;    /* failures that will be tried again (counted in failed) */
    int64_t deferred;    /* due entries held back: provider paused, inactive or rate
                            limited */
    int64_t backlog;     /* scheduledBacklog; -1 when not computed */
    int64_t next_due_us; /* STORE_NO_TIME when none */
    int no_backlog;      /* 1: the summary carries no backlog keys (negative limit,
                            single) */
};

/* How an immediate replay is recorded on the order's timeline. */
struct replay_trigger {
    const char *actor_type; /* "automation" | "operator" */
    const char *actor_id;   /* NULL: the provider order id */
    const char *notes;      /* may be NULL */
    json_t *extra;          /* borrowed timeline metadata extras, e.g.
                               {"trigger":"cli_replay"} */
};

/* One pass over due scheduled entries: at most `limit` entries run (limit <= 0
 * is a no-op summary without backlog keys). Returns 0 with *out filled, or a
 * negative code with *error (owned) when the store failed; entries already done
 * stay done. */
int replay_run_scheduled(struct replay_env *env, int limit, struct replay_summary *out,
                         char **error);

/* The summary object: processed, succeeded, failed, scheduledBacklog,
 * nextScheduledAt (when there is one), then retrying and deferred. New
 * reference. */
json_t *replay_summary_json(const struct replay_summary *s);
/* Run-history status of a summary: "success", "partial" or "failed" (DECISIONS
 * 7). */
const char *replay_summary_status(const struct replay_summary *s);

/* Replays provider order po_id of provider_id now. amount: a JSON number, or
 * NULL for the fallback chain. On success returns 0 with *entry_out (new
 * reference); on failure a negative code (ERR_NOT_FOUND for "Provider order not
 * found"/"Provider not found", ERR_INVALID for configuration, ERR_IO for the
 * provider's answer, ERR_DB) with *error owned. Nothing is persisted on
 * failure. */
int replay_now(struct replay_env *env, const char *provider_id, const char *po_id,
               const json_t *amount, const struct replay_trigger *trigger, json_t **entry_out,
               char **error);

#endif
