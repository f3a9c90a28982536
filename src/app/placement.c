/*
 * The sweep of abandoned order placements. A placer claims (order item, service) in
 * provider_order_placements before sending, and settles the claim when it records the
 * provider's answer. A claim still "sending" after its lease (the request timeout plus
 * PROVIDER_PLACEMENT_LEASE_SECONDS) belongs to a placer that stopped: the request may or may
 * not have reached the provider, so, like an ambiguous replay (DECISIONS 6), it is never sent
 * again. Instead the provider order row the placer meant to write is recorded with an
 * "outcome unknown" providerResponse, where ops see it on the order and in the admin pages
 * and can replay it by hand once they have checked with the provider.
 *
 * The sweep runs for one order before each placement of that order (api_orders.c), and for
 * every order from `smplat serve`'s placement sweep loop (serve.c).
 */
#include "app/placement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/uuid.h"
#include "core/pyjson.h"

void placement_owner(char *buf, size_t n)
{
    char host[64] = "localhost";
    char rnd[UUID_STRLEN + 1];
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    uuid4(rnd);
    snprintf(buf, n, "%s:%ld:%.8s", host, (long)getpid(), rnd);
}

/* The provider order row to record for an abandoned claim: its planned row, with the
 * outcome-unknown answer in the payload. New. */
static json_t *unknown_row(const json_t *claim)
{
    const json_t *planned = json_object_get(claim, "planned_row");
    json_t *row = json_is_object(planned) ? json_deep_copy(planned) : json_object();
    json_t *payload = json_object_get(row, "payload");
    if (!json_is_object(payload)) {
        payload = json_object();
        json_object_set_new(row, "payload", payload);
    }
    char claimed[ISO_BUFSZ];
    iso_format_utc(json_integer_value(json_object_get(claim, "claimed_us")), claimed);
    json_object_set_new(payload, "providerResponse",
                        json_pack("{s:s,s:O,s:s}", "error", PLACEMENT_UNKNOWN_ERROR, "owner",
                                  json_object_get(claim, "owner"), "claimedAt", claimed));
    /* The row keys the claim: whatever the planned row said, these are the claim's. */
    json_object_set(row, "order_id", json_object_get(claim, "order_id"));
    json_object_set(row, "order_item_id", json_object_get(claim, "order_item_id"));
    json_object_set(row, "service_id", json_object_get(claim, "service_id"));
    return row;
}

int placement_sweep(struct store *s, const char *order_id, int64_t now_us, size_t limit)
{
    json_t *stale = NULL;
    int rc = s->ops->placement_stale(s, order_id, now_us, limit, &stale);
    if (rc != 0)
        return rc;
    int recorded = 0;
    size_t i;
    json_t *claim;
    json_array_foreach (stale, i, claim) {
        const char *item = json_string_value(json_object_get(claim, "order_item_id"));
        const char *service = json_string_value(json_object_get(claim, "service_id"));
        const char *owner = json_string_value(json_object_get(claim, "owner"));
        json_t *row = unknown_row(claim), *stored = NULL;
        rc = s->ops->placement_finish(s, item, service, owner, "unknown", row, now_us, &stored);
        if (rc == 0) {
            recorded++;
            json_t *f =
                json_pack("{s:O,s:O,s:O,s:O,s:s}", "order_id", json_object_get(claim, "order_id"),
                          "order_item_id", json_object_get(claim, "order_item_id"), "service_id",
                          json_object_get(claim, "service_id"), "provider_order_id",
                          json_object_get(stored, "id"), "owner", owner ? owner : "");
            char *text = pyjson_dumps(f, PYJSON_COMPACT);
            log_event(LOG_WARNING,
                      "Provider order placement outcome unknown: recorded for an operator to "
                      "check with the provider",
                      text);
            free(text);
            json_decref(f);
        } else if (rc != ERR_CONFLICT) {
            /* ERR_CONFLICT: the placer (or another sweep) settled it meanwhile. */
            log_msgf(LOG_ERROR, "placement sweep: cannot record the abandoned placement: %s",
                     s->ops->last_error(s));
        }
        json_decref(stored);
        json_decref(row);
    }
    json_decref(stale);
    return recorded;
}
