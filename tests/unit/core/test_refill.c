/*
 * Unit tests of core/refill.c and core/schedule.c with in-memory fakes of the store and the
 * transport: the remote id rule of DECISIONS 10, the refill context, amount and entry, a whole
 * refill (request, payload, timeline), and scheduling a replay with its index rows in sync.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sb.h"
#include "core/refill.h"
#include "core/schedule.h"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    assert_non_null(v);
    return v;
}

/* ---- fakes ---- */

struct fake_store {
    struct store base;
    struct provider_order_rec order; /* the one provider order */
    int in_tx, commits, rollbacks, saves;
    json_t *saved;  /* last payload saved */
    char *index[8]; /* entry ids of the last schedule_replace */
    int64_t due[8];
    size_t nindex;
    json_t *events; /* timeline events as objects */
};

static struct fake_store *fs_of(struct store *s)
{
    return (struct fake_store *)s;
}

static const char *f_last_error(struct store *s)
{
    (void)s;
    return "fake";
}

static int f_begin(struct store *s)
{
    fs_of(s)->in_tx = 1;
    return 0;
}

static int f_commit(struct store *s)
{
    fs_of(s)->in_tx = 0;
    fs_of(s)->commits++;
    return 0;
}

static int f_rollback(struct store *s)
{
    fs_of(s)->in_tx = 0;
    fs_of(s)->rollbacks++;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int f_order_get(struct store *s, const char *id, const char *provider_id, int for_update,
                       struct provider_order_rec *out)
{
    struct fake_store *f = fs_of(s);
    (void)for_update;
    memset(out, 0, sizeof(*out));
    if (strcmp(id, f->order.id) != 0 ||
        (provider_id && strcmp(provider_id, f->order.provider_id) != 0))
        return ERR_NOT_FOUND;
    *out = f->order;
    out->id = xstrdup(f->order.id);
    out->order_id = dup_or_null(f->order.order_id);
    out->order_item_id = dup_or_null(f->order.order_item_id);
    out->provider_id = xstrdup(f->order.provider_id);
    out->provider_name = dup_or_null(f->order.provider_name);
    out->service_id = dup_or_null(f->order.service_id);
    out->service_action = dup_or_null(f->order.service_action);
    out->currency = dup_or_null(f->order.currency);
    out->payload = f->saved ? json_deep_copy(f->saved) : json_deep_copy(f->order.payload);
    return 0;
}

static int f_save(struct store *s, const char *id, const json_t *payload, int64_t now)
{
    struct fake_store *f = fs_of(s);
    (void)id;
    (void)now;
    assert_true(f->in_tx);
    json_decref(f->saved);
    f->saved = json_deep_copy(payload);
    f->saves++;
    return 0;
}

static int f_replace(struct store *s, const char *po, const char *provider,
                     const struct schedule_index_entry *e, size_t n)
{
    struct fake_store *f = fs_of(s);
    (void)po;
    (void)provider;
    assert_true(f->in_tx);
    for (size_t i = 0; i < f->nindex; i++)
        free(f->index[i]);
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        f->index[i] = xstrdup(e[i].entry_id);
        f->due[i] = e[i].due_us;
    }
    f->nindex = n;
    return 0;
}

static int f_timeline(struct store *s, const struct timeline_event *ev)
{
    json_t *e = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:O?}", "order_id", ev->order_id, "event_type",
                          ev->event_type, "actor_type", ev->actor_type, "actor_label",
                          ev->actor_label, "notes", ev->notes, "metadata", ev->metadata);
    json_array_append_new(fs_of(s)->events, e);
    return 0;
}

static const struct store_ops fake_ops = {
    .name = "fake",
    .last_error = f_last_error,
    .begin = f_begin,
    .commit = f_commit,
    .rollback = f_rollback,
    .order_get = f_order_get,
    .order_save_payload = f_save,
    .schedule_replace = f_replace,
    .timeline_insert = f_timeline,
};

static void fake_init(struct fake_store *f, const char *payload)
{
    memset(f, 0, sizeof(*f));
    f->base.ops = &fake_ops;
    static char id[] = "11111111-1111-4111-8111-111111111111";
    static char order_id[] = "22222222-2222-4222-8222-222222222222";
    static char item_id[] = "33333333-3333-4333-8333-333333333333";
    static char provider_id[] = "p1", provider_name[] = "Provider 1", service_id[] = "svc";
    static char service_action[] = "followers", currency[] = "EUR";
    f->order.id = id;
    f->order.order_id = order_id;
    f->order.order_item_id = item_id;
    f->order.provider_id = provider_id;
    f->order.provider_name = provider_name;
    f->order.service_id = service_id;
    f->order.service_action = service_action;
    f->order.currency = currency;
    f->order.has_amount = 1;
    f->order.amount = 12.5;
    f->order.payload = load(payload);
    f->events = json_array();
}

