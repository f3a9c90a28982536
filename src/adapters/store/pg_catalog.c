/*
 * Catalog queries of the PostgreSQL backend (core/store.h, spec-api-ui §4.1-4.11): providers
 * with their services and balance snapshot, service rows, the balance upsert and the platform
 * context cache. Rows travel as JSON objects keyed by column name; each table is described by
 * a column list saying how a column is stored (text or enum, JSON, integer, NUMERIC,
 * TIMESTAMPTZ), so that reading, inserting and updating share one description. Parameters go
 * as text: enum columns take untyped parameters (PostgreSQL infers the column's enum type, so
 * an existing smplat database with its own enum types works), the others carry casts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/columns.h"
#include "adapters/store/pg_internal.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/num.h"
#include "base/sb.h"

/* A row value as a text parameter (*text new, NULL for SQL NULL); ERR_INVALID when it does not
 * fit the column. */
static int param_text(enum col_kind kind, const json_t *v, char **text)
{
    int bad = 0;
    *text = pg_col_param_text(kind, v, &bad);
    return bad ? ERR_INVALID : 0;
}

/* SELECT cols FROM table <where> with up to two parameters; *rows is a new array. */
static int select_rows(struct store *s, const struct col *cols, const char *table,
                       const char *where, const char *p1, const char *p2, json_t **rows)
{
    struct sb sql = SB_INIT;
    const char *params[2] = {p1, p2};
    PGresult *res = NULL;
    int rc, r, n;

    *rows = json_array();
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, cols);
    sb_printf(&sql, " FROM %s %s", table, where);
    rc = pg_query(pg_of(s), "select", sb_str(&sql), p2 ? 2 : (p1 ? 1 : 0), params, &res);
    sb_release(&sql);
    if (rc != 0)
        return rc;
    n = PQntuples(res);
    for (r = 0; r < n; r++)
        json_array_append_new(*rows, pg_row_json(res, r, cols));
    PQclear(res);
    return 0;
}
static int providers_select(struct store *s, const char *where, const char *p1, json_t **rows)
{
    json_t *providers = NULL, *services = NULL, *balances = NULL;
    int rc;

    *rows = NULL;
    rc = select_rows(s, provider_cols, "fulfillment_providers", where, p1, NULL, &providers);
    if (rc == 0)
        rc = select_rows(s, service_cols, "fulfillment_services",
                         p1 ? "WHERE provider_id = $1 ORDER BY created_at, id"
                            : "ORDER BY created_at, id",
                         p1, NULL, &services);
    if (rc == 0)
        rc = select_rows(s, balance_cols, "fulfillment_provider_balances",
                         p1 ? "WHERE provider_id = $1" : "", p1, NULL, &balances);
    if (rc == 0) {
        catalog_attach(providers, services, balances);
        *rows = json_incref(providers);
    }
    json_decref(providers);
    json_decref(services);
    json_decref(balances);
    return rc;
}

int pg_providers_list(struct store *s, json_t **rows)
{
    return providers_select(s, "ORDER BY name, id", NULL, rows);
}

