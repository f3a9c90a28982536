/*
 * Orders queries of the PostgreSQL backend (core/store.h, "Orders"): provider-order listings
 * for the API, order intake (orders with their items), status changes and the order
 * timeline. Rows are JSON objects keyed by column name, built from a small column table per
 * query: every column is selected as text (timestamps as exact microseconds, see pg.c) and
 * read back by its kind; parameters travel as text with the cast their column needs, so enum
 * columns take the lowercase values as the migrations define them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/columns.h"
#include "adapters/store/pg_internal.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/num.h"
#include "base/sb.h"
#include "base/uuid.h"

static int query_rows(struct store *base, const char *what, const char *sql, const struct col *cols,
                      int nparams, const char *const *params, json_t **rows)
{
    PGresult *res;
    *rows = NULL;
    int rc = pg_query(pg_of(base), what, sql, nparams, params, &res);
    if (rc != 0)
        return rc;
    json_t *out = json_array();
    for (int r = 0; r < PQntuples(res); r++)
        json_array_append_new(out, pg_row_json(res, r, cols));
    PQclear(res);
    *rows = out;
    return 0;
}

static const char *limit_text(size_t limit, char buf[PG_I64_BUFSZ])
{
    return i64_text(limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit, buf);
}

int pg_provider_orders_list(struct store *s, const char *provider_id, size_t limit, json_t **rows)
{
    char lim[PG_I64_BUFSZ];
    const char *p[2] = {provider_id, limit_text(limit, lim)};
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, po_cols);
    sb_puts(&sql, " FROM fulfillment_provider_orders WHERE provider_id = $1::text "
                  "ORDER BY created_at DESC, id DESC LIMIT $2::bigint");
    int rc = query_rows(s, "provider_orders_list", sb_str(&sql), po_cols, 2, p, rows);
    sb_release(&sql);
    return rc;
}

int pg_provider_orders_for_order(struct store *s, const char *order_id, size_t limit, json_t **rows)
{
    char canon[UUID_STRLEN + 1], lim[PG_I64_BUFSZ];
    if (order_id == NULL || uuid_parse(order_id, canon) != 0) {
        *rows = json_array();
        return 0;
    }
    const char *p[2] = {canon, limit_text(limit, lim)};
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, po_cols);
    sb_puts(&sql, " FROM fulfillment_provider_orders WHERE order_id = $1::uuid "
                  "ORDER BY created_at DESC, id DESC LIMIT $2::bigint");
    int rc = query_rows(s, "provider_orders_for_order", sb_str(&sql), po_cols, 2, p, rows);
    sb_release(&sql);
    return rc;
}

#define MAX_COLS 24

/* INSERT of the columns of `cols` present in row (absent ones take their defaults), with id
 * (given or generated) and both timestamps set here. */
static int insert_row(struct store *base, const char *table, const struct col *cols,
                      const json_t *row, const char *fixed_order_id, int64_t created_us,
                      int64_t now_us, char id_out[UUID_STRLEN + 1])
{
    struct pg_store *s = pg_of(base);
    char *params[MAX_COLS + 3] = {0};
    char created[ISO_BUFSZ], updated[ISO_BUFSZ];
    struct sb sql = SB_INIT, vals = SB_INIT;
    const json_t *idv = json_object_get(row, "id");
    int n = 3, rc = 0, bad = 0;

    if (idv && !json_is_null(idv)) {
        if (!json_is_string(idv) || uuid_parse(json_string_value(idv), id_out) != 0) {
            pg_set_err(s, "insert", "id is not a UUID");
            return ERR_INVALID;
        }
    } else {
        uuid4(id_out);
    }
    iso_format_utc(created_us, created);
    iso_format_utc(now_us, updated);
    sb_printf(&sql, "INSERT INTO %s (id, created_at, updated_at", table);
    sb_puts(&vals, "$1::uuid, $2::timestamptz, $3::timestamptz");
    for (size_t i = 0; cols[i].name && n < MAX_COLS + 3; i++) {
        const char *c = cols[i].name;
        if (strcmp(c, "id") == 0 || strcmp(c, "created_at") == 0 || strcmp(c, "updated_at") == 0)
            continue;
        const json_t *v = json_object_get(row, c);
        int fixed = fixed_order_id && strcmp(c, "order_id") == 0;
        if (!v && !fixed)
            continue;
        params[n] = fixed ? xstrdup(fixed_order_id) : pg_col_param_text(cols[i].kind, v, &bad);
        if (bad) {
            pg_set_err(s, "insert: value does not fit column", c);
            rc = ERR_INVALID;
            goto out;
        }
        n++;
        sb_printf(&sql, ", %s", c);
        sb_printf(&vals, ", $%d%s", n, pg_col_cast(cols[i].kind));
    }
    sb_printf(&sql, ") VALUES (%s)", sb_str(&vals));
    {
        const char *p[MAX_COLS + 3];
        p[0] = id_out;
        p[1] = created;
        p[2] = updated;
        for (int i = 3; i < n; i++)
            p[i] = params[i];
        rc = pg_query(s, table, sb_str(&sql), n, p, NULL);
    }
out:
    for (int i = 0; i < MAX_COLS + 3; i++)
        free(params[i]);
    sb_release(&sql);
    sb_release(&vals);
    return rc;
}

