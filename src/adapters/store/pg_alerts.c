/*
 * The alert worker's queries on PostgreSQL (core/alert_store.h): the same aggregates as
 * sqlite_alerts.c, computed by the server in one pass over the longest window, guardrail
 * follow-ups and statuses, and the cooldown table. Parameters travel as text with the casts
 * their columns need (timestamps as ISO-8601 UTC text, ids as uuid).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/pg_internal.h"
#include "adapters/store/store_alerts.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/num.h"
#include "base/sb.h"
#include "base/uuid.h"

#define PG_SEL "oi.selected_options"
/* The first truthy of two keys of selected_options, as text: a non-empty string or a
 * non-zero number. */
#define PG_TRUTHY(key)                                                                             \
    "CASE json_typeof(" PG_SEL "->'" key "') WHEN 'string' THEN NULLIF(" PG_SEL "->>'" key         \
    "', '') WHEN 'number' THEN CASE WHEN (" PG_SEL "->>'" key "')::numeric <> 0 THEN " PG_SEL      \
    "->>'" key "' END END"
#define PG_PRESET_ID "COALESCE(" PG_TRUTHY("presetId") ", " PG_TRUTHY("preset_id") ")"
#define PG_PRESET_LABEL "COALESCE(" PG_TRUTHY("presetLabel") ", " PG_TRUTHY("preset_label") ")"

static void time_param(int64_t us, char buf[ISO_BUFSZ])
{
    iso_format_utc(us, buf);
}

static char *text_or_null(const PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? NULL : pg_text(res, r, c);
}

static int64_t i64_at(const PGresult *res, int r, int c)
{
    int64_t v = 0;
    if (!PQgetisnull(res, r, c))
        num_parse_i64(PQgetvalue(res, r, c), &v);
    return v;
}

static double dbl_at(const PGresult *res, int r, int c)
{
    double v = 0.0;
    if (!PQgetisnull(res, r, c))
        num_parse_double(PQgetvalue(res, r, c), &v);
    return v;
}

static int pga_preset_engagements(struct store *base, const int64_t *starts, size_t nstarts,
                                  struct preset_engagement_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    if (nstarts == 0 || nstarts > 8)
        return nstarts == 0 ? 0 : ERR_INVALID;
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT x.p, MAX(x.label), f.provider_id, MAX(f.provider_name), f.service_id, "
                  "MAX(f.service_action), MAX(f.currency), x.bucket, COUNT(*), "
                  "COALESCE(SUM(f.amount), 0)::float8 FROM (SELECT oi.id AS item_id, CASE");
    for (size_t i = 0; i + 1 < nstarts; i++)
        sb_printf(&sql, " WHEN o.created_at >= $%zu::timestamptz THEN %zu", i + 1, i);
    sb_printf(&sql,
              " ELSE %zu END AS bucket, " PG_PRESET_ID " AS p, " PG_PRESET_LABEL
              " AS label FROM orders o JOIN order_items oi ON oi.order_id = o.id "
              "WHERE o.created_at >= $%zu::timestamptz AND json_typeof(" PG_SEL ") = 'object') x "
              "JOIN fulfillment_provider_orders f ON f.order_item_id = x.item_id "
              "WHERE x.p IS NOT NULL "
              "GROUP BY x.p, f.provider_id, f.service_id, x.bucket "
              "ORDER BY x.bucket, x.p, f.provider_id, f.service_id",
              nstarts - 1, nstarts);
    char bufs[8][ISO_BUFSZ];
    const char *params[8];
    for (size_t i = 0; i < nstarts; i++) {
        time_param(starts[i], bufs[i]);
        params[i] = bufs[i];
    }
    PGresult *res = NULL;
    int rc = pg_query(pg_of(base), "preset_engagements", sb_str(&sql), (int)nstarts, params, &res);
    sb_release(&sql);
    if (rc != 0)
        return rc;
    int nt = PQntuples(res);
    *rows = xcalloc(nt > 0 ? (size_t)nt : 1, sizeof(**rows));
    for (int r = 0; r < nt; r++) {
        struct preset_engagement_row *row = &(*rows)[r];
        row->preset_id = text_or_null(res, r, 0);
        row->preset_label = text_or_null(res, r, 1);
        row->provider_id = text_or_null(res, r, 2);
        row->provider_name = text_or_null(res, r, 3);
        row->service_id = text_or_null(res, r, 4);
        row->service_action = text_or_null(res, r, 5);
        row->currency = text_or_null(res, r, 6);
        row->bucket = (int)i64_at(res, r, 7);
        row->engagements = i64_at(res, r, 8);
        row->amount_total = dbl_at(res, r, 9);
    }
    *n = (size_t)nt;
    PQclear(res);
    return 0;
}

