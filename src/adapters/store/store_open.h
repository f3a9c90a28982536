/*
 * Opening a store from DATABASE_URL, and two raw-SQL helpers for seeding (the demo, tests).
 * The ops themselves are the port declared by core/store.h.
 */
#ifndef SMPLAT_ADAPTERS_STORE_OPEN_H
#define SMPLAT_ADAPTERS_STORE_OPEN_H

#include "core/store.h"

/* Opens one connection for database_url:
 *   sqlite:///relative/path.db, sqlite:///./x.db, sqlite:////absolute/path.db,
 *   sqlite:///:memory: (sqlite+aiosqlite:// and sqlite+pysqlite:// too);
 *   postgresql://user:pass@host:port/db (postgres://, postgresql+asyncpg://,
 *   postgresql+psycopg2://, postgresql+psycopg:// too; the "+driver" is dropped and the URL
 *   handed to libpq, so libpq's URI query parameters work).
 * Does not migrate: call s->ops->migrate. A handle is one connection, used by one thread at
 * a time. Returns the new store (close with s->ops->close), or NULL with *error set to a new
 * message naming DATABASE_URL's problem (caller frees; error may be NULL). The message never
 * contains the URL's password. */
struct store *store_open(const char *database_url, char **error);

/* Executes one or more SQL statements that return no rows (seeding, tests), inside the open
 * transaction when there is one. 0, or a negative code with s->ops->last_error set. */
int store_exec_sql(struct store *s, const char *sql);

/* Runs one query and returns the first column of its first row as text in *value (new, caller
 * frees; NULL when there is no row or the value is SQL NULL). 0 or a negative code. */
int store_query_value(struct store *s, const char *sql, char **value);

#endif
