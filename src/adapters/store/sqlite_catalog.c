/*
 * Catalog queries of the SQLite backend (core/store.h, spec-api-ui §4.1-4.11): providers with
 * their services and balance snapshot, service rows, the balance upsert and the platform
 * context cache. Rows travel as JSON objects keyed by column name; each table is described by
 * a column list saying how a column is stored (text, JSON text, integer, number, ISO-8601
 * time), so that reading, inserting and updating share one description. Timestamps are
 * compared and sorted after parsing (sq_col_time), because rows written by other programs may
 * use another ISO spelling than ours and text order would then be wrong. Statements are
 * prepared per call: these are operator requests, not the replay hot path.
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/store/columns.h"
#include "adapters/store/sqlite_internal.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/sb.h"

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
    int r = sqlite3_prepare_v2(sq_db(s), sql, -1, st, NULL);

    if (r != SQLITE_OK) {
        *st = NULL;
        return sq_fail(sq_of(s), r, "prepare");
    }
    return 0;
}

/* Runs a SELECT of cols FROM table <where> with up to two text parameters; appends each row
 * to *rows (a new array). */
static int select_rows(struct store *s, const struct col *cols, const char *table,
                       const char *where, const char *p1, const char *p2, json_t **rows)
{
    struct sb sql = SB_INIT;
    sqlite3_stmt *st = NULL;
    int rc, r;

    *rows = json_array();
    sb_puts(&sql, "SELECT ");
    sq_select_list(&sql, cols);
    sb_printf(&sql, " FROM %s %s", table, where);
    rc = prepare(s, sb_str(&sql), &st);
    sb_release(&sql);
    if (rc != 0)
        return rc;
    if (p1)
        sq_bind_text(st, 1, p1);
    if (p2)
        sq_bind_text(st, 2, p2);
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(*rows, sq_row_json(st, cols));
    if (r != SQLITE_DONE)
        rc = sq_fail(sq_of(s), r, "select");
    sqlite3_finalize(st);
    return rc;
}

static int64_t row_time(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : INT64_MIN;
}

/* Services in created_at order, then id (the order spec-api-ui §4.1 recommends). */
static int service_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int64_t tx = row_time(x, "created_at"), ty = row_time(y, "created_at");

    if (tx != ty)
        return tx < ty ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "id")),
                  json_string_value(json_object_get(y, "id")));
}

/* Newest last_seen_at first. */
static int context_cmp(const void *a, const void *b)
{
    int64_t tx = row_time(*(const json_t *const *)a, "last_seen_at");
    int64_t ty = row_time(*(const json_t *const *)b, "last_seen_at");

    return tx == ty ? 0 : (tx > ty ? -1 : 1);
}

/* Sorts a JSON array in place with cmp over its elements. */
static void array_sort(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr), i;
    json_t **items;

    if (n < 2)
        return;
    items = xcalloc(n, sizeof *items);
    for (i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    qsort(items, n, sizeof *items, cmp);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
}
/* Providers selected with `where` (and p1), with their services and balances. */
static int providers_select(struct store *s, const char *where, const char *p1, json_t **rows)
{
    json_t *providers = NULL, *services = NULL, *balances = NULL;
    int rc;

    *rows = NULL;
    rc = select_rows(s, provider_cols, "fulfillment_providers", where, p1, NULL, &providers);
    if (rc == 0)
        rc = select_rows(s, service_cols, "fulfillment_services",
                         p1 ? "WHERE provider_id = ?1" : "", p1, NULL, &services);
    if (rc == 0)
        rc = select_rows(s, balance_cols, "fulfillment_provider_balances",
                         p1 ? "WHERE provider_id = ?1" : "", p1, NULL, &balances);
    if (rc == 0) {
        array_sort(services, service_cmp); /* by parsed time: text order may differ */
        catalog_attach(providers, services, balances);
        *rows = json_incref(providers);
    }
    json_decref(providers);
    json_decref(services);
    json_decref(balances);
    return rc;
}

int sq_providers_list(struct store *s, json_t **rows)
{
    return providers_select(s, "ORDER BY name, id", NULL, rows);
}