static int pga_blueprint_orders(struct store *base, int64_t since_us, int64_t *orders,
                                int64_t *items, double *revenue)
{
    char since[ISO_BUFSZ];
    time_param(since_us, since);
    const char *params[1] = {since};
    PGresult *res = NULL;
    int rc = pg_query(pg_of(base), "blueprint_orders",
                      "SELECT COUNT(DISTINCT o.id), COUNT(*), "
                      "COALESCE(SUM(oi.total_price), 0)::float8 FROM orders o "
                      "JOIN order_items oi ON oi.order_id = o.id "
                      "WHERE o.created_at >= $1::timestamptz",
                      1, params, &res);
    if (rc != 0)
        return rc;
    *orders = i64_at(res, 0, 0);
    *items = i64_at(res, 0, 1);
    *revenue = dbl_at(res, 0, 2);
    PQclear(res);
    return 0;
}

#define PG_ELEMENTS(key)                                                                           \
    " FROM orders o JOIN order_items oi ON oi.order_id = o.id CROSS JOIN LATERAL "                 \
    "json_array_elements(CASE WHEN json_typeof(" PG_SEL ") = 'object' AND json_typeof(" PG_SEL     \
    "->'" key "') = 'array' THEN " PG_SEL "->'" key "' ELSE '[]'::json END) j(v) "                 \
    "WHERE o.created_at >= $1::timestamptz AND json_typeof(j.v) = 'object' "
#define PG_DELTA                                                                                   \
    "COALESCE(SUM(CASE WHEN json_typeof(j.v->'priceDelta') = 'number' THEN "                       \
    "(j.v->>'priceDelta')::float8 ELSE 0 END), 0)::float8"

static const char *const pg_block_sql[] = {
    [BLUEPRINT_OPTIONS] =
        "SELECT j.v->>'groupId' AS g, MIN(j.v->>'groupName'), j.v->>'optionId' "
        "AS oid, MIN(j.v->>'label'), COUNT(*), " PG_DELTA PG_ELEMENTS(
            "options") "GROUP BY g, oid ORDER BY COUNT(*) DESC, MIN(o.created_at) LIMIT $2",
    [BLUEPRINT_ADD_ONS] = "SELECT j.v->>'id' AS a, MIN(j.v->>'label'), MIN(j.v->>'pricingMode'), "
                          "MIN(j.v->>'serviceProviderName'), COUNT(*), " PG_DELTA PG_ELEMENTS(
                              "addOns") "GROUP BY a ORDER BY COUNT(*) DESC, MIN(o.created_at) "
                                        "LIMIT $2",
    [BLUEPRINT_PROVIDERS] =
        "SELECT provider_id, provider_name, service_id, service_action, COUNT(*), "
        "COALESCE(SUM(amount), 0)::float8 FROM fulfillment_provider_orders "
        "WHERE created_at >= $1::timestamptz "
        "GROUP BY provider_id, provider_name, service_id, service_action "
        "ORDER BY COUNT(*) DESC LIMIT $2",
    [BLUEPRINT_PRESETS] = "SELECT x.p, MAX(x.label), COUNT(*) FROM (SELECT " PG_PRESET_ID
                          " AS p, " PG_PRESET_LABEL " AS label FROM orders o JOIN order_items oi "
                          "ON oi.order_id = o.id WHERE o.created_at >= $1::timestamptz AND "
                          "json_typeof(" PG_SEL ") = 'object') x WHERE x.p IS NOT NULL "
                          "GROUP BY x.p ORDER BY COUNT(*) DESC LIMIT $2",
};

