/*
 * What the PostgreSQL backend's files share: pg.c holds the connection, transactions and the
 * replay operations; pg_catalog.c and pg_orders.c the API's catalog and order queries.
 */
#ifndef SMPLAT_ADAPTERS_PG_INTERNAL_H
#define SMPLAT_ADAPTERS_PG_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "adapters/store/columns.h"
#include "adapters/store/store_internal.h"
#include "base/sb.h"

#define PG_I64_BUFSZ 24

/* Statements prepared on the connection, keyed by their SQL text: each distinct text is
 * parsed once per session ("smplat_N") and then only bound and executed. Open addressing;
 * when the table is full the statement simply runs unprepared. */
#define PG_STMT_SLOTS 512
#define PG_STMT_MAX 384

struct pg_stmt {
    uint64_t hash;
    char *sql; /* NULL: empty slot */
    unsigned id;
};

struct pg_store {
    struct store base; /* first: a struct store * is a struct pg_store * */
    PGconn *conn;
    int in_tx;
    uint64_t tx_gen; /* bumped by every BEGIN: which transaction a deferred seq refers to */
    struct store_taken taken;
    struct pg_stmt stmts[PG_STMT_SLOTS];
    unsigned nstmts;
    char err[STORE_ERRSZ];
};

struct pg_store *pg_of(struct store *s);
const char *i64_text(int64_t v, char buf[PG_I64_BUFSZ]);
void pg_set_err(struct pg_store *s, const char *what, const char *msg);
int pg_fail(struct pg_store *s, const PGresult *res, const char *what);
int pg_query(struct pg_store *s, const char *what, const char *sql, int nparams,
             const char *const *params, PGresult **out);
char *pg_text(const PGresult *res, int row, int col);
json_t *pg_json(const PGresult *res, int row, int col);
int64_t pg_i64_or(const PGresult *res, int row, int col, int64_t null_value);
int pg_bool(const PGresult *res, int row, int col);
int pg_enter(struct pg_store *s, int *own);
int pg_leave(struct pg_store *s, int own, int rc);

/* pg_catalog.c */
int pg_providers_list(struct store *s, json_t **rows);
int pg_provider_row(struct store *s, const char *id, json_t **row);
int pg_provider_insert(struct store *s, const json_t *row, int64_t now_us);
int pg_provider_update(struct store *s, const char *id, const json_t *changes, int64_t now_us);
int pg_provider_delete(struct store *s, const char *id);
int pg_service_row(struct store *s, const char *provider_id, const char *id, json_t **row);
int pg_service_insert(struct store *s, const json_t *row, int64_t now_us);
int pg_service_update(struct store *s, const char *provider_id, const char *id,
                      const json_t *changes, int64_t now_us);
int pg_service_delete(struct store *s, const char *provider_id, const char *id);
int pg_balance_upsert(struct store *s, const char *provider_id, const json_t *row,
                      int64_t retrieved_us);
int pg_platform_contexts(struct store *s, const char *provider_id, size_t limit, json_t **rows);

/* pg_orders.c */
int pg_provider_orders_list(struct store *s, const char *provider_id, size_t limit, json_t **rows);
int pg_provider_orders_for_order(struct store *s, const char *order_id, size_t limit,
                                 json_t **rows);
int pg_provider_order_insert(struct store *s, const json_t *row, int64_t now_us, json_t **out);
int pg_order_row(struct store *s, const char *order_id, json_t **row);
int pg_orders_list(struct store *s, const struct order_filter *f, size_t limit, json_t **rows);
int pg_order_insert(struct store *s, const json_t *order, int64_t now_us, json_t **out);
int pg_order_set_status(struct store *s, const char *order_id, const char *status, int64_t now_us);
int pg_timeline_list(struct store *s, const char *order_id, json_t **rows);

/* pg_placements.c */
int pg_placement_claim(struct store *s, const struct placement_claim *c, int *claimed);
int pg_placement_finish(struct store *s, const char *order_item_id, const char *service_id,
                        const char *owner, const char *state, const json_t *row, int64_t now_us,
                        json_t **out);
int pg_placement_stale(struct store *s, const char *order_id, int64_t now_us, size_t limit,
                       json_t **rows);

/* pg_columns.c: rows of the column tables of columns.h. */
/* Appends the select list of cols: every column as text, times as microseconds. */
void pg_select_list(struct sb *sql, const struct col *cols);
/* Row r of res, selected with pg_select_list(cols), as an object keyed by column. */
json_t *pg_row_json(const PGresult *res, int r, const struct col *cols);
/* Text of row value v as a parameter of kind k (new), NULL for SQL NULL; sets *bad when v does
 * not fit the column (wrong JSON type, malformed uuid). */
char *pg_col_param_text(enum col_kind k, const json_t *v, int *bad);
/* The cast of a parameter placeholder of kind k ("" for text and enums). */
const char *pg_col_cast(enum col_kind k);

#endif
