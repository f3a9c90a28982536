/*
 * The alert worker's queries on SQLite (core/alert_store.h): engagement windows and
 * blueprint-metrics aggregates computed by the database in one pass over the longest window
 * (orders by their created_at index, items by order, provider orders by item), guardrail
 * follow-ups and statuses, and the cooldown table.
 *
 * selected_options is JSON text written by anyone, so every json_* call is guarded by
 * json_valid() inside a CASE (SQLite evaluates CASE branches lazily); a preset id is a
 * non-empty string or a non-zero number, stringified as Python's str() does.
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/store/sqlite_internal.h"
#include "adapters/store/store_alerts.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/sb.h"
#include "base/uuid.h"

/* SQL of a preset id or label: the first truthy of two keys of selected_options. */
#define SQ_SEL "oi.selected_options"
#define SQ_TRUTHY(key)                                                                             \
    "CASE json_type(" SQ_SEL ", '$." key "') WHEN 'text' THEN NULLIF(json_extract(" SQ_SEL         \
    ", '$." key "'), '') WHEN 'integer' THEN NULLIF(CAST(json_extract(" SQ_SEL ", '$." key         \
    "') AS TEXT), '0') WHEN 'real' THEN CAST(NULLIF(json_extract(" SQ_SEL ", '$." key              \
    "'), 0.0) AS TEXT) END"
#define SQ_IS_OBJECT "json_valid(" SQ_SEL ") AND json_type(" SQ_SEL ") = 'object'"
#define SQ_PRESET_ID                                                                               \
    "CASE WHEN " SQ_IS_OBJECT                                                                      \
    " THEN COALESCE(" SQ_TRUTHY("presetId") ", " SQ_TRUTHY("preset_id") ") END"
#define SQ_PRESET_LABEL                                                                            \
    "CASE WHEN " SQ_IS_OBJECT                                                                      \
    " THEN COALESCE(" SQ_TRUTHY("presetLabel") ", " SQ_TRUTHY("preset_label") ") END"

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
    int r = sqlite3_prepare_v2(sq_db(s), sql, -1, st, NULL);
    if (r != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return sq_fail(sq_of(s), r, what);
    }
    return 0;
}

static int sqa_preset_engagements(struct store *s, const int64_t *starts, size_t nstarts,
                                  struct preset_engagement_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    if (nstarts == 0)
        return 0;
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT x.p, MAX(x.label), f.provider_id, MAX(f.provider_name), f.service_id, "
                  "MAX(f.service_action), MAX(f.currency), x.bucket, COUNT(*), TOTAL(f.amount) "
                  "FROM (SELECT oi.id AS item_id, CASE");
    for (size_t i = 0; i + 1 < nstarts; i++)
        sb_printf(&sql, " WHEN o.created_at >= ?%zu THEN %zu", i + 1, i);
    sb_printf(&sql,
              " ELSE %zu END AS bucket, " SQ_PRESET_ID " AS p, " SQ_PRESET_LABEL
              " AS label FROM orders o JOIN order_items oi ON oi.order_id = o.id "
              "WHERE o.created_at >= ?%zu) x "
              "JOIN fulfillment_provider_orders f ON f.order_item_id = x.item_id "
              "WHERE x.p IS NOT NULL "
              "GROUP BY x.p, f.provider_id, f.service_id, x.bucket "
              "ORDER BY x.bucket, x.p, f.provider_id, f.service_id",
              nstarts - 1, nstarts);
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, sb_str(&sql), &st, "preset_engagements");
    sb_release(&sql);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < nstarts; i++)
        sq_bind_time(st, (int)i + 1, starts[i]);
    size_t cap = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *rows = xrealloc(*rows, cap * sizeof(**rows));
        }
        struct preset_engagement_row *row = &(*rows)[(*n)++];
        row->preset_id = sq_col_text(st, 0);
        row->preset_label = sq_col_text(st, 1);
        row->provider_id = sq_col_text(st, 2);
        row->provider_name = sq_col_text(st, 3);
        row->service_id = sq_col_text(st, 4);
        row->service_action = sq_col_text(st, 5);
        row->currency = sq_col_text(st, 6);
        row->bucket = sqlite3_column_int(st, 7);
        row->engagements = sqlite3_column_int64(st, 8);
        row->amount_total = sqlite3_column_double(st, 9);
    }
    if (r != SQLITE_DONE) {
        rc = sq_fail(sq_of(s), r, "preset_engagements");
        preset_engagement_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqa_blueprint_orders(struct store *s, int64_t since_us, int64_t *orders, int64_t *items,
                                double *revenue)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "SELECT COUNT(DISTINCT o.id), COUNT(*), TOTAL(oi.total_price) FROM orders o "
                     "JOIN order_items oi ON oi.order_id = o.id WHERE o.created_at >= ?1",
                     &st, "blueprint_orders");
    if (rc != 0)
        return rc;
    sq_bind_time(st, 1, since_us);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *orders = sqlite3_column_int64(st, 0);
        *items = sqlite3_column_int64(st, 1);
        *revenue = sqlite3_column_double(st, 2);
    } else {
        rc = sq_fail(sq_of(s), r, "blueprint_orders");
    }
    sqlite3_finalize(st);
    return rc;
}

