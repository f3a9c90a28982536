/*
 * Conformance of a store backend to the port of core/store.h: every op against a fresh
 * database, including the dirty trigger, claims under concurrency (two connections claiming
 * the same 500 rows), leases, settle, deferral of paused and inactive providers, rate windows
 * and the run history. Usage: store_conformance DATABASE_URL. A sqlite file is deleted first;
 * on PostgreSQL everything happens in a private schema (search_path) that is dropped at the
 * end, so the program can run against any server. Exit status non-zero on any failure.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapters/store/store_alerts.h"
#include "adapters/store/store_internal.h"
#include "adapters/store/store_open.h"
#include "base/error.h"
#include "base/sb.h"
#include "base/uuid.h"
#include "core/pyjson.h"

#define NOW INT64_C(1700000000000000)

static const char *g_url; /* the URL the handles open (with the private schema on PG) */
static int g_pg;
static struct store *g_s;     /* the main handle */
static struct store *g_admin; /* PostgreSQL: the handle that owns the private schema */
static char g_schema[64];

static void ok(struct store *s, int rc, const char *what)
{
    if (rc != 0)
        fail_msg("%s failed: %d (%s)", what, rc, s->ops->last_error(s));
}

static void exec_ok(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void exec_ok(struct store *s, const char *fmt, ...)
{
    struct sb sql = SB_INIT;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    sb_vprintf(&sql, fmt, ap);
    va_end(ap);
    rc = store_exec_sql(s, sb_str(&sql));
    if (rc != 0)
        fail_msg("exec failed: %s\n  sql: %s", s->ops->last_error(s), sb_str(&sql));
    sb_release(&sql);
}

/* The first column of the first row as text ("" for no row / NULL); caller frees. */
static char *query(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *query(struct store *s, const char *fmt, ...)
{
    struct sb sql = SB_INIT;
    char *v = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    sb_vprintf(&sql, fmt, ap);
    va_end(ap);
    rc = store_query_value(s, sb_str(&sql), &v);
    if (rc != 0)
        fail_msg("query failed: %s\n  sql: %s", s->ops->last_error(s), sb_str(&sql));
    sb_release(&sql);
    return v ? v : xstrdup("");
}

static void assert_query(struct store *s, const char *want, const char *sql)
{
    char *got = query(s, "%s", sql);

    if (strcmp(got, want) != 0)
        fail_msg("query %s: got \"%s\", want \"%s\"", sql, got, want);
    free(got);
}

/* The number of migrations this build embeds for s's backend, as text. */
static const char *migration_count(struct store *s)
{
    static char buf[24];
    size_t n = strcmp(s->ops->name, "sqlite") == 0 ? store_migrations_sqlite_count
                                                   : store_migrations_pg_count;
    snprintf(buf, sizeof(buf), "%zu", n);
    return buf;
}

static struct store *open_or_die(const char *url)
{
    char *err = NULL;
    struct store *s = store_open(url, &err);

    if (s == NULL) {
        fprintf(stderr, "store_open: %s\n", err ? err : "?");
        free(err);
        exit(1);
    }
    return s;
}

/* Creates an order, its item and a provider order with the given payload (SQL literal text,
 * or NULL). Ids are returned in po_id (and order_id when not NULL). */
static void seed_po(struct store *s, const char *provider_id, const char *payload,
                    char po_id[UUID_STRLEN + 1], char order_id_out[UUID_STRLEN + 1])
{
    char order_id[UUID_STRLEN + 1], item_id[UUID_STRLEN + 1];
    struct sb sql = SB_INIT;
    int rc;

    uuid4(order_id);
    uuid4(item_id);
    uuid4(po_id);
    sb_printf(&sql,
              "INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, "
              "total) VALUES ('%s', 'SM-%.12s', 'pending', 'checkout', 'EUR', 12.5, 0, 12.5);"
              "INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, "
              "total_price) VALUES ('%s', '%s', 'Followers', 1, 12.5, 12.5);"
              "INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, "
              "provider_id, provider_name, service_id, service_action, amount, currency, payload, "
              "created_at, updated_at) VALUES ('%s', '%s', '%s', '%s', 'Name', 'svc', 'act', "
              "12.5, 'EUR', ",
              order_id, order_id, item_id, order_id, po_id, order_id, item_id, provider_id);
    if (payload != NULL)
        sb_printf(&sql, "'%s'", payload);
    else
        sb_puts(&sql, "NULL");
    sb_puts(&sql, ", '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00.123456+00:00')");
    rc = store_exec_sql(s, sb_str(&sql));
    if (rc != 0)
        fail_msg("seed failed: %s", s->ops->last_error(s));
    sb_release(&sql);
    if (order_id_out != NULL)
        memcpy(order_id_out, order_id, sizeof order_id);
}

static int dirty_contains(struct store *s, const char *id)
{
    char **ids = NULL;
    size_t n = 0, i;
    int found = 0;

    ok(s, s->ops->dirty_take(s, 100000, &ids, &n), "dirty_take");
    for (i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            found = 1;
    store_strv_free(ids, n);
    return found;
}

static void clear_schedule(struct store *s)
{
    exec_ok(s, "DELETE FROM provider_replay_schedule");
}

/* ---- tests ---- */

static void test_open_errors(void **state)
{
    static const char *const bad[] = {
        "",
        "nonsense",
        "mysql://u:p@h/db",
        "sqlite://relative.db",
        "sqlite:///",
        "postgresql://u:secret@host:notaport/db",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *err = NULL;
        struct store *s = store_open(bad[i], &err);

        if (s != NULL)
            fail_msg("store_open(\"%s\") succeeded", bad[i]);
        assert_non_null(err);
        assert_non_null(strstr(err, "DATABASE_URL"));
        assert_null(strstr(err, "secret"));
        free(err);
    }
    {
        struct store *m = open_or_die("sqlite+aiosqlite:///:memory:");
        assert_string_equal(m->ops->name, "sqlite");
        ok(m, m->ops->migrate(m), "migrate :memory:");
        m->ops->close(m);
    }
}

static void test_migrate(void **state)
{
    struct provider_rec p;

    (void)state;
    ok(g_s, g_s->ops->migrate(g_s), "migrate");
    ok(g_s, g_s->ops->migrate(g_s), "migrate again");
    assert_query(g_s, migration_count(g_s), "SELECT COUNT(*) FROM schema_migrations");
    assert_query(g_s, "2", "SELECT COUNT(*) FROM fulfillment_services WHERE provider_id = 'xyz'");
    ok(g_s, g_s->ops->provider_get(g_s, "xyz", &p), "provider_get xyz");
    assert_string_equal(p.id, "xyz");
    assert_string_equal(p.name, "XYZ Growth Network");
    assert_string_equal(p.status, "active");
    assert_string_equal(p.health_status, "unknown");
    assert_int_equal(p.rate_limit_per_minute, -1);
    assert_int_equal(p.paused, 0);
    assert_non_null(p.metadata);
    assert_string_equal(json_string_value(json_object_get(p.metadata, "supportEmail")),
                        "ops@xyzgrowth.example");
    provider_rec_release(&p);
    assert_int_equal(g_s->ops->provider_get(g_s, "nope", &p), ERR_NOT_FOUND);
    provider_rec_release(&p);
}

/* A database that had scheduled replays before our tables existed: re-applying migration 2
 * (idempotent) backfills the dirty marks. */
static void test_migration_backfill(void **state)
{
    char po[UUID_STRLEN + 1];

    (void)state;
    seed_po(g_s, "xyz", "{\"scheduledReplays\": [{\"id\": \"old\"}]}", po, NULL);
    if (g_pg)
        exec_ok(g_s, "DROP TRIGGER trg_provider_replay_dirty ON fulfillment_provider_orders");
    else
        exec_ok(g_s, "DROP TRIGGER trg_provider_replay_dirty_insert;"
                     "DROP TRIGGER trg_provider_replay_dirty_update");
    exec_ok(g_s, "DELETE FROM provider_replay_dirty; DELETE FROM schema_migrations WHERE "
                 "version = 2");
    assert_false(dirty_contains(g_s, po));
    ok(g_s, g_s->ops->migrate(g_s), "migrate (re-apply 2)");
    assert_query(g_s, migration_count(g_s), "SELECT COUNT(*) FROM schema_migrations");
    assert_true(dirty_contains(g_s, po));
    /* the trigger is back */
    exec_ok(g_s, "DELETE FROM provider_replay_dirty");
    exec_ok(g_s,
            "UPDATE fulfillment_provider_orders SET payload = '{\"scheduledReplays\": []}' "
            "WHERE id = '%s'",
            po);
    assert_true(dirty_contains(g_s, po));
}

static void test_order_get(void **state)
{
    char po[UUID_STRLEN + 1], order_id[UUID_STRLEN + 1], upper[UUID_STRLEN + 1];
    struct provider_order_rec r;
    size_t i;

    (void)state;
    seed_po(g_s, "xyz", "{\"a\": 150.0}", po, order_id);
    ok(g_s, g_s->ops->order_get(g_s, po, NULL, 0, &r), "order_get");
    assert_string_equal(r.id, po);
    assert_string_equal(r.order_id, order_id);
    assert_string_equal(r.provider_id, "xyz");
    assert_string_equal(r.provider_name, "Name");
    assert_string_equal(r.service_id, "svc");
    assert_string_equal(r.service_action, "act");
    assert_string_equal(r.currency, "EUR");
    assert_true(r.has_amount);
    assert_true(r.amount == 12.5);
    assert_non_null(r.payload);
    assert_true(json_real_value(json_object_get(r.payload, "a")) == 150.0);
    assert_true(r.created_us == INT64_C(1735689600000000));
    assert_true(r.updated_us == INT64_C(1735689600123456));
    provider_order_rec_release(&r);

    assert_int_equal(g_s->ops->order_get(g_s, po, "other", 0, &r), ERR_NOT_FOUND);
    ok(g_s, g_s->ops->order_get(g_s, po, "xyz", 0, &r), "order_get by provider");
    provider_order_rec_release(&r);
    assert_int_equal(g_s->ops->order_get(g_s, "not-a-uuid", NULL, 0, &r), ERR_NOT_FOUND);
    assert_int_equal(g_s->ops->order_get(g_s, "00000000-0000-4000-8000-000000000000", NULL, 0, &r),
                     ERR_NOT_FOUND);
    for (i = 0; i <= UUID_STRLEN; i++)
        upper[i] = (char)(po[i] >= 'a' && po[i] <= 'f' ? po[i] - 'a' + 'A' : po[i]);
    ok(g_s, g_s->ops->order_get(g_s, upper, NULL, 0, &r), "order_get upper-case id");
    provider_order_rec_release(&r);

    /* for_update inside a transaction; NULL payload and amount */
    exec_ok(g_s,
            "UPDATE fulfillment_provider_orders SET payload = NULL, amount = NULL WHERE "
            "id = '%s'",
            po);
    ok(g_s, g_s->ops->begin(g_s), "begin");
    ok(g_s, g_s->ops->order_get(g_s, po, NULL, 1, &r), "order_get for update");
    assert_null(r.payload);
    assert_false(r.has_amount);
    provider_order_rec_release(&r);
    ok(g_s, g_s->ops->commit(g_s), "commit");
}

static void test_order_save_payload(void **state)
{
    static const char text[] = "{\"requestedAmount\": 150.0, \"name\": \"caf\\u00e9\", \"n\": 1, "
                               "\"list\": [1.5, \"x\", null, true], \"big\": 1e+16, "
                               "\"small\": 1e-05}";
    char po[UUID_STRLEN + 1];
    struct provider_order_rec r;
    json_t *payload;
    char *dumped, *stored;

    (void)state;
    seed_po(g_s, "xyz", NULL, po, NULL);
    payload = pyjson_loads(text, strlen(text), 64, NULL, 0);
    assert_non_null(payload);
    ok(g_s, g_s->ops->order_save_payload(g_s, po, payload, NOW + 7), "order_save_payload");
    stored = query(g_s, "SELECT payload FROM fulfillment_provider_orders WHERE id = '%s'", po);
    assert_string_equal(stored, text);
    free(stored);
    ok(g_s, g_s->ops->order_get(g_s, po, NULL, 0, &r), "order_get");
    assert_true(r.updated_us == NOW + 7);
    assert_true(r.created_us == INT64_C(1735689600000000));
    dumped = pyjson_dumps(r.payload, PYJSON_SPACED | PYJSON_ENSURE_ASCII);
    assert_string_equal(dumped, text);
    free(dumped);
    provider_order_rec_release(&r);

    /* updated_at moves again; a rolled-back save leaves the row alone */
    ok(g_s, g_s->ops->begin(g_s), "begin");
    {
        json_t *empty = json_object();
        ok(g_s, g_s->ops->order_save_payload(g_s, po, empty, NOW + 99), "save in tx");
        json_decref(empty);
    }
    ok(g_s, g_s->ops->rollback(g_s), "rollback");
    ok(g_s, g_s->ops->order_get(g_s, po, NULL, 0, &r), "order_get");
    assert_true(r.updated_us == NOW + 7);
    provider_order_rec_release(&r);
    ok(g_s, g_s->ops->order_save_payload(g_s, po, payload, NOW + 1000001), "save");
    ok(g_s, g_s->ops->order_get(g_s, po, NULL, 0, &r), "order_get");
    assert_true(r.updated_us == NOW + 1000001);
    provider_order_rec_release(&r);

    assert_int_equal(
        g_s->ops->order_save_payload(g_s, "00000000-0000-4000-8000-000000000000", payload, NOW),
        ERR_NOT_FOUND);
    assert_int_equal(g_s->ops->order_save_payload(g_s, "zzz", payload, NOW), ERR_NOT_FOUND);
    json_decref(payload);
}

static void test_transactions(void **state)
{
    (void)state;
    ok(g_s, g_s->ops->begin(g_s), "begin");
    assert_int_equal(g_s->ops->begin(g_s), ERR_INVALID);
    ok(g_s, g_s->ops->rollback(g_s), "rollback");
    assert_int_equal(g_s->ops->commit(g_s), ERR_INVALID);
    ok(g_s, g_s->ops->rollback(g_s), "rollback without transaction");
    assert_non_null(g_s->ops->last_error(g_s));
}

static void test_dirty_trigger(void **state)
{
    char po[UUID_STRLEN + 1], po2[UUID_STRLEN + 1];
    struct schedule_index_entry e = {"e1", NOW, 0};
    json_t *payload;

    (void)state;
    exec_ok(g_s, "DELETE FROM provider_replay_dirty");
    seed_po(g_s, "xyz", "{\"replays\": []}", po, NULL);
    assert_false(dirty_contains(g_s, po));
    /* another program appends a scheduled replay */
    exec_ok(g_s,
            "UPDATE fulfillment_provider_orders SET payload = '{\"scheduledReplays\": "
            "[{\"id\": \"e1\"}]}' WHERE id = '%s'",
            po);
    assert_true(dirty_contains(g_s, po));
    ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", &e, 1), "schedule_replace");
    assert_false(dirty_contains(g_s, po));
    /* an update of another column does not mark */
    exec_ok(g_s, "UPDATE fulfillment_provider_orders SET currency = 'USD' WHERE id = '%s'", po);
    assert_false(dirty_contains(g_s, po));
    /* removing the key marks too (the old payload mentioned it) */
    exec_ok(g_s, "UPDATE fulfillment_provider_orders SET payload = '{\"x\": 1}' WHERE id = '%s'",
            po);
    assert_true(dirty_contains(g_s, po));
    ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", NULL, 0), "schedule_replace empty");
    assert_false(dirty_contains(g_s, po));
    assert_query(g_s, "0", "SELECT COUNT(*) FROM provider_replay_dirty");

    /* an insert with scheduled replays marks */
    seed_po(g_s, "xyz", "{\"scheduledReplays\": []}", po2, NULL);
    assert_true(dirty_contains(g_s, po2));

    /* a mark set by another writer after dirty_take survives the replace */
    assert_true(dirty_contains(g_s, po2)); /* this handle took it, with its seq */
    exec_ok(g_s,
            "UPDATE fulfillment_provider_orders SET payload = '{\"scheduledReplays\": "
            "[{\"id\": \"late\"}]}' WHERE id = '%s'",
            po2);
    ok(g_s, g_s->ops->schedule_replace(g_s, po2, "xyz", NULL, 0), "schedule_replace");
    assert_true(dirty_contains(g_s, po2));
    ok(g_s, g_s->ops->schedule_replace(g_s, po2, "xyz", NULL, 0), "schedule_replace");
    assert_false(dirty_contains(g_s, po2));

    /* the worker's own save between dirty_take and schedule_replace does not keep the mark */
    exec_ok(g_s,
            "UPDATE fulfillment_provider_orders SET payload = '{\"scheduledReplays\": []}' "
            "WHERE id = '%s'",
            po2);
    ok(g_s, g_s->ops->begin(g_s), "begin");
    assert_true(dirty_contains(g_s, po2));
    payload = json_pack("{s:[{s:s}]}", "scheduledReplays", "id", "new");
    ok(g_s, g_s->ops->order_save_payload(g_s, po2, payload, NOW), "save");
    json_decref(payload);
    ok(g_s, g_s->ops->schedule_replace(g_s, po2, "xyz", &e, 1), "schedule_replace");
    ok(g_s, g_s->ops->commit(g_s), "commit");
    assert_false(dirty_contains(g_s, po2));

    /* deleting the order removes its index rows and mark */
    exec_ok(g_s,
            "UPDATE fulfillment_provider_orders SET payload = '{\"scheduledReplays\": [1]}' "
            "WHERE id = '%s'",
            po2);
    exec_ok(g_s, "DELETE FROM fulfillment_provider_orders WHERE id = '%s'", po2);
    assert_false(dirty_contains(g_s, po2));
    {
        char *cnt = query(g_s,
                          "SELECT COUNT(*) FROM provider_replay_schedule WHERE "
                          "provider_order_id = '%s'",
                          po2);
        assert_string_equal(cnt, "0");
        free(cnt);
    }
}

/* Both backends answer "0"/"1"-style text differently for booleans; compare state text. */
static void assert_row(struct store *s, const char *po, const char *entry, const char *state,
                       const char *owner, const char *due)
{
    char *v = query(s,
                    "SELECT state || '/' || COALESCE(owner, '-') || '/' || CAST(due_us AS TEXT) "
                    "FROM provider_replay_schedule WHERE provider_order_id = '%s' AND entry_id = "
                    "'%s'",
                    po, entry);
    struct sb want = SB_INIT;

    sb_printf(&want, "%s/%s/%s", state, owner, due);
    if (strcmp(v, sb_str(&want)) != 0)
        fail_msg("row %s: got \"%s\", want \"%s\"", entry, v, sb_str(&want));
    sb_release(&want);
    free(v);
}

static void test_schedule_replace(void **state)
{
    char po[UUID_STRLEN + 1];
    struct schedule_index_entry first[] = {{"e1", 100, 0}, {"e2", 200, 0}, {"e3", 300, 0}};
    struct schedule_index_entry second[] = {{"e2", 210, 0}, {"e3", 300, 0}, {"e4", 50, 0}};
    struct schedule_index_entry third[] = {{"e2", 220, 1}, {"e3", 300, 0}, {"e4", 50, 0}};
    struct schedule_claim *c = NULL;
    size_t n = 0;
    int64_t count, next;

    (void)state;
    clear_schedule(g_s);
    seed_po(g_s, "xyz", NULL, po, NULL);
    ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", first, 3), "replace 1");
    ok(g_s, g_s->ops->schedule_claim(g_s, "A", 250, 10000, 10, &c, &n), "claim");
    assert_int_equal(n, 2);
    assert_string_equal(c[0].entry_id, "e1");
    assert_string_equal(c[1].entry_id, "e2");
    assert_string_equal(c[0].provider_order_id, po);
    assert_string_equal(c[0].provider_id, "xyz");
    assert_true(c[0].due_us == 100);
    schedule_claims_free(c, n);

    ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", second, 3), "replace 2");
    assert_query(g_s, "3", "SELECT COUNT(*) FROM provider_replay_schedule");
    assert_row(g_s, po, "e2", "claimed", "A", "210"); /* claim kept, due moved */
    assert_row(g_s, po, "e3", "pending", "-", "300");
    assert_row(g_s, po, "e4", "pending", "-", "50");
    ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", third, 3), "replace 3");
    assert_row(g_s, po, "e2", "pending", "-", "220"); /* reset_claim */
    ok(g_s, g_s->ops->schedule_backlog(g_s, &count, &next), "backlog");
    assert_true(count == 3);
    assert_true(next == 50);
    ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", NULL, 0), "replace empty");
    ok(g_s, g_s->ops->schedule_backlog(g_s, &count, &next), "backlog");
    assert_true(count == 0);
    assert_true(next == STORE_NO_TIME);
    assert_int_equal(g_s->ops->schedule_replace(g_s, "bad", "xyz", NULL, 0), ERR_INVALID);
}

static void test_claim_lease_settle(void **state)
{
    char po[UUID_STRLEN + 1];
    struct schedule_index_entry e[] = {{"a", NOW - 10, 0}, {"b", NOW - 5, 0}, {"c", NOW + 1000, 0}};
    struct schedule_claim *c = NULL, *c2 = NULL;
    size_t n = 0, n2 = 0;

    (void)state;
    clear_schedule(g_s);
    seed_po(g_s, "xyz", NULL, po, NULL);
    ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", e, 3), "replace");
    ok(g_s, g_s->ops->schedule_claim(g_s, "A", NOW, NOW + 100, 10, &c, &n), "claim A");
    assert_int_equal(n, 2);
    assert_string_equal(c[0].entry_id, "a");
    assert_string_equal(c[1].entry_id, "b");
    assert_false(c[0].was_sending);
    ok(g_s, g_s->ops->schedule_claim(g_s, "B", NOW, NOW + 100, 10, &c2, &n2), "claim B");
    assert_int_equal(n2, 0);
    schedule_claims_free(c2, n2);

    /* a: sending with a longer lease; b: released, not before NOW+50 */
    ok(g_s, g_s->ops->schedule_settle(g_s, "A", &c[0], 1, NOW + 200, &c[1], 1, NOW + 50), "settle");
    assert_false(c[0].lost);
    assert_row(g_s, po, "a", "sending", "A", "1699999999999990");
    assert_row(g_s, po, "b", "pending", "-", "1699999999999995");
    ok(g_s, g_s->ops->schedule_claim(g_s, "B", NOW + 10, NOW + 300, 10, &c2, &n2), "claim");
    assert_int_equal(n2, 0);
    schedule_claims_free(c2, n2);
    ok(g_s, g_s->ops->schedule_claim(g_s, "B", NOW + 60, NOW + 300, 10, &c2, &n2), "claim");
    assert_int_equal(n2, 1);
    assert_string_equal(c2[0].entry_id, "b");
    assert_false(c2[0].was_sending);
    schedule_claims_free(c2, n2);

    /* a's sending lease runs out: reclaimed, flagged was_sending */
    ok(g_s, g_s->ops->schedule_claim(g_s, "C", NOW + 250, NOW + 400, 10, &c2, &n2), "claim C");
    assert_int_equal(n2, 1);
    assert_string_equal(c2[0].entry_id, "a");
    assert_true(c2[0].was_sending);
    schedule_claims_free(c2, n2);
    /* A no longer owns a: its settle changes nothing, and a sending settle reports it lost */
    ok(g_s, g_s->ops->schedule_settle(g_s, "A", NULL, 0, 0, &c[0], 1, STORE_NO_TIME), "settle");
    assert_row(g_s, po, "a", "claimed", "C", "1699999999999990");
    c[0].lost = 0;
    ok(g_s, g_s->ops->schedule_settle(g_s, "A", &c[0], 1, NOW + 900, NULL, 0, STORE_NO_TIME),
       "settle lost");
    assert_true(c[0].lost);
    assert_row(g_s, po, "a", "claimed", "C", "1699999999999990");
    /* B's claim on b runs out without having been sent */
    ok(g_s, g_s->ops->schedule_claim(g_s, "D", NOW + 350, NOW + 500, 10, &c2, &n2), "claim D");
    assert_int_equal(n2, 1);
    assert_string_equal(c2[0].entry_id, "b");
    assert_false(c2[0].was_sending);
    schedule_claims_free(c2, n2);
    /* release without not-before: claimable at once */
    ok(g_s, g_s->ops->schedule_settle(g_s, "C", NULL, 0, 0, &c[0], 1, STORE_NO_TIME), "settle");
    ok(g_s, g_s->ops->schedule_claim(g_s, "E", NOW + 351, NOW + 500, 1, &c2, &n2), "claim E");
    assert_int_equal(n2, 1);
    assert_string_equal(c2[0].entry_id, "a");
    schedule_claims_free(c2, n2);
    schedule_claims_free(c, n);
    ok(g_s, g_s->ops->schedule_claim(g_s, "F", NOW, NOW, 0, &c2, &n2), "claim limit 0");
    assert_int_equal(n2, 0);
}

static void test_paused_inactive(void **state)
{
    char pa[UUID_STRLEN + 1], pi[UUID_STRLEN + 1], pp[UUID_STRLEN + 1], pm[UUID_STRLEN + 1];
    struct schedule_index_entry e = {"x", NOW - 1, 0};
    struct schedule_claim *c = NULL;
    struct provider_rec p;
    size_t n = 0, i;
    int64_t count, next;
    int seen_a = 0, seen_m = 0;

    (void)state;
    clear_schedule(g_s);
    exec_ok(g_s, "INSERT INTO fulfillment_providers (id, name, status, rate_limit_per_minute) "
                 "VALUES ('p_active', 'Active', 'active', 30), "
                 "('p_inactive', 'Inactive', 'inactive', NULL), "
                 "('p_paused', 'Paused', 'active', NULL);"
                 "INSERT INTO provider_guardrail_status (provider_id, is_paused) "
                 "VALUES ('p_paused', true)");
    seed_po(g_s, "p_active", NULL, pa, NULL);
    seed_po(g_s, "p_inactive", NULL, pi, NULL);
    seed_po(g_s, "p_paused", NULL, pp, NULL);
    seed_po(g_s, "p_missing", NULL, pm, NULL);
    ok(g_s, g_s->ops->schedule_replace(g_s, pa, "p_active", &e, 1), "replace");
    ok(g_s, g_s->ops->schedule_replace(g_s, pi, "p_inactive", &e, 1), "replace");
    ok(g_s, g_s->ops->schedule_replace(g_s, pp, "p_paused", &e, 1), "replace");
    ok(g_s, g_s->ops->schedule_replace(g_s, pm, "p_missing", &e, 1), "replace");

    ok(g_s, g_s->ops->provider_get(g_s, "p_paused", &p), "provider_get");
    assert_int_equal(p.paused, 1);
    assert_null(p.metadata);
    provider_rec_release(&p);
    ok(g_s, g_s->ops->provider_get(g_s, "p_active", &p), "provider_get");
    assert_int_equal(p.paused, 0);
    assert_int_equal(p.rate_limit_per_minute, 30);
    provider_rec_release(&p);

    ok(g_s, g_s->ops->schedule_deferred(g_s, NOW, &count), "deferred");
    assert_true(count == 2);
    ok(g_s, g_s->ops->schedule_deferred(g_s, NOW - 2, &count), "deferred (not yet due)");
    assert_true(count == 0);
    ok(g_s, g_s->ops->schedule_claim(g_s, "A", NOW, NOW + 100, 10, &c, &n), "claim");
    assert_int_equal(n, 2);
    for (i = 0; i < n; i++) {
        seen_a |= strcmp(c[i].provider_order_id, pa) == 0;
        seen_m |= strcmp(c[i].provider_order_id, pm) == 0;
    }
    assert_true(seen_a && seen_m);
    schedule_claims_free(c, n);
    ok(g_s, g_s->ops->schedule_backlog(g_s, &count, &next), "backlog");
    assert_true(count == 4);
    assert_true(next == NOW - 1);

    exec_ok(g_s, "UPDATE provider_guardrail_status SET is_paused = false WHERE provider_id = "
                 "'p_paused'");
    exec_ok(g_s, "UPDATE fulfillment_providers SET status = 'active' WHERE id = 'p_inactive'");
    ok(g_s, g_s->ops->schedule_deferred(g_s, NOW, &count), "deferred");
    assert_true(count == 0);
    ok(g_s, g_s->ops->schedule_claim(g_s, "A", NOW, NOW + 100, 10, &c, &n), "claim");
    assert_int_equal(n, 2);
    schedule_claims_free(c, n);
}

static void test_rate_take(void **state)
{
    const int64_t w = NOW - NOW % INT64_C(60000000);
    int g = -1;

    (void)state;
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w, 3, &g), "rate_take");
    assert_int_equal(g, 3);
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w, 3, &g), "rate_take");
    assert_int_equal(g, 2);
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w, 1, &g), "rate_take");
    assert_int_equal(g, 0);
    ok(g_s, g_s->ops->rate_take(g_s, "other", 5, w, 1, &g), "rate_take other provider");
    assert_int_equal(g, 1);
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w + 60000000, 10, &g), "rate_take next window");
    assert_int_equal(g, 5);
    ok(g_s, g_s->ops->rate_take(g_s, "rl", -1, w, 7, &g), "rate_take no limit");
    assert_int_equal(g, 7);
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w, 0, &g), "rate_take nothing");
    assert_int_equal(g, 0);
    assert_query(g_s, "2", "SELECT COUNT(*) FROM provider_rate_windows WHERE provider_id = 'rl'");
    /* two hours later the old windows are dropped */
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w + INT64_C(7200000000), 1, &g), "rate_take");
    assert_int_equal(g, 1);
    assert_query(g_s, "1", "SELECT COUNT(*) FROM provider_rate_windows WHERE provider_id = 'rl'");
    /* inside a caller's transaction, then rolled back */
    ok(g_s, g_s->ops->begin(g_s), "begin");
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w + INT64_C(7200000000), 4, &g), "rate_take");
    assert_int_equal(g, 4);
    ok(g_s, g_s->ops->rollback(g_s), "rollback");
    ok(g_s, g_s->ops->rate_take(g_s, "rl", 5, w + INT64_C(7200000000), 10, &g), "rate_take");
    assert_int_equal(g, 4);
}

