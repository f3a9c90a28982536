-- The alert worker (spec-alerts §3, §5, §7; DECISIONS 16).
--
-- provider_alert_cooldown: when each alert was last delivered on each channel, with the
-- fingerprint it had (its reasons, or its rounded shares), so that an unchanged alert is not
-- sent again within PROVIDER_AUTOMATION_ALERT_COOLDOWN_SECONDS.
CREATE TABLE IF NOT EXISTS provider_alert_cooldown (
    channel TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    sent_us BIGINT NOT NULL,
    PRIMARY KEY (channel, alert_key)
);

-- The snapshot reads each provider's latest provider orders: with this index it reads only
-- those rows instead of sorting all of the provider's orders.
CREATE INDEX IF NOT EXISTS ix_fulfillment_provider_orders_provider_created
    ON fulfillment_provider_orders (provider_id, created_at, id);

-- blueprint-metrics' providerEngagements window is on the provider order's created_at.
CREATE INDEX IF NOT EXISTS ix_fulfillment_provider_orders_created_at
    ON fulfillment_provider_orders (created_at);
