-- The original smplat tables (spec-replay §1, INTERFACE.md §4), SQLite flavour.
-- ids are lowercase hyphenated UUID text, timestamps ISO-8601 UTC text
-- ("2025-01-01T00:00:00+00:00"), JSON columns TEXT, enums their lowercase values as TEXT.
-- Every column another writer may omit has a default. Declared types are chosen for their
-- SQLite affinity: JSON and timestamps are TEXT so that nothing is coerced to a number.

CREATE TABLE IF NOT EXISTS fulfillment_providers (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    base_url VARCHAR(512),
    allowed_regions TEXT,
    credentials TEXT,
    metadata_json TEXT,
    rate_limit_per_minute INTEGER,
    status VARCHAR(16) NOT NULL DEFAULT 'inactive',
    health_status VARCHAR(16) NOT NULL DEFAULT 'unknown',
    last_health_check_at TEXT,
    health_payload TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_fulfillment_providers_status ON fulfillment_providers (status);
CREATE INDEX IF NOT EXISTS ix_fulfillment_providers_health_status
    ON fulfillment_providers (health_status);

CREATE TABLE IF NOT EXISTS fulfillment_services (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    provider_id VARCHAR(64) NOT NULL REFERENCES fulfillment_providers (id) ON DELETE CASCADE,
    name VARCHAR(255) NOT NULL,
    action VARCHAR(255) NOT NULL,
    category VARCHAR(255),
    default_currency VARCHAR(3),
    allowed_regions TEXT,
    credentials TEXT,
    metadata_json TEXT,
    health_payload TEXT,
    rate_limit_per_minute INTEGER,
    status VARCHAR(16) NOT NULL DEFAULT 'active',
    health_status VARCHAR(16) NOT NULL DEFAULT 'unknown',
    last_health_check_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_fulfillment_services_provider_id ON fulfillment_services (provider_id);
CREATE INDEX IF NOT EXISTS ix_fulfillment_services_status ON fulfillment_services (status);

CREATE TABLE IF NOT EXISTS fulfillment_provider_balances (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    provider_id VARCHAR(64) NOT NULL REFERENCES fulfillment_providers (id) ON DELETE CASCADE,
    balance_amount NUMERIC(14, 2),
    currency VARCHAR(8),
    payload TEXT,
    retrieved_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    CONSTRAINT uq_fulfillment_provider_balances_provider_id UNIQUE (provider_id)
);

CREATE TABLE IF NOT EXISTS orders (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    order_number VARCHAR(32) NOT NULL DEFAULT ('SM' || upper(hex(randomblob(5)))),
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    source VARCHAR(16) NOT NULL DEFAULT 'checkout',
    currency VARCHAR(3) NOT NULL DEFAULT 'EUR',
    subtotal NUMERIC(12, 2) NOT NULL DEFAULT 0,
    tax NUMERIC(12, 2) NOT NULL DEFAULT 0,
    total NUMERIC(12, 2) NOT NULL DEFAULT 0,
    user_id VARCHAR(36),
    notes TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_orders_order_number ON orders (order_number);
CREATE INDEX IF NOT EXISTS ix_orders_status ON orders (status);
CREATE INDEX IF NOT EXISTS ix_orders_created_at ON orders (created_at);

CREATE TABLE IF NOT EXISTS order_items (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    order_id VARCHAR(36) NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id VARCHAR(36),
    product_title VARCHAR(255) NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL DEFAULT 1,
    unit_price NUMERIC(12, 2) NOT NULL DEFAULT 0,
    total_price NUMERIC(12, 2) NOT NULL DEFAULT 0,
    selected_options TEXT,
    attributes TEXT,
    platform_context TEXT,
    baseline_metrics TEXT,
    delivery_snapshots TEXT,
    target_metrics TEXT,
    customer_social_account_id VARCHAR(36),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_order_items_order_id ON order_items (order_id);

CREATE TABLE IF NOT EXISTS fulfillment_provider_orders (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    order_id VARCHAR(36) NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    order_item_id VARCHAR(36) NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    provider_id VARCHAR(64) NOT NULL,
    provider_name VARCHAR(255),
    service_id VARCHAR(64) NOT NULL,
    service_action VARCHAR(255),
    amount NUMERIC(12, 2),
    currency VARCHAR(8),
    payload TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_fulfillment_provider_orders_order_id
    ON fulfillment_provider_orders (order_id);
CREATE INDEX IF NOT EXISTS ix_fulfillment_provider_orders_order_item_id
    ON fulfillment_provider_orders (order_item_id);
CREATE INDEX IF NOT EXISTS ix_fulfillment_provider_orders_service_id
    ON fulfillment_provider_orders (service_id);
CREATE INDEX IF NOT EXISTS ix_fulfillment_provider_orders_provider_id
    ON fulfillment_provider_orders (provider_id);

CREATE TABLE IF NOT EXISTS order_state_events (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    order_id VARCHAR(36) NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    event_type VARCHAR(32) NOT NULL,
    actor_type VARCHAR(16),
    actor_id VARCHAR(255),
    actor_label VARCHAR(255),
    from_status VARCHAR(64),
    to_status VARCHAR(64),
    notes TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_order_state_events_order_id_created_at
    ON order_state_events (order_id, created_at);

CREATE TABLE IF NOT EXISTS provider_automation_runs (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    run_type VARCHAR(16) NOT NULL,
    status VARCHAR(32) NOT NULL DEFAULT 'success',
    summary TEXT NOT NULL DEFAULT '{}',
    metadata_json TEXT,
    backlog_total INTEGER,
    next_scheduled_at TEXT,
    alerts_sent INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
-- Not in the original (which has only the primary key): run_list reads by type, newest first.
CREATE INDEX IF NOT EXISTS ix_provider_automation_runs_type_created
    ON provider_automation_runs (run_type, created_at);

CREATE TABLE IF NOT EXISTS provider_guardrail_followup (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    provider_id VARCHAR(128) NOT NULL,
    provider_name VARCHAR(255),
    action VARCHAR(64) NOT NULL,
    notes TEXT,
    platform_context TEXT,
    attachments TEXT,
    conversion_cursor VARCHAR(255),
    conversion_href TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'))
);
CREATE INDEX IF NOT EXISTS ix_provider_guardrail_followup_provider_id
    ON provider_guardrail_followup (provider_id, created_at);

CREATE TABLE IF NOT EXISTS provider_guardrail_status (
    provider_id VARCHAR(128) NOT NULL PRIMARY KEY,
    provider_name VARCHAR(255),
    last_action VARCHAR(64),
    is_paused BOOLEAN NOT NULL DEFAULT 0,
    last_source VARCHAR(32) NOT NULL DEFAULT 'manual',
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    last_follow_up_id VARCHAR(36) REFERENCES provider_guardrail_followup (id) ON DELETE SET NULL
);

INSERT INTO fulfillment_providers (id, name, description, base_url, allowed_regions, metadata_json,
                                   status, health_status)
VALUES ('xyz', 'XYZ Growth Network', 'Legacy static provider entry migrated into the catalog.',
        'https://api.xyzgrowth.example', '["eu"]',
        '{"supportEmail": "ops@xyzgrowth.example", "docUrl": "https://xyzgrowth.example/docs/api"}',
        'active', 'unknown')
ON CONFLICT DO NOTHING;

INSERT INTO fulfillment_services (id, provider_id, name, action, category, default_currency,
                                  allowed_regions, metadata_json, status, health_status)
VALUES ('321', 'xyz', 'Follower Growth · EU', 'followers_eu_standard', 'followers', 'EUR', '["eu"]',
        '{"maxQuantity": 10000, "leadTimeDays": 5}', 'active', 'unknown'),
       ('svc_followers_eu', 'xyz', 'Follower Growth · EU', 'followers_eu_standard', 'followers',
        'EUR', '["eu"]', '{"maxQuantity": 10000, "leadTimeDays": 5}', 'active', 'unknown')
ON CONFLICT DO NOTHING;