static void test_timeline(void **state)
{
    char po[UUID_STRLEN + 1], order_id[UUID_STRLEN + 1];
    struct timeline_event ev = {0};
    json_t *meta = json_pack("{s:s,s:f}", "scheduleId", "s1", "amount", 150.0);
    char *v;

    (void)state;
    seed_po(g_s, "xyz", NULL, po, order_id);
    ev.order_id = order_id;
    ev.event_type = "replay_executed";
    ev.actor_type = "automation";
    ev.actor_id = po;
    ev.notes = "Automation replay executed from schedule";
    ev.metadata = meta;
    ev.created_us = NOW + 5;
    ok(g_s, g_s->ops->timeline_insert(g_s, &ev), "timeline_insert");
    ev.metadata = NULL;
    ev.event_type = "note";
    ev.actor_type = NULL;
    ev.created_us = NOW + 6;
    ok(g_s, g_s->ops->timeline_insert(g_s, &ev), "timeline_insert (no metadata)");
    json_decref(meta);

    v = query(g_s,
              "SELECT CAST(event_type AS TEXT) || '|' || CAST(actor_type AS TEXT) || '|' || "
              "actor_id || '|' || CAST(metadata AS TEXT) FROM order_state_events WHERE order_id "
              "= '%s' AND CAST(event_type AS TEXT) = 'replay_executed'",
              order_id);
    {
        struct sb want = SB_INIT;
        sb_printf(&want,
                  "replay_executed|automation|%s|{\"scheduleId\": \"s1\", \"amount\": 150.0}", po);
        assert_string_equal(v, sb_str(&want));
        sb_release(&want);
    }
    free(v);
    v = query(g_s,
              "SELECT CAST(metadata AS TEXT) || '|' || COALESCE(CAST(actor_type AS TEXT), '-') "
              "FROM order_state_events WHERE order_id = '%s' AND CAST(event_type AS TEXT) = "
              "'note'",
              order_id);
    assert_string_equal(v, "{}|-");
    free(v);
    v = query(g_s,
              g_pg ? "SELECT to_char(created_at AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM order_state_events WHERE order_id = "
                     "'%s' AND event_type = 'note'"
                   : "SELECT created_at FROM order_state_events WHERE order_id = '%s' AND "
                     "event_type = 'note'",
              order_id);
    assert_string_equal(v,
                        g_pg ? "2023-11-14T22:13:20.000006" : "2023-11-14T22:13:20.000006+00:00");
    free(v);
    ev.order_id = "nope";
    assert_int_equal(g_s->ops->timeline_insert(g_s, &ev), ERR_INVALID);
}