int pg_provider_row(struct store *s, const char *id, json_t **row)
{
    json_t *rows = NULL;
    int rc = providers_select(s, "WHERE id = $1", id, &rows);

    *row = NULL;
    if (rc != 0)
        return rc;
    if (json_array_size(rows) == 0)
        rc = ERR_NOT_FOUND;
    else
        *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

#define MAX_COLS 32

/* INSERT INTO table (the columns of row, plus created_at/updated_at = now when absent). */
static int insert_row(struct store *s, const struct col *cols, const char *table, const json_t *row,
                      int64_t now_us)
{
    struct sb sql = SB_INIT, vals = SB_INIT;
    const struct col *order[MAX_COLS];
    const json_t *values[MAX_COLS];
    char *texts[MAX_COLS];
    json_t *now = json_integer((json_int_t)now_us);
    const char *key;
    json_t *v;
    size_t n = 0, i;
    int rc = json_is_object(row) ? 0 : ERR_INVALID;

    json_object_foreach ((json_t *)row, key, v) {
        const struct col *c = col_find(cols, key);
        if (c == NULL || n == MAX_COLS - 2) {
            rc = ERR_INVALID;
            break;
        }
        order[n] = c;
        values[n++] = v;
    }
    if (rc == 0) {
        const char *stamps[] = {"created_at", "updated_at"};
        for (i = 0; i < 2; i++)
            if (col_find(cols, stamps[i]) && !json_object_get(row, stamps[i])) {
                order[n] = col_find(cols, stamps[i]);
                values[n++] = now;
            }
    }
    memset(texts, 0, sizeof texts);
    for (i = 0; rc == 0 && i < n; i++)
        rc = param_text(order[i]->kind, values[i], &texts[i]);
    if (rc == 0 && n > 0) {
        sb_printf(&sql, "INSERT INTO %s (", table);
        for (i = 0; i < n; i++) {
            sb_printf(&sql, "%s%s", i ? ", " : "", order[i]->name);
            if (i)
                sb_puts(&vals, ", ");
            sb_printf(&vals, "$%zu%s", i + 1, pg_col_cast(order[i]->kind));
        }
        sb_printf(&sql, ") VALUES (%s)", sb_str(&vals));
        rc = pg_query(pg_of(s), "insert", sb_str(&sql), (int)n, (const char *const *)texts, NULL);
    } else if (rc == 0) {
        rc = ERR_INVALID;
    }
    for (i = 0; i < n; i++)
        free(texts[i]);
    sb_release(&sql);
    sb_release(&vals);
    json_decref(now);
    return rc;
}

/* UPDATE table SET (changes), updated_at = now WHERE id = $ [AND provider_id = $];
 * ERR_NOT_FOUND when no row matched. */
static int update_row(struct store *s, const struct col *cols, const char *table, const char *id,
                      const char *provider_id, const json_t *changes, int64_t now_us)
{
    struct sb sql = SB_INIT;
    const struct col *order[MAX_COLS];
    const json_t *values[MAX_COLS];
    char *texts[MAX_COLS + 3];
    char now[ISO_BUFSZ];
    PGresult *res = NULL;
    const char *key;
    json_t *v;
    size_t n = 0, i;
    int rc = 0;

    if (!json_is_object(changes))
        return ERR_INVALID;
    json_object_foreach ((json_t *)changes, key, v) {
        const struct col *c = col_find(cols, key);
        if (c == NULL || n == MAX_COLS || strcmp(key, "id") == 0)
            return ERR_INVALID;
        order[n] = c;
        values[n++] = v;
    }
    memset(texts, 0, sizeof texts);
    for (i = 0; rc == 0 && i < n; i++)
        rc = param_text(order[i]->kind, values[i], &texts[i]);
    if (rc == 0) {
        iso_format_utc(now_us, now);
        texts[n] = xstrdup(now);
        texts[n + 1] = xstrdup(id);
        texts[n + 2] = provider_id ? xstrdup(provider_id) : NULL;
        sb_printf(&sql, "UPDATE %s SET ", table);
        for (i = 0; i < n; i++) {
            sb_printf(&sql, "%s = ", order[i]->name);
            sb_printf(&sql, "$%zu%s", i + 1, pg_col_cast(order[i]->kind));
            sb_puts(&sql, ", ");
        }
        sb_printf(&sql, "updated_at = $%zu::timestamptz WHERE id = $%zu", n + 1, n + 2);
        if (provider_id)
            sb_printf(&sql, " AND provider_id = $%zu", n + 3);
        rc = pg_query(pg_of(s), "update", sb_str(&sql), (int)(n + (provider_id ? 3 : 2)),
                      (const char *const *)texts, &res);
        if (rc == 0 && strcmp(PQcmdTuples(res), "0") == 0)
            rc = ERR_NOT_FOUND;
        PQclear(res);
    }
    for (i = 0; i < n + 3; i++)
        free(texts[i]);
    sb_release(&sql);
    return rc;
}

/* Runs a statement with its parameters; *changed = rows it changed. */
static int exec_params(struct store *s, const char *sql, int nparams, const char *const *params,
                       int *changed)
{
    PGresult *res = NULL;
    int rc = pg_query(pg_of(s), "delete", sql, nparams, params, &res);

    if (rc == 0 && changed && num_parse_int(PQcmdTuples(res), changed) != 0)
        *changed = 0;
    PQclear(res);
    return rc;
}

int pg_provider_insert(struct store *s, const json_t *row, int64_t now_us)
{
    return insert_row(s, provider_cols, "fulfillment_providers", row, now_us);
}

int pg_provider_update(struct store *s, const char *id, const json_t *changes, int64_t now_us)
{
    return update_row(s, provider_cols, "fulfillment_providers", id, NULL, changes, now_us);
}

/* Services and the balance go with the provider (explicitly, in one transaction, which also
 * holds for a database whose foreign keys lack ON DELETE CASCADE). */
int pg_provider_delete(struct store *s, const char *id)
{
    const char *p[1] = {id};
    int rc, own, changed = 0;

    rc = pg_enter(pg_of(s), &own);
    if (rc != 0)
        return rc;
    rc = exec_params(s, "DELETE FROM fulfillment_services WHERE provider_id = $1", 1, p, NULL);
    if (rc == 0)
        rc = exec_params(s, "DELETE FROM fulfillment_provider_balances WHERE provider_id = $1", 1,
                         p, NULL);
    if (rc == 0)
        rc = exec_params(s, "DELETE FROM fulfillment_providers WHERE id = $1", 1, p, &changed);
    if (rc == 0 && changed == 0)
        rc = ERR_NOT_FOUND;
    return pg_leave(pg_of(s), own, rc);
}

int pg_service_row(struct store *s, const char *provider_id, const char *id, json_t **row)
{
    json_t *rows = NULL;
    int rc = select_rows(s, service_cols, "fulfillment_services",
                         "WHERE id = $1 AND provider_id = $2", id, provider_id, &rows);

    *row = NULL;
    if (rc == 0 && json_array_size(rows) == 0)
        rc = ERR_NOT_FOUND;
    if (rc == 0)
        *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

int pg_service_insert(struct store *s, const json_t *row, int64_t now_us)
{
    return insert_row(s, service_cols, "fulfillment_services", row, now_us);
}

int pg_service_update(struct store *s, const char *provider_id, const char *id,
                      const json_t *changes, int64_t now_us)
{
    return update_row(s, service_cols, "fulfillment_services", id, provider_id, changes, now_us);
}

int pg_service_delete(struct store *s, const char *provider_id, const char *id)
{
    const char *p[2] = {id, provider_id};
    int changed = 0;
    int rc = exec_params(s, "DELETE FROM fulfillment_services WHERE id = $1 AND provider_id = $2",
                         2, p, &changed);

    if (rc == 0 && changed == 0)
        rc = ERR_NOT_FOUND;
    return rc;
}

int pg_balance_upsert(struct store *s, const char *provider_id, const json_t *row,
                      int64_t retrieved_us)
{
    char *texts[5] = {NULL, NULL, NULL, NULL, NULL};
    char when[ISO_BUFSZ];
    int rc, i;

    if (!json_is_object(row))
        return ERR_INVALID;
    rc = param_text(COL_NUM, json_object_get(row, "balance_amount"), &texts[1]);
    if (rc == 0)
        rc = param_text(COL_TEXT, json_object_get(row, "currency"), &texts[2]);
    if (rc == 0)
        rc = param_text(COL_JSON, json_object_get(row, "payload"), &texts[3]);
    if (rc == 0) {
        iso_format_utc(retrieved_us, when);
        texts[0] = xstrdup(provider_id);
        texts[4] = xstrdup(when);
        rc = pg_query(pg_of(s), "balance_upsert",
                      "INSERT INTO fulfillment_provider_balances (provider_id, balance_amount, "
                      "currency, payload, retrieved_at, created_at, updated_at) VALUES ($1, "
                      "$2::numeric, $3, $4::json, $5::timestamptz, $5::timestamptz, "
                      "$5::timestamptz) ON CONFLICT (provider_id) DO UPDATE SET "
                      "balance_amount = EXCLUDED.balance_amount, currency = EXCLUDED.currency, "
                      "payload = EXCLUDED.payload, retrieved_at = EXCLUDED.retrieved_at, "
                      "updated_at = EXCLUDED.updated_at",
                      5, (const char *const *)texts, NULL);
    }
    for (i = 0; i < 5; i++)
        free(texts[i]);
    return rc;
}

int pg_platform_contexts(struct store *s, const char *provider_id, size_t limit, json_t **rows)
{
    char lim[PG_I64_BUFSZ];
    struct sb where = SB_INIT;
    int rc;

    sb_printf(&where, "WHERE provider_id = $1 ORDER BY last_seen_at DESC, platform_id LIMIT %s",
              i64_text(limit > INT64_MAX ? INT64_MAX : (int64_t)limit, lim));
    rc = select_rows(s, context_cols, "provider_platform_context_cache", sb_str(&where),
                     provider_id, NULL, rows);
    sb_release(&where);
    if (rc != 0) {
        json_decref(*rows);
        *rows = NULL;
    }
    return rc;
}
