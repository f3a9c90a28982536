-- Order placement claims (docs/STORAGE.md "provider_order_placements"; DECISIONS "Order
-- intake"): one row per (order item, service) whose provider order a process set out to place.
--
-- A placer inserts its claim (ON CONFLICT DO NOTHING) and commits it before any byte goes to
-- the provider, so two processes moving the same order to processing cannot both place it.
-- state: 'sending' while the request may be on the wire; 'placed' once the provider order row
-- (provider_order_row_id) is recorded with the provider's answer; 'unknown' when the placer
-- stopped in between and the row was recorded as "outcome unknown" for an operator to check.
-- planned_row is the provider order row the placer meant to record (its payload without the
-- provider's answer), so that the outcome-unknown row can be written by anyone later.
CREATE TABLE IF NOT EXISTS provider_order_placements (
    order_item_id UUID NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    service_id TEXT NOT NULL,
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'placed', 'unknown')),
    owner TEXT NOT NULL,
    claimed_us BIGINT NOT NULL,
    lease_until_us BIGINT NOT NULL,
    finished_us BIGINT,
    provider_order_row_id UUID,
    planned_row JSON NOT NULL,
    PRIMARY KEY (order_item_id, service_id)
);
CREATE INDEX IF NOT EXISTS ix_provider_order_placements_order_id
    ON provider_order_placements (order_id);
-- The sweep reads only the claims still in flight, oldest lease first.
CREATE INDEX IF NOT EXISTS ix_provider_order_placements_sending
    ON provider_order_placements (lease_until_us) WHERE state = 'sending';