static void test_runs(void **state)
{
    struct run_record run = {0};
    struct run_row *rows = NULL;
    json_t *summary = json_pack("{s:i,s:f}", "processed", 1, "rate", 150.0);
    json_t *meta = json_pack("{s:[s]}", "autoPausedProviders", "p1");
    json_t *empty = json_object();
    size_t n = 0, i;
    char *dumped;

    (void)state;
    run.run_type = "replay";
    run.status = "partial";
    run.summary = summary;
    run.metadata = empty;
    run.backlog_total = -1;
    run.next_scheduled_us = STORE_NO_TIME;
    run.alerts_sent = -1;
    run.created_us = NOW + 1;
    ok(g_s, g_s->ops->run_insert(g_s, &run), "run_insert 1");
    run.created_us = NOW + 3;
    run.status = "success";
    run.backlog_total = 12;
    run.next_scheduled_us = NOW + 123456789;
    ok(g_s, g_s->ops->run_insert(g_s, &run), "run_insert 3");
    run.created_us = NOW + 2;
    run.status = "failed";
    ok(g_s, g_s->ops->run_insert(g_s, &run), "run_insert 2");
    run.run_type = "alert";
    run.metadata = meta;
    run.alerts_sent = 4;
    run.created_us = NOW + 10;
    ok(g_s, g_s->ops->run_insert(g_s, &run), "run_insert alert");

    ok(g_s, g_s->ops->run_list(g_s, "replay", 2, &rows, &n), "run_list");
    assert_int_equal(n, 2);
    assert_true(rows[0].created_us == NOW + 3);
    assert_true(rows[1].created_us == NOW + 2);
    assert_string_equal(rows[0].status, "success");
    assert_string_equal(rows[0].run_type, "replay");
    assert_int_equal(strlen(rows[0].id), UUID_STRLEN);
    assert_true(rows[0].backlog_total == 12);
    assert_true(rows[0].next_scheduled_us == NOW + 123456789);
    assert_true(rows[0].alerts_sent == -1);
    assert_null(rows[0].metadata);
    dumped = pyjson_dumps(rows[0].summary, PYJSON_SPACED | PYJSON_ENSURE_ASCII);
    assert_string_equal(dumped, "{\"processed\": 1, \"rate\": 150.0}");
    free(dumped);
    for (i = 0; i < n; i++)
        run_row_release(&rows[i]);
    free(rows);

    ok(g_s, g_s->ops->run_list(g_s, "replay", 10, &rows, &n), "run_list all");
    assert_int_equal(n, 3);
    assert_true(rows[2].created_us == NOW + 1);
    assert_true(rows[2].backlog_total == -1);
    assert_true(rows[2].next_scheduled_us == STORE_NO_TIME);
    assert_string_equal(rows[2].status, "partial");
    for (i = 0; i < n; i++)
        run_row_release(&rows[i]);
    free(rows);

    ok(g_s, g_s->ops->run_list(g_s, "alert", 10, &rows, &n), "run_list alert");
    assert_int_equal(n, 1);
    assert_true(rows[0].alerts_sent == 4);
    assert_non_null(rows[0].metadata);
    assert_true(json_is_array(json_object_get(rows[0].metadata, "autoPausedProviders")));
    for (i = 0; i < n; i++)
        run_row_release(&rows[i]);
    free(rows);
    ok(g_s, g_s->ops->run_list(g_s, "none", 10, &rows, &n), "run_list unknown type");
    assert_int_equal(n, 0);
    free(rows);
    json_decref(summary);
    json_decref(meta);
    json_decref(empty);
}

