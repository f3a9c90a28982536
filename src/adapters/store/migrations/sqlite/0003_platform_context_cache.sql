-- The platform context cache of the original (spec-alerts §2.1, spec-api-ui §4.2): the social
-- platform contexts seen per provider, read by GET /platform-contexts and the Slack alerts.
-- One row per (provider_id, platform_id); other programs may insert minimal rows.

CREATE TABLE IF NOT EXISTS provider_platform_context_cache (
    id VARCHAR(36) NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    provider_id VARCHAR(64) NOT NULL,
    platform_id VARCHAR(255) NOT NULL,
    label VARCHAR(255) NOT NULL,
    handle VARCHAR(255),
    platform_type VARCHAR(64),
    last_seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    CONSTRAINT uq_provider_platform_context_cache_provider_platform
        UNIQUE (provider_id, platform_id)
);
CREATE INDEX IF NOT EXISTS ix_provider_platform_context_cache_provider_seen
    ON provider_platform_context_cache (provider_id, last_seen_at);
