/*
 * Private to adapters/store: what common.c, sqlite.c, pg.c and the generated migrations.c
 * share. Nothing outside this directory includes it.
 */
#ifndef SMPLAT_ADAPTERS_STORE_INTERNAL_H
#define SMPLAT_ADAPTERS_STORE_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/store.h"

/* One embedded migration (scripts/embed-sql.py): applied in version order, once. */
struct store_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct store_migration store_migrations_sqlite[];
extern const size_t store_migrations_sqlite_count;
extern const struct store_migration store_migrations_pg[];
extern const size_t store_migrations_pg_count;

/* Longest stored error message. */
#define STORE_ERRSZ 1024
/* JSON read from the database is parsed with this depth limit. */
#define STORE_JSON_MAX_DEPTH 64

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/* path: a file name or ":memory:". NULL with *error (new) on failure. */
struct store *store_sqlite_open(const char *path, char **error);
int store_sqlite_exec(struct store *s, const char *sql);
int store_sqlite_query_value(struct store *s, const char *sql, char **value);

/* conninfo: a libpq connection URI. NULL with *error (new) on failure. */
struct store *store_pg_open(const char *conninfo, char **error);
int store_pg_exec(struct store *s, const char *sql);
int store_pg_query_value(struct store *s, const char *sql, char **value);

/* JSON text of a column -> new value; NULL for NULL text or text that does not parse. */
json_t *store_json_parse(const char *text, size_t len);
/* Python json.dumps text of v (new, caller frees), NULL on failure. */
char *store_json_dump(const json_t *v);

/* The dirty marks a handle took with dirty_take, with the seq each had, so that
 * schedule_replace clears a mark only when nobody re-marked the order since (see
 * docs/STORAGE.md, "Dirty marks"). */
struct store_taken {
    char **ids;
    int64_t *seqs;
    size_t n;
};

void store_taken_reset(struct store_taken *t);
/* Steals ids[0..n) and seqs. */
void store_taken_set(struct store_taken *t, char **ids, int64_t *seqs, size_t n);
/* Index of id in t, or -1. */
long store_taken_find(const struct store_taken *t, const char *id);
void store_taken_remove(struct store_taken *t, size_t i);

/* Copies a formatted message into buf[STORE_ERRSZ]. */
void store_errf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A run's metadata that is stored as NULL: none, or an empty object (spec-replay §11). */
int store_run_metadata_empty(const json_t *metadata);

/* Sorts claims by due time, then provider order id, then entry id (the documented order). */
void store_claims_sort(struct schedule_claim *c, size_t n);

#endif
