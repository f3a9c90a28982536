-- Our own tables (docs/STORAGE.md): the scheduled-replay index, the dirty marks kept by a
-- trigger, fixed rate-limit windows per provider and the embedded status store.

CREATE TABLE IF NOT EXISTS provider_replay_schedule (
    provider_order_id UUID NOT NULL
        REFERENCES fulfillment_provider_orders (id) ON DELETE CASCADE,
    entry_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    due_us BIGINT NOT NULL,
    not_before_us BIGINT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'sending')),
    owner TEXT,
    lease_until_us BIGINT,
    PRIMARY KEY (provider_order_id, entry_id)
);
-- The claim query walks due rows in due order (ties by key), so the scan stops after `limit`
-- claimable rows instead of reading the whole table.
CREATE INDEX IF NOT EXISTS ix_provider_replay_schedule_due
    ON provider_replay_schedule (due_us, provider_order_id, entry_id);
CREATE INDEX IF NOT EXISTS ix_provider_replay_schedule_provider_id
    ON provider_replay_schedule (provider_id);

CREATE TABLE IF NOT EXISTS provider_replay_dirty (
    provider_order_id UUID NOT NULL PRIMARY KEY
        REFERENCES fulfillment_provider_orders (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL DEFAULT 1
);

-- Whoever writes a payload that mentions scheduledReplays (or removes them), the order is
-- marked dirty so that the worker re-derives its index rows.
CREATE OR REPLACE FUNCTION provider_replay_mark_dirty() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.payload IS NOT NULL AND NEW.payload::text LIKE '%scheduledReplays%')
       OR (TG_OP = 'UPDATE' AND OLD.payload IS NOT NULL
           AND OLD.payload::text LIKE '%scheduledReplays%') THEN
        INSERT INTO provider_replay_dirty (provider_order_id, seq) VALUES (NEW.id, 1)
        ON CONFLICT (provider_order_id)
        DO UPDATE SET seq = provider_replay_dirty.seq + 1;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS trg_provider_replay_dirty ON fulfillment_provider_orders;
CREATE TRIGGER trg_provider_replay_dirty
AFTER INSERT OR UPDATE OF payload ON fulfillment_provider_orders
FOR EACH ROW EXECUTE FUNCTION provider_replay_mark_dirty();

-- One-time backfill for databases that already hold scheduled replays.
INSERT INTO provider_replay_dirty (provider_order_id, seq)
SELECT id, 1 FROM fulfillment_provider_orders WHERE payload::text LIKE '%scheduledReplays%'
ON CONFLICT (provider_order_id) DO UPDATE SET seq = provider_replay_dirty.seq + 1;

CREATE TABLE IF NOT EXISTS provider_rate_windows (
    provider_id TEXT NOT NULL,
    window_start_us BIGINT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (provider_id, window_start_us)
);

CREATE TABLE IF NOT EXISTS provider_automation_status (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
