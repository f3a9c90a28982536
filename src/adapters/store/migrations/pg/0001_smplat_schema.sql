-- The original smplat tables (spec-replay §1, INTERFACE.md §4), PostgreSQL flavour, with the
-- original's types (UUID, JSON, TIMESTAMPTZ, NUMERIC, enum types of lowercase values).
-- An existing smplat database already has them: every statement is idempotent
-- (CREATE ... IF NOT EXISTS, enum types created in DO blocks swallowing duplicate_object,
-- seed rows ON CONFLICT DO NOTHING), so this migration leaves such a database as it is.

DO $$ BEGIN
    CREATE TYPE fulfillment_provider_status_enum AS ENUM ('active', 'inactive');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE fulfillment_provider_health_status_enum
        AS ENUM ('unknown', 'healthy', 'degraded', 'offline');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE fulfillment_service_status_enum AS ENUM ('active', 'inactive');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE fulfillment_service_health_status_enum
        AS ENUM ('unknown', 'healthy', 'degraded', 'offline');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE order_status_enum
        AS ENUM ('pending', 'processing', 'active', 'completed', 'on_hold', 'canceled');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE order_source_enum AS ENUM ('checkout', 'manual');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE preferred_currency_enum AS ENUM ('EUR', 'USD');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE order_state_event_type_enum AS ENUM ('state_change', 'note', 'refill_requested',
        'refill_completed', 'refund_requested', 'refund_completed', 'replay_scheduled',
        'replay_executed', 'automation_alert');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE order_state_actor_type_enum
        AS ENUM ('system', 'operator', 'admin', 'automation', 'provider');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE TYPE provider_automation_run_type_enum AS ENUM ('replay', 'alert');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS fulfillment_providers (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    base_url VARCHAR(512),
    allowed_regions JSON,
    credentials JSON,
    metadata_json JSON,
    rate_limit_per_minute INTEGER,
    status fulfillment_provider_status_enum NOT NULL DEFAULT 'inactive',
    health_status fulfillment_provider_health_status_enum NOT NULL DEFAULT 'unknown',
    last_health_check_at TIMESTAMPTZ,
    health_payload JSON,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
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
    allowed_regions JSON,
    credentials JSON,
    metadata_json JSON,
    health_payload JSON,
    rate_limit_per_minute INTEGER,
    status fulfillment_service_status_enum NOT NULL DEFAULT 'active',
    health_status fulfillment_service_health_status_enum NOT NULL DEFAULT 'unknown',
    last_health_check_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_fulfillment_services_provider_id ON fulfillment_services (provider_id);
CREATE INDEX IF NOT EXISTS ix_fulfillment_services_status ON fulfillment_services (status);

CREATE TABLE IF NOT EXISTS fulfillment_provider_balances (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id VARCHAR(64) NOT NULL REFERENCES fulfillment_providers (id) ON DELETE CASCADE,
    balance_amount NUMERIC(14, 2),
    currency VARCHAR(8),
    payload JSON,
    retrieved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_fulfillment_provider_balances_provider_id UNIQUE (provider_id)
);

CREATE TABLE IF NOT EXISTS orders (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    order_number VARCHAR(32) NOT NULL
        DEFAULT ('SM' || upper(substr(md5(random()::text || clock_timestamp()::text), 1, 10))),
    status order_status_enum NOT NULL DEFAULT 'pending',
    source order_source_enum NOT NULL DEFAULT 'checkout',
    currency preferred_currency_enum NOT NULL DEFAULT 'EUR',
    subtotal NUMERIC(12, 2) NOT NULL DEFAULT 0,
    tax NUMERIC(12, 2) NOT NULL DEFAULT 0,
    total NUMERIC(12, 2) NOT NULL DEFAULT 0,
    user_id UUID,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_orders_order_number ON orders (order_number);
CREATE INDEX IF NOT EXISTS ix_orders_status ON orders (status);
CREATE INDEX IF NOT EXISTS ix_orders_created_at ON orders (created_at);

CREATE TABLE IF NOT EXISTS order_items (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id UUID,
    product_title VARCHAR(255) NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL DEFAULT 1,
    unit_price NUMERIC(12, 2) NOT NULL DEFAULT 0,
    total_price NUMERIC(12, 2) NOT NULL DEFAULT 0,
    selected_options JSON,
    attributes JSON,
    platform_context JSON,
    baseline_metrics JSON,
    delivery_snapshots JSON,
    target_metrics JSON,
    customer_social_account_id UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_order_items_order_id ON order_items (order_id);

CREATE TABLE IF NOT EXISTS fulfillment_provider_orders (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    order_item_id UUID NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    provider_id VARCHAR NOT NULL,
    provider_name VARCHAR,
    service_id VARCHAR NOT NULL,
    service_action VARCHAR,
    amount NUMERIC(12, 2),
    currency VARCHAR,
    payload JSON,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
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
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    event_type order_state_event_type_enum NOT NULL,
    actor_type order_state_actor_type_enum,
    actor_id VARCHAR(255),
    actor_label VARCHAR(255),
    from_status VARCHAR(64),
    to_status VARCHAR(64),
    notes TEXT,
    metadata JSON NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_order_state_events_order_id_created_at
    ON order_state_events (order_id, created_at);

CREATE TABLE IF NOT EXISTS provider_automation_runs (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    run_type provider_automation_run_type_enum NOT NULL,
    status VARCHAR(32) NOT NULL DEFAULT 'success',
    summary JSON NOT NULL DEFAULT '{}',
    metadata_json JSON,
    backlog_total INTEGER,
    next_scheduled_at TIMESTAMPTZ,
    alerts_sent INTEGER,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Not in the original (which has only the primary key): run_list reads by type, newest first.
CREATE INDEX IF NOT EXISTS ix_provider_automation_runs_type_created
    ON provider_automation_runs (run_type, created_at);

CREATE TABLE IF NOT EXISTS provider_guardrail_followup (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id VARCHAR(128) NOT NULL,
    provider_name VARCHAR(255),
    action VARCHAR(64) NOT NULL,
    notes TEXT,
    platform_context JSON,
    attachments JSON,
    conversion_cursor VARCHAR(255),
    conversion_href TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ix_provider_guardrail_followup_provider_id
    ON provider_guardrail_followup (provider_id, created_at);

CREATE TABLE IF NOT EXISTS provider_guardrail_status (
    provider_id VARCHAR(128) NOT NULL PRIMARY KEY,
    provider_name VARCHAR(255),
    last_action VARCHAR(64),
    is_paused BOOLEAN NOT NULL DEFAULT false,
    last_source VARCHAR(32) NOT NULL DEFAULT 'manual',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_follow_up_id UUID REFERENCES provider_guardrail_followup (id) ON DELETE SET NULL
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