static int row_by_id(struct store *base, const char *table, const struct col *cols, const char *id,
                     json_t **row)
{
    struct sb sql = SB_INIT;
    json_t *rows = NULL;
    const char *p[1] = {id};
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, cols);
    sb_printf(&sql, " FROM %s WHERE id = $1::uuid", table);
    int rc = query_rows(base, table, sb_str(&sql), cols, 1, p, &rows);
    sb_release(&sql);
    *row = NULL;
    if (rc != 0)
        return rc;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        store_errf(pg_of(base)->err, "%s row %s not found", table, id);
        return ERR_NOT_FOUND;
    }
    *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return 0;
}

int pg_provider_order_insert(struct store *s, const json_t *row, int64_t now_us, json_t **out)
{
    char id[UUID_STRLEN + 1];
    *out = NULL;
    if (!json_is_object(row))
        return ERR_INVALID;
    int rc = insert_row(s, "fulfillment_provider_orders", po_cols, row, NULL, now_us, now_us, id);
    if (rc == 0)
        rc = row_by_id(s, "fulfillment_provider_orders", po_cols, id, out);
    return rc;
}

int pg_order_row(struct store *s, const char *order_id, json_t **row)
{
    char canon[UUID_STRLEN + 1];
    json_t *items = NULL;
    *row = NULL;
    if (order_id == NULL || uuid_parse(order_id, canon) != 0) {
        store_errf(pg_of(s)->err, "order not found (not a UUID)");
        return ERR_NOT_FOUND;
    }
    int rc = row_by_id(s, "orders", order_cols, canon, row);
    if (rc != 0)
        return rc;
    struct sb sql = SB_INIT;
    const char *p[1] = {canon};
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, item_cols);
    sb_puts(&sql, " FROM order_items WHERE order_id = $1::uuid ORDER BY created_at, id");
    rc = query_rows(s, "order_items", sb_str(&sql), item_cols, 1, p, &items);
    sb_release(&sql);
    if (rc != 0) {
        json_decref(*row);
        *row = NULL;
        return rc;
    }
    json_object_set_new(*row, "items", items);
    return 0;
}

int pg_order_insert(struct store *s, const json_t *order, int64_t now_us, json_t **out)
{
    char id[UUID_STRLEN + 1], item_id[UUID_STRLEN + 1];
    const json_t *items = json_object_get(order, "items");
    int own, rc;

    *out = NULL;
    if (!json_is_object(order) || (items && !json_is_array(items)))
        return ERR_INVALID;
    rc = pg_enter(pg_of(s), &own);
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
    rc = pg_leave(pg_of(s), own, rc);
    if (rc == 0)
        rc = pg_order_row(s, id, out);
    return rc;
}

int pg_order_set_status(struct store *s, const char *order_id, const char *status, int64_t now_us)
{
    char canon[UUID_STRLEN + 1], ts[ISO_BUFSZ];
    PGresult *res;
    if (order_id == NULL || uuid_parse(order_id, canon) != 0) {
        store_errf(pg_of(s)->err, "order not found (not a UUID)");
        return ERR_NOT_FOUND;
    }
    iso_format_utc(now_us, ts);
    const char *p[3] = {status, ts, canon};
    int rc = pg_query(pg_of(s), "order_set_status",
                      "UPDATE orders SET status = $1, updated_at = $2::timestamptz "
                      "WHERE id = $3::uuid",
                      3, p, &res);
    if (rc != 0)
        return rc;
    if (strcmp(PQcmdTuples(res), "0") == 0) {
        store_errf(pg_of(s)->err, "order %s not found", canon);
        rc = ERR_NOT_FOUND;
    }
    PQclear(res);
    return rc;
}

