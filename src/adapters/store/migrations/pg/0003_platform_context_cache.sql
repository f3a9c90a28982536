-- The platform context cache of the original (spec-alerts §2.1, spec-api-ui §4.2): the social
-- platform contexts seen per provider, read by GET /platform-contexts and the Slack alerts.
-- One row per (provider_id, platform_id). An existing smplat database may already have it;
-- only the columns named here are used.

CREATE TABLE IF NOT EXISTS provider_platform_context_cache (
    id UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id VARCHAR(64) NOT NULL,
    platform_id VARCHAR(255) NOT NULL,
    label VARCHAR(255) NOT NULL,
    handle VARCHAR(255),
    platform_type VARCHAR(64),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_provider_platform_context_cache_provider_platform
        UNIQUE (provider_id, platform_id)
);
CREATE INDEX IF NOT EXISTS ix_provider_platform_context_cache_provider_seen
    ON provider_platform_context_cache (provider_id, last_seen_at);
