/*
 * Orders queries of the SQLite backend (core/store.h, "Orders"): provider-order listings for
 * the API, order intake (orders with their items), status changes and the order timeline.
 * Rows are JSON objects keyed by column name, built from a small column table per query so
 * that every column is read by its kind: UUID and enum text, JSON parsed (NULL or garbage
 * reads as null), NUMERIC as a float, timestamps as integer microseconds. These queries run
 * a few times per request, so they are prepared per call instead of joining sqlite.c's cache.
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/store/columns.h"
#include "adapters/store/sqlite_internal.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "base/uuid.h"

/* Prepares sql, lets bind() fill its parameters and collects every row into *rows (new
 * array). */
static int query_rows(struct store *base, const char *what, const char *sql, const struct col *cols,
                      const char *const *params, size_t nparams, int64_t limit, json_t **rows)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(sq_db(base), sql, -1, &st, NULL);
    *rows = NULL;
    if (r != SQLITE_OK)
        return sq_fail(s, r, what);
    for (size_t i = 0; i < nparams; i++)
        sq_bind_text(st, (int)i + 1, params[i]);
    if (limit >= 0)
        sqlite3_bind_int64(st, (int)nparams + 1, limit);
    json_t *out = json_array();
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(out, sq_row_json(st, cols));
    int rc = 0;
    if (r != SQLITE_DONE) {
        rc = sq_fail(s, r, what);
        json_decref(out);
        out = NULL;
    }
    sqlite3_finalize(st);
    *rows = out;
    return rc;
}

static int64_t clamp_limit(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

int sq_provider_orders_list(struct store *s, const char *provider_id, size_t limit, json_t **rows)
{
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    sq_select_list(&sql, po_cols);
    sb_puts(&sql, " FROM fulfillment_provider_orders WHERE provider_id = ?1 "
                  "ORDER BY created_at DESC, id DESC LIMIT ?2");
    const char *p[1] = {provider_id};
    int rc = query_rows(s, "provider_orders_list", sb_str(&sql), po_cols, p, 1, clamp_limit(limit),
                        rows);
    sb_release(&sql);
    return rc;
}

int sq_provider_orders_for_order(struct store *s, const char *order_id, size_t limit, json_t **rows)
{
    char canon[UUID_STRLEN + 1];
    if (order_id == NULL || uuid_parse(order_id, canon) != 0) {
        *rows = json_array(); /* no row can match an id that is not a UUID */
        return 0;
    }
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    sq_select_list(&sql, po_cols);
    sb_puts(&sql, " FROM fulfillment_provider_orders WHERE order_id = ?1 "
                  "ORDER BY created_at DESC, id DESC LIMIT ?2");
    const char *p[1] = {canon};
    int rc = query_rows(s, "provider_orders_for_order", sb_str(&sql), po_cols, p, 1,
                        clamp_limit(limit), rows);
    sb_release(&sql);
    return rc;
}

/* INSERT of the columns of `cols` present in row (absent ones take their defaults), with id
 * (given or generated) and both timestamps set here. The id used is copied into id_out. */
static int insert_row(struct store *base, const char *table, const struct col *cols,
                      const json_t *row, const char *fixed_order_id, int64_t created_us,
                      int64_t now_us, char id_out[UUID_STRLEN + 1])
{
    struct sq_store *s = sq_of(base);
    struct sb sql = SB_INIT, vals = SB_INIT;
    const json_t *idv = json_object_get(row, "id");
    int n = 0, rc = 0;

    if (idv && !json_is_null(idv)) {
        if (!json_is_string(idv) || uuid_parse(json_string_value(idv), id_out) != 0) {
            sq_fail(s, SQLITE_MISMATCH, "insert: id is not a UUID");
            return ERR_INVALID;
        }
    } else {
        uuid4(id_out);
    }
    sb_printf(&sql, "INSERT INTO %s (id, created_at, updated_at", table);
    sb_puts(&vals, "?1, ?2, ?3");
    n = 3;
    for (size_t i = 0; cols[i].name; i++) {
        const char *c = cols[i].name;
        if (strcmp(c, "id") == 0 || strcmp(c, "created_at") == 0 || strcmp(c, "updated_at") == 0)
            continue;
        if (!json_object_get(row, c) && !(fixed_order_id && strcmp(c, "order_id") == 0))
            continue;
        sb_printf(&sql, ", %s", c);
        sb_printf(&vals, ", ?%d", ++n);
    }
    sb_printf(&sql, ") VALUES (%s)", sb_str(&vals));
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(sq_db(base), sb_str(&sql), -1, &st, NULL);
    if (r != SQLITE_OK) {
        rc = sq_fail(s, r, "insert");
        goto out;
    }
    sq_bind_text(st, 1, id_out);
    sq_bind_time(st, 2, created_us);
    sq_bind_time(st, 3, now_us);
    n = 3;
    for (size_t i = 0; cols[i].name; i++) {
        const char *c = cols[i].name;
        if (strcmp(c, "id") == 0 || strcmp(c, "created_at") == 0 || strcmp(c, "updated_at") == 0)
            continue;
        if (fixed_order_id && strcmp(c, "order_id") == 0) {
            sq_bind_text(st, ++n, fixed_order_id);
            continue;
        }
        const json_t *v = json_object_get(row, c);
        if (!v)
            continue;
        if (sq_bind_col(st, ++n, cols[i].kind, v) != 0) {
            sq_fail(s, SQLITE_MISMATCH, c);
            rc = ERR_INVALID;
            goto out;
        }
    }
    rc = sq_run(s, st, table);
out:
    sqlite3_finalize(st);
    sb_release(&sql);
    sb_release(&vals);
    return rc;
}

/* One row of table by id into *row (new), or ERR_NOT_FOUND. */
static int row_by_id(struct store *base, const char *table, const struct col *cols, const char *id,
                     json_t **row)
{
    struct sb sql = SB_INIT;
    json_t *rows = NULL;
    sb_puts(&sql, "SELECT ");
    sq_select_list(&sql, cols);
    sb_printf(&sql, " FROM %s WHERE id = ?1", table);
    const char *p[1] = {id};
    int rc = query_rows(base, table, sb_str(&sql), cols, p, 1, -1, &rows);
    sb_release(&sql);
    *row = NULL;
    if (rc != 0)
        return rc;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return ERR_NOT_FOUND;
    }
    *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return 0;
}

