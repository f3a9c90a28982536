/*
 * The SQLite backend of the store port: the embedded default (`make run`, `smplat demo`,
 * unit and conformance tests). One handle is one connection, opened in WAL mode with
 * foreign keys on and a 10 s busy timeout (our own busy handler, see sq_busy). Write transactions
 * are BEGIN IMMEDIATE: the connection takes the database's single write lock up front, so a
 * transaction never fails half-way on a lock upgrade, and while it is open no other writer (ours or
 * another program) can interleave; that is what makes select-then-update claims atomic here.
 * Statements are prepared once per handle and cached. Values are stored as INTERFACE.md §4 says:
 * UUID text, ISO-8601 UTC text timestamps, JSON as Python json.dumps text, enums as lowercase text.
 * A JSON column that does not parse reads as NULL (it never crashes a reader); see
 * docs/STORAGE.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "adapters/store/store_internal.h"
#include "adapters/store/sqlite_internal.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "base/uuid.h"

/* How long a connection waits for a lock (the busy timeout), and BEGIN IMMEDIATE retries. */
#define SQ_BUSY_MS 10000

/* WAL pages after which a commit checkpoints (SQLite's default is 1000). A replay pass
 * rewrites the same index and table pages commit after commit; a longer WAL copies each
 * of them back into the database once per checkpoint instead of many times, and fsyncs
 * less often. Durability is unchanged: a commit is in the WAL either way. */
#define SQ_WAL_AUTOCHECKPOINT "8000"
/* Page cache per connection, in KiB when negative (SQLite's default is 2 MiB): a pass reads
 * each provider order three times (sync, plan, record), and a cache that holds them saves
 * re-reading the pages from the file. */
#define SQ_CACHE_SIZE "-8192"

enum sq_stmt {
    SQ_PROVIDER_GET,
    SQ_ORDER_GET,
    SQ_ORDER_GET_BY_PROVIDER,
    SQ_ORDER_SAVE,
    SQ_DIRTY_TAKE,
    SQ_DIRTY_SEQ,
    SQ_DIRTY_CLEAR,
    SQ_DIRTY_CLEAR_SEQ,
    SQ_SCHED_IDS,
    SQ_SCHED_DELETE,
    SQ_SCHED_UPSERT,
    SQ_CLAIM_SELECT,
    SQ_CLAIM_UPDATE,
    SQ_SETTLE_SENDING,
    SQ_SETTLE_RELEASE,
    SQ_BACKLOG,
    SQ_DEFERRED,
    SQ_RATE_CLEAN,
    SQ_RATE_ENSURE,
    SQ_RATE_GET,
    SQ_RATE_ADD,
    SQ_TIMELINE,
    SQ_RUN_INSERT,
    SQ_RUN_LIST,
    SQ_STATUS_PUT,
    SQ_STATUS_GET,
    SQ_COUNT
};

/* Rows a claim may take: due, past any not-before, unclaimed or with an expired lease, and
 * not of a provider that exists and is inactive, nor of a paused one. */
#define SQ_CLAIMABLE                                                                               \
    "FROM provider_replay_schedule s "                                                             \
    "LEFT JOIN fulfillment_providers p ON p.id = s.provider_id "                                   \
    "LEFT JOIN provider_guardrail_status g ON g.provider_id = s.provider_id "                      \
    "WHERE s.due_us <= ?1 AND (s.not_before_us IS NULL OR s.not_before_us <= ?1) "                 \
    "AND (s.state = 'pending' OR COALESCE(s.lease_until_us, 0) < ?1) "                             \
    "AND NOT (p.id IS NOT NULL AND p.status <> 'active') AND NOT COALESCE(g.is_paused, 0) "

