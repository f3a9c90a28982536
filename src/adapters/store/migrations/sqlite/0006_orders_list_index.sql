-- The order queue (GET /api/v1/orders) reads orders newest first with id as the tie-breaker,
-- optionally of one status, and pages on (created_at, id): with indexes in exactly that order
-- every read stops after `limit` rows instead of sorting the whole table.
CREATE INDEX IF NOT EXISTS ix_orders_created_id ON orders (created_at, id);
CREATE INDEX IF NOT EXISTS ix_orders_status_created_id ON orders (status, created_at, id);

-- Its providerId filter asks, per order, whether one of its provider orders is on the
-- provider: this index answers that without reading the provider-order rows.
CREATE INDEX IF NOT EXISTS ix_fulfillment_provider_orders_order_provider
    ON fulfillment_provider_orders (order_id, provider_id);
