/*
 * The status store port: where the last run of each worker is kept as
 * {"ranAt": ..., "summary": {...}} under the original keys. Two implementations: the database
 * (embedded default) and Redis (when REDIS_URL is set), in adapters/status/status.c.
 */
#ifndef SMPLAT_CORE_STATUS_H
#define SMPLAT_CORE_STATUS_H

#define STATUS_KEY_REPLAY "provider_automation:status:replay"
#define STATUS_KEY_ALERTS "provider_automation:status:alerts"

struct status_store {
    /* Stores value (JSON text) under key. 0 or a negative code. */
    int (*put)(struct status_store *s, const char *key, const char *value);
    /* 0 with *value owned, NULL when absent; or a negative code. */
    int (*get)(struct status_store *s, const char *key, char **value);
    const char *(*last_error)(struct status_store *s);
    void (*free)(struct status_store *s);
};

#endif
