/*
 * Refills (spec-replay §6 with DECISIONS 10): asking a provider to top up an order through
 * its `refill` endpoint, and logging the result in payload.refills and on the order's
 * timeline. The pure parts (remote id, amount, template context, entry) are exposed for tests.
 */
#ifndef SMPLAT_CORE_REFILL_H
#define SMPLAT_CORE_REFILL_H

#include <jansson.h>
#include <stdint.h>

#include "core/replay.h"
#include "core/store.h"

#define REFILL_MSG_NO_ENDPOINT "Refill endpoint is not configured for provider"
#define REFILL_MSG_NO_REMOTE_ID "Provider order identifier is missing; cannot trigger refill"

/* The provider's id of the order: the first of payload providerOrderId, provider_order_id,
 * providerOrderID that is a string or an integer and not blank, trimmed. Never the internal
 * orderId (DECISIONS 10). New string, or NULL. */
char *refill_remote_id(const json_t *payload);

/* The amount to ask for: amount when not NULL/null, else the row's amount as a float, else
 * null. New reference. */
json_t *refill_amount(const struct provider_order_rec *o, const json_t *amount);

/* The template context (spec-replay §6 step 4): the automation primitives of the provider's
 * metadata; providerOrderId (the remote id), orderId, orderItemId, serviceId, serviceAction
 * set; amount and requestedAmount (when not null), currency and providerName (when not
 * empty) only if absent; then every string, number or boolean payload key if absent. New. */
json_t *refill_context(const json_t *provider_metadata, const struct provider_order_rec *o,
                       const char *remote_id, const json_t *amount);

/* {"id", "amount", "currency", "performedAt", "response"}. New reference. */
json_t *refill_entry(const json_t *amount, const char *currency, int64_t performed_us,
                     const json_t *response);

/* Who asked, for the refill_completed timeline event (actor_id is the provider order id). */
struct refill_trigger {
    const char *actor_type;  /* "operator" */
    const char *actor_label; /* may be NULL */
    const char *notes;       /* may be NULL */
    json_t *extra;           /* borrowed timeline metadata extras, e.g. {"providerId": ...} */
};

/* Refills provider order po_id of provider p now. amount: a JSON number or NULL. On success
 * the entry is appended to payload.refills (saved with the index in sync), the timeline event
 * recorded (a failure there is only logged), and 0 returned with *entry_out (new). On failure
 * nothing is persisted and *error (owned) holds the message: ERR_NOT_FOUND ("Provider order
 * not found"), ERR_INVALID (configuration, missing remote id), ERR_IO (the provider's answer)
 * or ERR_DB. */
int refill_now(struct replay_env *env, const struct provider_rec *p, const char *po_id,
               const json_t *amount, const struct refill_trigger *trigger, json_t **entry_out,
               char **error);

#endif
