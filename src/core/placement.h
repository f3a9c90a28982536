/*
 * Initial provider-order placement (spec-replay §3, §1.10; DECISIONS "Beyond", GAP 12): when
 * an order moves to processing, each serviceOverride add-on of each item becomes a provider
 * order, placed through its provider's `order` endpoint. These are the pure parts: which
 * add-ons qualify, the creation payload, the template context and the remote id.
 */
#ifndef SMPLAT_CORE_PLACEMENT_H
#define SMPLAT_CORE_PLACEMENT_H

#include <jansson.h>

/* The add-ons of an item's selected_options that place provider orders: objects whose
 * pricingMode is "serviceOverride" and whose serviceId is a non-blank string. New array
 * (its elements are shared with selected_options). */
json_t *placement_addons(const json_t *selected_options);

/* The payload's "service" descriptor from a catalog service row (column-keyed, as the store
 * returns it): id, providerId, name, action, status, healthStatus, and category,
 * defaultCurrency, allowedRegions, metadata, rateLimitPerMinute, healthPayload when not null.
 * New reference. */
json_t *placement_service_descriptor(const json_t *service_row);

/* The creation payload (spec-replay §1.10) of add-on `addon` of order item `item` (a store
 * row: id, product_id) of order order_id; keys whose value is null are left out. New. */
json_t *placement_payload(const char *order_id, const json_t *item, const json_t *addon,
                          const json_t *service_descriptor);

/* The template context of the placement request: the automation primitives of the provider's
 * metadata (GAP 12: the original forgot them, so {{apiKey}} headers only worked on replays),
 * then requestedAmount, fallbackDelta, orderId, orderItemId, productId, serviceId, providerId
 * (the add-on's provider override, else provider_id), pricingMode, dripPerDay,
 * previewQuantity, serviceRules and payloadTemplate (when an object) set from the payload,
 * then every string, number or boolean payload key if absent. New reference. */
json_t *placement_context(const json_t *provider_metadata, const json_t *payload,
                          const char *provider_id);

/* The provider's id of the new order: the value at the endpoint's
 * response.providerOrderIdPath when it is a string or a number, else the first of the
 * response's top-level providerOrderId, orderId, order_id, id that is. New string, or NULL. */
char *placement_remote_id(const json_t *endpoint, const json_t *parsed);

#endif