/* ---- catalog (spec-api-ui §4.1-4.11; sqlite_catalog.c, pg_catalog.c) ---- */

static json_t *catalog_json(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);

    if (v == NULL)
        fail_msg("bad test JSON: %s", e.text);
    return v;
}

static void test_catalog(void **state)
{
    json_t *row, *rows, *p, *svc, *bal, *ch;
    size_t i;

    (void)state;
    /* insert with defaults, read back with services and balance attached */
    p = catalog_json("{\"id\": \"cat-b\", \"name\": \"Beta\", \"allowed_regions\": [\"eu\"], "
                     "\"metadata_json\": {\"automation\": {\"apiKey\": \"k\"}}, "
                     "\"rate_limit_per_minute\": 7, \"status\": \"active\", "
                     "\"last_health_check_at\": 1700000000000001}");
    ok(g_s, g_s->ops->provider_insert(g_s, p, NOW), "provider_insert");
    assert_int_equal(g_s->ops->provider_insert(g_s, p, NOW), ERR_CONFLICT);
    json_decref(p);
    p = catalog_json("{\"id\": \"cat-a\", \"name\": \"Alpha\"}");
    ok(g_s, g_s->ops->provider_insert(g_s, p, NOW + 5), "provider_insert");
    json_decref(p);
    p = catalog_json("{\"id\": \"cat-x\", \"bogus\": 1}");
    assert_int_equal(g_s->ops->provider_insert(g_s, p, NOW), ERR_INVALID);
    json_decref(p);

    ok(g_s, g_s->ops->provider_row(g_s, "cat-b", &row), "provider_row");
    assert_string_equal(json_string_value(json_object_get(row, "name")), "Beta");
    assert_string_equal(json_string_value(json_object_get(row, "status")), "active");
    assert_string_equal(json_string_value(json_object_get(row, "health_status")), "unknown");
    assert_int_equal(json_integer_value(json_object_get(row, "rate_limit_per_minute")), 7);
    assert_int_equal(json_integer_value(json_object_get(row, "created_at")), NOW);
    assert_int_equal(json_integer_value(json_object_get(row, "updated_at")), NOW);
    assert_int_equal(json_integer_value(json_object_get(row, "last_health_check_at")), NOW + 1);
    assert_true(json_is_null(json_object_get(row, "description")));
    assert_true(json_is_null(json_object_get(row, "credentials")));
    assert_true(json_is_null(json_object_get(row, "balance")));
    assert_int_equal(json_array_size(json_object_get(row, "services")), 0);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(row, "allowed_regions"), 0)), "eu");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(row, "metadata_json"), "automation"), "apiKey")),
        "k");
    json_decref(row);
    row = NULL;
    assert_int_equal(g_s->ops->provider_row(g_s, "cat-none", &row), ERR_NOT_FOUND);
    assert_null(row);

    /* update: only the given columns and updated_at; null clears */
    ch = catalog_json("{\"name\": \"Beta 2\", \"metadata_json\": null, \"health_status\": "
                      "\"degraded\", \"health_payload\": {\"ok\": true}}");
    ok(g_s, g_s->ops->provider_update(g_s, "cat-b", ch, NOW + 10), "provider_update");
    assert_int_equal(g_s->ops->provider_update(g_s, "cat-none", ch, NOW), ERR_NOT_FOUND);
    json_decref(ch);
    ok(g_s, g_s->ops->provider_row(g_s, "cat-b", &row), "provider_row");
    assert_string_equal(json_string_value(json_object_get(row, "name")), "Beta 2");
    assert_string_equal(json_string_value(json_object_get(row, "health_status")), "degraded");
    assert_true(json_is_null(json_object_get(row, "metadata_json")));
    assert_true(json_is_true(json_object_get(json_object_get(row, "health_payload"), "ok")));
    assert_int_equal(json_integer_value(json_object_get(row, "created_at")), NOW);
    assert_int_equal(json_integer_value(json_object_get(row, "updated_at")), NOW + 10);
    assert_int_equal(json_integer_value(json_object_get(row, "rate_limit_per_minute")), 7);
    json_decref(row);

    /* services: ordered by created_at, ids global */
    svc = catalog_json("{\"id\": \"cat-s2\", \"provider_id\": \"cat-b\", \"name\": \"S2\", "
                       "\"action\": \"a\", \"metadata_json\": {\"version\": 1}}");
    ok(g_s, g_s->ops->service_insert(g_s, svc, NOW + 20), "service_insert");
    json_decref(svc);
    svc = catalog_json("{\"id\": \"cat-s1\", \"provider_id\": \"cat-b\", \"name\": \"S1\", "
                       "\"action\": \"a\", \"default_currency\": \"EUR\"}");
    ok(g_s, g_s->ops->service_insert(g_s, svc, NOW + 30), "service_insert");
    json_object_set_new(svc, "provider_id", json_string("cat-a"));
    assert_int_equal(g_s->ops->service_insert(g_s, svc, NOW), ERR_CONFLICT);
    json_decref(svc);
    ok(g_s, g_s->ops->service_row(g_s, "cat-b", "cat-s1", &row), "service_row");
    assert_string_equal(json_string_value(json_object_get(row, "default_currency")), "EUR");
    assert_string_equal(json_string_value(json_object_get(row, "status")), "active");
    assert_int_equal(json_integer_value(json_object_get(row, "created_at")), NOW + 30);
    json_decref(row);
    row = NULL;
    assert_int_equal(g_s->ops->service_row(g_s, "cat-a", "cat-s1", &row), ERR_NOT_FOUND);
    ch = catalog_json("{\"category\": \"growth\", \"allowed_regions\": []}");
    ok(g_s, g_s->ops->service_update(g_s, "cat-b", "cat-s1", ch, NOW + 40), "service_update");
    assert_int_equal(g_s->ops->service_update(g_s, "cat-a", "cat-s1", ch, NOW), ERR_NOT_FOUND);
    json_decref(ch);
    ok(g_s, g_s->ops->service_row(g_s, "cat-b", "cat-s1", &row), "service_row");
    assert_string_equal(json_string_value(json_object_get(row, "category")), "growth");
    assert_int_equal(json_integer_value(json_object_get(row, "updated_at")), NOW + 40);
    json_decref(row);

    /* balance: one row per provider, upserted */
    bal = catalog_json("{\"balance_amount\": 12.5, \"currency\": \"USD\", \"payload\": "
                       "{\"balance\": 12.5}}");
    ok(g_s, g_s->ops->balance_upsert(g_s, "cat-b", bal, NOW + 50), "balance_upsert");
    json_decref(bal);
    bal = catalog_json("{\"balance_amount\": 0, \"currency\": null, \"payload\": null}");
    ok(g_s, g_s->ops->balance_upsert(g_s, "cat-b", bal, NOW + 60), "balance_upsert again");
    json_decref(bal);
    assert_query(g_s, "1",
                 "SELECT COUNT(*) FROM fulfillment_provider_balances WHERE provider_id = 'cat-b'");

    /* the listing: by name, each with its services and balance */
    ok(g_s, g_s->ops->providers_list(g_s, &rows), "providers_list");
    for (i = 1; i < json_array_size(rows); i++)
        assert_true(strcmp(json_string_value(json_object_get(json_array_get(rows, i - 1), "name")),
                           json_string_value(json_object_get(json_array_get(rows, i), "name"))) <=
                    0);
    row = NULL;
    for (i = 0; i < json_array_size(rows); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(rows, i), "id")), "cat-b") == 0)
            row = json_array_get(rows, i);
    assert_non_null(row);
    assert_int_equal(json_array_size(json_object_get(row, "services")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(row, "services"), 0), "id")),
                        "cat-s2");
    bal = json_object_get(row, "balance");
    assert_true(json_is_number(json_object_get(bal, "balance_amount")));
    assert_true(json_number_value(json_object_get(bal, "balance_amount")) == 0.0);
    assert_true(json_is_null(json_object_get(bal, "currency")));
    assert_true(json_is_null(json_object_get(bal, "payload")));
    assert_int_equal(json_integer_value(json_object_get(bal, "retrieved_at")), NOW + 60);
    json_decref(rows);

    /* platform contexts: newest first, limited */
    exec_ok(g_s, "INSERT INTO provider_platform_context_cache (provider_id, platform_id, label, "
                 "handle, platform_type, last_seen_at) VALUES "
                 "('cat-b', 'c1', 'One', '@one', 'instagram', '2025-01-01T00:00:00+00:00'), "
                 "('cat-b', 'c2', 'Two', NULL, NULL, '2025-01-03T00:00:00+00:00'), "
                 "('cat-b', 'c3', 'Three', NULL, 'tiktok', '2025-01-02T00:00:00+00:00'), "
                 "('cat-a', 'c9', 'Nine', NULL, NULL, '2025-01-09T00:00:00+00:00')");
    ok(g_s, g_s->ops->platform_contexts(g_s, "cat-b", 2, &rows), "platform_contexts");
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "platform_id")),
                        "c2");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "label")),
                        "Three");
    assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "handle")));
    json_decref(rows);
    ok(g_s, g_s->ops->platform_contexts(g_s, "cat-none", 3, &rows), "platform_contexts");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);

    /* deletes: a service, then the provider with the rest */
    ok(g_s, g_s->ops->service_delete(g_s, "cat-b", "cat-s2"), "service_delete");
    assert_int_equal(g_s->ops->service_delete(g_s, "cat-b", "cat-s2"), ERR_NOT_FOUND);
    ok(g_s, g_s->ops->provider_delete(g_s, "cat-b"), "provider_delete");
    assert_int_equal(g_s->ops->provider_delete(g_s, "cat-b"), ERR_NOT_FOUND);
    assert_query(g_s, "0", "SELECT COUNT(*) FROM fulfillment_services WHERE provider_id = 'cat-b'");
    assert_query(g_s, "0",
                 "SELECT COUNT(*) FROM fulfillment_provider_balances WHERE provider_id = 'cat-b'");
    ok(g_s, g_s->ops->provider_delete(g_s, "cat-a"), "provider_delete");
    exec_ok(g_s, "DELETE FROM provider_platform_context_cache WHERE provider_id LIKE 'cat-%%'");
}