/* A column as the JSON value it holds: text, integer, real or null. */
static json_t *col_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_NULL:
        return json_null();
    default: {
        char *t = sq_col_text(st, i);
        json_t *v = json_string(t ? t : "");
        free(t);
        return v ? v : json_null();
    }
    }
}

/* The array elements of selected_options.<key> of the items of orders in the window. */
#define SQ_ELEMENTS(key)                                                                           \
    " FROM orders o JOIN order_items oi ON oi.order_id = o.id, json_each(CASE WHEN " SQ_IS_OBJECT  \
    " AND json_type(" SQ_SEL ", '$." key "') = 'array' THEN json_extract(" SQ_SEL ", '$." key      \
    "') ELSE '[]' END) j WHERE o.created_at >= ?1 AND j.type = 'object' "
#define SQ_DELTA                                                                                   \
    "TOTAL(CASE json_type(j.value, '$.priceDelta') WHEN 'integer' THEN json_extract(j.value, "     \
    "'$.priceDelta') WHEN 'real' THEN json_extract(j.value, '$.priceDelta') ELSE 0.0 END)"

static const char *const block_sql[] = {
    [BLUEPRINT_OPTIONS] =
        "SELECT json_extract(j.value, '$.groupId') AS g, MIN(json_extract(j.value, "
        "'$.groupName')), json_extract(j.value, '$.optionId') AS oid, MIN(json_extract(j.value, "
        "'$.label')), COUNT(*), " SQ_DELTA SQ_ELEMENTS(
            "options") "GROUP BY g, oid "
                       "ORDER BY COUNT(*) DESC, MIN(o.created_at) LIMIT ?2",
    [BLUEPRINT_ADD_ONS] =
        "SELECT json_extract(j.value, '$.id') AS a, MIN(json_extract(j.value, '$.label')), "
        "MIN(json_extract(j.value, '$.pricingMode')), MIN(json_extract(j.value, "
        "'$.serviceProviderName')), COUNT(*), " SQ_DELTA SQ_ELEMENTS(
            "addOns") "GROUP BY a "
                      "ORDER BY COUNT(*) DESC, MIN(o.created_at) LIMIT ?2",
    [BLUEPRINT_PROVIDERS] =
        "SELECT provider_id, provider_name, service_id, service_action, COUNT(*), TOTAL(amount) "
        "FROM fulfillment_provider_orders WHERE created_at >= ?1 "
        "GROUP BY provider_id, provider_name, service_id, service_action "
        "ORDER BY COUNT(*) DESC LIMIT ?2",
    [BLUEPRINT_PRESETS] = "SELECT x.p, MAX(x.label), COUNT(*) FROM (SELECT " SQ_PRESET_ID
                          " AS p, " SQ_PRESET_LABEL " AS label FROM orders o JOIN order_items oi "
                          "ON oi.order_id = o.id WHERE o.created_at >= ?1) x "
                          "WHERE x.p IS NOT NULL GROUP BY x.p ORDER BY COUNT(*) DESC LIMIT ?2",
};

