/*
 * What both store backends share: store_open, which reads DATABASE_URL and picks the
 * backend; the release helpers core/store.h declares for the records the ops fill; JSON
 * column conversion (Python json.dumps text in, bounded parsing out); and the small
 * bookkeeping of dirty marks a handle has taken. Nothing here talks to a database.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "adapters/store/store_internal.h"
#include "adapters/store/store_open.h"
#include "base/error.h"
#include "base/sb.h"
#include "core/pyjson.h"

#define URL_HELP "expected sqlite:///path or postgresql://user:pass@host:port/db"

static void set_error(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_error(char **error, const char *fmt, ...)
{
    struct sb sb = SB_INIT;
    va_list ap;

    if (error == NULL)
        return;
    va_start(ap, fmt);
    sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    *error = sb_detach(&sb);
}

/* "sqlite:///x.db" -> the file name SQLAlchemy would open: the part after "sqlite:///", so
 * that "sqlite:////abs" is absolute and "sqlite:///./x" relative to the working directory. */
static struct store *open_sqlite(const char *rest, char **error)
{
    if (rest[0] != '/') {
        set_error(error,
                  "DATABASE_URL: a sqlite URL has three slashes before a relative path and four "
                  "before an absolute one (sqlite:///./smplat.db, sqlite:////var/lib/smplat.db)");
        return NULL;
    }
    rest++;
    if (rest[0] == '\0') {
        set_error(error, "DATABASE_URL: the sqlite URL names no database file (%s)", URL_HELP);
        return NULL;
    }
    if (strchr(rest, '?') != NULL) {
        set_error(error, "DATABASE_URL: query parameters are not supported in sqlite URLs");
        return NULL;
    }
    return store_sqlite_open(rest, error);
}

/* Hands "postgresql://..." to libpq after checking that libpq can parse it, so that a typo is
 * reported as a DATABASE_URL problem rather than as a connection failure. */
static struct store *open_pg(const char *rest, char **error)
{
    struct sb conninfo = SB_INIT;
    char *perr = NULL;
    PQconninfoOption *opts;
    struct store *s;

    sb_puts(&conninfo, "postgresql://");
    sb_puts(&conninfo, rest);
    opts = PQconninfoParse(sb_str(&conninfo), &perr);
    if (opts == NULL) {
        size_t len = perr ? strlen(perr) : 0;
        while (len > 0 && (perr[len - 1] == '\n' || perr[len - 1] == ' '))
            len--;
        set_error(error, "DATABASE_URL: not a valid PostgreSQL URL: %.*s", (int)len,
                  perr ? perr : "out of memory");
        PQfreemem(perr);
        sb_release(&conninfo);
        return NULL;
    }
    PQconninfoFree(opts);
    s = store_pg_open(sb_str(&conninfo), error);
    sb_release(&conninfo);
    return s;
}

static int scheme_is(const char *scheme, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(scheme, name, len) == 0;
}

struct store *store_open(const char *database_url, char **error)
{
    static const char *const sqlite_drivers[] = {"sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"};
    static const char *const pg_drivers[] = {"postgresql",         "postgres",
                                             "postgresql+asyncpg", "postgresql+psycopg2",
                                             "postgresql+psycopg", "postgresql+pg8000"};
    const char *sep;
    size_t len, i;

    if (error != NULL)
        *error = NULL;
    if (database_url == NULL || database_url[0] == '\0') {
        set_error(error, "DATABASE_URL is empty (%s)", URL_HELP);
        return NULL;
    }
    sep = strstr(database_url, "://");
    if (sep == NULL) {
        set_error(error, "DATABASE_URL has no scheme (%s)", URL_HELP);
        return NULL;
    }
    len = (size_t)(sep - database_url);
    for (i = 0; i < sizeof sqlite_drivers / sizeof sqlite_drivers[0]; i++)
        if (scheme_is(database_url, len, sqlite_drivers[i]))
            return open_sqlite(sep + 3, error);
    for (i = 0; i < sizeof pg_drivers / sizeof pg_drivers[0]; i++)
        if (scheme_is(database_url, len, pg_drivers[i]))
            return open_pg(sep + 3, error);
    set_error(error, "DATABASE_URL: unsupported scheme \"%.*s\" (%s)", (int)(len > 40 ? 40 : len),
              database_url, URL_HELP);
    return NULL;
}

int store_exec_sql(struct store *s, const char *sql)
{
    if (s->ops == &store_sqlite_ops)
        return store_sqlite_exec(s, sql);
    return store_pg_exec(s, sql);
}

int store_query_value(struct store *s, const char *sql, char **value)
{
    if (s->ops == &store_sqlite_ops)
        return store_sqlite_query_value(s, sql, value);
    return store_pg_query_value(s, sql, value);
}

json_t *store_json_parse(const char *text, size_t len)
{
    if (text == NULL)
        return NULL;
    return pyjson_loads(text, len, STORE_JSON_MAX_DEPTH, NULL, 0);
}

char *store_json_dump(const json_t *v)
{
    return pyjson_dumps(v, PYJSON_SPACED | PYJSON_ENSURE_ASCII);
}

int store_run_metadata_empty(const json_t *metadata)
{
    return metadata == NULL || (json_is_object(metadata) && json_object_size(metadata) == 0);
}

void store_errf(char *buf, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, STORE_ERRSZ, fmt, ap);
    va_end(ap);
}

void store_taken_reset(struct store_taken *t)
{
    store_strv_free(t->ids, t->n);
    free(t->seqs);
    t->ids = NULL;
    t->seqs = NULL;
    t->n = 0;
}

void store_taken_set(struct store_taken *t, char **ids, int64_t *seqs, size_t n)
{
    store_taken_reset(t);
    t->ids = ids;
    t->seqs = seqs;
    t->n = n;
}

long store_taken_find(const struct store_taken *t, const char *id)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (strcmp(t->ids[i], id) == 0)
            return (long)i;
    return -1;
}

void store_taken_remove(struct store_taken *t, size_t i)
{
    free(t->ids[i]);
    t->ids[i] = t->ids[t->n - 1];
    t->seqs[i] = t->seqs[t->n - 1];
    t->n--;
}

static int claim_cmp(const void *a, const void *b)
{
    const struct schedule_claim *x = a, *y = b;
    int c;

    if (x->due_us != y->due_us)
        return x->due_us < y->due_us ? -1 : 1;
    c = strcmp(x->provider_order_id, y->provider_order_id);
    if (c != 0)
        return c;
    return strcmp(x->entry_id, y->entry_id);
}

void store_claims_sort(struct schedule_claim *c, size_t n)
{
    if (n > 1)
        qsort(c, n, sizeof *c, claim_cmp);
}