/* ---- end of catalog ---- */

/* ---- orders (spec-api-ui §4.12-4.15, 4.22; sqlite_orders.c, pg_orders.c) ---- */

static json_t *orders_json(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);

    if (v == NULL)
        fail_msg("bad test JSON: %s", e.text);
    return v;
}

static const char *orders_str(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);

    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void test_orders(void **state)
{
    json_t *in, *order, *row, *rows, *po, *po2, *ev_meta;
    char order_id[UUID_STRLEN + 1], item_id[UUID_STRLEN + 1], upper[UUID_STRLEN + 1];
    struct timeline_event ev = {0};
    size_t i;

    (void)state;
    /* intake: an order with two items, defaults for what is absent */
    in = orders_json("{\"status\": \"pending\", \"currency\": \"USD\", \"subtotal\": 12.5, "
                     "\"notes\": \"n\", \"items\": [{\"product_title\": \"A\", \"quantity\": 2, "
                     "\"unit_price\": 5, \"total_price\": 10, \"selected_options\": {\"addOns\": "
                     "[{\"serviceId\": \"svc\"}]}}, {\"product_title\": \"B\", \"quantity\": 1, "
                     "\"unit_price\": 2.5, \"total_price\": 2.5, \"product_id\": "
                     "\"AAAAAAAA-1111-4111-8111-111111111111\"}]}");
    ok(g_s, g_s->ops->order_insert(g_s, in, NOW, &order), "order_insert");
    json_decref(in);
    memcpy(order_id, orders_str(order, "id"), sizeof order_id);
    assert_string_equal(orders_str(order, "status"), "pending");
    assert_string_equal(orders_str(order, "currency"), "USD");
    assert_string_equal(orders_str(order, "source"), "checkout");
    assert_true(strlen(orders_str(order, "order_number")) > 0);
    assert_true(json_real_value(json_object_get(order, "subtotal")) == 12.5);
    assert_true(json_real_value(json_object_get(order, "tax")) == 0.0);
    assert_int_equal(json_integer_value(json_object_get(order, "created_at")), NOW);
    rows = json_object_get(order, "items");
    assert_int_equal(json_array_size(rows), 2);
    row = json_array_get(rows, 0);
    assert_string_equal(orders_str(row, "product_title"), "A");
    assert_string_equal(orders_str(row, "order_id"), order_id);
    assert_int_equal(json_integer_value(json_object_get(row, "quantity")), 2);
    assert_true(json_real_value(json_object_get(row, "unit_price")) == 5.0);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(row, "selected_options"), "addOns"), 0),
            "serviceId")),
        "svc");
    assert_true(json_is_null(json_object_get(row, "product_id")));
    memcpy(item_id, orders_str(row, "id"), sizeof item_id);
    assert_string_equal(orders_str(json_array_get(rows, 1), "product_id"),
                        "aaaaaaaa-1111-4111-8111-111111111111");
    json_decref(order);

    /* read back, change the status */
    ok(g_s, g_s->ops->order_row(g_s, order_id, &order), "order_row");
    assert_int_equal(json_array_size(json_object_get(order, "items")), 2);
    json_decref(order);
    ok(g_s, g_s->ops->order_set_status(g_s, order_id, "processing", NOW + 1), "order_set_status");
    ok(g_s, g_s->ops->order_row(g_s, order_id, &order), "order_row");
    assert_string_equal(orders_str(order, "status"), "processing");
    assert_int_equal(json_integer_value(json_object_get(order, "updated_at")), NOW + 1);
    json_decref(order);
    assert_int_equal(g_s->ops->order_row(g_s, "00000000-0000-4000-8000-000000000000", &order),
                     ERR_NOT_FOUND);
    assert_int_equal(g_s->ops->order_row(g_s, "nope", &order), ERR_NOT_FOUND);
    assert_int_equal(
        g_s->ops->order_set_status(g_s, "00000000-0000-4000-8000-000000000000", "active", NOW),
        ERR_NOT_FOUND);

    /* provider orders: insert, list by provider and by order, newest first */
    in = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:s,s:{s:s,s:f}}", "order_id", order_id,
                   "order_item_id", item_id, "provider_id", "ord-p", "provider_name", "P",
                   "service_id", "svc", "service_action", "act", "amount", 150.0, "currency", "USD",
                   "payload", "providerOrderId", "R-1", "requestedAmount", 150.0);
    ok(g_s, g_s->ops->provider_order_insert(g_s, in, NOW, &po), "provider_order_insert");
    json_object_set_new(in, "amount", json_null());
    json_object_del(in, "payload");
    ok(g_s, g_s->ops->provider_order_insert(g_s, in, NOW + 10, &po2), "provider_order_insert 2");
    json_decref(in);
    assert_true(json_real_value(json_object_get(po, "amount")) == 150.0);
    assert_true(json_is_null(json_object_get(po2, "amount")));
    assert_true(json_is_null(json_object_get(po2, "payload")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(po, "payload"), "providerOrderId")),
        "R-1");
    {
        /* the payload is stored as Python json.dumps text */
        char *v = query(g_s,
                        "SELECT CAST(payload AS TEXT) FROM fulfillment_provider_orders "
                        "WHERE id = '%s'",
                        orders_str(po, "id"));
        assert_string_equal(v, "{\"providerOrderId\": \"R-1\", \"requestedAmount\": 150.0}");
        free(v);
    }
    ok(g_s, g_s->ops->provider_orders_list(g_s, "ord-p", 10, &rows), "provider_orders_list");
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(orders_str(json_array_get(rows, 0), "id"), orders_str(po2, "id"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "created_at")),
                     NOW);
    json_decref(rows);
    ok(g_s, g_s->ops->provider_orders_list(g_s, "ord-p", 1, &rows), "provider_orders_list 1");
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    ok(g_s, g_s->ops->provider_orders_list(g_s, "nobody", 10, &rows), "provider_orders_list");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    for (i = 0; i < UUID_STRLEN; i++)
        upper[i] =
            (char)(order_id[i] >= 'a' && order_id[i] <= 'f' ? order_id[i] - 32 : order_id[i]);
    upper[UUID_STRLEN] = '\0';
    ok(g_s, g_s->ops->provider_orders_for_order(g_s, upper, 10, &rows), "for_order");
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(orders_str(json_array_get(rows, 1), "id"), orders_str(po, "id"));
    json_decref(rows);
    ok(g_s, g_s->ops->provider_orders_for_order(g_s, "x", 10, &rows), "for_order (not a UUID)");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    in = json_pack("{s:s,s:s,s:s,s:s}", "order_id", "00000000-0000-4000-8000-000000000000",
                   "order_item_id", item_id, "provider_id", "p", "service_id", "s");
    assert_int_not_equal(g_s->ops->provider_order_insert(g_s, in, NOW, &row), 0); /* FK */
    json_decref(in);
    json_decref(po);
    json_decref(po2);

    /* the timeline, newest first */
    ev_meta = json_pack("{s:s}", "k", "v");
    ev.order_id = order_id;
    ev.event_type = "state_change";
    ev.actor_type = "operator";
    ev.from_status = "pending";
    ev.to_status = "processing";
    ev.metadata = ev_meta;
    ev.created_us = NOW + 100;
    ok(g_s, g_s->ops->timeline_insert(g_s, &ev), "timeline_insert");
    ev.event_type = "note";
    ev.metadata = NULL;
    ev.created_us = NOW + 200;
    ok(g_s, g_s->ops->timeline_insert(g_s, &ev), "timeline_insert");
    json_decref(ev_meta);
    ok(g_s, g_s->ops->timeline_list(g_s, order_id, &rows), "timeline_list");
    assert_int_equal(json_array_size(rows), 2);
    row = json_array_get(rows, 0);
    assert_string_equal(orders_str(row, "event_type"), "note");
    assert_int_equal(json_integer_value(json_object_get(row, "created_at")), NOW + 200);
    assert_int_equal(json_object_size(json_object_get(row, "metadata")), 0);
    row = json_array_get(rows, 1);
    assert_string_equal(orders_str(row, "actor_type"), "operator");
    assert_string_equal(orders_str(row, "from_status"), "pending");
    assert_string_equal(orders_str(json_object_get(row, "metadata"), "k"), "v");
    assert_true(json_is_null(json_object_get(row, "notes")));
    json_decref(rows);
    ok(g_s, g_s->ops->timeline_list(g_s, "00000000-0000-4000-8000-000000000000", &rows),
       "timeline_list (unknown)");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

