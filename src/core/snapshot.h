/*
 * Automation telemetry (spec-api-ui §4.16, §5.8; spec-replay §14): per provider, what its
 * latest provider orders say about replays, guardrail margins and rule overrides, and the sum
 * over providers. Pure functions over jansson values.
 */
#ifndef SMPLAT_CORE_SNAPSHOT_H
#define SMPLAT_CORE_SNAPSHOT_H

#include <jansson.h>

/* An all-zeros Telemetry object. New reference. */
json_t *snapshot_telemetry_new(void);

/* Counts one provider-order row (keys payload, amount, service_id, provider_id as the store
 * returns them) into tel. */
void snapshot_add_order(json_t *tel, const json_t *row);

/* The follow-up telemetry variant (spec-alerts §3.3): what the guardrail follow-up API and
 * its Slack message show. It reads a provider's latest SNAPSHOT_FOLLOWUP_LIMIT provider
 * orders. */
#define SNAPSHOT_FOLLOWUP_LIMIT 50

/* Counts one provider-order row into tel with the follow-up variant's rules. */
void snapshot_followup_add_order(json_t *tel, const json_t *row);

/* The follow-up telemetry of rows (an array of provider-order rows): a new Telemetry object,
 * or NULL when rows is empty or not an array. */
json_t *snapshot_followup_telemetry(const json_t *rows);

/* Adds the counters of tel into agg; a rule's label in agg is the first non-empty one seen. */
void snapshot_merge(json_t *agg, const json_t *tel);

/* The guardrail status of a price and cost under config: "idle", "pass", "warn" or "fail"
 * (static strings). */
const char *snapshot_guardrail_status(const json_t *config, double price, double cost);

#endif