static const char *const block_keys[][7] = {
    [BLUEPRINT_OPTIONS] = {"groupId", "groupName", "optionId", "label", "selections",
                           "priceDeltaTotal", NULL},
    [BLUEPRINT_ADD_ONS] = {"addOnId", "label", "pricingMode", "providerName", "selections",
                           "priceDeltaTotal", NULL},
    [BLUEPRINT_PROVIDERS] = {"providerId", "providerName", "serviceId", "serviceAction",
                             "engagements", "amountTotal", NULL},
    [BLUEPRINT_PRESETS] = {"presetId", "label", "selections", NULL},
};

static int sqa_blueprint_block(struct store *s, enum blueprint_block block, int64_t since_us,
                               size_t limit, json_t **rows)
{
    sqlite3_stmt *st = NULL;
    *rows = NULL;
    int rc = prepare(s, block_sql[block], &st, "blueprint_block");
    if (rc != 0)
        return rc;
    sq_bind_time(st, 1, since_us);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    json_t *out = json_array();
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; block_keys[block][i]; i++) {
            const char *k = block_keys[block][i];
            json_t *v = col_value(st, i);
            /* Totals are floats (Python float()), counts integers. */
            if (strcmp(k, "priceDeltaTotal") == 0 || strcmp(k, "amountTotal") == 0) {
                double d = json_is_number(v) ? json_number_value(v) : 0.0;
                json_decref(v);
                v = json_real(d);
            }
            json_object_set_new(o, k, v);
        }
        json_array_append_new(out, o);
    }
    if (r != SQLITE_DONE) {
        rc = sq_fail(sq_of(s), r, "blueprint_block");
        json_decref(out);
        out = NULL;
    }
    sqlite3_finalize(st);
    *rows = out;
    return rc;
}