static const char *const sq_sql[SQ_COUNT] = {
    [SQ_PROVIDER_GET] = "SELECT p.id, p.name, p.status, p.health_status, p.metadata_json, "
                        "p.rate_limit_per_minute, COALESCE(g.is_paused, 0) "
                        "FROM fulfillment_providers p "
                        "LEFT JOIN provider_guardrail_status g ON g.provider_id = p.id "
                        "WHERE p.id = ?1",
    [SQ_ORDER_GET] = "SELECT id, order_id, order_item_id, provider_id, provider_name, service_id, "
                     "service_action, currency, amount, payload, created_at, updated_at "
                     "FROM fulfillment_provider_orders WHERE id = ?1",
    [SQ_ORDER_GET_BY_PROVIDER] =
        "SELECT id, order_id, order_item_id, provider_id, provider_name, service_id, "
        "service_action, currency, amount, payload, created_at, updated_at "
        "FROM fulfillment_provider_orders WHERE id = ?1 AND provider_id = ?2",
    [SQ_ORDER_SAVE] = "UPDATE fulfillment_provider_orders SET payload = ?1, updated_at = ?2 "
                      "WHERE id = ?3",
    [SQ_DIRTY_TAKE] = "SELECT provider_order_id, seq FROM provider_replay_dirty "
                      "ORDER BY provider_order_id LIMIT ?1",
    [SQ_DIRTY_SEQ] = "SELECT seq FROM provider_replay_dirty WHERE provider_order_id = ?1",
    [SQ_DIRTY_CLEAR] = "DELETE FROM provider_replay_dirty WHERE provider_order_id = ?1",
    [SQ_DIRTY_CLEAR_SEQ] = "DELETE FROM provider_replay_dirty "
                           "WHERE provider_order_id = ?1 AND seq = ?2",
    [SQ_SCHED_IDS] = "SELECT entry_id FROM provider_replay_schedule WHERE provider_order_id = ?1",
    [SQ_SCHED_DELETE] = "DELETE FROM provider_replay_schedule "
                        "WHERE provider_order_id = ?1 AND entry_id = ?2",
    [SQ_SCHED_UPSERT] =
        "INSERT INTO provider_replay_schedule (provider_order_id, entry_id, provider_id, due_us, "
        "state) VALUES (?1, ?2, ?3, ?4, 'pending') "
        "ON CONFLICT (provider_order_id, entry_id) DO UPDATE SET "
        "provider_id = excluded.provider_id, due_us = excluded.due_us, "
        "state = CASE WHEN ?5 THEN 'pending' ELSE state END, "
        "owner = CASE WHEN ?5 THEN NULL ELSE owner END, "
        "lease_until_us = CASE WHEN ?5 THEN NULL ELSE lease_until_us END, "
        "not_before_us = CASE WHEN ?5 THEN NULL ELSE not_before_us END",
    [SQ_CLAIM_SELECT] =
        "SELECT s.provider_order_id, s.entry_id, s.provider_id, s.due_us, "
        "s.state " SQ_CLAIMABLE "ORDER BY s.due_us, s.provider_order_id, s.entry_id LIMIT ?2",
    [SQ_CLAIM_UPDATE] = "UPDATE provider_replay_schedule SET state = 'claimed', owner = ?1, "
                        "lease_until_us = ?2 WHERE provider_order_id = ?3 AND entry_id = ?4",
    [SQ_SETTLE_SENDING] = "UPDATE provider_replay_schedule SET state = 'sending', "
                          "lease_until_us = ?1 "
                          "WHERE provider_order_id = ?2 AND entry_id = ?3 AND owner = ?4",
    [SQ_SETTLE_RELEASE] = "UPDATE provider_replay_schedule SET state = 'pending', owner = NULL, "
                          "lease_until_us = NULL, not_before_us = ?1 "
                          "WHERE provider_order_id = ?2 AND entry_id = ?3 AND owner = ?4",
    [SQ_BACKLOG] = "SELECT COUNT(*), MIN(due_us) FROM provider_replay_schedule",
    [SQ_DEFERRED] = "SELECT COUNT(*) FROM provider_replay_schedule s "
                    "LEFT JOIN fulfillment_providers p ON p.id = s.provider_id "
                    "LEFT JOIN provider_guardrail_status g ON g.provider_id = s.provider_id "
                    "WHERE s.due_us <= ?1 AND ((p.id IS NOT NULL AND p.status <> 'active') "
                    "OR COALESCE(g.is_paused, 0))",
    [SQ_RATE_CLEAN] =
        "DELETE FROM provider_rate_windows WHERE provider_id = ?1 AND window_start_us < ?2",
    [SQ_RATE_ENSURE] = "INSERT INTO provider_rate_windows (provider_id, window_start_us, count) "
                       "VALUES (?1, ?2, 0) ON CONFLICT DO NOTHING",
    [SQ_RATE_GET] = "SELECT count FROM provider_rate_windows "
                    "WHERE provider_id = ?1 AND window_start_us = ?2",
    [SQ_RATE_ADD] = "UPDATE provider_rate_windows SET count = count + ?3 "
                    "WHERE provider_id = ?1 AND window_start_us = ?2",
    [SQ_TIMELINE] = "INSERT INTO order_state_events (id, order_id, event_type, actor_type, "
                    "actor_id, actor_label, from_status, to_status, notes, metadata, created_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [SQ_RUN_INSERT] = "INSERT INTO provider_automation_runs (id, run_type, status, summary, "
                      "metadata_json, backlog_total, next_scheduled_at, alerts_sent, created_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [SQ_RUN_LIST] = "SELECT id, run_type, status, summary, metadata_json, backlog_total, "
                    "next_scheduled_at, alerts_sent, created_at FROM provider_automation_runs "
                    "WHERE run_type = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
    [SQ_STATUS_PUT] = "INSERT INTO provider_automation_status (key, value, updated_at) "
                      "VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET "
                      "value = excluded.value, updated_at = excluded.updated_at",
    [SQ_STATUS_GET] = "SELECT value FROM provider_automation_status WHERE key = ?1",
};

struct sq_store {
    struct store base; /* first: a struct store * is a struct sq_store * */
    sqlite3 *db;
    int in_tx;
    int64_t busy_since_us; /* when the current wait for a lock began */
    sqlite3_stmt *stmts[SQ_COUNT];
    struct store_taken taken;
    char err[STORE_ERRSZ];
};

struct sq_store *sq_of(struct store *s)
{
    return (struct sq_store *)s;
}

sqlite3 *sq_db(struct store *base)
{
    return sq_of(base)->db;
}

/* Records the connection's message for last_error() and maps the SQLite code to ours. */
int sq_fail(struct sq_store *s, int rc, const char *what)
{
    store_errf(s->err, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ERR_BUSY;
    case SQLITE_NOMEM:
        return ERR_NOMEM;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return ERR_CONFLICT;
        return ERR_DB;
    default:
        return ERR_DB;
    }
}

/* The cached statement for id, reset and with its bindings cleared; prepared on first use
 * (SQLITE_PREPARE_PERSISTENT: it lives as long as the handle). NULL with the error recorded
 * in *rc when it does not prepare. */
static sqlite3_stmt *sq_stmt(struct sq_store *s, enum sq_stmt id, int *rc)
{
    sqlite3_stmt *st = s->stmts[id];
    int r;

    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    r = sqlite3_prepare_v3(s->db, sq_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (r != SQLITE_OK) {
        *rc = sq_fail(s, r, "prepare");
        return NULL;
    }
    s->stmts[id] = st;
    return st;
}

void sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Binds a time as ISO-8601 UTC text, or NULL for STORE_NO_TIME. */
void sq_bind_time(sqlite3_stmt *st, int i, int64_t us)
{
    char buf[ISO_BUFSZ];

    if (us == STORE_NO_TIME) {
        sqlite3_bind_null(st, i);
        return;
    }
    iso_format_utc(us, buf);
    sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
}

char *sq_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    if (t == NULL)
        return NULL;
    return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

json_t *sq_col_json(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    if (t == NULL)
        return NULL;
    return store_json_parse((const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

/* A timestamp column: ISO text of any form Python's fromisoformat takes (naive = UTC), so
 * rows written by other programs read too. STORE_NO_TIME for NULL or unparseable text. */
int64_t sq_col_time(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    struct iso_time it;

    if (t == NULL)
        return STORE_NO_TIME;
    if (iso_parse((const char *)t, (size_t)sqlite3_column_bytes(st, i), &it) != 0)
        return STORE_NO_TIME;
    return it.utc_us;
}

int64_t sq_col_i64_or(sqlite3_stmt *st, int i, int64_t null_value)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return null_value;
    return sqlite3_column_int64(st, i);
}

/* Steps a statement that returns no rows, and resets it so that it holds no lock. */
int sq_run(struct sq_store *s, sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);
    int rc = 0;

    if (r != SQLITE_DONE && r != SQLITE_ROW)
        rc = sq_fail(s, r, what);
    sqlite3_reset(st);
    return rc;
}

static void sq_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* The busy handler: a 10 s busy timeout with short, even sleeps. sqlite3_busy_timeout backs
 * off up to 100 ms between tries, so a connection that commits often (a runner claiming batch
 * after batch) would hold the write lock almost continuously and starve the others; polling
 * every millisecond or two lets waiting connections in between its transactions. */
static int sq_busy(void *arg, int count)
{
    struct sq_store *s = arg;
    int64_t now = time_now_us();

    if (count == 0)
        s->busy_since_us = now;
    if (now - s->busy_since_us > (int64_t)SQ_BUSY_MS * 1000)
        return 0;
    sq_sleep_ms(count < 100 ? 1 : 2);
    return 1;
}

/* BEGIN IMMEDIATE, retried while the database is busy. The busy timeout already waits for
 * the write lock in most cases; the loop covers the ones where SQLite returns SQLITE_BUSY
 * without calling the busy handler (another connection recovering the WAL, for example). */
static int sq_begin_raw(struct sq_store *s)
{
    int64_t deadline = time_now_us() + (int64_t)SQ_BUSY_MS * 1000;
    int r;

    for (;;) {
        r = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (r == SQLITE_OK) {
            s->in_tx = 1;
            return 0;
        }
        if ((r & 0xff) != SQLITE_BUSY || time_now_us() > deadline)
            return sq_fail(s, r, "begin");
        sq_sleep_ms(5);
    }
}

static int sq_rollback_raw(struct sq_store *s)
{
    int r = SQLITE_OK;

    if (!sqlite3_get_autocommit(s->db))
        r = sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
    return r == SQLITE_OK ? 0 : sq_fail(s, r, "rollback");
}

/* COMMIT; on failure the transaction is rolled back so that the handle is never left inside
 * a transaction the caller believes ended. */
static int sq_commit_raw(struct sq_store *s)
{
    int r = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    int rc;

    if (r == SQLITE_OK) {
        s->in_tx = 0;
        return 0;
    }
    rc = sq_fail(s, r, "commit");
    sq_rollback_raw(s);
    return rc;
}

/* Operations run in the caller's transaction when one is open, else in one of their own. */
int sq_enter(struct sq_store *s, int *own)
{
    *own = 0;
    if (s->in_tx)
        return 0;
    *own = 1;
    return sq_begin_raw(s);
}

int sq_leave(struct sq_store *s, int own, int rc)
{
    if (!own)
        return rc;
    if (rc == 0)
        return sq_commit_raw(s);
    sq_rollback_raw(s);
    return rc;
}

static void sq_close(struct store *base)
{
    struct sq_store *s = sq_of(base);
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close_v2(s->db);
    store_taken_reset(&s->taken);
    free(s);
}

static const char *sq_last_error(struct store *base)
{
    return sq_of(base)->err;
}

static int sq_exec(struct sq_store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    int r = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    int rc = 0;

    if (r != SQLITE_OK) {
        rc = sq_fail(s, r, what);
        if (msg != NULL)
            store_errf(s->err, "sqlite: %s: %s", what, msg);
    }
    sqlite3_free(msg);
    return rc;
}

/* Applies the embedded migrations not yet recorded in schema_migrations, all in one
 * immediate transaction: concurrent migrators queue on the write lock, and the second finds
 * everything applied. SQLite DDL is transactional, so a failure leaves the schema as it was. */
static int sq_migrate(struct store *base)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st = NULL;
    char buf[ISO_BUFSZ];
    size_t i;
    int rc, r;

    if (s->in_tx) {
        store_errf(s->err, "migrate: a transaction is open");
        return ERR_INVALID;
    }
    rc = sq_begin_raw(s);
    if (rc != 0)
        return rc;
    rc = sq_exec(s,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY "
                 "KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                 "migrate");
    if (rc != 0)
        goto out;
    for (i = 0; i < store_migrations_sqlite_count; i++) {
        const struct store_migration *m = &store_migrations_sqlite[i];
        int applied;

        r = sqlite3_prepare_v2(s->db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1, &st,
                               NULL);
        if (r != SQLITE_OK) {
            rc = sq_fail(s, r, "migrate");
            goto out;
        }
        sqlite3_bind_int(st, 1, m->version);
        r = sqlite3_step(st);
        applied = r == SQLITE_ROW;
        sqlite3_finalize(st);
        st = NULL;
        if (r != SQLITE_ROW && r != SQLITE_DONE) {
            rc = sq_fail(s, r, "migrate");
            goto out;
        }
        if (applied)
            continue;
        rc = sq_exec(s, m->sql, m->name);
        if (rc != 0)
            goto out;
        r = sqlite3_prepare_v2(s->db,
                               "INSERT INTO schema_migrations (version, name, applied_at) "
                               "VALUES (?1, ?2, ?3)",
                               -1, &st, NULL);
        if (r != SQLITE_OK) {
            rc = sq_fail(s, r, "migrate");
            goto out;
        }
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        iso_format_utc(time_now_us(), buf);
        sqlite3_bind_text(st, 3, buf, -1, SQLITE_TRANSIENT);
        r = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
        if (r != SQLITE_DONE) {
            rc = sq_fail(s, r, "migrate");
            goto out;
        }
    }
out:
    return sq_leave(s, 1, rc);
}

static int sq_begin(struct store *base)
{
    struct sq_store *s = sq_of(base);

    if (s->in_tx) {
        store_errf(s->err, "begin: a transaction is already open");
        return ERR_INVALID;
    }
    return sq_begin_raw(s);
}

static int sq_commit(struct store *base)
{
    struct sq_store *s = sq_of(base);

    if (!s->in_tx) {
        store_errf(s->err, "commit: no transaction is open");
        return ERR_INVALID;
    }
    return sq_commit_raw(s);
}

static int sq_rollback(struct store *base)
{
    return sq_rollback_raw(sq_of(base));
}

static int sq_provider_get(struct store *base, const char *id, struct provider_rec *out)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st;
    int rc = 0, r;

    memset(out, 0, sizeof *out);
    st = sq_stmt(s, SQ_PROVIDER_GET, &rc);
    if (st == NULL)
        return rc;
    sq_bind_text(st, 1, id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->id = sq_col_text(st, 0);
        out->name = sq_col_text(st, 1);
        out->status = sq_col_text(st, 2);
        out->health_status = sq_col_text(st, 3);
        out->metadata = sq_col_json(st, 4);
        out->rate_limit_per_minute = (int)sq_col_i64_or(st, 5, -1);
        out->paused = sqlite3_column_int64(st, 6) != 0;
    } else if (r == SQLITE_DONE) {
        store_errf(s->err, "provider %s not found", id);
        rc = ERR_NOT_FOUND;
    } else {
        rc = sq_fail(s, r, "provider_get");
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_order_get(struct store *base, const char *id, const char *provider_id, int for_update,
                        struct provider_order_rec *out)
{
    struct sq_store *s = sq_of(base);
    char canon[UUID_STRLEN + 1];
    sqlite3_stmt *st;
    int rc = 0, r;

    (void)for_update; /* an immediate transaction excludes every other writer already */
    memset(out, 0, sizeof *out);
    if (id == NULL || uuid_parse(id, canon) != 0) {
        store_errf(s->err, "provider order not found (not a UUID)");
        return ERR_NOT_FOUND;
    }
    st = sq_stmt(s, provider_id ? SQ_ORDER_GET_BY_PROVIDER : SQ_ORDER_GET, &rc);
    if (st == NULL)
        return rc;
    sq_bind_text(st, 1, canon);
    if (provider_id != NULL)
        sq_bind_text(st, 2, provider_id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->id = sq_col_text(st, 0);
        out->order_id = sq_col_text(st, 1);
        out->order_item_id = sq_col_text(st, 2);
        out->provider_id = sq_col_text(st, 3);
        out->provider_name = sq_col_text(st, 4);
        out->service_id = sq_col_text(st, 5);
        out->service_action = sq_col_text(st, 6);
        out->currency = sq_col_text(st, 7);
        out->has_amount = sqlite3_column_type(st, 8) != SQLITE_NULL;
        out->amount = out->has_amount ? sqlite3_column_double(st, 8) : 0.0;
        out->payload = sq_col_json(st, 9);
        out->created_us = sq_col_time(st, 10);
        out->updated_us = sq_col_time(st, 11);
    } else if (r == SQLITE_DONE) {
        store_errf(s->err, "provider order %s not found", canon);
        rc = ERR_NOT_FOUND;
    } else {
        rc = sq_fail(s, r, "order_get");
    }
    sqlite3_reset(st);
    return rc;
}

/* Reads the current seq of a dirty mark (0 when there is none). */
static int sq_dirty_seq(struct sq_store *s, const char *po_id, int64_t *seq)
{
    sqlite3_stmt *st;
    int rc = 0, r;

    *seq = 0;
    st = sq_stmt(s, SQ_DIRTY_SEQ, &rc);
    if (st == NULL)
        return rc;
    sq_bind_text(st, 1, po_id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else if (r != SQLITE_DONE)
        rc = sq_fail(s, r, "dirty seq");
    sqlite3_reset(st);
    return rc;
}

/* Writes the payload. When this handle holds the order's dirty mark (dirty_take), the
 * trigger has just bumped its seq for our own write: remember the new seq, so that the
 * schedule_replace that follows still clears the mark. */
static int sq_order_save_payload(struct store *base, const char *id, const json_t *payload,
                                 int64_t now_us)
{
    struct sq_store *s = sq_of(base);
    char canon[UUID_STRLEN + 1];
    sqlite3_stmt *st;
    char *text = NULL;
    long ti;
    int rc = 0, own;

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
    rc = sq_enter(s, &own);
    if (rc != 0)
        goto out;
    st = sq_stmt(s, SQ_ORDER_SAVE, &rc);
    if (st == NULL)
        goto leave;
    sq_bind_text(st, 1, text);
    sq_bind_time(st, 2, now_us);
    sq_bind_text(st, 3, canon);
    rc = sq_run(s, st, "order_save_payload");
    if (rc == 0 && sqlite3_changes(s->db) == 0) {
        store_errf(s->err, "provider order %s not found", canon);
        rc = ERR_NOT_FOUND;
    }
    ti = store_taken_find(&s->taken, canon);
    if (rc == 0 && ti >= 0)
        rc = sq_dirty_seq(s, canon, &s->taken.seqs[ti]);
leave:
    rc = sq_leave(s, own, rc);
out:
    free(text);
    return rc;
}

static int sq_dirty_take(struct store *base, size_t limit, char ***ids, size_t *n)
{
    struct sq_store *s = sq_of(base);
    char **v = NULL;
    int64_t *seqs = NULL;
    size_t cnt = 0, cap = 0;
    sqlite3_stmt *st;
    int rc = 0, r;

    *ids = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    st = sq_stmt(s, SQ_DIRTY_TAKE, &rc);
    if (st == NULL)
        return rc;
    sqlite3_bind_int64(st, 1, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof *v);
            seqs = xrealloc(seqs, cap * sizeof *seqs);
        }
        v[cnt] = sq_col_text(st, 0);
        seqs[cnt] = sqlite3_column_int64(st, 1);
        if (v[cnt] == NULL)
            continue;
        cnt++;
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(s, r, "dirty_take");
    sqlite3_reset(st);
    if (rc != 0) {
        store_strv_free(v, cnt);
        free(seqs);
        return rc;
    }
    /* The handle remembers what it took (with copies of the ids); the caller owns v. */
    {
        char **copy = cnt ? xcalloc(cnt, sizeof *copy) : NULL;
        size_t i;

        for (i = 0; i < cnt; i++)
            copy[i] = xstrdup(v[i]);
        store_taken_set(&s->taken, copy, seqs, cnt);
    }
    *ids = v;
    *n = cnt;
    return 0;
}

static int entry_listed(const struct schedule_index_entry *entries, size_t n, const char *id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(entries[i].entry_id, id) == 0)
            return 1;
    return 0;
}

/* Deletes the order's index rows whose entry is no longer listed, upserts the listed ones
 * and clears the dirty mark: only when its seq is still the one dirty_take saw, when this
 * handle took it, so that a mark set by another writer in between survives. */
static int sq_schedule_replace(struct store *base, const char *po_id, const char *provider_id,
                               const struct schedule_index_entry *entries, size_t n)
{
    struct sq_store *s = sq_of(base);
    char canon[UUID_STRLEN + 1];
    char **old = NULL;
    size_t nold = 0, cap = 0, i;
    sqlite3_stmt *st;
    long ti;
    int rc = 0, own, r;

    if (po_id == NULL || uuid_parse(po_id, canon) != 0) {
        store_errf(s->err, "schedule_replace: provider order id is not a UUID");
        return ERR_INVALID;
    }
    rc = sq_enter(s, &own);
    if (rc != 0)
        return rc;
    st = sq_stmt(s, SQ_SCHED_IDS, &rc);
    if (st == NULL)
        goto out;
    sq_bind_text(st, 1, canon);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (nold == cap) {
            cap = cap ? cap * 2 : 8;
            old = xrealloc(old, cap * sizeof *old);
        }
        old[nold] = sq_col_text(st, 0);
        if (old[nold] != NULL)
            nold++;
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(s, r, "schedule_replace");
    sqlite3_reset(st);
    for (i = 0; rc == 0 && i < nold; i++) {
        if (entry_listed(entries, n, old[i]))
            continue;
        st = sq_stmt(s, SQ_SCHED_DELETE, &rc);
        if (st == NULL)
            break;
        sq_bind_text(st, 1, canon);
        sq_bind_text(st, 2, old[i]);
        rc = sq_run(s, st, "schedule_replace delete");
    }
    for (i = 0; rc == 0 && i < n; i++) {
        st = sq_stmt(s, SQ_SCHED_UPSERT, &rc);
        if (st == NULL)
            break;
        sq_bind_text(st, 1, canon);
        sq_bind_text(st, 2, entries[i].entry_id);
        sq_bind_text(st, 3, provider_id);
        sqlite3_bind_int64(st, 4, entries[i].due_us);
        sqlite3_bind_int(st, 5, entries[i].reset_claim ? 1 : 0);
        rc = sq_run(s, st, "schedule_replace upsert");
    }
    if (rc == 0) {
        ti = store_taken_find(&s->taken, canon);
        st = sq_stmt(s, ti >= 0 ? SQ_DIRTY_CLEAR_SEQ : SQ_DIRTY_CLEAR, &rc);
        if (st != NULL) {
            sq_bind_text(st, 1, canon);
            if (ti >= 0)
                sqlite3_bind_int64(st, 2, s->taken.seqs[ti]);
            rc = sq_run(s, st, "schedule_replace clear");
            if (rc == 0 && ti >= 0)
                store_taken_remove(&s->taken, (size_t)ti);
        }
    }
out:
    store_strv_free(old, nold);
    return sq_leave(s, own, rc);
}

/* Select-then-update inside BEGIN IMMEDIATE: the write lock is held from the select on, so
 * no other connection can claim the same rows in between. */
static int sq_schedule_claim(struct store *base, const char *owner, int64_t now_us,
                             int64_t lease_until_us, size_t limit, struct schedule_claim **out,
                             size_t *n)
{
    struct sq_store *s = sq_of(base);
    struct schedule_claim *c = NULL;
    size_t cnt = 0, cap = 0, i;
    sqlite3_stmt *st;
    int rc = 0, own, r;

    *out = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    rc = sq_enter(s, &own);
    if (rc != 0)
        return rc;
    st = sq_stmt(s, SQ_CLAIM_SELECT, &rc);
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, now_us);
    sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *state;

        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            c = xrealloc(c, cap * sizeof *c);
        }
        c[cnt].provider_order_id = sq_col_text(st, 0);
        c[cnt].entry_id = sq_col_text(st, 1);
        c[cnt].provider_id = sq_col_text(st, 2);
        c[cnt].due_us = sqlite3_column_int64(st, 3);
        state = sqlite3_column_text(st, 4);
        c[cnt].was_sending = state != NULL && strcmp((const char *)state, "sending") == 0;
        cnt++;
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(s, r, "schedule_claim");
    sqlite3_reset(st);
    for (i = 0; rc == 0 && i < cnt; i++) {
        st = sq_stmt(s, SQ_CLAIM_UPDATE, &rc);
        if (st == NULL)
            break;
        sq_bind_text(st, 1, owner);
        sqlite3_bind_int64(st, 2, lease_until_us);
        sq_bind_text(st, 3, c[i].provider_order_id);
        sq_bind_text(st, 4, c[i].entry_id);
        rc = sq_run(s, st, "schedule_claim update");
    }
out:
    rc = sq_leave(s, own, rc);
    if (rc != 0) {
        schedule_claims_free(c, cnt);
        return rc;
    }
    store_claims_sort(c, cnt);
    *out = c;
    *n = cnt;
    return 0;
}

static int sq_schedule_settle(struct store *base, const char *owner, struct schedule_claim *sending,
                              size_t nsending, int64_t sending_lease_until_us,
                              const struct schedule_claim *released, size_t nreleased,
                              int64_t not_before_us)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st;
    size_t i;
    int rc = 0, own;

    if (nsending == 0 && nreleased == 0)
        return 0;
    rc = sq_enter(s, &own);
    if (rc != 0)
        return rc;
    for (i = 0; rc == 0 && i < nsending; i++) {
        st = sq_stmt(s, SQ_SETTLE_SENDING, &rc);
        if (st == NULL)
            break;
        sqlite3_bind_int64(st, 1, sending_lease_until_us);
        sq_bind_text(st, 2, sending[i].provider_order_id);
        sq_bind_text(st, 3, sending[i].entry_id);
        sq_bind_text(st, 4, owner);
        rc = sq_run(s, st, "schedule_settle sending");
        sending[i].lost = rc == 0 && sqlite3_changes(s->db) == 0;
    }
    for (i = 0; rc == 0 && i < nreleased; i++) {
        st = sq_stmt(s, SQ_SETTLE_RELEASE, &rc);
        if (st == NULL)
            break;
        if (not_before_us == STORE_NO_TIME)
            sqlite3_bind_null(st, 1);
        else
            sqlite3_bind_int64(st, 1, not_before_us);
        sq_bind_text(st, 2, released[i].provider_order_id);
        sq_bind_text(st, 3, released[i].entry_id);
        sq_bind_text(st, 4, owner);
        rc = sq_run(s, st, "schedule_settle release");
    }
    return sq_leave(s, own, rc);
}

