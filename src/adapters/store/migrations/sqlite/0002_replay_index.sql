-- Our own tables (docs/STORAGE.md): the scheduled-replay index, the dirty marks kept by a
-- trigger, fixed rate-limit windows per provider and the embedded status store.

CREATE TABLE IF NOT EXISTS provider_replay_schedule (
    provider_order_id VARCHAR(36) NOT NULL
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
-- The claim query walks due rows in due order; rows whose claim may have expired are found
-- through the same index (the lease is checked on the row).
CREATE INDEX IF NOT EXISTS ix_provider_replay_schedule_due
    ON provider_replay_schedule (due_us, provider_order_id, entry_id);
CREATE INDEX IF NOT EXISTS ix_provider_replay_schedule_provider_id
    ON provider_replay_schedule (provider_id);

CREATE TABLE IF NOT EXISTS provider_replay_dirty (
    provider_order_id VARCHAR(36) NOT NULL PRIMARY KEY
        REFERENCES fulfillment_provider_orders (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL DEFAULT 1
);

-- Whoever writes a payload that mentions scheduledReplays (or removes them), the order is
-- marked dirty so that the worker re-derives its index rows.
CREATE TRIGGER IF NOT EXISTS trg_provider_replay_dirty_insert
AFTER INSERT ON fulfillment_provider_orders
WHEN instr(NEW.payload, 'scheduledReplays') > 0
BEGIN
    INSERT INTO provider_replay_dirty (provider_order_id, seq) VALUES (NEW.id, 1)
    ON CONFLICT (provider_order_id) DO UPDATE SET seq = seq + 1;
END;

CREATE TRIGGER IF NOT EXISTS trg_provider_replay_dirty_update
AFTER UPDATE OF payload ON fulfillment_provider_orders
WHEN instr(NEW.payload, 'scheduledReplays') > 0 OR instr(OLD.payload, 'scheduledReplays') > 0
BEGIN
    INSERT INTO provider_replay_dirty (provider_order_id, seq) VALUES (NEW.id, 1)
    ON CONFLICT (provider_order_id) DO UPDATE SET seq = seq + 1;
END;

-- Other writers may run without PRAGMA foreign_keys, so the cascade is repeated here.
CREATE TRIGGER IF NOT EXISTS trg_provider_replay_order_delete
AFTER DELETE ON fulfillment_provider_orders
BEGIN
    DELETE FROM provider_replay_schedule WHERE provider_order_id = OLD.id;
    DELETE FROM provider_replay_dirty WHERE provider_order_id = OLD.id;
END;

-- One-time backfill for databases that already hold scheduled replays.
INSERT INTO provider_replay_dirty (provider_order_id, seq)
SELECT id, 1 FROM fulfillment_provider_orders WHERE instr(payload, 'scheduledReplays') > 0
ON CONFLICT (provider_order_id) DO UPDATE SET seq = seq + 1;

CREATE TABLE IF NOT EXISTS provider_rate_windows (
    provider_id TEXT NOT NULL,
    window_start_us BIGINT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (provider_id, window_start_us)
);

CREATE TABLE IF NOT EXISTS provider_automation_status (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