/* Ids of rows as "a,b,c" (caller frees), to compare a listing in one assertion. */
static char *ids_of(const json_t *rows)
{
    struct sb sb = SB_INIT;
    size_t i;
    json_t *r;
    json_array_foreach (rows, i, r)
        sb_printf(&sb, "%s%s", i ? "," : "", orders_str(r, "id"));
    return sb_detach(&sb);
}

static void assert_listing(const struct order_filter *f, size_t limit, const char *want)
{
    json_t *rows = NULL;
    ok(g_s, g_s->ops->orders_list(g_s, f, limit, &rows), "orders_list");
    char *got = ids_of(rows);
    if (strcmp(got, want) != 0)
        fail_msg("orders_list: got %s, want %s", got, want);
    free(got);
    json_decref(rows);
}

/* The order queue: newest first with id breaking ties, filters combined, keyset paging. The
 * orders are created far after every other test's, so an unfiltered listing starts with them. */
static void test_orders_list(void **state)
{
    static const char *const specs[][3] = {
        /* status, first item's selected_options, provider of its provider order */
        {"pending", "{\"presetId\": \"lp-growth\"}", "lp-a"},
        {"processing", "{\"preset_id\": \"lp-growth\"}", "lp-b"},
        {"processing", "[1, 2]", "lp-a"},
        {"completed", "null", ""},
    };
    const int64_t base = INT64_C(4000000000000000); /* 2096, after any "now" */
    char ids[4][UUID_STRLEN + 1], want[4 * (UUID_STRLEN + 1) + 1];
    json_t *order, *rows;

    (void)state;
    for (int i = 0; i < 4; i++) {
        struct sb text = SB_INIT;
        sb_printf(&text,
                  "{\"status\": \"%s\", \"currency\": \"EUR\", \"items\": [{\"product_title\": "
                  "\"A\", \"quantity\": 1, \"unit_price\": 1, \"total_price\": 1, "
                  "\"selected_options\": %s}, {\"product_title\": \"B\", \"quantity\": 1, "
                  "\"unit_price\": 1, \"total_price\": 1}]}",
                  specs[i][0], specs[i][1]);
        json_t *in = orders_json(sb_str(&text));
        sb_release(&text);
        /* orders 2 and 3 share a creation time: the id decides */
        ok(g_s, g_s->ops->order_insert(g_s, in, base + (i < 3 ? i : 2), &order), "order_insert");
        json_decref(in);
        memcpy(ids[i], orders_str(order, "id"), sizeof ids[i]);
        if (specs[i][2][0]) {
            const json_t *item = json_array_get(json_object_get(order, "items"), 0);
            json_t *po =
                json_pack("{s:s,s:s,s:s,s:s}", "order_id", ids[i], "order_item_id",
                          orders_str(item, "id"), "provider_id", specs[i][2], "service_id", "svc");
            json_t *po_row = NULL;
            ok(g_s, g_s->ops->provider_order_insert(g_s, po, base, &po_row), "po insert");
            json_decref(po);
            json_decref(po_row);
        }
        json_decref(order);
    }
    const char *hi = strcmp(ids[2], ids[3]) > 0 ? ids[2] : ids[3];
    const char *lo = hi == ids[2] ? ids[3] : ids[2];

    /* newest first, items as order_row has them */
    struct order_filter f = {0};
    snprintf(want, sizeof want, "%s,%s,%s,%s", hi, lo, ids[1], ids[0]);
    assert_listing(&f, 4, want);
    ok(g_s, g_s->ops->orders_list(g_s, &f, 1, &rows), "orders_list 1");
    assert_int_equal(json_array_size(rows), 1);
    order = json_array_get(rows, 0);
    assert_int_equal(json_array_size(json_object_get(order, "items")), 2);
    assert_int_equal(json_integer_value(json_object_get(order, "created_at")), base + 2);
    json_decref(rows);
    ok(g_s, g_s->ops->orders_list(g_s, NULL, 2, &rows), "orders_list (no filter)");
    assert_int_equal(json_array_size(rows), 2);
    json_decref(rows);

    /* each filter, then combined */
    f.preset_id = "lp-growth";
    snprintf(want, sizeof want, "%s,%s", ids[1], ids[0]);
    assert_listing(&f, 10, want);
    f.provider_id = "lp-a";
    assert_listing(&f, 10, ids[0]);
    f.status = "processing";
    assert_listing(&f, 10, "");
    f.preset_id = NULL;
    assert_listing(&f, 10, ids[2]);
    f.provider_id = NULL;
    f.status = "completed";
    assert_listing(&f, 10, ids[3]);
    f.status = NULL;
    f.provider_id = "lp-none";
    assert_listing(&f, 10, "");

    /* keyset paging: strictly after (created_at, id), through the tie */
    memset(&f, 0, sizeof f);
    f.after_created_us = base + 2;
    f.after_id = hi;
    snprintf(want, sizeof want, "%s,%s,%s", lo, ids[1], ids[0]);
    assert_listing(&f, 3, want);
    f.after_id = lo;
    snprintf(want, sizeof want, "%s,%s", ids[1], ids[0]);
    assert_listing(&f, 2, want);
    f.after_created_us = base;
    f.after_id = ids[0];
    f.status = "pending";
    ok(g_s, g_s->ops->orders_list(g_s, &f, 10, &rows), "orders_list after the oldest");
    for (size_t i = 0; i < json_array_size(rows); i++)
        assert_true(json_integer_value(json_object_get(json_array_get(rows, i), "created_at")) <
                    base);
    json_decref(rows);
}

/* ---- end of orders ---- */

/* ---- placement claims (sqlite_placements.c, pg_placements.c) ---- */

/* The number of provider order rows of an order, as text. */
static void assert_po_count(const char *order_id, const char *want)
{
    char *n = query(g_s, "SELECT COUNT(*) FROM fulfillment_provider_orders WHERE order_id = '%s'",
                    order_id);
    assert_string_equal(n, want);
    free(n);
}

