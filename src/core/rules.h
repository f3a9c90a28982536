/*
 * Rule context of a provider order (spec-replay §1.10 "Rule context
 * derivation"): the ids and snapshots of payload.serviceRules that every
 * replay, schedule and refill entry carries.
 */
#ifndef SMPLAT_CORE_RULES_H
#define SMPLAT_CORE_RULES_H

#include <jansson.h>

/* Sets *rule_ids (array) and *rule_meta (object) to new references, or to NULL
 * when the payload has no usable rule. */
void rules_context(const json_t *payload, json_t **rule_ids, json_t **rule_meta);
/* Adds "ruleIds" and "ruleMetadata" to entry when the payload has rules. */
void rules_attach(json_t *entry, const json_t *payload);
/* For logs: each rule id's snapshot label, else the id. New array. */
json_t *rules_labels(const json_t *rule_ids, const json_t *rule_meta);

#endif
