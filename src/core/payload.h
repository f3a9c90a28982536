/*
 * The provider order payload as an automation log (spec-replay §1.10): building
 * replay and schedule entries, appending them, marking schedule entries
 * executed, failed or due for a retry, and deriving the scheduled-replay index
 * from `scheduledReplays`. Pure functions over jansson values; the callers
 * decide when to persist.
 */
#ifndef SMPLAT_CORE_PAYLOAD_H
#define SMPLAT_CORE_PAYLOAD_H

#include <jansson.h>
#include <stdint.h>

#include "core/store.h"

#define PAYLOAD_INVALID_SCHEDULED_FOR "invalid scheduledFor"

/* Returns the array payload[key], creating it (replacing a non-array) when
 * absent. */
json_t *payload_array(json_t *payload, const char *key);

/* Python float() of a stored requestedAmount (numbers, booleans as 1.0/0.0,
 * numeric strings); JSON null when it has none. New reference. */
json_t *payload_to_float(const json_t *v);

/* A new replay entry:
 * {"id","requestedAmount","currency","performedAt","status","response"} plus
 * the rule context of payload. requested_amount and response are borrowed
 * (copied in); currency may be NULL. */
json_t *payload_replay_entry(const json_t *payload, const json_t *requested_amount,
                             const char *currency, int64_t performed_us, const char *status,
                             const json_t *response);

/* Appends an executed replay entry and makes its response the payload's
 * providerResponse; when remote_id is not NULL the payload's providerOrderId
 * follows it. */
void payload_record_executed(json_t *payload, json_t *entry, const char *remote_id);

/* The scheduledReplays element whose id (as str()) equals id, or NULL.
 * Borrowed. */
json_t *payload_find_schedule(json_t *payload, const char *id);

/* Terminal outcomes of a schedule entry (spec-replay §7.4): status,
 * performedAt, response, ruleMetadata when missing. `replay_entry` (executed)
 * is copied in. */
void payload_schedule_executed(json_t *payload, json_t *sched, const json_t *replay_entry,
                               int64_t now_us);
void payload_schedule_failed(json_t *payload, json_t *sched, const char *error, int64_t now_us);
/* A retryable failure: the entry stays scheduled with attempts, lastError,
 * nextAttemptAt. */
void payload_schedule_retry(json_t *sched, int attempts, const char *error, int64_t next_us);
/* Attempts made so far (the entry's "attempts", 0 when absent). */
int payload_schedule_attempts(const json_t *sched);

/* A new pending schedule entry for run_at (rendered in its own offset). */
json_t *payload_schedule_entry(const json_t *payload, const json_t *requested_amount,
                               const char *currency, const char *scheduled_for);

/* What deriving the index of one payload found. */
struct payload_index {
    struct schedule_index_entry *entries; /* entry_id borrowed from the payload */
    size_t n;
    int mutated;     /* ids were assigned or entries failed: persist the payload */
    json_t *invalid; /* array of schedule entries failed as invalid scheduledFor */
};

/* Derives the pending entries of payload (missing status counts as scheduled):
 * entries without an id get one (DECISIONS 3); entries whose scheduledFor is
 * missing or unparseable are failed with "invalid scheduledFor" and a failed
 * replay entry (DECISIONS 4); naive times are UTC (DECISIONS 5); a retry's
 * nextAttemptAt wins over scheduledFor. `currency` is the provider order's.
 * Free with payload_index_release. */
void payload_index_derive(json_t *payload, const char *currency, int64_t now_us,
                          struct payload_index *out);
void payload_index_release(struct payload_index *ix);
/* Marks entry ids whose claim must be dropped (retried entries). */
void payload_index_reset(struct payload_index *ix, const char *entry_id);

/* Timeline metadata of spec-replay §8 for a provider order and an optional
 * entry; extra's non-null keys override; null values are dropped. New
 * reference. */
json_t *payload_timeline_metadata(const struct provider_order_rec *o, const json_t *entry,
                                  const json_t *extra);

#endif