static int sq_schedule_backlog(struct store *base, int64_t *count, int64_t *next_due_us)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st;
    int rc = 0, r;

    *count = 0;
    *next_due_us = STORE_NO_TIME;
    st = sq_stmt(s, SQ_BACKLOG, &rc);
    if (st == NULL)
        return rc;
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        *next_due_us = sq_col_i64_or(st, 1, STORE_NO_TIME);
    } else {
        rc = sq_fail(s, r, "schedule_backlog");
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_schedule_deferred(struct store *base, int64_t now_us, int64_t *count)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st;
    int rc = 0, r;

    *count = 0;
    st = sq_stmt(s, SQ_DEFERRED, &rc);
    if (st == NULL)
        return rc;
    sqlite3_bind_int64(st, 1, now_us);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(s, r, "schedule_deferred");
    sqlite3_reset(st);
    return rc;
}

/* Fixed window: make sure the window's row exists, read its count and add what is granted,
 * all under the write lock. The provider's windows older than an hour are dropped on the way. A
 * negative limit means no limit. */
static int sq_rate_take(struct store *base, const char *provider_id, int limit,
                        int64_t window_start_us, int want, int *granted)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st;
    int64_t used = 0, left;
    int rc = 0, own, r;

    *granted = 0;
    if (want <= 0)
        return 0;
    if (limit < 0) {
        *granted = want;
        return 0;
    }
    rc = sq_enter(s, &own);
    if (rc != 0)
        return rc;
    st = sq_stmt(s, SQ_RATE_CLEAN, &rc);
    if (st == NULL)
        goto out;
    sq_bind_text(st, 1, provider_id);
    sqlite3_bind_int64(st, 2, window_start_us - INT64_C(3600000000));
    rc = sq_run(s, st, "rate_take clean");
    if (rc != 0)
        goto out;
    st = sq_stmt(s, SQ_RATE_ENSURE, &rc);
    if (st == NULL)
        goto out;
    sq_bind_text(st, 1, provider_id);
    sqlite3_bind_int64(st, 2, window_start_us);
    rc = sq_run(s, st, "rate_take");
    if (rc != 0)
        goto out;
    st = sq_stmt(s, SQ_RATE_GET, &rc);
    if (st == NULL)
        goto out;
    sq_bind_text(st, 1, provider_id);
    sqlite3_bind_int64(st, 2, window_start_us);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        used = sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(s, r, "rate_take");
    sqlite3_reset(st);
    if (rc != 0)
        goto out;
    left = (int64_t)limit - used;
    if (left <= 0)
        goto out;
    *granted = (int64_t)want < left ? want : (int)left;
    st = sq_stmt(s, SQ_RATE_ADD, &rc);
    if (st == NULL)
        goto out;
    sq_bind_text(st, 1, provider_id);
    sqlite3_bind_int64(st, 2, window_start_us);
    sqlite3_bind_int(st, 3, *granted);
    rc = sq_run(s, st, "rate_take");