/* Column kinds: 's' text (null when NULL), 'i' integer, 'f' float. */
static const struct {
    const char *keys[7];
    const char *kinds;
} pg_block_cols[] = {
    [BLUEPRINT_OPTIONS] = {{"groupId", "groupName", "optionId", "label", "selections",
                            "priceDeltaTotal", NULL},
                           "ssssif"},
    [BLUEPRINT_ADD_ONS] = {{"addOnId", "label", "pricingMode", "providerName", "selections",
                            "priceDeltaTotal", NULL},
                           "ssssif"},
    [BLUEPRINT_PROVIDERS] = {{"providerId", "providerName", "serviceId", "serviceAction",
                              "engagements", "amountTotal", NULL},
                             "ssssif"},
    [BLUEPRINT_PRESETS] = {{"presetId", "label", "selections", NULL}, "ssi"},
};

static int pga_blueprint_block(struct store *base, enum blueprint_block block, int64_t since_us,
                               size_t limit, json_t **rows)
{
    char since[ISO_BUFSZ], lim[PG_I64_BUFSZ];
    time_param(since_us, since);
    const char *params[2] = {since, i64_text((int64_t)limit, lim)};
    PGresult *res = NULL;
    *rows = NULL;
    int rc = pg_query(pg_of(base), "blueprint_block", pg_block_sql[block], 2, params, &res);
    if (rc != 0)
        return rc;
    json_t *out = json_array();
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *o = json_object();
        for (int c = 0; pg_block_cols[block].keys[c]; c++) {
            json_t *v;
            char kind = pg_block_cols[block].kinds[c];
            if (kind == 'i')
                v = json_integer(i64_at(res, r, c));
            else if (kind == 'f')
                v = json_real(dbl_at(res, r, c));
            else if (PQgetisnull(res, r, c))
                v = json_null();
            else
                v = json_stringn(PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
            json_object_set_new(o, pg_block_cols[block].keys[c], v ? v : json_null());
        }
        json_array_append_new(out, o);
    }
    PQclear(res);
    *rows = out;
    return 0;
}

static int pga_guardrail_statuses(struct store *base, struct guardrail_status_row **rows, size_t *n)
{
    PGresult *res = NULL;
    *rows = NULL;
    *n = 0;
    int rc = pg_query(pg_of(base), "guardrail_statuses",
                      "SELECT provider_id, provider_name, last_source, last_follow_up_id::text, "
                      "is_paused FROM provider_guardrail_status ORDER BY provider_id",
                      0, NULL, &res);
    if (rc != 0)
        return rc;
    int nt = PQntuples(res);
    *rows = xcalloc(nt > 0 ? (size_t)nt : 1, sizeof(**rows));
    for (int r = 0; r < nt; r++) {
        struct guardrail_status_row *row = &(*rows)[r];
        row->provider_id = text_or_null(res, r, 0);
        row->provider_name = text_or_null(res, r, 1);
        row->last_source = text_or_null(res, r, 2);
        row->last_follow_up_id = text_or_null(res, r, 3);
        row->is_paused = pg_bool(res, r, 4);
    }
    *n = (size_t)nt;
    PQclear(res);
    return 0;
}

