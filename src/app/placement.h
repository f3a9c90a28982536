/*
 * Order placement claims (docs/ARCHITECTURE.md "Order placement", docs/STORAGE.md
 * "provider_order_placements"): what happens to a placement whose placer stopped between
 * sending the request and recording the answer. Placing itself is in api_orders.c.
 */
#ifndef SMPLAT_APP_PLACEMENT_H
#define SMPLAT_APP_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/store.h"

/* The providerResponse error of a placement recorded as outcome unknown. */
#define PLACEMENT_UNKNOWN_ERROR                                                                    \
    "outcome unknown: the process placing this order stopped before it recorded the "              \
    "provider's answer; check with the provider before replaying"

/* How many abandoned placements one sweep records at most. */
#define PLACEMENT_SWEEP_LIMIT 100

/* Records every placement still "sending" whose lease ended before now_us, of order_id or of
 * every order when it is NULL (at most `limit`), as outcome unknown: its provider order row
 * is inserted with providerResponse {"error": PLACEMENT_UNKNOWN_ERROR, "owner", "claimedAt"}
 * and its claim becomes "unknown", one transaction each, and a warning is logged. Never sent
 * again: the provider may have accepted it (DECISIONS 6). Returns how many were recorded, or
 * a negative code when the claims could not be read (the store's last_error says why). */
int placement_sweep(struct store *s, const char *order_id, int64_t now_us, size_t limit);

/* A name for this process in claims: host:pid:random, NUL-terminated in buf[n]. */
void placement_owner(char *buf, size_t n);

#endif
