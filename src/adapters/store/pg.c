/*
 * The PostgreSQL backend of the store port (libpq), for deployments and for running against
 * an existing smplat database. One handle is one connection; parameters travel as text
 * (PQexecParams) and results come back as text. Transactions are READ COMMITTED; rows read
 * for update are locked with SELECT ... FOR UPDATE; claims are one UPDATE over a
 * FOR UPDATE SKIP LOCKED subquery, so any number of runners on any number of machines claim
 * each index row at most once without waiting for each other. Timestamps are TIMESTAMPTZ,
 * written as ISO-8601 text and read back as exact microseconds; JSON columns are JSON,
 * written as Python json.dumps text. A dropped connection fails the operation with ERR_DB
 * and is re-established (PQreset) at the next operation outside a transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "adapters/store/store_internal.h"
#include "adapters/store/pg_internal.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/num.h"
#include "base/sb.h"
#include "base/uuid.h"

/* Key of the session advisory lock migrations run under ("smplat" + 1). */
#define PG_MIGRATE_LOCK "7236837445311455233"

/* A TIMESTAMPTZ column as exact microseconds since the epoch: whole seconds from EPOCH (which
 * is double precision before PostgreSQL 14 and would round), the fraction from MICROSECONDS. */
#define PG_US(col)                                                                                 \
    "(EXTRACT(EPOCH FROM date_trunc('second', " col "))::bigint * 1000000 + "                      \
    "EXTRACT(MICROSECONDS FROM " col ")::bigint % 1000000)"

struct pg_store *pg_of(struct store *s)
{
    return (struct pg_store *)s;
}

const char *i64_text(int64_t v, char buf[PG_I64_BUFSZ])
{
    snprintf(buf, PG_I64_BUFSZ, "%" PRId64, v);
    return buf;
}

/* Copies a libpq message without its trailing newline. */
void pg_set_err(struct pg_store *s, const char *what, const char *msg)
{
    size_t len = msg ? strlen(msg) : 0;

    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    store_errf(s->err, "postgresql: %s: %.*s", what, (int)len, msg ? msg : "");
}

/* Records the failure and maps its SQLSTATE: unique violations are conflicts, serialization
 * failures, deadlocks and lock timeouts are "try again", everything else a database error. */
int pg_fail(struct pg_store *s, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;

    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(s->conn);
    pg_set_err(s, what, msg);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return ERR_DB;
    if (state == NULL)
        return ERR_DB;
    if (strcmp(state, "23505") == 0)
        return ERR_CONFLICT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return ERR_BUSY;
    return ERR_DB;
}

static void pg_quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like: nothing to report */
}

/* Per-session settings: UTF-8 text, UTC, and no notices on stderr. */
static int pg_session_setup(struct pg_store *s)
{
    PGresult *res;
    int rc = 0;

    PQsetNoticeProcessor(s->conn, pg_quiet_notices, NULL);
    res = PQexec(s->conn, "SET client_encoding TO 'UTF8'; SET TIME ZONE 'UTC'");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(s, res, "session setup");
    PQclear(res);
    return rc;
}

static uint64_t pg_sql_hash(const char *sql)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (; *sql; sql++)
        h = (h ^ (unsigned char)*sql) * UINT64_C(1099511628211);
    return h;
}

/* Forgets every prepared statement (after a reconnect, and on close). */
static void pg_stmts_forget(struct pg_store *s)
{
    size_t i;

    for (i = 0; i < PG_STMT_SLOTS; i++) {
        free(s->stmts[i].sql);
        s->stmts[i].sql = NULL;
    }
    s->nstmts = 0;
}

/* The name under which sql is prepared on this session, preparing it on first use. name[0]
 * is '\0' when the table is full: the caller then runs the text unprepared. A failure to
 * prepare (syntax, unknown table, aborted transaction) is reported as the execution's would
 * be, and the text is prepared again next time. */
static int pg_stmt_name(struct pg_store *s, const char *what, const char *sql, int nparams,
                        char name[32])
{
    uint64_t h = pg_sql_hash(sql);
    size_t i = (size_t)(h % PG_STMT_SLOTS);
    PGresult *res;
    int rc = 0;

    name[0] = '\0';
    while (s->stmts[i].sql != NULL) {
        if (s->stmts[i].hash == h && strcmp(s->stmts[i].sql, sql) == 0) {
            snprintf(name, 32, "smplat_%u", s->stmts[i].id);
            return 0;
        }
        i = (i + 1) % PG_STMT_SLOTS;
    }
    if (s->nstmts >= PG_STMT_MAX)
        return 0;
    snprintf(name, 32, "smplat_%u", s->nstmts + 1);
    res = PQprepare(s->conn, name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_fail(s, res, what);
        PQclear(res);
        name[0] = '\0';
        return rc;
    }
    PQclear(res);
    s->stmts[i].hash = h;
    s->stmts[i].sql = xstrdup(sql);
    s->stmts[i].id = ++s->nstmts;
    return 0;
}

/* Makes sure the connection is usable: a connection that dropped is re-established, but only
 * outside a transaction (inside one the transaction is lost and the caller must roll back). */
static int pg_ready(struct pg_store *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return 0;
    if (s->in_tx) {
        store_errf(s->err, "postgresql: connection lost inside a transaction");
        return ERR_DB;
    }
    PQreset(s->conn);
    pg_stmts_forget(s); /* a new session has none of the old one's prepared statements */
    if (PQstatus(s->conn) != CONNECTION_OK) {
        pg_set_err(s, "reconnect", PQerrorMessage(s->conn));
        return ERR_DB;
    }
    return pg_session_setup(s);
}

/* Runs one statement with text parameters (NULL pointer = SQL NULL), prepared once per
 * session when `prepare` is set. 0 with *out set (when out is not NULL; caller PQclears) or a
 * negative code with the message recorded. */