out:
    rc = sq_leave(s, own, rc);
    if (rc != 0)
        *granted = 0;
    return rc;
}

static int sq_timeline_insert(struct store *base, const struct timeline_event *ev)
{
    struct sq_store *s = sq_of(base);
    char id[UUID_STRLEN + 1], order_id[UUID_STRLEN + 1];
    char *meta;
    sqlite3_stmt *st;
    int rc = 0, own;

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
    rc = sq_enter(s, &own);
    if (rc != 0)
        goto out;
    st = sq_stmt(s, SQ_TIMELINE, &rc);
    if (st != NULL) {
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, order_id);
        sq_bind_text(st, 3, ev->event_type);
        sq_bind_text(st, 4, ev->actor_type);
        sq_bind_text(st, 5, ev->actor_id);
        sq_bind_text(st, 6, ev->actor_label);
        sq_bind_text(st, 7, ev->from_status);
        sq_bind_text(st, 8, ev->to_status);
        sq_bind_text(st, 9, ev->notes);
        sq_bind_text(st, 10, meta);
        sq_bind_time(st, 11, ev->created_us == STORE_NO_TIME ? time_now_us() : ev->created_us);
        rc = sq_run(s, st, "timeline_insert");
    }
    rc = sq_leave(s, own, rc);
out:
    free(meta);
    return rc;
}