int sq_provider_row(struct store *s, const char *id, json_t **row)
{
    json_t *rows = NULL;
    int rc = providers_select(s, "WHERE id = ?1", id, &rows);

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

/* INSERT INTO table (the columns of row, plus created_at/updated_at = now when absent). */
static int insert_row(struct store *s, const struct col *cols, const char *table, const json_t *row,
                      int64_t now_us)
{
    struct sb sql = SB_INIT, vals = SB_INIT;
    const struct col *order[32];
    const json_t *values[32];
    json_t *now = json_integer((json_int_t)now_us);
    sqlite3_stmt *st = NULL;
    const char *key;
    json_t *v;
    size_t n = 0, i;
    int rc = 0, own;

    if (!json_is_object(row))
        rc = ERR_INVALID;
    json_object_foreach ((json_t *)row, key, v) {
        const struct col *c = col_find(cols, key);
        if (c == NULL || n == 30) {
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
    if (rc != 0 || n == 0) {
        json_decref(now);
        return ERR_INVALID;
    }
    sb_printf(&sql, "INSERT INTO %s (", table);
    for (i = 0; i < n; i++) {
        sb_printf(&sql, "%s%s", i ? ", " : "", order[i]->name);
        sb_printf(&vals, "%s?%zu", i ? ", " : "", i + 1);
    }
    sb_printf(&sql, ") VALUES (%s)", sb_str(&vals));
    rc = sq_enter(sq_of(s), &own);
    if (rc == 0) {
        rc = prepare(s, sb_str(&sql), &st);
        for (i = 0; rc == 0 && i < n; i++)
            rc = sq_bind_col(st, (int)i + 1, order[i]->kind, values[i]);
        if (rc == 0)
            rc = sq_run(sq_of(s), st, "insert");
        sqlite3_finalize(st);
        rc = sq_leave(sq_of(s), own, rc);
    }
    sb_release(&sql);
    sb_release(&vals);
    json_decref(now);
    return rc;
}

/* UPDATE table SET (changes), updated_at = now WHERE id = ? [AND provider_id = ?];
 * ERR_NOT_FOUND when no row matched. */
static int update_row(struct store *s, const struct col *cols, const char *table, const char *id,
                      const char *provider_id, const json_t *changes, int64_t now_us)
{
    struct sb sql = SB_INIT;
    const struct col *order[32];
    const json_t *values[32];
    sqlite3_stmt *st = NULL;
    const char *key;
    json_t *v;
    size_t n = 0, i;
    int rc = 0, own;

    if (!json_is_object(changes))
        return ERR_INVALID;
    json_object_foreach ((json_t *)changes, key, v) {
        const struct col *c = col_find(cols, key);
        if (c == NULL || n == 30 || strcmp(key, "id") == 0)
            return ERR_INVALID;
        order[n] = c;
        values[n++] = v;
    }
    sb_printf(&sql, "UPDATE %s SET ", table);
    for (i = 0; i < n; i++)
        sb_printf(&sql, "%s = ?%zu, ", order[i]->name, i + 1);
    sb_printf(&sql, "updated_at = ?%zu WHERE id = ?%zu", n + 1, n + 2);
    if (provider_id)
        sb_printf(&sql, " AND provider_id = ?%zu", n + 3);
    rc = sq_enter(sq_of(s), &own);
    if (rc == 0) {
        rc = prepare(s, sb_str(&sql), &st);
        for (i = 0; rc == 0 && i < n; i++)
            rc = sq_bind_col(st, (int)i + 1, order[i]->kind, values[i]);
        if (rc == 0) {
            sq_bind_time(st, (int)n + 1, now_us);
            sq_bind_text(st, (int)n + 2, id);
            if (provider_id)
                sq_bind_text(st, (int)n + 3, provider_id);
            rc = sq_run(sq_of(s), st, "update");
        }
        if (rc == 0 && sqlite3_changes(sq_db(s)) == 0)
            rc = ERR_NOT_FOUND;
        sqlite3_finalize(st);
        rc = sq_leave(sq_of(s), own, rc);
    }
    sb_release(&sql);
    return rc;
}

/* Runs a statement with up to two text parameters; *changed = rows it changed. */
static int exec_params(struct store *s, const char *sql, const char *p1, const char *p2,
                       int *changed)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, sql, &st);

    if (rc != 0)
        return rc;
    sq_bind_text(st, 1, p1);
    if (p2)
        sq_bind_text(st, 2, p2);
    rc = sq_run(sq_of(s), st, "delete");
    if (changed)
        *changed = sqlite3_changes(sq_db(s));
    sqlite3_finalize(st);
    return rc;
}

int sq_provider_insert(struct store *s, const json_t *row, int64_t now_us)
{
    return insert_row(s, provider_cols, "fulfillment_providers", row, now_us);
}

int sq_provider_update(struct store *s, const char *id, const json_t *changes, int64_t now_us)
{
    return update_row(s, provider_cols, "fulfillment_providers", id, NULL, changes, now_us);
}

/* The cascade is spelled out rather than left to the foreign keys, so that it also holds on
 * a database file whose other writers run without PRAGMA foreign_keys. */
int sq_provider_delete(struct store *s, const char *id)
{
    int rc, own, changed = 0;

    rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    rc = exec_params(s, "DELETE FROM fulfillment_services WHERE provider_id = ?1", id, NULL, NULL);
    if (rc == 0)
        rc = exec_params(s, "DELETE FROM fulfillment_provider_balances WHERE provider_id = ?1", id,
                         NULL, NULL);
    if (rc == 0)
        rc = exec_params(s, "DELETE FROM fulfillment_providers WHERE id = ?1", id, NULL, &changed);
    if (rc == 0 && changed == 0)
        rc = ERR_NOT_FOUND;
    return sq_leave(sq_of(s), own, rc);
}

int sq_service_row(struct store *s, const char *provider_id, const char *id, json_t **row)
{
    json_t *rows = NULL;
    int rc = select_rows(s, service_cols, "fulfillment_services",
                         "WHERE id = ?1 AND provider_id = ?2", id, provider_id, &rows);

    *row = NULL;
    if (rc == 0 && json_array_size(rows) == 0)
        rc = ERR_NOT_FOUND;
    if (rc == 0)
        *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return rc;
}

int sq_service_insert(struct store *s, const json_t *row, int64_t now_us)
{
    return insert_row(s, service_cols, "fulfillment_services", row, now_us);
}

int sq_service_update(struct store *s, const char *provider_id, const char *id,
                      const json_t *changes, int64_t now_us)
{
    return update_row(s, service_cols, "fulfillment_services", id, provider_id, changes, now_us);
}

int sq_service_delete(struct store *s, const char *provider_id, const char *id)
{
    int rc, own, changed = 0;

    rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    rc = exec_params(s, "DELETE FROM fulfillment_services WHERE id = ?1 AND provider_id = ?2", id,
                     provider_id, &changed);
    if (rc == 0 && changed == 0)
        rc = ERR_NOT_FOUND;
    return sq_leave(sq_of(s), own, rc);
}

int sq_balance_upsert(struct store *s, const char *provider_id, const json_t *row,
                      int64_t retrieved_us)
{
    static const char sql[] =
        "INSERT INTO fulfillment_provider_balances (provider_id, balance_amount, currency, "
        "payload, retrieved_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5) "
        "ON CONFLICT (provider_id) DO UPDATE SET balance_amount = excluded.balance_amount, "
        "currency = excluded.currency, payload = excluded.payload, "
        "retrieved_at = excluded.retrieved_at, updated_at = excluded.updated_at";
    sqlite3_stmt *st = NULL;
    int rc, own;

    if (!json_is_object(row))
        return ERR_INVALID;
    rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    rc = prepare(s, sql, &st);
    if (rc == 0) {
        sq_bind_text(st, 1, provider_id);
        rc = sq_bind_col(st, 2, COL_NUM, json_object_get(row, "balance_amount"));
        if (rc == 0)
            rc = sq_bind_col(st, 3, COL_TEXT, json_object_get(row, "currency"));
        if (rc == 0)
            rc = sq_bind_col(st, 4, COL_JSON, json_object_get(row, "payload"));
        if (rc == 0) {
            sq_bind_time(st, 5, retrieved_us);
            rc = sq_run(sq_of(s), st, "balance_upsert");
        }
    }
    sqlite3_finalize(st);
    return sq_leave(sq_of(s), own, rc);
}

int sq_platform_contexts(struct store *s, const char *provider_id, size_t limit, json_t **rows)
{
    int rc = select_rows(s, context_cols, "provider_platform_context_cache",
                         "WHERE provider_id = ?1", provider_id, NULL, rows);

    if (rc != 0) {
        json_decref(*rows);
        *rows = NULL;
        return rc;
    }
    array_sort(*rows, context_cmp);
    while (json_array_size(*rows) > limit)
        json_array_remove(*rows, json_array_size(*rows) - 1);
    return 0;
}