static void test_placements(void **state)
{
    json_t *in, *order, *row, *stale = NULL, *out = NULL;
    char order_id[UUID_STRLEN + 1], item_id[UUID_STRLEN + 1];
    struct store *other;
    int claimed = -1;

    (void)state;
    in = orders_json("{\"status\": \"processing\", \"currency\": \"EUR\", \"items\": "
                     "[{\"product_title\": \"P\", \"quantity\": 1, \"unit_price\": 5, "
                     "\"total_price\": 5}]}");
    ok(g_s, g_s->ops->order_insert(g_s, in, NOW, &order), "order_insert");
    json_decref(in);
    memcpy(order_id, orders_str(order, "id"), sizeof order_id);
    memcpy(item_id, orders_str(json_array_get(json_object_get(order, "items"), 0), "id"),
           sizeof item_id);
    json_decref(order);
    row = json_pack("{s:s,s:s,s:s,s:s,s:f,s:s,s:{s:s}}", "order_id", order_id, "order_item_id",
                    item_id, "provider_id", "xyz", "service_id", "svc-p", "amount", 5.0, "currency",
                    "EUR", "payload", "orderId", order_id);
    struct placement_claim c = {order_id, item_id, "svc-p", "owner-a", NOW, NOW + 100, row};

    /* the first claim wins; a second, from another connection and owner, is refused */
    ok(g_s, g_s->ops->placement_claim(g_s, &c, &claimed), "placement_claim");
    assert_int_equal(claimed, 1);
    other = open_or_die(g_url);
    c.owner = "owner-b";
    claimed = -1;
    ok(other, other->ops->placement_claim(other, &c, &claimed), "placement_claim (second)");
    assert_int_equal(claimed, 0);
    assert_query(g_s, "sending|owner-a",
                 "SELECT state || '|' || owner FROM provider_order_placements");

    /* in flight until its lease ends, then stale, with what the sweep needs */
    ok(g_s, g_s->ops->placement_stale(g_s, order_id, NOW + 100, 10, &stale), "stale (in lease)");
    assert_int_equal(json_array_size(stale), 0);
    json_decref(stale);
    ok(g_s, g_s->ops->placement_stale(g_s, NULL, NOW + 101, 10, &stale), "stale (lease over)");
    assert_int_equal(json_array_size(stale), 1);
    {
        const json_t *sc = json_array_get(stale, 0);
        const json_t *planned = json_object_get(sc, "planned_row");
        assert_string_equal(orders_str(sc, "order_id"), order_id);
        assert_string_equal(orders_str(sc, "order_item_id"), item_id);
        assert_string_equal(orders_str(sc, "service_id"), "svc-p");
        assert_string_equal(orders_str(sc, "owner"), "owner-a");
        assert_int_equal(json_integer_value(json_object_get(sc, "claimed_us")), NOW);
        assert_int_equal(json_integer_value(json_object_get(sc, "lease_until_us")), NOW + 100);
        assert_string_equal(orders_str(planned, "service_id"), "svc-p");
        assert_string_equal(orders_str(json_object_get(planned, "payload"), "orderId"), order_id);
    }
    json_decref(stale);

    /* finishing under another owner writes nothing */
    assert_int_equal(
        g_s->ops->placement_finish(g_s, item_id, "svc-p", "owner-b", "placed", row, NOW + 1, &out),
        ERR_CONFLICT);
    assert_null(out);
    assert_po_count(order_id, "0");

    /* the owner finishes: the row and the claim's new state, together */
    ok(g_s,
       g_s->ops->placement_finish(g_s, item_id, "svc-p", "owner-a", "placed", row, NOW + 1, &out),
       "placement_finish");
    assert_string_equal(orders_str(out, "service_id"), "svc-p");
    {
        char *id = query(g_s, "SELECT provider_order_row_id FROM provider_order_placements");
        assert_string_equal(id, orders_str(out, "id"));
        free(id);
    }
    json_decref(out);
    out = NULL;
    assert_query(g_s, "placed", "SELECT state FROM provider_order_placements");
    assert_po_count(order_id, "1");
    /* a settled claim is not stale, not finishable again, and still refuses claims */
    ok(g_s, g_s->ops->placement_stale(g_s, NULL, NOW + 1000, 10, &stale), "stale (placed)");
    assert_int_equal(json_array_size(stale), 0);
    json_decref(stale);
    assert_int_equal(
        g_s->ops->placement_finish(g_s, item_id, "svc-p", "owner-a", "placed", row, NOW + 2, &out),
        ERR_CONFLICT);
    ok(other, other->ops->placement_claim(other, &c, &claimed), "placement_claim (placed)");
    assert_int_equal(claimed, 0);

    /* an abandoned claim: anyone records it as unknown once, under the stale owner's name */
    c.service_id = "svc-q";
    c.owner = "owner-gone";
    ok(g_s, g_s->ops->placement_claim(g_s, &c, &claimed), "placement_claim (svc-q)");
    assert_int_equal(claimed, 1);
    ok(other, other->ops->placement_stale(other, order_id, NOW + 101, 10, &stale), "stale (q)");
    assert_int_equal(json_array_size(stale), 1);
    json_decref(stale);
    json_object_set_new(row, "service_id", json_string("svc-q"));
    ok(other,
       other->ops->placement_finish(other, item_id, "svc-q", "owner-gone", "unknown", row,
                                    NOW + 101, &out),
       "placement_finish (unknown)");
    json_decref(out);
    out = NULL;
    assert_int_equal(g_s->ops->placement_finish(g_s, item_id, "svc-q", "owner-gone", "unknown", row,
                                                NOW + 102, &out),
                     ERR_CONFLICT);
    assert_query(g_s, "placed,unknown",
                 g_pg ? "SELECT string_agg(state, ',' ORDER BY service_id) "
                        "FROM provider_order_placements"
                      : "SELECT group_concat(state, ',') FROM (SELECT state FROM "
                        "provider_order_placements ORDER BY service_id)");
    assert_po_count(order_id, "2");
    ok(g_s, g_s->ops->placement_stale(g_s, NULL, NOW + 1000, 10, &stale), "stale (settled)");
    assert_int_equal(json_array_size(stale), 0);
    json_decref(stale);

    /* ids that are not UUIDs: no claims, nothing written */
    ok(g_s, g_s->ops->placement_stale(g_s, "nope", NOW + 1000, 10, &stale), "stale (nope)");
    assert_int_equal(json_array_size(stale), 0);
    json_decref(stale);
    c.order_item_id = "nope";
    assert_int_equal(g_s->ops->placement_claim(g_s, &c, &claimed), ERR_INVALID);
    assert_int_equal(claimed, 0);

    /* the claims go with their order */
    exec_ok(g_s, "DELETE FROM orders WHERE id = '%s'", order_id);
    assert_query(g_s, "0", "SELECT COUNT(*) FROM provider_order_placements");
    other->ops->close(other);
    json_decref(row);
}

static void test_status(void **state)
{
    char *v = NULL;

    (void)state;
    ok(g_s, g_s->ops->status_get(g_s, "provider_automation:status:replay", &v), "status_get");
    assert_null(v);
    ok(g_s, g_s->ops->status_put(g_s, "provider_automation:status:replay", "{\"a\": 1}"), "put");
    ok(g_s, g_s->ops->status_get(g_s, "provider_automation:status:replay", &v), "status_get");
    assert_string_equal(v, "{\"a\": 1}");
    free(v);
    ok(g_s, g_s->ops->status_put(g_s, "provider_automation:status:replay", "{\"a\": 2}"), "put");
    ok(g_s, g_s->ops->status_get(g_s, "provider_automation:status:replay", &v), "status_get");
    assert_string_equal(v, "{\"a\": 2}");
    free(v);
}

/* The guardrail follow-up ops of core/alert_store.h: every column round-trips (JSON columns
 * parsed), the status upsert follows spec-alerts §7.1 (pause/resume set is_paused, other
 * actions keep it, the name is kept when the new one is NULL), and the list pages newest
 * first with a created_at cursor. */
static void test_followups(void **state)
{
    (void)state;
    const struct alert_store_ops *a = store_alert_ops(g_s);
    char id1[37], id2[37], id3[37];
    json_t *ctx = json_pack("{s:s,s:s,s:n}", "id", "ig", "label", "Instagram", "handle");
    json_t *att =
        json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "id", "a1", "fileName", "x.png", "assetUrl",
                  "https://cdn/x.png", "storageKey", "k/x", "uploadedAt", "2025-01-01T00:00:00Z");
    struct followup_input in = {
        .provider_id = "fu-prov",
        .provider_name = "Follow Up",
        .action = "pause",
        .notes = "first",
        .source = "manual",
        .platform_context = ctx,
        .attachments = att,
        .conversion_cursor = "cur",
        .conversion_href = "https://x/conv",
        .now_us = NOW,
    };
    json_t *row = NULL, *rows = NULL;
    ok(g_s, a->guardrail_status_get(g_s, "fu-prov", &row), "guardrail_status_get");
    assert_null(row);
    ok(g_s, a->followup_insert(g_s, &in, id1), "followup_insert");
    ok(g_s, a->guardrail_status_get(g_s, "fu-prov", &row), "guardrail_status_get");
    assert_non_null(row);
    assert_true(json_is_true(json_object_get(row, "is_paused")));
    assert_string_equal(json_string_value(json_object_get(row, "last_action")), "pause");
    assert_string_equal(json_string_value(json_object_get(row, "last_source")), "manual");
    assert_string_equal(json_string_value(json_object_get(row, "last_follow_up_id")), id1);
    assert_int_equal(json_integer_value(json_object_get(row, "updated_at")), NOW);
    json_decref(row);

    in.action = "escalate_to_ops";
    in.provider_name = NULL;
    in.notes = NULL;
    in.platform_context = NULL;
    in.attachments = NULL;
    in.conversion_cursor = NULL;
    in.conversion_href = NULL;
    in.source = "automation";
    in.now_us = NOW + 1;
    ok(g_s, a->followup_insert(g_s, &in, id2), "followup_insert");
    ok(g_s, a->guardrail_status_get(g_s, "fu-prov", &row), "guardrail_status_get");
    assert_true(json_is_true(json_object_get(row, "is_paused"))); /* unchanged */
    assert_string_equal(json_string_value(json_object_get(row, "provider_name")), "Follow Up");
    assert_string_equal(json_string_value(json_object_get(row, "last_source")), "automation");
    json_decref(row);
    ok(g_s, a->followup_record(g_s, "fu-prov", NULL, "resume", "r", "automation", NOW + 2, id3),
       "followup_record");
    ok(g_s, a->guardrail_status_get(g_s, "fu-prov", &row), "guardrail_status_get");
    assert_true(json_is_false(json_object_get(row, "is_paused")));
    assert_string_equal(json_string_value(json_object_get(row, "last_follow_up_id")), id3);
    json_decref(row);

    ok(g_s, a->followup_list(g_s, "fu-prov", STORE_NO_TIME, 10, &rows), "followup_list");
    assert_int_equal(json_array_size(rows), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "id")), id3);
    json_t *first = json_array_get(rows, 2);
    assert_string_equal(json_string_value(json_object_get(first, "id")), id1);
    assert_true(json_equal(json_object_get(first, "platform_context"), ctx));
    assert_true(json_equal(json_object_get(first, "attachments"), att));
    assert_string_equal(json_string_value(json_object_get(first, "conversion_cursor")), "cur");
    assert_string_equal(json_string_value(json_object_get(first, "conversion_href")),
                        "https://x/conv");
    assert_string_equal(json_string_value(json_object_get(first, "provider_name")), "Follow Up");
    assert_int_equal(json_integer_value(json_object_get(first, "created_at")), NOW);
    json_t *second = json_array_get(rows, 1);
    assert_true(json_is_null(json_object_get(second, "platform_context")));
    assert_true(json_is_null(json_object_get(second, "notes")));
    assert_true(json_is_null(json_object_get(second, "provider_name")));
    json_decref(rows);

    ok(g_s, a->followup_list(g_s, "fu-prov", NOW + 2, 1, &rows), "followup_list cursor");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "id")), id2);
    json_decref(rows);
    ok(g_s, a->followup_list(g_s, "fu-prov", NOW, 10, &rows), "followup_list before first");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    ok(g_s, a->followup_list(g_s, "other", STORE_NO_TIME, 10, &rows), "followup_list other");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    json_decref(ctx);
    json_decref(att);
}