static int sq_run_insert(struct store *base, const struct run_record *run)
{
    struct sq_store *s = sq_of(base);
    char id[UUID_STRLEN + 1];
    char *summary = NULL, *meta = NULL;
    sqlite3_stmt *st;
    int rc = 0, own;

    summary = run->summary ? store_json_dump(run->summary) : xstrdup("{}");
    if (!store_run_metadata_empty(run->metadata))
        meta = store_json_dump(run->metadata);
    if (summary == NULL || (!store_run_metadata_empty(run->metadata) && meta == NULL)) {
        store_errf(s->err, "run_insert: summary or metadata cannot be serialised");
        rc = ERR_INVALID;
        goto out;
    }
    uuid4(id);
    rc = sq_enter(s, &own);
    if (rc != 0)
        goto out;
    st = sq_stmt(s, SQ_RUN_INSERT, &rc);
    if (st != NULL) {
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, run->run_type);
        sq_bind_text(st, 3, run->status ? run->status : "success");
        sq_bind_text(st, 4, summary);
        sq_bind_text(st, 5, meta);
        if (run->backlog_total < 0)
            sqlite3_bind_null(st, 6);
        else
            sqlite3_bind_int64(st, 6, run->backlog_total);
        sq_bind_time(st, 7, run->next_scheduled_us);
        if (run->alerts_sent < 0)
            sqlite3_bind_null(st, 8);
        else
            sqlite3_bind_int64(st, 8, run->alerts_sent);
        sq_bind_time(st, 9, run->created_us == STORE_NO_TIME ? time_now_us() : run->created_us);
        rc = sq_run(s, st, "run_insert");
    }
    rc = sq_leave(s, own, rc);
