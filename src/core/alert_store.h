/*
 * The alert worker's store port (spec-alerts §2, §5, §7.1; DECISIONS 16): the aggregation
 * queries of the preset/provider engagement windows and of the blueprint metrics, the
 * guardrail follow-up and status writes of auto pause/resume, and the cooldown state of sent
 * alerts (our table provider_alert_cooldown). A separate table of function pointers from
 * core/store.h so that it can grow without touching the replay port; the SQLite and
 * PostgreSQL implementations are adapters/store/sqlite_alerts.c and pg_alerts.c, found with
 * store_alert_ops() (adapters/store/store_alerts.h). They run on the same handle as the
 * store, in its open transaction when there is one.
 *
 * Times are microseconds since the epoch, UTC.
 */
#ifndef SMPLAT_CORE_ALERT_STORE_H
#define SMPLAT_CORE_ALERT_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alerts.h"
#include "core/store.h"

/* The blocks of GET /reporting/blueprint-metrics that are plain aggregates (§5.2). */
enum blueprint_block {
    BLUEPRINT_OPTIONS,   /* {groupId, groupName, optionId, label, selections, priceDeltaTotal} */
    BLUEPRINT_ADD_ONS,   /* {addOnId, label, pricingMode, providerName, selections,
                          * priceDeltaTotal} */
    BLUEPRINT_PROVIDERS, /* {providerId, providerName, serviceId, serviceAction, engagements,
                          * amountTotal} */
    BLUEPRINT_PRESETS,   /* {presetId, label, selections} */
};

/* One follow-up to record (spec-alerts §2.2, §7.1). Borrowed; NULL stores SQL NULL. */
struct followup_input {
    const char *provider_id;
    const char *provider_name;
    const char *action;
    const char *notes;
    const char *source;             /* "manual" or "automation": the status's last_source */
    const json_t *platform_context; /* stored as JSON by alias: {id, label, handle, ...} */
    const json_t *attachments;      /* stored as JSON: [{id, fileName, ...}] */
    const char *conversion_cursor;
    const char *conversion_href;
    int64_t now_us; /* created_at of the follow-up and updated_at of the status */
};

struct alert_store_ops {
    /* Provider orders whose order was created at or after starts[nstarts-1], joined to their
     * order item's selected_options preset (presetId, else preset_id; items without one are
     * skipped), grouped by (preset, provider, service, bucket) where bucket is the smallest i
     * with created_at >= starts[i] (starts descending in time: the shortest window first).
     * *rows is a new array of *n rows (preset_engagement_rows_free). */
    int (*preset_engagements)(struct store *s, const int64_t *starts, size_t nstarts,
                              struct preset_engagement_row **rows, size_t *n);

    /* Orders created at or after since_us with at least one item: distinct orders, items,
     * sum of item total_price. */
    int (*blueprint_orders)(struct store *s, int64_t since_us, int64_t *orders, int64_t *items,
                            double *revenue);
    /* One block, aggregated in the database, ordered by count descending, at most limit rows.
     * *rows is a new array of objects with the block's keys. */
    int (*blueprint_block)(struct store *s, enum blueprint_block block, int64_t since_us,
                           size_t limit, json_t **rows);

    /* Every provider_guardrail_status row, by provider id. *rows new (guardrail_status_rows_free).
     */
    int (*guardrail_statuses)(struct store *s, struct guardrail_status_row **rows, size_t *n);
    /* Records a follow-up (spec-alerts §7.1 semantics): inserts the provider_guardrail_followup
     * row and upserts the status row (is_paused set by "pause"/"resume", last_source =
     * source), in one transaction. The new follow-up's id is written to id_out. */
    int (*followup_record)(struct store *s, const char *provider_id, const char *provider_name,
                           const char *action, const char *notes, const char *source,
                           int64_t now_us, char id_out[37]);

    /* followup_record with every column of the follow-up (the HTTP API's form). */
    int (*followup_insert)(struct store *s, const struct followup_input *in, char id_out[37]);
    /* A provider's follow-ups, newest first (created_at, then id, descending), only those
     * created before before_us unless it is STORE_NO_TIME, at most limit. *rows is a new array
     * of objects {id, provider_id, provider_name, action, notes, platform_context,
     * attachments, conversion_cursor, conversion_href, created_at (microseconds)}, JSON
     * columns parsed, NULL columns as null. */
    int (*followup_list)(struct store *s, const char *provider_id, int64_t before_us, size_t limit,
                         json_t **rows);
    /* A provider's status row as a new object {provider_id, provider_name, is_paused (bool),
     * last_action, last_source, updated_at (microseconds), last_follow_up_id}, or *row NULL
     * when there is none. */
    int (*guardrail_status_get)(struct store *s, const char *provider_id, json_t **row);

    /* The cooldown state of an alert on a channel: 0 with *fingerprint owned (NULL when never
     * sent) and *sent_us. */
    int (*cooldown_get)(struct store *s, const char *channel, const char *key, char **fingerprint,
                        int64_t *sent_us);
    int (*cooldown_put)(struct store *s, const char *channel, const char *key,
                        const char *fingerprint, int64_t sent_us);
};

#endif