static int pg_query_ex(struct pg_store *s, const char *what, const char *sql, int nparams,
                       const char *const *params, PGresult **out, int prepare)
{
    PGresult *res;
    ExecStatusType st;
    char name[32];
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = pg_ready(s);
    if (rc != 0)
        return rc;
    if (prepare) {
        rc = pg_stmt_name(s, what, sql, nparams, name);
        if (rc != 0)
            return rc;
    }
    if (prepare && name[0] != '\0')
        res = PQexecPrepared(s->conn, name, nparams, params, NULL, NULL, 0);
    else
        res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out != NULL)
            *out = res;
        else
            PQclear(res);
        return 0;
    }
    rc = pg_fail(s, res, what);
    PQclear(res);
    return rc;
}

int pg_query(struct pg_store *s, const char *what, const char *sql, int nparams,
             const char *const *params, PGresult **out)
{
    return pg_query_ex(s, what, sql, nparams, params, out, 1);
}

/* Runs SQL text without parameters, possibly several statements (migrations, seeding). */
static int pg_exec_text(struct pg_store *s, const char *what, const char *sql)
{
    PGresult *res;
    ExecStatusType st;
    int rc = 0;

    rc = pg_ready(s);
    if (rc != 0)
        return rc;
    res = PQexec(s->conn, sql);
    st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = pg_fail(s, res, what);
    PQclear(res);
    return rc;
}