out:
    free(summary);
    free(meta);
    return rc;
}

static int sq_run_list(struct store *base, const char *run_type, size_t limit, struct run_row **out,
                       size_t *n)
{
    struct sq_store *s = sq_of(base);
    struct run_row *rows = NULL;
    size_t cnt = 0, cap = 0, i;
    sqlite3_stmt *st;
    int rc = 0, r;

    *out = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    st = sq_stmt(s, SQ_RUN_LIST, &rc);
    if (st == NULL)
        return rc;
    sq_bind_text(st, 1, run_type);
    sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct run_row *row;

        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        row = &rows[cnt++];
        row->id = sq_col_text(st, 0);
        row->run_type = sq_col_text(st, 1);
        row->status = sq_col_text(st, 2);
        row->summary = sq_col_json(st, 3);
        if (row->summary == NULL)
            row->summary = json_object();
        row->metadata = sq_col_json(st, 4);
        row->backlog_total = sq_col_i64_or(st, 5, -1);
        row->next_scheduled_us = sq_col_time(st, 6);
        row->alerts_sent = sq_col_i64_or(st, 7, -1);
        row->created_us = sq_col_time(st, 8);
    }
    if (r != SQLITE_DONE)
        rc = sq_fail(s, r, "run_list");
    sqlite3_reset(st);
    if (rc != 0) {
        for (i = 0; i < cnt; i++)
            run_row_release(&rows[i]);
        free(rows);
        return rc;
    }
    *out = rows;
    *n = cnt;
    return 0;
}