static void fake_release(struct fake_store *f)
{
    json_decref(f->order.payload);
    json_decref(f->saved);
    json_decref(f->events);
    for (size_t i = 0; i < f->nindex; i++)
        free(f->index[i]);
}

struct fake_transport {
    struct http_transport base;
    int calls;
    char *body; /* the last request body */
    long status;
    const char *answer;
};

static int t_perform(struct http_transport *t, const struct http_request *reqs,
                     struct http_response *resps, size_t n, int cap)
{
    struct fake_transport *f = (struct fake_transport *)t;
    (void)cap;
    assert_int_equal(n, 1);
    f->calls++;
    free(f->body);
    f->body = reqs[0].body ? xstrndup(reqs[0].body, reqs[0].body_len) : NULL;
    memset(&resps[0], 0, sizeof(resps[0]));
    resps[0].outcome = HTTP_OUTCOME_RESPONSE;
    resps[0].status = f->status;
    resps[0].request_sent = 1;
    resps[0].content_type = xstrdup("application/json");
    resps[0].body = xstrdup(f->answer);
    resps[0].body_len = strlen(f->answer);
    return 0;
}

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return INT64_C(1735689600000000); /* 2025-01-01T00:00:00Z */
}

#define META                                                                                       \
    "{\"automation\": {\"apiKey\": \"k\", \"endpoints\": {\"refill\": {\"url\": "                  \
    "\"http://p/refill\", \"payload\": {\"order\": \"{{providerOrderId}}\", \"amount\": "          \
    "\"{{amount}}\", \"key\": \"{{apiKey}}\"}}}}}"

/* ---- tests ---- */

static void test_remote_id(void **state)
{
    (void)state;
    json_t *p = load("{\"orderId\": \"internal\"}");
    assert_null(refill_remote_id(p)); /* DECISIONS 10: never the internal order id */
    json_decref(p);
    p = load("{\"providerOrderId\": \"  \", \"provider_order_id\": 77, \"orderId\": \"x\"}");
    char *id = refill_remote_id(p);
    assert_string_equal(id, "77");
    free(id);
    json_decref(p);
    p = load("{\"providerOrderID\": \" R-1 \"}");
    id = refill_remote_id(p);
    assert_string_equal(id, "R-1");
    free(id);
    json_decref(p);
    p = load("{\"providerOrderId\": true}");
    assert_null(refill_remote_id(p));
    json_decref(p);
}

static void test_context_and_entry(void **state)
{
    struct fake_store f;
    (void)state;
    fake_init(&f, "{\"link\": \"https://x\", \"amount\": 1, \"nested\": {}}");
    json_t *meta = load(META);
    json_t *amount = refill_amount(&f.order, NULL);
    assert_true(json_is_real(amount) && json_real_value(amount) == 12.5);
    json_t *ctx = refill_context(meta, &f.order, "R-1", amount);
    assert_string_equal(json_string_value(json_object_get(ctx, "apiKey")), "k");
    assert_string_equal(json_string_value(json_object_get(ctx, "providerOrderId")), "R-1");
    assert_string_equal(json_string_value(json_object_get(ctx, "link")), "https://x");
    assert_true(json_real_value(json_object_get(ctx, "amount")) == 12.5); /* not the payload's */
    assert_null(json_object_get(ctx, "nested"));
    json_t *e = refill_entry(amount, "EUR", fixed_now(NULL), NULL);
    assert_string_equal(json_string_value(json_object_get(e, "performedAt")),
                        "2025-01-01T00:00:00+00:00");
    assert_int_equal(json_object_size(e), 5);
    json_decref(e);
    json_decref(ctx);
    json_decref(amount);
    f.order.has_amount = 0;
    amount = refill_amount(&f.order, NULL);
    assert_true(json_is_null(amount));
    json_decref(amount);
    json_decref(meta);
    fake_release(&f);
}