int pg_timeline_list(struct store *s, const char *order_id, json_t **rows)
{
    char canon[UUID_STRLEN + 1];
    if (order_id == NULL || uuid_parse(order_id, canon) != 0) {
        *rows = json_array();
        return 0;
    }
    const char *p[1] = {canon};
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, event_cols);
    sb_puts(&sql, " FROM order_state_events WHERE order_id = $1::uuid "
                  "ORDER BY created_at DESC, id DESC");
    int rc = query_rows(s, "timeline_list", sb_str(&sql), event_cols, 1, p, rows);
    sb_release(&sql);
    return rc;
}

/* Attaches "items" (order_row's item rows) to every row of orders with one query. */
static int attach_items(struct store *s, json_t *orders)
{
    size_t n = json_array_size(orders);
    if (n == 0)
        return 0;
    json_t *by_id = json_object();
    struct sb ids = SB_INIT, sql = SB_INIT;
    sb_puts(&ids, "{");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(orders, i);
        json_t *items = json_array();
        const char *id = json_string_value(json_object_get(o, "id"));
        json_object_set(o, "items", items);
        json_object_set_new(by_id, id, items);
        sb_printf(&ids, "%s%s", i ? "," : "", id);
    }
    sb_puts(&ids, "}");
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, item_cols);
    sb_puts(&sql, " FROM order_items WHERE order_id = ANY($1::uuid[]) ORDER BY created_at, id");
    const char *p[1] = {sb_str(&ids)};
    json_t *rows = NULL;
    int rc = query_rows(s, "orders_list items", sb_str(&sql), item_cols, 1, p, &rows);
    sb_release(&sql);
    sb_release(&ids);
    size_t i;
    json_t *it;
    json_array_foreach (rows, i, it) {
        json_t *items = json_object_get(by_id, json_string_value(json_object_get(it, "order_id")));
        if (items)
            json_array_append(items, it);
    }
    json_decref(rows);
    json_decref(by_id);
    return rc;
}

/* The order queue. Every filter is a condition on orders or an EXISTS probe, so the plan can
 * walk ix_orders_created_id (or ix_orders_status_created_id with a status) backwards and
 * stop after `limit` matches; the provider probe is a lookup in
 * ix_fulfillment_provider_orders_order_provider, the preset probe reads the order's few items. */
int pg_orders_list(struct store *s, const struct order_filter *f, size_t limit, json_t **rows)
{
    char after[ISO_BUFSZ], lim[PG_I64_BUFSZ];
    const char *params[6];
    int np = 0;
    struct sb sql = SB_INIT;
    sb_puts(&sql, "SELECT ");
    pg_select_list(&sql, order_cols);
    sb_puts(&sql, " FROM orders WHERE true");
    if (f && f->status) {
        params[np++] = f->status;
        sb_printf(&sql, " AND status = $%d", np);
    }
    if (f && f->after_id) {
        iso_format_utc(f->after_created_us, after);
        params[np++] = after;
        params[np++] = f->after_id;
        sb_printf(&sql, " AND (created_at, id) < ($%d::timestamptz, $%d::uuid)", np - 1, np);
    }
    if (f && f->provider_id) {
        params[np++] = f->provider_id;
        sb_printf(&sql,
                  " AND EXISTS (SELECT 1 FROM fulfillment_provider_orders po "
                  "WHERE po.order_id = orders.id AND po.provider_id = $%d::text)",
                  np);
    }
    if (f && f->preset_id) {
        params[np++] = f->preset_id;
        sb_printf(&sql,
                  " AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = orders.id "
                  "AND (i.selected_options ->> 'presetId' = $%d::text "
                  "OR i.selected_options ->> 'preset_id' = $%d::text))",
                  np, np);
    }
    params[np++] = limit_text(limit, lim);
    sb_printf(&sql, " ORDER BY created_at DESC, id DESC LIMIT $%d::bigint", np);
    int rc = query_rows(s, "orders_list", sb_str(&sql), order_cols, np, params, rows);
    sb_release(&sql);
    if (rc == 0)
        rc = attach_items(s, *rows);
    if (rc != 0) {
        json_decref(*rows);
        *rows = NULL;
    }
    return rc;
}