static int sq_status_put(struct store *base, const char *key, const char *value)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st;
    int rc = 0, own;

    rc = sq_enter(s, &own);
    if (rc != 0)
        return rc;
    st = sq_stmt(s, SQ_STATUS_PUT, &rc);
    if (st != NULL) {
        sq_bind_text(st, 1, key);
        sq_bind_text(st, 2, value);
        sq_bind_time(st, 3, time_now_us());
        rc = sq_run(s, st, "status_put");
    }
    return sq_leave(s, own, rc);
}

static int sq_status_get(struct store *base, const char *key, char **value)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st;
    int rc = 0, r;

    *value = NULL;
    st = sq_stmt(s, SQ_STATUS_GET, &rc);
    if (st == NULL)
        return rc;
    sq_bind_text(st, 1, key);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *value = sq_col_text(st, 0);
    else if (r != SQLITE_DONE)
        rc = sq_fail(s, r, "status_get");
    sqlite3_reset(st);
    return rc;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .last_error = sq_last_error,
    .migrate = sq_migrate,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .provider_get = sq_provider_get,
    .order_get = sq_order_get,
    .order_save_payload = sq_order_save_payload,
    .dirty_take = sq_dirty_take,
    .schedule_replace = sq_schedule_replace,
    .schedule_claim = sq_schedule_claim,
    .schedule_settle = sq_schedule_settle,
    .schedule_backlog = sq_schedule_backlog,
    .schedule_deferred = sq_schedule_deferred,
    .rate_take = sq_rate_take,
    .timeline_insert = sq_timeline_insert,
    .run_insert = sq_run_insert,
    .run_list = sq_run_list,
    .status_put = sq_status_put,
    .status_get = sq_status_get,
    .providers_list = sq_providers_list,
    .provider_row = sq_provider_row,
    .provider_insert = sq_provider_insert,
    .provider_update = sq_provider_update,
    .provider_delete = sq_provider_delete,
    .service_row = sq_service_row,
    .service_insert = sq_service_insert,
    .service_update = sq_service_update,
    .service_delete = sq_service_delete,
    .balance_upsert = sq_balance_upsert,
    .platform_contexts = sq_platform_contexts,
    .provider_orders_list = sq_provider_orders_list,
    .provider_orders_for_order = sq_provider_orders_for_order,
    .provider_order_insert = sq_provider_order_insert,
    .placement_claim = sq_placement_claim,
    .placement_finish = sq_placement_finish,
    .placement_stale = sq_placement_stale,
    .order_row = sq_order_row,
    .orders_list = sq_orders_list,
    .order_insert = sq_order_insert,
    .order_set_status = sq_order_set_status,
    .timeline_list = sq_timeline_list,
};