static void test_refill_now(void **state)
{
    struct fake_store f;
    struct fake_transport t = {{t_perform, NULL}, 0, NULL, 200, "{\"refill\": \"RF\"}"};
    static char pid[] = "p1", pname[] = "Provider 1";
    struct provider_rec p = {.id = pid, .name = pname};
    struct replay_env env = {.store = &f.base, .transport = &t.base, .now_us = fixed_now};
    json_t *entry = NULL, *extra = json_pack("{s:s}", "providerId", "p1");
    struct refill_trigger trig = {"operator", "ops", "please", extra};
    char *error = NULL;
    (void)state;
    fake_init(&f, "{\"providerOrderId\": \"R-1\", \"scheduledReplays\": [{\"id\": \"s1\", "
                  "\"scheduledFor\": \"2030-01-01T00:00:00\"}]}");
    p.metadata = load(META);
    json_t *amount = json_real(5.0);
    assert_int_equal(refill_now(&env, &p, f.order.id, amount, &trig, &entry, &error), 0);
    assert_null(error);
    assert_int_equal(t.calls, 1);
    assert_string_equal(t.body, "{\"order\": \"R-1\", \"amount\": \"5.0\", \"key\": \"k\"}");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(entry, "response"), "refill")), "RF");
    json_t *refills = json_object_get(f.saved, "refills");
    assert_int_equal(json_array_size(refills), 1);
    assert_int_equal(f.nindex, 1); /* saved with its index rows */
    assert_string_equal(f.index[0], "s1");
    json_t *ev = json_array_get(f.events, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "event_type")), "refill_completed");
    assert_string_equal(json_string_value(json_object_get(ev, "actor_label")), "ops");
    json_t *meta = json_object_get(ev, "metadata");
    assert_string_equal(json_string_value(json_object_get(meta, "providerId")), "p1");
    assert_string_equal(json_string_value(json_object_get(meta, "timelineEntryId")),
                        json_string_value(json_object_get(entry, "id")));
    json_decref(entry);

    /* A provider error persists nothing. */
    t.status = 500;
    assert_int_equal(refill_now(&env, &p, f.order.id, NULL, &trig, &entry, &error), ERR_IO);
    assert_non_null(strstr(error, "Server error '500 Internal Server Error'"));
    free(error);
    assert_int_equal(f.saves, 1);
    /* Unknown order, wrong provider. */
    assert_int_equal(
        refill_now(&env, &p, "99999999-1111-4111-8111-111111111111", NULL, &trig, &entry, &error),
        ERR_NOT_FOUND);
    assert_string_equal(error, "Provider order not found");
    free(error);
    json_decref(p.metadata);
    p.metadata = load("{\"automation\": {}}");
    assert_int_equal(refill_now(&env, &p, f.order.id, NULL, &trig, &entry, &error), ERR_INVALID);
    assert_string_equal(error, REFILL_MSG_NO_ENDPOINT);
    free(error);
    json_decref(amount);
    json_decref(extra);
    json_decref(p.metadata);
    free(t.body);
    fake_release(&f);
}

static void test_schedule_replay(void **state)
{
    struct fake_store f;
    struct replay_env env = {.now_us = fixed_now};
    json_t *entry = NULL, *extra = json_pack("{s:s}", "trigger", "admin_replay");
    struct replay_trigger trig = {"operator", NULL, NULL, extra};
    char *error = NULL, when[ISO_BUFSZ];
    (void)state;
    fake_init(&f, "{\"serviceRules\": [{\"id\": \"r\"}], \"scheduledReplays\": [{\"id\": "
                  "\"bad\"}]}");
    env.store = &f.base;
    assert_int_equal(schedule_render_time("2030-01-01T10:00:00", when), 0);
    assert_string_equal(when, "2030-01-01T10:00:00+00:00");
    assert_int_equal(schedule_render_time("2030-01-01T10:00:00+02:00", when), 0);
    assert_string_equal(when, "2030-01-01T10:00:00+02:00");
    assert_int_equal(schedule_render_time("later", when), ERR_INVALID);

    assert_int_equal(schedule_replay(&env, "p1", f.order.id, NULL, "2030-01-01T10:00:00+02:00",
                                     &trig, &entry, &error),
                     0);
    assert_string_equal(json_string_value(json_object_get(entry, "status")), "scheduled");
    assert_true(json_is_null(json_object_get(entry, "requestedAmount")));
    assert_non_null(json_object_get(entry, "ruleIds"));
    assert_int_equal(f.commits, 1);
    /* The new entry is indexed (due at 08:00Z); the invalid one is failed on the way. */
    assert_int_equal(f.nindex, 1);
    assert_string_equal(f.index[0], json_string_value(json_object_get(entry, "id")));
    assert_true(f.due[0] == INT64_C(1893484800000000));
    json_t *bad = json_array_get(json_object_get(f.saved, "scheduledReplays"), 0);
    assert_string_equal(json_string_value(json_object_get(bad, "status")), "failed");
    assert_int_equal(json_array_size(f.events), 2);
    json_t *ev = json_array_get(f.events, 1);
    assert_string_equal(json_string_value(json_object_get(ev, "event_type")), "replay_scheduled");
    assert_string_equal(json_string_value(json_object_get(ev, "notes")),
                        "Replay scheduled for 2030-01-01T10:00:00+02:00");
    json_decref(entry);
    assert_int_equal(
        schedule_replay(&env, "p2", f.order.id, NULL, "2030-01-01", &trig, &entry, &error),
        ERR_NOT_FOUND);
    assert_string_equal(error, "Provider order not found");
    free(error);
    assert_int_equal(f.rollbacks, 1);
    json_decref(extra);
    fake_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_id),
        cmocka_unit_test(test_context_and_entry),
        cmocka_unit_test(test_refill_now),
        cmocka_unit_test(test_schedule_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