int sq_provider_order_insert(struct store *s, const json_t *row, int64_t now_us, json_t **out)
{
    char id[UUID_STRLEN + 1];
    int own;
    int rc;

    *out = NULL;
    if (!json_is_object(row))
        return ERR_INVALID;
    rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    rc = insert_row(s, "fulfillment_provider_orders", po_cols, row, NULL, now_us, now_us, id);
    if (rc == 0)
        rc = row_by_id(s, "fulfillment_provider_orders", po_cols, id, out);
    rc = sq_leave(sq_of(s), own, rc);
    if (rc != 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int sq_order_row(struct store *s, const char *order_id, json_t **row)
{
    char canon[UUID_STRLEN + 1];
    json_t *items = NULL;
    *row = NULL;
    if (order_id == NULL || uuid_parse(order_id, canon) != 0)
        return ERR_NOT_FOUND;
    int rc = row_by_id(s, "orders", order_cols, canon, row);
    if (rc != 0)
        return rc;
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    sq_select_list(&sql, item_cols);
    sb_puts(&sql, " FROM order_items WHERE order_id = ?1 ORDER BY created_at, id");
    const char *p[1] = {canon};
    rc = query_rows(s, "order_items", sb_str(&sql), item_cols, p, 1, -1, &items);
    sb_release(&sql);
    if (rc != 0) {
        json_decref(*row);
        *row = NULL;
        return rc;
    }
    json_object_set_new(*row, "items", items);
    return 0;
}

int sq_order_insert(struct store *s, const json_t *order, int64_t now_us, json_t **out)
{
    char id[UUID_STRLEN + 1], item_id[UUID_STRLEN + 1];
    const json_t *items = json_object_get(order, "items");
    int own, rc;

    *out = NULL;
    if (!json_is_object(order) || (items && !json_is_array(items)))
        return ERR_INVALID;
    rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    rc = insert_row(s, "orders", order_cols, order, NULL, now_us, now_us, id);
    for (size_t i = 0; rc == 0 && i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        if (!json_is_object(it)) {
            rc = ERR_INVALID;
            break;
        }
        /* Items keep their order: each is a microsecond younger than the one before. */
        rc = insert_row(s, "order_items", item_cols, it, id, now_us + (int64_t)i, now_us, item_id);
    }
    rc = sq_leave(sq_of(s), own, rc);
    if (rc == 0)
        rc = sq_order_row(s, id, out);
    return rc;
}

int sq_order_set_status(struct store *s, const char *order_id, const char *status, int64_t now_us)
{
    char canon[UUID_STRLEN + 1];
    sqlite3_stmt *st = NULL;
    int own, rc, r;

    if (order_id == NULL || uuid_parse(order_id, canon) != 0)
        return ERR_NOT_FOUND;
    rc = sq_enter(sq_of(s), &own);
    if (rc != 0)
        return rc;
    r = sqlite3_prepare_v2(sq_db(s), "UPDATE orders SET status = ?1, updated_at = ?2 WHERE id = ?3",
                           -1, &st, NULL);
    if (r != SQLITE_OK) {
        rc = sq_fail(sq_of(s), r, "order_set_status");
    } else {
        sq_bind_text(st, 1, status);
        sq_bind_time(st, 2, now_us);
        sq_bind_text(st, 3, canon);
        rc = sq_run(sq_of(s), st, "order_set_status");
        if (rc == 0 && sqlite3_changes(sq_db(s)) == 0)
            rc = ERR_NOT_FOUND;
    }
    sqlite3_finalize(st);
    return sq_leave(sq_of(s), own, rc);
}

int sq_timeline_list(struct store *s, const char *order_id, json_t **rows)
{
    char canon[UUID_STRLEN + 1];
    if (order_id == NULL || uuid_parse(order_id, canon) != 0) {
        *rows = json_array();
        return 0;
    }
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    sq_select_list(&sql, event_cols);
    /* rowid breaks ties between events of the same microsecond: the later insert is newer */
    sb_puts(&sql, " FROM order_state_events WHERE order_id = ?1 "
                  "ORDER BY created_at DESC, rowid DESC");
    const char *p[1] = {canon};
    int rc = query_rows(s, "timeline_list", sb_str(&sql), event_cols, p, 1, -1, rows);
    sb_release(&sql);
    return rc;
}

/* Attaches "items" (order_row's item rows) to every row of orders, reading the items of up
 * to ITEMS_CHUNK orders per query instead of one query per order. */
#define ITEMS_CHUNK 100

static int attach_items(struct store *s, json_t *orders)
{
    size_t n = json_array_size(orders);
    json_t *by_id = json_object();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(orders, i);
        json_t *items = json_array();
        json_object_set(o, "items", items);
        json_object_set_new(by_id, json_string_value(json_object_get(o, "id")), items);
    }
    for (size_t start = 0; rc == 0 && start < n; start += ITEMS_CHUNK) {
        size_t count = n - start < ITEMS_CHUNK ? n - start : ITEMS_CHUNK;
        const char *ids[ITEMS_CHUNK];
        struct sb sql = SB_INIT;
        json_t *rows = NULL;
        sb_puts(&sql, "SELECT ");
        sq_select_list(&sql, item_cols);
        sb_puts(&sql, " FROM order_items WHERE order_id IN (");
        for (size_t i = 0; i < count; i++) {
            ids[i] = json_string_value(json_object_get(json_array_get(orders, start + i), "id"));
            sb_puts(&sql, i ? ", ?" : "?");
        }
        sb_puts(&sql, ") ORDER BY created_at, id");
        rc = query_rows(s, "orders_list items", sb_str(&sql), item_cols, ids, count, -1, &rows);
        sb_release(&sql);
        size_t i;
        json_t *it;
        json_array_foreach (rows, i, it) {
            json_t *items =
                json_object_get(by_id, json_string_value(json_object_get(it, "order_id")));
            if (items)
                json_array_append(items, it);
        }
        json_decref(rows);
    }
    json_decref(by_id);
    return rc;
}

/* The order queue. Every filter is a condition on orders or an EXISTS probe, so the scan
 * walks ix_orders_created_id (or ix_orders_status_created_id with a status) newest first and
 * stops after `limit` matches; the provider probe is a lookup in
 * ix_fulfillment_provider_orders_order_provider, the preset probe reads the order's few items.
 * Timestamps are ISO-8601 UTC text here, which sorts like the times they name, so the cursor
 * is compared in that form. */
int sq_orders_list(struct store *s, const struct order_filter *f, size_t limit, json_t **rows)
{
    char after[ISO_BUFSZ];
    const char *params[6];
    size_t np = 0;
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    sq_select_list(&sql, order_cols);
    sb_puts(&sql, " FROM orders WHERE 1 = 1");
    if (f && f->status) {
        sb_puts(&sql, " AND status = ?");
        params[np++] = f->status;
    }
    if (f && f->after_id) {
        iso_format_utc(f->after_created_us, after);
        sb_puts(&sql, " AND (created_at, id) < (?, ?)");
        params[np++] = after;
        params[np++] = f->after_id;
    }
    if (f && f->provider_id) {
        sb_puts(&sql, " AND EXISTS (SELECT 1 FROM fulfillment_provider_orders po "
                      "WHERE po.order_id = orders.id AND po.provider_id = ?)");
        params[np++] = f->provider_id;
    }
    if (f && f->preset_id) {
        /* json_extract fails on text that is not JSON: such items just do not match. */
        sb_puts(&sql, " AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = orders.id "
                      "AND CASE WHEN json_valid(i.selected_options) THEN "
                      "coalesce(json_extract(i.selected_options, '$.presetId') = ?, 0) OR "
                      "coalesce(json_extract(i.selected_options, '$.preset_id') = ?, 0) "
                      "ELSE 0 END)");
        params[np++] = f->preset_id;
        params[np++] = f->preset_id;
    }
    sb_puts(&sql, " ORDER BY created_at DESC, id DESC LIMIT ?");
    int rc = query_rows(s, "orders_list", sb_str(&sql), order_cols, params, np, clamp_limit(limit),
                        rows);
    sb_release(&sql);
    if (rc == 0)
        rc = attach_items(s, *rows);
    if (rc != 0) {
        json_decref(*rows);
        *rows = NULL;
    }
    return rc;
}