int store_sqlite_exec(struct store *base, const char *sql)
{
    struct sq_store *s = sq_of(base);
    int rc, own;

    rc = sq_enter(s, &own);
    if (rc != 0)
        return rc;
    rc = sq_exec(s, sql, "exec");
    return sq_leave(s, own, rc);
}

int store_sqlite_query_value(struct store *base, const char *sql, char **value)
{
    struct sq_store *s = sq_of(base);
    sqlite3_stmt *st = NULL;
    int rc = 0, r;

    *value = NULL;
    r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (r != SQLITE_OK)
        return sq_fail(s, r, "query");
    r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *value = sq_col_text(st, 0);
    else if (r != SQLITE_DONE)
        rc = sq_fail(s, r, "query");
    sqlite3_finalize(st);
    return rc;
}

/* Opens the file and sets the per-connection pragmas. journal_mode=WAL persists in the file
 * and lets readers run beside the writer; synchronous=NORMAL is durable across application
 * crashes in WAL mode (a power loss may drop the last commits, never corrupt); the checkpoint
 * interval and the page cache are sized for the replay pass (SQ_WAL_AUTOCHECKPOINT,
 * SQ_CACHE_SIZE). */
struct store *store_sqlite_open(const char *path, char **error)
{
    struct sq_store *s = xcalloc(1, sizeof *s);
    char *msg = NULL;
    int r;

    s->base.ops = &store_sqlite_ops;
    r = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (r != SQLITE_OK) {
        if (error != NULL) {
            struct sb sb = SB_INIT;
            sb_printf(&sb, "DATABASE_URL: cannot open sqlite database %s: %s", path,
                      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
            *error = sb_detach(&sb);
        }
        sqlite3_close_v2(s->db);
        free(s);
        return NULL;
    }
    sqlite3_busy_handler(s->db, sq_busy, s);
    sqlite3_extended_result_codes(s->db, 1);
    r = sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                     "PRAGMA wal_autocheckpoint=" SQ_WAL_AUTOCHECKPOINT "; "
                     "PRAGMA cache_size=" SQ_CACHE_SIZE ";",
                     NULL, NULL, &msg);
    if (r != SQLITE_OK) {
        if (error != NULL) {
            struct sb sb = SB_INIT;
            sb_printf(&sb, "DATABASE_URL: cannot use sqlite database %s: %s", path,
                      msg ? msg : sqlite3_errstr(r));
            *error = sb_detach(&sb);
        }
        sqlite3_free(msg);
        sqlite3_close_v2(s->db);
        free(s);
        return NULL;
    }
    return &s->base;
}