static int pga_followup_insert(struct store *base, const struct followup_input *in, char id_out[37])
{
    struct pg_store *s = pg_of(base);
    char now[ISO_BUFSZ];
    int own, rc;
    uuid4(id_out);
    time_param(in->now_us, now);
    rc = pg_enter(s, &own);
    if (rc != 0)
        return rc;
    char *context = in->platform_context && !json_is_null(in->platform_context)
                        ? store_json_dump(in->platform_context)
                        : NULL;
    char *attachments =
        in->attachments && !json_is_null(in->attachments) ? store_json_dump(in->attachments) : NULL;
    const char *p1[10] = {
        id_out,  in->provider_id, in->provider_name,     in->action,          in->notes,
        context, attachments,     in->conversion_cursor, in->conversion_href, now};
    rc = pg_query(s, "followup_insert",
                  "INSERT INTO provider_guardrail_followup (id, provider_id, provider_name, "
                  "action, notes, platform_context, attachments, conversion_cursor, "
                  "conversion_href, created_at) VALUES ($1::uuid, $2, $3, $4, $5, $6::json, "
                  "$7::json, $8, $9, $10::timestamptz)",
                  10, p1, NULL);
    free(context);
    free(attachments);
    if (rc == 0) {
        const char *p2[6] = {in->provider_id, in->provider_name, in->action, in->source, now,
                             id_out};
        rc = pg_query(s, "status_upsert",
                      "INSERT INTO provider_guardrail_status (provider_id, provider_name, "
                      "last_action, is_paused, last_source, updated_at, last_follow_up_id) "
                      "VALUES ($1, $2, $3::text, $3::text = 'pause', $4, $5::timestamptz, "
                      "$6::uuid) ON CONFLICT (provider_id) DO UPDATE SET "
                      "provider_name = COALESCE(EXCLUDED.provider_name, "
                      "provider_guardrail_status.provider_name), "
                      "last_action = EXCLUDED.last_action, "
                      "is_paused = CASE WHEN EXCLUDED.last_action = 'pause' THEN true "
                      "WHEN EXCLUDED.last_action = 'resume' THEN false "
                      "ELSE provider_guardrail_status.is_paused END, "
                      "last_source = EXCLUDED.last_source, updated_at = EXCLUDED.updated_at, "
                      "last_follow_up_id = EXCLUDED.last_follow_up_id",
                      6, p2, NULL);
    }
    return pg_leave(s, own, rc);
}

static int pga_followup_record(struct store *base, const char *provider_id,
                               const char *provider_name, const char *action, const char *notes,
                               const char *source, int64_t now_us, char id_out[37])
{
    struct followup_input in = {
        .provider_id = provider_id,
        .provider_name = provider_name,
        .action = action,
        .notes = notes,
        .source = source,
        .now_us = now_us,
    };
    return pga_followup_insert(base, &in, id_out);
}

/* A timestamp column as exact microseconds since the epoch (see pg_orders.c). */
#define PG_US(c)                                                                                   \
    "(EXTRACT(EPOCH FROM date_trunc('second', " c "))::bigint * 1000000 + "                        \
    "EXTRACT(MICROSECONDS FROM " c ")::bigint % 1000000)"

static json_t *pg_text_or_null(const PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c)
               ? json_null()
               : json_stringn(PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c));
}

static json_t *pg_time_or_null(const PGresult *res, int r, int c)
{
    int64_t us = pg_i64_or(res, r, c, STORE_NO_TIME);
    return us == STORE_NO_TIME ? json_null() : json_integer(us);
}

static int pga_followup_list(struct store *base, const char *provider_id, int64_t before_us,
                             size_t limit, json_t **rows)
{
    char before[ISO_BUFSZ], lim[PG_I64_BUFSZ];
    if (before_us != STORE_NO_TIME)
        time_param(before_us, before);
    const char *p[3] = {provider_id, before_us != STORE_NO_TIME ? before : NULL,
                        i64_text(limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit, lim)};
    PGresult *res = NULL;
    *rows = NULL;
    int rc = pg_query(
        pg_of(base), "followup_list",
        "SELECT id::text, provider_id, provider_name, action, notes, "
        "platform_context::text, attachments::text, conversion_cursor, "
        "conversion_href, " PG_US(
            "created_at") " FROM provider_guardrail_followup "
                          "WHERE provider_id = $1 AND ($2::timestamptz IS NULL OR "
                          "created_at < $2::timestamptz) ORDER BY created_at DESC, id DESC "
                          "LIMIT $3::bigint",
        3, p, &res);
    if (rc != 0)
        return rc;
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
    json_t *out = json_array();
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *row = json_object();
        for (int c = 0; c < 10; c++) {
            json_t *v;
            if (c == 5 || c == 6) {
                v = pg_json(res, r, c);
                if (!v)
                    v = json_null();
            } else if (c == 9) {
                v = pg_time_or_null(res, r, c);
            } else {
                v = pg_text_or_null(res, r, c);
            }
            json_object_set_new(row, names[c], v);
        }
        json_array_append_new(out, row);
    }
    PQclear(res);
    *rows = out;
    return 0;
}

