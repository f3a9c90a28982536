/*
 * What the SQLite backend's files share: sqlite.c holds the connection, transactions and the
 * replay operations; sqlite_catalog.c and sqlite_orders.c the API's catalog and order queries.
 */
#ifndef SMPLAT_ADAPTERS_SQLITE_INTERNAL_H
#define SMPLAT_ADAPTERS_SQLITE_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "adapters/store/columns.h"
#include "base/sb.h"
#include "core/store.h"

struct sq_store;

/* The connection of a store opened by store_sqlite_open. */
sqlite3 *sq_db(struct store *base);
struct sq_store *sq_of(struct store *s);
int sq_fail(struct sq_store *s, int rc, const char *what);
void sq_bind_text(sqlite3_stmt *st, int i, const char *v);
void sq_bind_time(sqlite3_stmt *st, int i, int64_t us);
char *sq_col_text(sqlite3_stmt *st, int i);
json_t *sq_col_json(sqlite3_stmt *st, int i);
int64_t sq_col_time(sqlite3_stmt *st, int i);
int64_t sq_col_i64_or(sqlite3_stmt *st, int i, int64_t null_value);
int sq_run(struct sq_store *s, sqlite3_stmt *st, const char *what);
int sq_enter(struct sq_store *s, int *own);
int sq_leave(struct sq_store *s, int own, int rc);

/* sqlite_columns.c: rows of the column tables of columns.h. */
/* Appends "a, b, c" of cols. */
void sq_select_list(struct sb *sql, const struct col *cols);
/* The current row of st, selected with sq_select_list(cols), as an object keyed by column. */
json_t *sq_row_json(sqlite3_stmt *st, const struct col *cols);
/* Binds row value v as column kind k (null for NULL or absent). ERR_INVALID for a value of the
 * wrong JSON type or a malformed uuid. */
int sq_bind_col(sqlite3_stmt *st, int i, enum col_kind k, const json_t *v);

/* sqlite_catalog.c */
int sq_providers_list(struct store *s, json_t **rows);
int sq_provider_row(struct store *s, const char *id, json_t **row);
int sq_provider_insert(struct store *s, const json_t *row, int64_t now_us);
int sq_provider_update(struct store *s, const char *id, const json_t *changes, int64_t now_us);
int sq_provider_delete(struct store *s, const char *id);
int sq_service_row(struct store *s, const char *provider_id, const char *id, json_t **row);
int sq_service_insert(struct store *s, const json_t *row, int64_t now_us);
int sq_service_update(struct store *s, const char *provider_id, const char *id,
                      const json_t *changes, int64_t now_us);
int sq_service_delete(struct store *s, const char *provider_id, const char *id);
int sq_balance_upsert(struct store *s, const char *provider_id, const json_t *row,
                      int64_t retrieved_us);
int sq_platform_contexts(struct store *s, const char *provider_id, size_t limit, json_t **rows);

/* sqlite_orders.c */
int sq_provider_orders_list(struct store *s, const char *provider_id, size_t limit, json_t **rows);
int sq_provider_orders_for_order(struct store *s, const char *order_id, size_t limit,
                                 json_t **rows);
int sq_provider_order_insert(struct store *s, const json_t *row, int64_t now_us, json_t **out);
int sq_order_row(struct store *s, const char *order_id, json_t **row);
int sq_orders_list(struct store *s, const struct order_filter *f, size_t limit, json_t **rows);
int sq_order_insert(struct store *s, const json_t *order, int64_t now_us, json_t **out);
int sq_order_set_status(struct store *s, const char *order_id, const char *status, int64_t now_us);
int sq_timeline_list(struct store *s, const char *order_id, json_t **rows);

/* sqlite_placements.c */
int sq_placement_claim(struct store *s, const struct placement_claim *c, int *claimed);
int sq_placement_finish(struct store *s, const char *order_item_id, const char *service_id,
                        const char *owner, const char *state, const json_t *row, int64_t now_us,
                        json_t **out);
int sq_placement_stale(struct store *s, const char *order_id, int64_t now_us, size_t limit,
                       json_t **rows);

#endif