static int sqa_guardrail_statuses(struct store *s, struct guardrail_status_row **rows, size_t *n)
{
    sqlite3_stmt *st = NULL;
    *rows = NULL;
    *n = 0;
    int rc = prepare(s,
                     "SELECT provider_id, provider_name, last_source, last_follow_up_id, "
                     "is_paused FROM provider_guardrail_status ORDER BY provider_id",
                     &st, "guardrail_statuses");
    if (rc != 0)
        return rc;
    size_t cap = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *rows = xrealloc(*rows, cap * sizeof(**rows));
        }
        struct guardrail_status_row *row = &(*rows)[(*n)++];
        row->provider_id = sq_col_text(st, 0);
        row->provider_name = sq_col_text(st, 1);
        row->last_source = sq_col_text(st, 2);
        row->last_follow_up_id = sq_col_text(st, 3);
        /* Other writers may store booleans as 1/0 or as 'true'/'false' text. */
        char *paused = sq_col_text(st, 4);
        row->is_paused = paused && (strcmp(paused, "1") == 0 || strcasecmp(paused, "true") == 0 ||
                                    strcasecmp(paused, "t") == 0);
        free(paused);
    }
    if (r != SQLITE_DONE) {
        rc = sq_fail(sq_of(s), r, "guardrail_statuses");
        guardrail_status_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqa_followup_insert(struct store *s, const struct followup_input *in, char id_out[37])
{
    int own, rc;
    sqlite3_stmt *st = NULL;
    uuid4(id_out);
    rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    char *context = in->platform_context && !json_is_null(in->platform_context)
                        ? store_json_dump(in->platform_context)
                        : NULL;
    char *attachments =
        in->attachments && !json_is_null(in->attachments) ? store_json_dump(in->attachments) : NULL;
    rc = prepare(s,
                 "INSERT INTO provider_guardrail_followup (id, provider_id, provider_name, "
                 "action, notes, platform_context, attachments, conversion_cursor, "
                 "conversion_href, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                 &st, "followup_insert");
    if (rc == 0) {
        sq_bind_text(st, 1, id_out);
        sq_bind_text(st, 2, in->provider_id);
        sq_bind_text(st, 3, in->provider_name);
        sq_bind_text(st, 4, in->action);
        sq_bind_text(st, 5, in->notes);
        sq_bind_text(st, 6, context);
        sq_bind_text(st, 7, attachments);
        sq_bind_text(st, 8, in->conversion_cursor);
        sq_bind_text(st, 9, in->conversion_href);
        sq_bind_time(st, 10, in->now_us);
        rc = sq_run(sq_of(s), st, "followup_insert");
    }
    free(context);
    free(attachments);
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0)
        rc = prepare(s,
                     "INSERT INTO provider_guardrail_status (provider_id, provider_name, "
                     "last_action, is_paused, last_source, updated_at, last_follow_up_id) "
                     "VALUES (?1, ?2, ?3, CASE WHEN ?3 = 'pause' THEN 1 ELSE 0 END, ?4, ?5, ?6) "
                     "ON CONFLICT (provider_id) DO UPDATE SET "
                     "provider_name = COALESCE(excluded.provider_name, "
                     "provider_guardrail_status.provider_name), "
                     "last_action = excluded.last_action, "
                     "is_paused = CASE WHEN excluded.last_action = 'pause' THEN 1 "
                     "WHEN excluded.last_action = 'resume' THEN 0 "
                     "ELSE provider_guardrail_status.is_paused END, "
                     "last_source = excluded.last_source, updated_at = excluded.updated_at, "
                     "last_follow_up_id = excluded.last_follow_up_id",
                     &st, "status_upsert");
    if (rc == 0) {
        sq_bind_text(st, 1, in->provider_id);
        sq_bind_text(st, 2, in->provider_name);
        sq_bind_text(st, 3, in->action);
        sq_bind_text(st, 4, in->source);
        sq_bind_time(st, 5, in->now_us);
        sq_bind_text(st, 6, id_out);
        rc = sq_run(sq_of(s), st, "status_upsert");
    }
    sqlite3_finalize(st);
    return sq_leave(sq_of(s), own, rc);
}

static int sqa_followup_record(struct store *s, const char *provider_id, const char *provider_name,
                               const char *action, const char *notes, const char *source,
                               int64_t now_us, char id_out[37])
{
    struct followup_input in = {
        .provider_id = provider_id,
        .provider_name = provider_name,
        .action = action,
        .notes = notes,
        .source = source,
        .now_us = now_us,
    };
    return sqa_followup_insert(s, &in, id_out);
}

/* A text column as a JSON string, or null. New reference. */
static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    char *t = sq_col_text(st, i);
    json_t *v = t ? json_string(t) : json_null();
    free(t);
    return v ? v : json_null();
}

/* A JSON column parsed, or null (also for text that does not parse). New reference. */
static json_t *json_or_null(sqlite3_stmt *st, int i)
{
    json_t *v = sq_col_json(st, i);
    return v ? v : json_null();
}

static json_t *time_or_null(sqlite3_stmt *st, int i)
{
    int64_t us = sq_col_time(st, i);
    return us == STORE_NO_TIME ? json_null() : json_integer(us);
}

/* created_at is ISO text written by iso_format_utc (or the schema default of the same shape
 * without fraction), so text order is time order and the cursor compares as text. */
static int sqa_followup_list(struct store *s, const char *provider_id, int64_t before_us,
                             size_t limit, json_t **rows)
{
    sqlite3_stmt *st = NULL;
    *rows = NULL;
    int rc = prepare(s,
                     "SELECT id, provider_id, provider_name, action, notes, platform_context, "
                     "attachments, conversion_cursor, conversion_href, created_at "
                     "FROM provider_guardrail_followup WHERE provider_id = ?1 "
                     "AND (?2 IS NULL OR created_at < ?2) "
                     "ORDER BY created_at DESC, id DESC LIMIT ?3",
                     &st, "followup_list");
    if (rc != 0)
        return rc;
    sq_bind_text(st, 1, provider_id);
    sq_bind_time(st, 2, before_us);
    sqlite3_bind_int64(st, 3, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    json_t *out = json_array();
    static const char *const names[] = {"id",
                                        "provider_id",
                                        "provider_name",
                                        "action",
                                        "notes",
                                        "platform_context",
                                        "attachments",
                                        "conversion_cursor",
                                        "conversion_href",
                                        "created_at"};
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int i = 0; i < 10; i++) {
            json_t *v = i == 5 || i == 6 ? json_or_null(st, i)
                        : i == 9         ? time_or_null(st, i)
                                         : text_or_null(st, i);
            json_object_set_new(row, names[i], v);
        }
        json_array_append_new(out, row);
    }
    if (r != SQLITE_DONE) {
        rc = sq_fail(sq_of(s), r, "followup_list");
        json_decref(out);
        out = NULL;
    }
    sqlite3_finalize(st);
    *rows = out;
    return rc;
}