/* ---- concurrency ---- */

#define CONC_ORDERS 50
#define CONC_ENTRIES 10
#define CONC_ROWS (CONC_ORDERS * CONC_ENTRIES)

static pthread_barrier_t g_start;

struct claimer {
    struct store *s;
    const char *owner;
    char **keys; /* "po/entry" of every claim */
    size_t n;
    int rc;
    char err[256];
};

static void *claimer_run(void *arg)
{
    struct claimer *c = arg;
    size_t cap = 0;

    pthread_barrier_wait(&g_start);
    for (;;) {
        struct schedule_claim *cl = NULL;
        size_t n = 0, i;
        int rc =
            c->s->ops->schedule_claim(c->s, c->owner, NOW, NOW + INT64_C(3600000000), 7, &cl, &n);

        if (rc != 0) {
            c->rc = rc;
            snprintf(c->err, sizeof c->err, "%s", c->s->ops->last_error(c->s));
            return NULL;
        }
        if (n == 0)
            return NULL;
        for (i = 0; i < n; i++) {
            struct sb key = SB_INIT;

            if (c->n == cap) {
                cap = cap ? cap * 2 : 64;
                c->keys = xrealloc(c->keys, cap * sizeof *c->keys);
            }
            sb_printf(&key, "%s/%s", cl[i].provider_order_id, cl[i].entry_id);
            c->keys[c->n++] = sb_detach(&key);
        }
        schedule_claims_free(cl, n);
        sched_yield(); /* let the other connection in between our transactions */
    }
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_claim_concurrency(void **state)
{
    struct store *s2;
    int round;

    (void)state;
    if (strstr(g_url, ":memory:") != NULL)
        skip();
    clear_schedule(g_s);
    ok(g_s, g_s->ops->begin(g_s), "begin");
    for (int i = 0; i < CONC_ORDERS; i++) {
        char po[UUID_STRLEN + 1];
        struct schedule_index_entry e[CONC_ENTRIES];
        char names[CONC_ENTRIES][16];

        seed_po(g_s, "xyz", NULL, po, NULL);
        for (int j = 0; j < CONC_ENTRIES; j++) {
            snprintf(names[j], sizeof names[j], "e%d", j);
            e[j].entry_id = names[j];
            e[j].due_us = NOW - 1000 + (j * 7 + i) % 13; /* many equal due times */
            e[j].reset_claim = 0;
        }
        ok(g_s, g_s->ops->schedule_replace(g_s, po, "xyz", e, CONC_ENTRIES), "replace");
    }
    ok(g_s, g_s->ops->commit(g_s), "commit");
    s2 = open_or_die(g_url);

    pthread_barrier_init(&g_start, NULL, 2);
    for (round = 0; round < 5; round++) {
        struct claimer a = {g_s, "owner-a", NULL, 0, 0, ""}, b = {s2, "owner-b", NULL, 0, 0, ""};
        pthread_t ta, tb;
        char **all;
        size_t total, i;

        exec_ok(g_s, "UPDATE provider_replay_schedule SET state = 'pending', owner = NULL, "
                     "lease_until_us = NULL");
        assert_int_equal(pthread_create(&ta, NULL, claimer_run, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, claimer_run, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        if (a.rc != 0 || b.rc != 0)
            fail_msg("claim failed: %s %s", a.err, b.err);
        total = a.n + b.n;
        print_message("round %d: owner-a claimed %zu rows, owner-b %zu\n", round, a.n, b.n);
        all = xcalloc(total ? total : 1, sizeof *all);
        if (a.n > 0)
            memcpy(all, a.keys, a.n * sizeof *all);
        if (b.n > 0)
            memcpy(all + a.n, b.keys, b.n * sizeof *all);
        qsort(all, total, sizeof *all, str_cmp);
        for (i = 1; i < total; i++)
            if (strcmp(all[i - 1], all[i]) == 0)
                fail_msg("row %s claimed twice", all[i]);
        if (total != CONC_ROWS)
            fail_msg("claimed %zu rows (a %zu, b %zu), want %d", total, a.n, b.n, CONC_ROWS);
        assert_query(g_s, "500",
                     "SELECT COUNT(*) FROM provider_replay_schedule WHERE state = 'claimed'");
        for (i = 0; i < total; i++)
            free(all[i]);
        free(all);
        free(a.keys);
        free(b.keys);
    }
    pthread_barrier_destroy(&g_start);
    s2->ops->close(s2);
}

/* PostgreSQL: marks taken inside a transaction are locked; a second runner skips them. */
static void test_dirty_skip_locked(void **state)
{
    struct store *s2;
    char **ids1 = NULL, **ids2 = NULL;
    size_t n1 = 0, n2 = 0, i, j;
    char po[UUID_STRLEN + 1];

    (void)state;
    if (!g_pg)
        skip();
    for (i = 0; i < 4; i++)
        seed_po(g_s, "xyz", "{\"scheduledReplays\": []}", po, NULL);
    s2 = open_or_die(g_url);
    ok(g_s, g_s->ops->begin(g_s), "begin");
    ok(g_s, g_s->ops->dirty_take(g_s, 2, &ids1, &n1), "dirty_take 1");
    assert_int_equal(n1, 2);
    ok(s2, s2->ops->begin(s2), "begin 2");
    ok(s2, s2->ops->dirty_take(s2, 1000, &ids2, &n2), "dirty_take 2");
    assert_true(n2 >= 2);
    for (i = 0; i < n1; i++)
        for (j = 0; j < n2; j++)
            if (strcmp(ids1[i], ids2[j]) == 0)
                fail_msg("mark %s taken twice", ids1[i]);
    ok(s2, s2->ops->rollback(s2), "rollback 2");
    ok(g_s, g_s->ops->rollback(g_s), "rollback");
    store_strv_free(ids1, n1);
    store_strv_free(ids2, n2);
    s2->ops->close(s2);
}

/* PostgreSQL: a dropped connection fails one operation with ERR_DB, then reconnects. */
static void test_pg_reconnect(void **state)
{
    char *pid, *v = NULL;
    int rc;

    (void)state;
    if (!g_pg)
        skip();
    pid = query(g_s, "SELECT pg_backend_pid()");
    exec_ok(g_admin, "SELECT pg_terminate_backend(%s)", pid);
    free(pid);
    rc = g_s->ops->status_get(g_s, "provider_automation:status:replay", &v);
    assert_int_equal(rc, ERR_DB);
    assert_null(v);
    assert_true(strlen(g_s->ops->last_error(g_s)) > 0);
    ok(g_s, g_s->ops->status_get(g_s, "provider_automation:status:replay", &v), "after reconnect");
    assert_non_null(v); /* the private schema is still on the search path */
    free(v);
}

/* ---- main ---- */

static void remove_sqlite_files(const char *url)
{
    const char *path = strstr(url, ":///");
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    size_t i;

    if (path == NULL || strstr(url, ":memory:") != NULL)
        return;
    path += 4;
    for (i = 0; i < 4; i++) {
        struct sb f = SB_INIT;
        sb_printf(&f, "%s%s", path, suffixes[i]);
        unlink(sb_str(&f));
        sb_release(&f);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_migrate),
        cmocka_unit_test(test_migration_backfill),
        cmocka_unit_test(test_order_get),
        cmocka_unit_test(test_order_save_payload),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_dirty_trigger),
        cmocka_unit_test(test_schedule_replace),
        cmocka_unit_test(test_claim_lease_settle),
        cmocka_unit_test(test_paused_inactive),
        cmocka_unit_test(test_rate_take),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_followups),
        cmocka_unit_test(test_catalog),
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_orders_list),
        cmocka_unit_test(test_placements),
        cmocka_unit_test(test_claim_concurrency),
        cmocka_unit_test(test_dirty_skip_locked),
        cmocka_unit_test(test_pg_reconnect),
    };
    struct sb url = SB_INIT;
    int failed;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DATABASE_URL\n", argv[0]);
        return 2;
    }
    g_pg = strncmp(argv[1], "postgres", 8) == 0;
    if (g_pg) {
        char rnd[UUID_STRLEN + 1];

        uuid4(rnd);
        snprintf(g_schema, sizeof g_schema, "store_conformance_%.8s", rnd);
        g_admin = open_or_die(argv[1]);
        {
            struct sb sql = SB_INIT;
            sb_printf(&sql, "CREATE SCHEMA %s", g_schema);
            if (store_exec_sql(g_admin, sb_str(&sql)) != 0) {
                fprintf(stderr, "%s\n", g_admin->ops->last_error(g_admin));
                return 1;
            }
            sb_release(&sql);
        }
        sb_printf(&url, "%s%coptions=-csearch_path%%3D%s", argv[1],
                  strchr(argv[1], '?') ? '&' : '?', g_schema);
    } else {
        remove_sqlite_files(argv[1]);
        sb_puts(&url, argv[1]);
    }
    g_url = sb_str(&url);
    g_s = open_or_die(g_url);
    failed =
        cmocka_run_group_tests_name(g_pg ? "store-postgresql" : "store-sqlite", tests, NULL, NULL);
    g_s->ops->close(g_s);
    if (g_admin != NULL) {
        struct sb sql = SB_INIT;
        sb_printf(&sql, "DROP SCHEMA %s CASCADE", g_schema);
        if (store_exec_sql(g_admin, sb_str(&sql)) != 0)
            fprintf(stderr, "cleanup: %s\n", g_admin->ops->last_error(g_admin));
        sb_release(&sql);
        g_admin->ops->close(g_admin);
    }
    sb_release(&url);
    return failed != 0;
}