char *pg_text(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return xstrndup(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

json_t *pg_json(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return store_json_parse(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

int64_t pg_i64_or(const PGresult *res, int row, int col, int64_t null_value)
{
    int64_t v;

    if (PQgetisnull(res, row, col) || num_parse_i64(PQgetvalue(res, row, col), &v) != 0)
        return null_value;
    return v;
}

int pg_bool(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static int pg_begin_raw(struct pg_store *s)
{
    int rc = pg_query(s, "begin", "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL, NULL);

    if (rc == 0) {
        s->in_tx = 1;
        s->tx_gen++;
    }
    return rc;
}

/* ROLLBACK; a lost connection has lost the transaction too, which is what was asked. */
static int pg_rollback_raw(struct pg_store *s)
{
    PGresult *res;
    int rc = 0;

    if (!s->in_tx)
        return 0;
    s->in_tx = 0;
    if (PQstatus(s->conn) != CONNECTION_OK)
        return 0;
    res = PQexec(s->conn, "ROLLBACK");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(s, res, "rollback");
    PQclear(res);
    return rc;
}

/* COMMIT of a transaction in which a statement failed answers "ROLLBACK" with success
 * status; that is reported as the failure it is. */
static int pg_commit_raw(struct pg_store *s)
{
    PGresult *res;
    int rc = 0;

    if (PQstatus(s->conn) != CONNECTION_OK) {
        s->in_tx = 0;
        store_errf(s->err, "postgresql: commit: connection lost");
        return ERR_DB;
    }
    res = PQexec(s->conn, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_fail(s, res, "commit");
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        store_errf(s->err, "postgresql: commit: the transaction was aborted by an earlier error");
        rc = ERR_DB;
    }
    PQclear(res);
    s->in_tx = 0;
    return rc;
}

int pg_enter(struct pg_store *s, int *own)
{
    *own = 0;
    if (s->in_tx)
        return 0;
    *own = 1;
    return pg_begin_raw(s);
}

int pg_leave(struct pg_store *s, int own, int rc)
{
    if (!own)
        return rc;
    if (rc == 0)
        return pg_commit_raw(s);
    pg_rollback_raw(s);
    return rc;
}

static void pg_close(struct store *base)
{
    struct pg_store *s = pg_of(base);

    if (s == NULL)
        return;
    PQfinish(s->conn);
    pg_stmts_forget(s);
    store_taken_reset(&s->taken);
    free(s);
}

static const char *pg_last_error(struct store *base)
{
    return pg_of(base)->err;
}

static int pg_migration_applied(struct pg_store *s, int version, int *applied)
{
    char v[PG_I64_BUFSZ];
    const char *p[1] = {i64_text(version, v)};
    PGresult *res;
    int rc;

    rc = pg_query(s, "migrate", "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, p,
                  &res);
    if (rc != 0)
        return rc;
    *applied = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

/* Applies the embedded migrations not yet recorded in schema_migrations, each in its own
 * transaction, all under a session advisory lock so that services starting together migrate
 * one after the other (CREATE ... IF NOT EXISTS alone races on the catalogs). */
static int pg_migrate(struct store *base)
{
    struct pg_store *s = pg_of(base);
    size_t i;
    int rc, unlock_rc;

    if (s->in_tx) {
        store_errf(s->err, "migrate: a transaction is open");
        return ERR_INVALID;
    }
    rc = pg_query(s, "migrate lock", "SELECT pg_advisory_lock(" PG_MIGRATE_LOCK ")", 0, NULL, NULL);
    if (rc != 0)
        return rc;
    rc = pg_exec_text(s, "migrate",
                      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL "
                      "PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT "
                      "now())");
    for (i = 0; rc == 0 && i < store_migrations_pg_count; i++) {
        const struct store_migration *m = &store_migrations_pg[i];
        char v[PG_I64_BUFSZ];
        const char *p[2] = {i64_text(m->version, v), m->name};
        int applied = 0;

        rc = pg_migration_applied(s, m->version, &applied);
        if (rc != 0 || applied)
            continue;
        rc = pg_begin_raw(s);
        if (rc != 0)
            break;
        rc = pg_exec_text(s, m->name, m->sql);
        if (rc == 0)
            rc = pg_query(s, "migrate",
                          "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2,
                          p, NULL);
        rc = pg_leave(s, 1, rc);
    }
    unlock_rc = pg_query(s, "migrate unlock", "SELECT pg_advisory_unlock(" PG_MIGRATE_LOCK ")", 0,
                         NULL, NULL);
    return rc != 0 ? rc : unlock_rc;
}

static int pg_begin(struct store *base)
{
    struct pg_store *s = pg_of(base);

    if (s->in_tx) {
        store_errf(s->err, "begin: a transaction is already open");
        return ERR_INVALID;
    }
    return pg_begin_raw(s);
}

static int pg_commit(struct store *base)
{
    struct pg_store *s = pg_of(base);

    if (!s->in_tx) {
        store_errf(s->err, "commit: no transaction is open");
        return ERR_INVALID;
    }
    return pg_commit_raw(s);
}

static int pg_rollback(struct store *base)
{
    return pg_rollback_raw(pg_of(base));
}

static int pg_provider_get(struct store *base, const char *id, struct provider_rec *out)
{
    struct pg_store *s = pg_of(base);
    const char *p[1] = {id};
    PGresult *res;
    int rc;

    memset(out, 0, sizeof *out);
    rc = pg_query(s, "provider_get",
                  "SELECT p.id, p.name, p.status::text, p.health_status::text, "
                  "p.metadata_json::text, p.rate_limit_per_minute, COALESCE(g.is_paused, false) "
                  "FROM fulfillment_providers p "
                  "LEFT JOIN provider_guardrail_status g ON g.provider_id = p.id "
                  "WHERE p.id = $1",
                  1, p, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 0) {
        store_errf(s->err, "provider %s not found", id);
        rc = ERR_NOT_FOUND;
    } else {
        out->id = pg_text(res, 0, 0);
        out->name = pg_text(res, 0, 1);
        out->status = pg_text(res, 0, 2);
        out->health_status = pg_text(res, 0, 3);
        out->metadata = pg_json(res, 0, 4);
        out->rate_limit_per_minute = (int)pg_i64_or(res, 0, 5, -1);
        out->paused = pg_bool(res, 0, 6);
    }
    PQclear(res);
    return rc;
}

#define PG_ORDER_GET                                                                               \
    "SELECT id::text, order_id::text, order_item_id::text, provider_id, provider_name, "           \
    "service_id, service_action, currency, amount::float8, payload::text, " PG_US(                 \
        "created_at") ", " PG_US("updated_at") " FROM fulfillment_provider_orders "                \
                                               "WHERE id = $1::uuid AND ($2::text IS NULL OR "     \
                                               "provider_id = $2::text)"

/* The id is checked with uuid_parse first: a malformed id is "not found", never a failed
 * ::uuid cast that would abort the caller's transaction. */
static int pg_order_get(struct store *base, const char *id, const char *provider_id, int for_update,
                        struct provider_order_rec *out)
{
    struct pg_store *s = pg_of(base);
    char canon[UUID_STRLEN + 1];
    const char *p[2] = {canon, provider_id};
    PGresult *res;
    int rc;

    memset(out, 0, sizeof *out);
    if (id == NULL || uuid_parse(id, canon) != 0) {
        store_errf(s->err, "provider order not found (not a UUID)");
        return ERR_NOT_FOUND;
    }
    rc = pg_query(s, "order_get", for_update ? PG_ORDER_GET " FOR UPDATE" : PG_ORDER_GET, 2, p,
                  &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 0) {
        store_errf(s->err, "provider order %s not found", canon);
        rc = ERR_NOT_FOUND;
    } else {
        out->id = pg_text(res, 0, 0);
        out->order_id = pg_text(res, 0, 1);
        out->order_item_id = pg_text(res, 0, 2);
        out->provider_id = pg_text(res, 0, 3);
        out->provider_name = pg_text(res, 0, 4);
        out->service_id = pg_text(res, 0, 5);
        out->service_action = pg_text(res, 0, 6);
        out->currency = pg_text(res, 0, 7);
        out->has_amount =
            !PQgetisnull(res, 0, 8) && num_parse_double(PQgetvalue(res, 0, 8), &out->amount) == 0;
        if (!out->has_amount)
            out->amount = 0.0;
        out->payload = pg_json(res, 0, 9);
        out->created_us = pg_i64_or(res, 0, 10, STORE_NO_TIME);
        out->updated_us = pg_i64_or(res, 0, 11, STORE_NO_TIME);
    }
    PQclear(res);
    return rc;
}

static int pg_dirty_seq(struct pg_store *s, const char *po_id, int64_t *seq)
{
    const char *p[1] = {po_id};
    PGresult *res;
    int rc;

    *seq = 0;
    rc = pg_query(s, "dirty seq",
                  "SELECT seq FROM provider_replay_dirty WHERE provider_order_id = $1::uuid", 1, p,
                  &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) > 0)
        *seq = pg_i64_or(res, 0, 0, 0);
    PQclear(res);
    return 0;
}

/* Writes the payload; see sq_order_save_payload for why the taken seq is refreshed. */
static int pg_order_save_payload(struct store *base, const char *id, const json_t *payload,
                                 int64_t now_us)
{
    struct pg_store *s = pg_of(base);
    char canon[UUID_STRLEN + 1], ts[ISO_BUFSZ];
    const char *p[3];
    PGresult *res;
    char *text = NULL;
    long ti;
    int rc, own;

    if (id == NULL || uuid_parse(id, canon) != 0) {
        store_errf(s->err, "provider order not found (not a UUID)");
        return ERR_NOT_FOUND;
    }
    if (payload != NULL) {
        text = store_json_dump(payload);
        if (text == NULL) {
            store_errf(s->err, "order_save_payload: the payload cannot be serialised");
            return ERR_INVALID;
        }
    }
    iso_format_utc(now_us, ts);
    p[0] = text;
    p[1] = ts;
    p[2] = canon;
    ti = store_taken_find(&s->taken, canon);
    own = 0;
    rc = ti >= 0 ? pg_enter(s, &own) : 0;
    if (rc != 0)
        goto out;
    rc = pg_query(s, "order_save_payload",
                  "UPDATE fulfillment_provider_orders SET payload = $1::json, "
                  "updated_at = $2::timestamptz WHERE id = $3::uuid",
                  3, p, &res);
    if (rc == 0) {
        if (strcmp(PQcmdTuples(res), "0") == 0) {
            store_errf(s->err, "provider order %s not found", canon);
            rc = ERR_NOT_FOUND;
        }
        PQclear(res);
    }
    /* Inside the caller's transaction the seq is not read back: our UPDATE holds the order's
     * row lock until the end of the transaction, so nobody else can re-mark the order before
     * schedule_replace, and the seq it would read is the current one then. Remembered as
     * minus the transaction's number (seqs are never negative); see pg_schedule_replace. */
    if (rc == 0 && ti >= 0) {
        if (own)
            rc = pg_dirty_seq(s, canon, &s->taken.seqs[ti]);
        else
            s->taken.seqs[ti] = -(int64_t)s->tx_gen;
    }
    rc = pg_leave(s, own, rc);
out:
    free(text);
    return rc;
}

/* Inside a transaction the marks are locked (SKIP LOCKED): a second runner skips the orders
 * the first is syncing, and a writer re-marking one of them waits until the sync commits. */
static int pg_dirty_take(struct store *base, size_t limit, char ***ids, size_t *n)
{
    struct pg_store *s = pg_of(base);
    char lim[PG_I64_BUFSZ];
    const char *p[1];
    PGresult *res;
    char **v, **copy;
    int64_t *seqs;
    size_t cnt, i;
    int rc;

    *ids = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    p[0] = i64_text(limit > INT64_MAX ? INT64_MAX : (int64_t)limit, lim);
    rc = pg_query(s, "dirty_take",
                  s->in_tx ? "SELECT provider_order_id::text, seq FROM provider_replay_dirty "
                             "ORDER BY provider_order_id LIMIT $1::bigint FOR UPDATE SKIP LOCKED"
                           : "SELECT provider_order_id::text, seq FROM provider_replay_dirty "
                             "ORDER BY provider_order_id LIMIT $1::bigint",
                  1, p, &res);
    if (rc != 0)
        return rc;
    cnt = (size_t)PQntuples(res);
    v = cnt ? xcalloc(cnt, sizeof *v) : NULL;
    copy = cnt ? xcalloc(cnt, sizeof *copy) : NULL;
    seqs = cnt ? xcalloc(cnt, sizeof *seqs) : NULL;
    for (i = 0; i < cnt; i++) {
        v[i] = pg_text(res, (int)i, 0);
        copy[i] = xstrdup(v[i]);
        seqs[i] = pg_i64_or(res, (int)i, 1, 0);
    }
    PQclear(res);
    store_taken_set(&s->taken, copy, seqs, cnt);
    *ids = v;
    *n = cnt;
    return 0;
}

/* Appends one element of a text[] literal: always quoted, '"' and '\' escaped. */
static void pg_array_text(struct sb *sb, const char *v)
{
    sb_putc(sb, sb->len == 0 ? '{' : ',');
    sb_putc(sb, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            sb_putc(sb, '\\');
        sb_putc(sb, *v);
    }
    sb_putc(sb, '"');
}

/* Appends an unquoted element (numbers, booleans). */
static void pg_array_word(struct sb *sb, const char *v)
{
    sb_putc(sb, sb->len == 0 ? '{' : ',');
    sb_puts(sb, v);
}

/* Closes an array literal ("{}" when empty). */
static const char *pg_array_end(struct sb *sb)
{
    if (sb->len == 0)
        sb_putc(sb, '{');
    sb_putc(sb, '}');
    return sb_str(sb);
}

struct sorted_entry {
    const struct schedule_index_entry *e;
    size_t pos;
};

static int entry_cmp(const void *a, const void *b)
{
    const struct sorted_entry *x = a, *y = b;
    int c = strcmp(x->e->entry_id, y->e->entry_id);

    return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* One statement, run in this order by the final SELECT: `l` locks the order's existing index
 * rows in key order (claims never wait, they skip locked rows; settle locks in the same order),
 * `d` deletes those no longer listed, `k` and `r` upsert the listed ones (r: the claim is
 * reset), `c` clears the dirty mark as sq_schedule_replace does. Entries listed twice are
 * merged as applying them one after the other would: the last due time, reset if any is. */
#define PG_REPLACE_SQL                                                                             \
    "WITH l AS (SELECT entry_id FROM provider_replay_schedule WHERE provider_order_id = $1::uuid " \
    "  ORDER BY entry_id COLLATE \"C\" FOR UPDATE), "                                              \
    "e AS (SELECT u.entry_id, u.due_us, u.reset "                                                  \
    "  FROM unnest($3::text[], $4::bigint[], $5::boolean[]) AS u(entry_id, due_us, reset)), "      \
    "d AS (DELETE FROM provider_replay_schedule s USING l "                                        \
    "  WHERE s.provider_order_id = $1::uuid AND s.entry_id = l.entry_id "                          \
    "  AND l.entry_id <> ALL($3::text[]) RETURNING 1), "                                           \
    "k AS (INSERT INTO provider_replay_schedule AS s (provider_order_id, entry_id, provider_id, "  \
    "  due_us, state) SELECT $1::uuid, e.entry_id, $2, e.due_us, 'pending' FROM e "                \
    "  WHERE NOT e.reset ORDER BY e.entry_id COLLATE \"C\" "                                       \
    "  ON CONFLICT (provider_order_id, entry_id) DO UPDATE SET "                                   \
    "  provider_id = EXCLUDED.provider_id, due_us = EXCLUDED.due_us RETURNING 1), "                \
    "r AS (INSERT INTO provider_replay_schedule AS s (provider_order_id, entry_id, provider_id, "  \
    "  due_us, state) SELECT $1::uuid, e.entry_id, $2, e.due_us, 'pending' FROM e "                \
    "  WHERE e.reset ORDER BY e.entry_id COLLATE \"C\" "                                           \
    "  ON CONFLICT (provider_order_id, entry_id) DO UPDATE SET "                                   \
    "  provider_id = EXCLUDED.provider_id, due_us = EXCLUDED.due_us, state = 'pending', "          \
    "  owner = NULL, lease_until_us = NULL, not_before_us = NULL RETURNING 1), "                   \
    "c AS (DELETE FROM provider_replay_dirty WHERE $7::boolean AND provider_order_id = $1::uuid "  \
    "  AND ($6::bigint IS NULL OR seq = $6::bigint) RETURNING 1) "                                 \
    "SELECT (SELECT count(*) FROM l), (SELECT count(*) FROM d), (SELECT count(*) FROM k), "        \
    "(SELECT count(*) FROM r), (SELECT count(*) FROM c)"

static int pg_schedule_replace(struct store *base, const char *po_id, const char *provider_id,
                               const struct schedule_index_entry *entries, size_t n)
{
    struct pg_store *s = pg_of(base);
    char canon[UUID_STRLEN + 1], seq[PG_I64_BUFSZ];
    struct sorted_entry *sorted = NULL;
    struct sb ids = SB_INIT, dues = SB_INIT, resets = SB_INIT;
    const char *p[7];
    size_t i, m = 0;
    long ti;
    int rc;

    if (po_id == NULL || uuid_parse(po_id, canon) != 0) {
        store_errf(s->err, "schedule_replace: provider order id is not a UUID");
        return ERR_INVALID;
    }
    if (n > 0) {
        sorted = xcalloc(n, sizeof *sorted);
        for (i = 0; i < n; i++)
            sorted[i] = (struct sorted_entry){&entries[i], i};
        qsort(sorted, n, sizeof *sorted, entry_cmp);
    }
    for (i = 0; i < n; i = m) {
        char due[PG_I64_BUFSZ];
        int reset = 0;

        for (m = i; m < n && strcmp(sorted[m].e->entry_id, sorted[i].e->entry_id) == 0; m++)
            reset |= sorted[m].e->reset_claim != 0;
        pg_array_text(&ids, sorted[i].e->entry_id);
        pg_array_word(&dues, i64_text(sorted[m - 1].e->due_us, due));
        pg_array_word(&resets, reset ? "t" : "f");
    }
    p[0] = canon;
    p[1] = provider_id;
    p[2] = pg_array_end(&ids);
    p[3] = pg_array_end(&dues);
    p[4] = pg_array_end(&resets);
    /* The mark is cleared only if nobody re-marked the order since dirty_take (seq unchanged);
     * a seq deferred by order_save_payload in this transaction is the current one (our write
     * holds the order's row lock, so nobody else can have re-marked it); one deferred in an
     * earlier transaction is unknown, so the mark is kept and the next run syncs again. */
    p[5] = NULL;
    p[6] = "true";
    ti = store_taken_find(&s->taken, canon);
    if (ti >= 0) {
        int64_t v = s->taken.seqs[ti];

        if (v >= 0)
            p[5] = i64_text(v, seq);
        else if (!(s->in_tx && (uint64_t)-v == s->tx_gen))
            p[6] = "false";
    }
    rc = pg_query(s, "schedule_replace", PG_REPLACE_SQL, 7, p, NULL);
    if (rc == 0 && ti >= 0)
        store_taken_remove(&s->taken, (size_t)ti);
    sb_release(&ids);
    sb_release(&dues);
    sb_release(&resets);
    free(sorted);
    return rc;
}

/* One statement: the subquery picks and locks up to `limit` claimable rows in due order,
 * skipping rows another transaction holds; the UPDATE claims exactly those. Under READ
 * COMMITTED a row claimed and committed by another runner since this statement's snapshot is
 * re-checked against the new row version (EvalPlanQual) and drops out, so a row is never
 * claimed twice. The old state comes from the subquery to report was_sending. */
static int pg_schedule_claim(struct store *base, const char *owner, int64_t now_us,
                             int64_t lease_until_us, size_t limit, struct schedule_claim **out,
                             size_t *n)
{
    struct pg_store *s = pg_of(base);
    char now[PG_I64_BUFSZ], lease[PG_I64_BUFSZ], lim[PG_I64_BUFSZ];
    const char *p[4];
    struct schedule_claim *c;
    PGresult *res;
    size_t cnt, i;
    int rc;

    *out = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    p[0] = owner;
    p[1] = i64_text(now_us, now);
    p[2] = i64_text(lease_until_us, lease);
    p[3] = i64_text(limit > INT64_MAX ? INT64_MAX : (int64_t)limit, lim);
    rc = pg_query(
        s, "schedule_claim",
        "UPDATE provider_replay_schedule s SET state = 'claimed', owner = $1, "
        "lease_until_us = $3::bigint "
        "FROM (SELECT s2.provider_order_id, s2.entry_id, s2.state AS old_state "
        "      FROM provider_replay_schedule s2 "
        "      LEFT JOIN fulfillment_providers p ON p.id = s2.provider_id "
        "      LEFT JOIN provider_guardrail_status g ON g.provider_id = s2.provider_id "
        "      WHERE s2.due_us <= $2::bigint "
        "        AND (s2.not_before_us IS NULL OR s2.not_before_us <= $2::bigint) "
        "        AND (s2.state = 'pending' OR COALESCE(s2.lease_until_us, 0) < $2::bigint) "
        "        AND NOT (p.id IS NOT NULL AND p.status::text <> 'active') "
        "        AND NOT COALESCE(g.is_paused, false) "
        "      ORDER BY s2.due_us, s2.provider_order_id, s2.entry_id "
        "      LIMIT $4::bigint "
        "      FOR UPDATE OF s2 SKIP LOCKED) c "
        "WHERE s.provider_order_id = c.provider_order_id AND s.entry_id = c.entry_id "
        "RETURNING s.provider_order_id::text, s.entry_id, s.provider_id, s.due_us, "
        "(c.old_state = 'sending')",
        4, p, &res);
    if (rc != 0)
        return rc;
    cnt = (size_t)PQntuples(res);
    c = cnt ? xcalloc(cnt, sizeof *c) : NULL;
    for (i = 0; i < cnt; i++) {
        c[i].provider_order_id = pg_text(res, (int)i, 0);
        c[i].entry_id = pg_text(res, (int)i, 1);
        c[i].provider_id = pg_text(res, (int)i, 2);
        c[i].due_us = pg_i64_or(res, (int)i, 3, 0);
        c[i].was_sending = pg_bool(res, (int)i, 4);
    }
    PQclear(res);
    store_claims_sort(c, cnt);
    *out = c;
    *n = cnt;
    return 0;
}

struct settle_key {
    const char *po;
    const char *entry;
};

static int settle_key_cmp(const void *a, const void *b)
{
    const struct settle_key *x = a, *y = b;
    int c = strcmp(x->po, y->po);

    return c != 0 ? c : strcmp(x->entry, y->entry);
}

/* One statement for both lists: the subquery locks the rows still owned by `owner` in key
 * order, the order schedule_replace locks in, so that a settle and a concurrent sync of the
 * same order cannot deadlock; the UPDATE moves them and returns the `sending` rows that
 * changed. A `sending` claim not returned is not ours any more: lost. */
static int pg_schedule_settle(struct store *base, const char *owner, struct schedule_claim *sending,
                              size_t nsending, int64_t sending_lease_until_us,
                              const struct schedule_claim *released, size_t nreleased,
                              int64_t not_before_us)
{
    struct pg_store *s = pg_of(base);
    char lease[PG_I64_BUFSZ], nb[PG_I64_BUFSZ];
    struct sb pos = SB_INIT, ids = SB_INIT, flags = SB_INIT;
    struct settle_key *got = NULL;
    const char *p[6];
    PGresult *res = NULL;
    size_t i, ngot = 0;
    int rc;

    if (nsending + nreleased == 0)
        return 0;
    for (i = 0; i < nsending; i++) {
        pg_array_text(&pos, sending[i].provider_order_id);
        pg_array_text(&ids, sending[i].entry_id);
        pg_array_word(&flags, "t");
    }
    for (i = 0; i < nreleased; i++) {
        pg_array_text(&pos, released[i].provider_order_id);
        pg_array_text(&ids, released[i].entry_id);
        pg_array_word(&flags, "f");
    }
    p[0] = pg_array_end(&pos);
    p[1] = pg_array_end(&ids);
    p[2] = pg_array_end(&flags);
    p[3] = i64_text(sending_lease_until_us, lease);
    p[4] = not_before_us == STORE_NO_TIME ? NULL : i64_text(not_before_us, nb);
    p[5] = owner;
    rc = pg_query(s, "schedule_settle",
                  "UPDATE provider_replay_schedule s SET "
                  "state = CASE WHEN c.sending THEN 'sending' ELSE 'pending' END, "
                  "owner = CASE WHEN c.sending THEN s.owner END, "
                  "lease_until_us = CASE WHEN c.sending THEN $4::bigint END, "
                  "not_before_us = CASE WHEN c.sending THEN s.not_before_us ELSE $5::bigint END "
                  "FROM (SELECT s2.provider_order_id, s2.entry_id, k.sending "
                  "      FROM unnest($1::uuid[], $2::text[], $3::boolean[]) "
                  "           AS k(po, entry_id, sending) "
                  "      JOIN provider_replay_schedule s2 ON s2.provider_order_id = k.po "
                  "           AND s2.entry_id = k.entry_id "
                  "      WHERE s2.owner = $6 "
                  "      ORDER BY s2.provider_order_id, s2.entry_id COLLATE \"C\" "
                  "      FOR UPDATE OF s2) c "
                  "WHERE s.provider_order_id = c.provider_order_id AND s.entry_id = c.entry_id "
                  "AND s.owner = $6 "
                  "RETURNING s.provider_order_id::text, s.entry_id, c.sending",
                  6, p, &res);
    sb_release(&pos);
    sb_release(&ids);
    sb_release(&flags);
    if (rc != 0)
        return rc;
    got = xcalloc((size_t)PQntuples(res) + 1, sizeof *got);
    for (i = 0; i < (size_t)PQntuples(res); i++)
        if (pg_bool(res, (int)i, 2))
            got[ngot++] =
                (struct settle_key){PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1)};
    qsort(got, ngot, sizeof *got, settle_key_cmp);
    for (i = 0; i < nsending; i++) {
        struct settle_key k = {sending[i].provider_order_id, sending[i].entry_id};

        sending[i].lost = bsearch(&k, got, ngot, sizeof *got, settle_key_cmp) == NULL;
    }
    free(got);
    PQclear(res);
    return 0;
}

static int pg_schedule_backlog(struct store *base, int64_t *count, int64_t *next_due_us)
{
    struct pg_store *s = pg_of(base);
    PGresult *res;
    int rc;

    *count = 0;
    *next_due_us = STORE_NO_TIME;
    rc = pg_query(s, "schedule_backlog",
                  "SELECT COUNT(*), MIN(due_us) FROM provider_replay_schedule", 0, NULL, &res);
    if (rc != 0)
        return rc;
    *count = pg_i64_or(res, 0, 0, 0);
    *next_due_us = pg_i64_or(res, 0, 1, STORE_NO_TIME);
    PQclear(res);
    return 0;
}

static int pg_schedule_deferred(struct store *base, int64_t now_us, int64_t *count)
{
    struct pg_store *s = pg_of(base);
    char now[PG_I64_BUFSZ];
    const char *p[1] = {i64_text(now_us, now)};
    PGresult *res;
    int rc;

    *count = 0;
    rc = pg_query(s, "schedule_deferred",
                  "SELECT COUNT(*) FROM provider_replay_schedule s "
                  "LEFT JOIN fulfillment_providers p ON p.id = s.provider_id "
                  "LEFT JOIN provider_guardrail_status g ON g.provider_id = s.provider_id "
                  "WHERE s.due_us <= $1::bigint "
                  "AND ((p.id IS NOT NULL AND p.status::text <> 'active') "
                  "OR COALESCE(g.is_paused, false))",
                  1, p, &res);
    if (rc != 0)
        return rc;
    *count = pg_i64_or(res, 0, 0, 0);
    PQclear(res);
    return 0;
}

/* Fixed window: create the window's row if needed, lock it, add what is granted. Concurrent
 * takers of the same window queue on the row lock, so the limit holds across runners. A
 * negative limit means no limit. */
static int pg_rate_take(struct store *base, const char *provider_id, int limit,
                        int64_t window_start_us, int want, int *granted)
{
    struct pg_store *s = pg_of(base);
    char win[PG_I64_BUFSZ], old[PG_I64_BUFSZ], add[PG_I64_BUFSZ];
    const char *p[3];
    PGresult *res;
    int64_t used, left;
    int rc, own, g = 0;

    *granted = 0;
    if (want <= 0)
        return 0;
    if (limit < 0) {
        *granted = want;
        return 0;
    }
    p[0] = provider_id;
    p[1] = i64_text(window_start_us, win);
    rc = pg_enter(s, &own);
    if (rc != 0)
        return rc;
    {
        const char *q[2] = {provider_id, i64_text(window_start_us - INT64_C(3600000000), old)};
        rc = pg_query(s, "rate_take clean",
                      "DELETE FROM provider_rate_windows WHERE provider_id = $1 "
                      "AND window_start_us < $2::bigint",
                      2, q, NULL);
    }
    if (rc == 0)
        rc = pg_query(s, "rate_take",
                      "INSERT INTO provider_rate_windows (provider_id, window_start_us, count) "
                      "VALUES ($1, $2::bigint, 0) ON CONFLICT DO NOTHING",
                      2, p, NULL);
    if (rc == 0)
        rc = pg_query(s, "rate_take",
                      "SELECT count FROM provider_rate_windows WHERE provider_id = $1 "
                      "AND window_start_us = $2::bigint FOR UPDATE",
                      2, p, &res);
    if (rc != 0)
        goto out;
    used = PQntuples(res) > 0 ? pg_i64_or(res, 0, 0, 0) : 0;
    PQclear(res);
    left = (int64_t)limit - used;
    if (left <= 0)
        goto out;
    g = (int64_t)want < left ? want : (int)left;
    p[2] = i64_text(g, add);
    rc = pg_query(s, "rate_take",
                  "UPDATE provider_rate_windows SET count = count + $3::int "
                  "WHERE provider_id = $1 AND window_start_us = $2::bigint",
                  3, p, NULL);
out:
    rc = pg_leave(s, own, rc);
    if (rc == 0)
        *granted = g;
    return rc;
}

static int pg_timeline_insert(struct store *base, const struct timeline_event *ev)
{
    struct pg_store *s = pg_of(base);
    char id[UUID_STRLEN + 1], order_id[UUID_STRLEN + 1], ts[ISO_BUFSZ];
    char *meta;
    int rc;

    if (ev->order_id == NULL || uuid_parse(ev->order_id, order_id) != 0) {
        store_errf(s->err, "timeline_insert: order id is not a UUID");
        return ERR_INVALID;
    }
    meta = ev->metadata ? store_json_dump(ev->metadata) : xstrdup("{}");
    if (meta == NULL) {
        store_errf(s->err, "timeline_insert: metadata cannot be serialised");
        return ERR_INVALID;
    }
    uuid4(id);
    iso_format_utc(ev->created_us == STORE_NO_TIME ? time_now_us() : ev->created_us, ts);
    {
        const char *p[11] = {id,
                             order_id,
                             ev->event_type,
                             ev->actor_type,
                             ev->actor_id,
                             ev->actor_label,
                             ev->from_status,
                             ev->to_status,
                             ev->notes,
                             meta,
                             ts};
        rc = pg_query(s, "timeline_insert",
                      "INSERT INTO order_state_events (id, order_id, event_type, actor_type, "
                      "actor_id, actor_label, from_status, to_status, notes, metadata, "
                      "created_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, "
                      "$10::json, $11::timestamptz)",
                      11, p, NULL);
    }
    free(meta);
    return rc;
}

static int pg_run_insert(struct store *base, const struct run_record *run)
{
    struct pg_store *s = pg_of(base);
    char id[UUID_STRLEN + 1], created[ISO_BUFSZ], next[ISO_BUFSZ];
    char backlog[PG_I64_BUFSZ], alerts[PG_I64_BUFSZ];
    char *summary, *meta = NULL;
    int rc;

    summary = run->summary ? store_json_dump(run->summary) : xstrdup("{}");
    if (!store_run_metadata_empty(run->metadata))
        meta = store_json_dump(run->metadata);
    if (summary == NULL || (!store_run_metadata_empty(run->metadata) && meta == NULL)) {
        store_errf(s->err, "run_insert: summary or metadata cannot be serialised");
        free(summary);
        free(meta);
        return ERR_INVALID;
    }
    uuid4(id);
    iso_format_utc(run->created_us == STORE_NO_TIME ? time_now_us() : run->created_us, created);
    if (run->next_scheduled_us != STORE_NO_TIME)
        iso_format_utc(run->next_scheduled_us, next);
    {
        const char *p[9] = {id,
                            run->run_type,
                            run->status ? run->status : "success",
                            summary,
                            meta,
                            run->backlog_total < 0 ? NULL : i64_text(run->backlog_total, backlog),
                            run->next_scheduled_us == STORE_NO_TIME ? NULL : next,
                            run->alerts_sent < 0 ? NULL : i64_text(run->alerts_sent, alerts),
                            created};
        rc = pg_query(s, "run_insert",
                      "INSERT INTO provider_automation_runs (id, run_type, status, summary, "
                      "metadata_json, backlog_total, next_scheduled_at, alerts_sent, created_at) "
                      "VALUES ($1::uuid, $2, $3, $4::json, $5::json, $6::int, $7::timestamptz, "
                      "$8::int, $9::timestamptz)",
                      9, p, NULL);
    }
    free(summary);
    free(meta);
    return rc;
}

static int pg_run_list(struct store *base, const char *run_type, size_t limit, struct run_row **out,
                       size_t *n)
{
    struct pg_store *s = pg_of(base);
    char lim[PG_I64_BUFSZ];
    const char *p[2] = {run_type, NULL};
    struct run_row *rows;
    PGresult *res;
    size_t cnt, i;
    int rc;

    *out = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    p[1] = i64_text(limit > INT64_MAX ? INT64_MAX : (int64_t)limit, lim);
    rc = pg_query(s, "run_list",
                  "SELECT id::text, run_type::text, status, summary::text, metadata_json::text, "
                  "backlog_total, " PG_US("next_scheduled_at") ", alerts_sent, " PG_US(
                      "created_at") " FROM provider_automation_runs WHERE run_type::text = $1 "
                                    "ORDER BY created_at DESC, id DESC LIMIT $2::bigint",
                  2, p, &res);
    if (rc != 0)
        return rc;
    cnt = (size_t)PQntuples(res);
    rows = cnt ? xcalloc(cnt, sizeof *rows) : NULL;
    for (i = 0; i < cnt; i++) {
        struct run_row *row = &rows[i];
        int r = (int)i;

        row->id = pg_text(res, r, 0);
        row->run_type = pg_text(res, r, 1);
        row->status = pg_text(res, r, 2);
        row->summary = pg_json(res, r, 3);
        if (row->summary == NULL)
            row->summary = json_object();
        row->metadata = pg_json(res, r, 4);
        row->backlog_total = pg_i64_or(res, r, 5, -1);
        row->next_scheduled_us = pg_i64_or(res, r, 6, STORE_NO_TIME);
        row->alerts_sent = pg_i64_or(res, r, 7, -1);
        row->created_us = pg_i64_or(res, r, 8, STORE_NO_TIME);
    }
    PQclear(res);
    *out = rows;
    *n = cnt;
    return 0;
}

static int pg_status_put(struct store *base, const char *key, const char *value)
{
    const char *p[2] = {key, value};

    return pg_query(pg_of(base), "status_put",
                    "INSERT INTO provider_automation_status (key, value, updated_at) "
                    "VALUES ($1, $2, now()) ON CONFLICT (key) DO UPDATE SET "
                    "value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
                    2, p, NULL);
}

static int pg_status_get(struct store *base, const char *key, char **value)
{
    const char *p[1] = {key};
    PGresult *res;
    int rc;

    *value = NULL;
    rc = pg_query(pg_of(base), "status_get",
                  "SELECT value FROM provider_automation_status WHERE key = $1", 1, p, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) > 0)
        *value = pg_text(res, 0, 0);
    PQclear(res);
    return 0;
}

const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .last_error = pg_last_error,
    .migrate = pg_migrate,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .provider_get = pg_provider_get,
    .order_get = pg_order_get,
    .order_save_payload = pg_order_save_payload,
    .dirty_take = pg_dirty_take,
    .schedule_replace = pg_schedule_replace,
    .schedule_claim = pg_schedule_claim,
    .schedule_settle = pg_schedule_settle,
    .schedule_backlog = pg_schedule_backlog,
    .schedule_deferred = pg_schedule_deferred,
    .rate_take = pg_rate_take,
    .timeline_insert = pg_timeline_insert,
    .run_insert = pg_run_insert,
    .run_list = pg_run_list,
    .status_put = pg_status_put,
    .status_get = pg_status_get,
    .providers_list = pg_providers_list,
    .provider_row = pg_provider_row,
    .provider_insert = pg_provider_insert,
    .provider_update = pg_provider_update,
    .provider_delete = pg_provider_delete,
    .service_row = pg_service_row,
    .service_insert = pg_service_insert,
    .service_update = pg_service_update,
    .service_delete = pg_service_delete,
    .balance_upsert = pg_balance_upsert,
    .platform_contexts = pg_platform_contexts,
    .provider_orders_list = pg_provider_orders_list,
    .provider_orders_for_order = pg_provider_orders_for_order,
    .provider_order_insert = pg_provider_order_insert,
    .placement_claim = pg_placement_claim,
    .placement_finish = pg_placement_finish,
    .placement_stale = pg_placement_stale,
    .order_row = pg_order_row,
    .orders_list = pg_orders_list,
    .order_insert = pg_order_insert,
    .order_set_status = pg_order_set_status,
    .timeline_list = pg_timeline_list,
};

int store_pg_exec(struct store *base, const char *sql)
{
    return pg_exec_text(pg_of(base), "exec", sql);
}

int store_pg_query_value(struct store *base, const char *sql, char **value)
{
    struct pg_store *s = pg_of(base);
    PGresult *res;
    int rc;

    *value = NULL;
    rc = pg_query_ex(s, "query", sql, 0, NULL, &res, 0); /* ad-hoc text: not kept prepared */
    if (rc != 0)
        return rc;
    if (PQntuples(res) > 0 && PQnfields(res) > 0)
        *value = pg_text(res, 0, 0);
    PQclear(res);
    return 0;
}

struct store *store_pg_open(const char *conninfo, char **error)
{
    struct pg_store *s = xcalloc(1, sizeof *s);

    s->base.ops = &store_pg_ops;
    s->conn = PQconnectdb(conninfo);
    if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK || pg_session_setup(s) != 0) {
        if (error != NULL) {
            struct sb sb = SB_INIT;
            const char *msg = s->conn ? PQerrorMessage(s->conn) : "out of memory";
            size_t len = strlen(msg);

            while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
                len--;
            sb_printf(&sb, "DATABASE_URL: cannot connect to PostgreSQL: %.*s", (int)len, msg);
            *error = sb_detach(&sb);
        }
        PQfinish(s->conn);
        free(s);
        return NULL;
    }
    return &s->base;
}