static int sqa_guardrail_status_get(struct store *s, const char *provider_id, json_t **row)
{
    sqlite3_stmt *st = NULL;
    *row = NULL;
    int rc = prepare(s,
                     "SELECT provider_id, provider_name, is_paused, last_action, last_source, "
                     "updated_at, last_follow_up_id FROM provider_guardrail_status "
                     "WHERE provider_id = ?1",
                     &st, "guardrail_status_get");
    if (rc != 0)
        return rc;
    sq_bind_text(st, 1, provider_id);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        char *paused = sq_col_text(st, 2);
        int is_paused = paused && (strcmp(paused, "1") == 0 || strcasecmp(paused, "true") == 0 ||
                                   strcasecmp(paused, "t") == 0);
        free(paused);
        json_t *o = json_object();
        json_object_set_new(o, "provider_id", text_or_null(st, 0));
        json_object_set_new(o, "provider_name", text_or_null(st, 1));
        json_object_set_new(o, "is_paused", json_boolean(is_paused));
        json_object_set_new(o, "last_action", text_or_null(st, 3));
        json_object_set_new(o, "last_source", text_or_null(st, 4));
        json_object_set_new(o, "updated_at", time_or_null(st, 5));
        json_object_set_new(o, "last_follow_up_id", text_or_null(st, 6));
        *row = o;
    } else if (r != SQLITE_DONE) {
        rc = sq_fail(sq_of(s), r, "guardrail_status_get");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqa_cooldown_get(struct store *s, const char *channel, const char *key,
                            char **fingerprint, int64_t *sent_us)
{
    sqlite3_stmt *st = NULL;
    *fingerprint = NULL;
    *sent_us = 0;
    int rc = prepare(s,
                     "SELECT fingerprint, sent_us FROM provider_alert_cooldown "
                     "WHERE channel = ?1 AND alert_key = ?2",
                     &st, "cooldown_get");
    if (rc != 0)
        return rc;
    sq_bind_text(st, 1, channel);
    sq_bind_text(st, 2, key);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *fingerprint = sq_col_text(st, 0);
        *sent_us = sqlite3_column_int64(st, 1);
    } else if (r != SQLITE_DONE) {
        rc = sq_fail(sq_of(s), r, "cooldown_get");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqa_cooldown_put(struct store *s, const char *channel, const char *key,
                            const char *fingerprint, int64_t sent_us)
{
    int own, rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = prepare(s,
                 "INSERT INTO provider_alert_cooldown (channel, alert_key, fingerprint, sent_us) "
                 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, alert_key) DO UPDATE SET "
                 "fingerprint = excluded.fingerprint, sent_us = excluded.sent_us",
                 &st, "cooldown_put");
    if (rc == 0) {
        sq_bind_text(st, 1, channel);
        sq_bind_text(st, 2, key);
        sq_bind_text(st, 3, fingerprint);
        sqlite3_bind_int64(st, 4, sent_us);
        rc = sq_run(sq_of(s), st, "cooldown_put");
    }
    sqlite3_finalize(st);
    return sq_leave(sq_of(s), own, rc);
}

const struct alert_store_ops store_sqlite_alert_ops = {
    .preset_engagements = sqa_preset_engagements,
    .blueprint_orders = sqa_blueprint_orders,
    .blueprint_block = sqa_blueprint_block,
    .guardrail_statuses = sqa_guardrail_statuses,
    .followup_record = sqa_followup_record,
    .followup_insert = sqa_followup_insert,
    .followup_list = sqa_followup_list,
    .guardrail_status_get = sqa_guardrail_status_get,
    .cooldown_get = sqa_cooldown_get,
    .cooldown_put = sqa_cooldown_put,
};