static int pga_guardrail_status_get(struct store *base, const char *provider_id, json_t **row)
{
    const char *p[1] = {provider_id};
    PGresult *res = NULL;
    *row = NULL;
    int rc =
        pg_query(pg_of(base), "guardrail_status_get",
                 "SELECT provider_id, provider_name, is_paused, last_action, last_source, "
                 "" PG_US("updated_at") ", last_follow_up_id::text "
                                        "FROM provider_guardrail_status WHERE provider_id = $1",
                 1, p, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) > 0) {
        json_t *o = json_object();
        json_object_set_new(o, "provider_id", pg_text_or_null(res, 0, 0));
        json_object_set_new(o, "provider_name", pg_text_or_null(res, 0, 1));
        json_object_set_new(o, "is_paused", json_boolean(pg_bool(res, 0, 2)));
        json_object_set_new(o, "last_action", pg_text_or_null(res, 0, 3));
        json_object_set_new(o, "last_source", pg_text_or_null(res, 0, 4));
        json_object_set_new(o, "updated_at", pg_time_or_null(res, 0, 5));
        json_object_set_new(o, "last_follow_up_id", pg_text_or_null(res, 0, 6));
        *row = o;
    }
    PQclear(res);
    return 0;
}

static int pga_cooldown_get(struct store *base, const char *channel, const char *key,
                            char **fingerprint, int64_t *sent_us)
{
    const char *params[2] = {channel, key};
    PGresult *res = NULL;
    *fingerprint = NULL;
    *sent_us = 0;
    int rc = pg_query(pg_of(base), "cooldown_get",
                      "SELECT fingerprint, sent_us FROM provider_alert_cooldown "
                      "WHERE channel = $1 AND alert_key = $2",
                      2, params, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) > 0) {
        *fingerprint = text_or_null(res, 0, 0);
        *sent_us = i64_at(res, 0, 1);
    }
    PQclear(res);
    return 0;
}

static int pga_cooldown_put(struct store *base, const char *channel, const char *key,
                            const char *fingerprint, int64_t sent_us)
{
    char sent[PG_I64_BUFSZ];
    const char *params[4] = {channel, key, fingerprint, i64_text(sent_us, sent)};
    return pg_query(pg_of(base), "cooldown_put",
                    "INSERT INTO provider_alert_cooldown (channel, alert_key, fingerprint, "
                    "sent_us) VALUES ($1, $2, $3, $4::bigint) ON CONFLICT (channel, alert_key) "
                    "DO UPDATE SET fingerprint = EXCLUDED.fingerprint, sent_us = EXCLUDED.sent_us",
                    4, params, NULL);
}

const struct alert_store_ops store_pg_alert_ops = {
    .preset_engagements = pga_preset_engagements,
    .blueprint_orders = pga_blueprint_orders,
    .blueprint_block = pga_blueprint_block,
    .guardrail_statuses = pga_guardrail_statuses,
    .followup_record = pga_followup_record,
    .followup_insert = pga_followup_insert,
    .followup_list = pga_followup_list,
    .guardrail_status_get = pga_guardrail_status_get,
    .cooldown_get = pga_cooldown_get,
    .cooldown_put = pga_cooldown_put,
};
