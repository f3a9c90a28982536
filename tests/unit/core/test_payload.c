/*
 * Unit tests of core/payload.c and core/rules.c: due selection (which scheduledReplays entries
 * are pending and when they are due), the state changes of a schedule entry, the backlog the
 * index reflects, the rule context, and the timeline metadata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "base/iso8601.h"
#include "core/payload.h"
#include "core/rules.h"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    assert_non_null(v);
    return v;
}

static int64_t at(const char *iso)
{
    struct iso_time t;
    assert_int_equal(iso_parse(iso, strlen(iso), &t), 0);
    return t.utc_us;
}

static const char *str_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_due_selection(void **state)
{
    (void)state;
    json_t *p = load(
        "{\"scheduledReplays\": ["
        "{\"id\": \"a\", \"scheduledFor\": \"2025-01-01T10:00:00+02:00\", \"status\": "
        "\"scheduled\"},"
        "{\"id\": \"b\", \"scheduledFor\": \"2025-01-01T09:00:00\"},"
        "{\"id\": \"c\", \"scheduledFor\": \"2025-01-01T00:00:00Z\", \"status\": \"executed\"},"
        "{\"id\": \"d\", \"scheduledFor\": \"2025-01-01T00:00:00Z\", \"status\": \"Scheduled\"},"
        "\"not an object\","
        "{\"id\": \"e\", \"scheduledFor\": \"2025-01-01T00:00:00Z\", \"status\": \"scheduled\","
        " \"nextAttemptAt\": \"2025-01-02T00:00:00+00:00\"}]}");
    struct payload_index ix;
    payload_index_derive(p, "EUR", at("2025-06-01T00:00:00Z"), &ix);
    assert_int_equal(ix.n, 3); /* a, b (missing status counts as scheduled), e */
    assert_false(ix.mutated);
    assert_null(ix.invalid);
    assert_string_equal(ix.entries[0].entry_id, "a");
    assert_true(ix.entries[0].due_us == at("2025-01-01T08:00:00Z")); /* offset honored */
    assert_string_equal(ix.entries[1].entry_id, "b");
    assert_true(ix.entries[1].due_us == at("2025-01-01T09:00:00Z")); /* naive is UTC */
    assert_string_equal(ix.entries[2].entry_id, "e");
    assert_true(ix.entries[2].due_us == at("2025-01-02T00:00:00Z")); /* a retry waits */
    payload_index_release(&ix);
    json_decref(p);
}

static void test_ids_assigned_and_invalid_times_failed(void **state)
{
    (void)state;
    json_t *p =
        load("{\"serviceRules\": [{\"id\": \" r1 \", \"label\": \" L \"}],"
             " \"scheduledReplays\": ["
             "{\"scheduledFor\": \"2025-01-01T00:00:00+00:00\", \"requestedAmount\": \"7\"},"
             "{\"id\": \"\", \"scheduledFor\": \"2025-01-01T00:00:00+00:00\"},"
             "{\"id\": 42, \"scheduledFor\": \"2025-01-01T00:00:00+00:00\"},"
             "{\"id\": \"bad\", \"scheduledFor\": \"yesterday\", \"requestedAmount\": 3},"
             "{\"id\": \"none\"}]}");
    int64_t now = at("2025-06-01T00:00:00Z");
    struct payload_index ix;
    payload_index_derive(p, "EUR", now, &ix);
    assert_true(ix.mutated);
    assert_int_equal(ix.n, 3);
    json_t *arr = json_object_get(p, "scheduledReplays");
    assert_int_equal(strlen(str_at(json_array_get(arr, 0), "id")), 36);
    assert_int_equal(strlen(str_at(json_array_get(arr, 1), "id")), 36);
    assert_string_equal(str_at(json_array_get(arr, 2), "id"), "42");
    assert_int_equal(json_array_size(ix.invalid), 2);
    for (size_t i = 3; i < 5; i++) {
        json_t *e = json_array_get(arr, i);
        assert_string_equal(str_at(e, "status"), "failed");
        assert_string_equal(str_at(json_object_get(e, "response"), "error"),
                            "invalid scheduledFor");
        assert_string_equal(str_at(e, "performedAt"), "2025-06-01T00:00:00+00:00");
        assert_non_null(json_object_get(json_object_get(e, "ruleMetadata"), "r1"));
    }
    json_t *replays = json_object_get(p, "replays");
    assert_int_equal(json_array_size(replays), 2);
    json_t *failed = json_array_get(replays, 0);
    assert_string_equal(str_at(failed, "status"), "failed");
    assert_true(json_real_value(json_object_get(failed, "requestedAmount")) == 3.0);
    assert_string_equal(str_at(failed, "currency"), "EUR");
    payload_index_release(&ix);
    json_decref(p);
}

static void test_state_changes(void **state)
{
    (void)state;
    json_t *p = load(
        "{\"serviceRules\": [{\"id\": \"r1\", \"priority\": 2.9, \"conditions\": [1, {\"k\": 1}]}],"
        " \"providerOrderId\": \"old\","
        " \"scheduledReplays\": [{\"id\": \"s1\", \"scheduledFor\": \"2025-01-01T00:00:00Z\"},"
        " {\"id\": \"s2\", \"scheduledFor\": \"2025-01-01T00:00:00Z\", \"ruleMetadata\": {\"x\": "
        "1}}]}");
    int64_t now = at("2025-03-01T12:00:00.123456Z");
    json_t *resp = load("{\"order\": 9}");
    json_t *amount = json_real(150.0);
    json_t *entry = payload_replay_entry(p, amount, "USD", now, "executed", resp);
    assert_string_equal(str_at(entry, "performedAt"), "2025-03-01T12:00:00.123456+00:00");
    assert_int_equal(json_array_size(json_object_get(entry, "ruleIds")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(entry, "ruleIds"), 0)),
                        "r1");
    json_t *snap = json_object_get(json_object_get(entry, "ruleMetadata"), "r1");
    assert_int_equal(json_integer_value(json_object_get(snap, "priority")), 2);
    assert_int_equal(json_array_size(json_object_get(snap, "conditions")), 1);

    payload_record_executed(p, entry, "new-9");
    assert_string_equal(str_at(p, "providerOrderId"), "new-9");
    assert_true(json_equal(json_object_get(p, "providerResponse"), resp));

    json_t *s1 = payload_find_schedule(p, "s1");
    assert_non_null(s1);
    payload_schedule_executed(p, s1, entry, now);
    assert_string_equal(str_at(s1, "status"), "executed");
    assert_true(json_equal(json_object_get(s1, "response"), entry));
    assert_non_null(json_object_get(json_object_get(s1, "ruleMetadata"), "r1"));

    json_t *s2 = payload_find_schedule(p, "s2");
    payload_schedule_retry(s2, 1, "boom", now + 30000000);
    assert_int_equal(payload_schedule_attempts(s2), 1);
    assert_string_equal(str_at(s2, "nextAttemptAt"), "2025-03-01T12:00:30.123456+00:00");
    struct payload_index ix;
    payload_index_derive(p, NULL, now, &ix);
    assert_int_equal(ix.n, 1); /* the backlog: s2 only */
    assert_true(ix.entries[0].due_us == now + 30000000);
    payload_index_reset(&ix, "s2");
    assert_int_equal(ix.entries[0].reset_claim, 1);
    payload_index_release(&ix);

    payload_schedule_failed(p, s2, "boom", now);
    assert_string_equal(str_at(s2, "status"), "failed");
    assert_null(json_object_get(s2, "nextAttemptAt"));
    /* an existing truthy ruleMetadata is kept */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s2, "ruleMetadata"), "x")),
                     1);
    payload_index_derive(p, NULL, now, &ix);
    assert_int_equal(ix.n, 0);
    payload_index_release(&ix);
    assert_null(payload_find_schedule(p, "missing"));
    json_decref(entry);
    json_decref(resp);
    json_decref(amount);
    json_decref(p);
}

static void test_to_float(void **state)
{
    (void)state;
    json_t *v;
    json_t *i = json_integer(150);
    v = payload_to_float(i);
    assert_true(json_is_real(v) && json_real_value(v) == 150.0);
    json_decref(v);
    json_decref(i);
    json_t *t = json_true();
    v = payload_to_float(t);
    assert_true(json_real_value(v) == 1.0);
    json_decref(v);
    json_t *s = json_string(" 12.5 ");
    v = payload_to_float(s);
    assert_true(json_real_value(v) == 12.5);
    json_decref(v);
    json_decref(s);
    s = json_string("abc");
    v = payload_to_float(s);
    assert_true(json_is_null(v));
    json_decref(v);
    json_decref(s);
    v = payload_to_float(NULL);
    assert_true(json_is_null(v));
    json_decref(v);
}

static void test_rules_and_timeline(void **state)
{
    (void)state;
    json_t *p = load("{\"serviceRules\": [{\"id\": \"a\", \"label\": \"A\"}, {\"id\": \"  \"}, 5,"
                     " {\"id\": \"b\"}, {\"id\": \"a\", \"label\": \"A2\"}]}");
    json_t *ids, *meta;
    rules_context(p, &ids, &meta);
    assert_int_equal(json_array_size(ids), 3); /* duplicates kept */
    assert_string_equal(str_at(json_object_get(meta, "a"), "label"), "A2");
    json_t *labels = rules_labels(ids, meta);
    assert_string_equal(json_string_value(json_array_get(labels, 1)), "b");
    json_decref(labels);
    json_decref(ids);
    json_decref(meta);
    json_t *none = load("{\"serviceRules\": \"nope\"}");
    rules_context(none, &ids, &meta);
    assert_null(ids);
    assert_null(meta);
    json_decref(none);

    struct provider_order_rec o = {0};
    o.id = (char *)"po-1";
    o.order_id = (char *)"o-1";
    o.provider_id = (char *)"p";
    o.service_id = (char *)"svc";
    json_t *e = load("{\"id\": \"e1\", \"status\": \"executed\", \"currency\": null, \"x\": 1}");
    json_t *extra =
        load("{\"trigger\": \"scheduled_replay\", \"status\": \"override\", \"gone\": null}");
    json_t *m = payload_timeline_metadata(&o, e, extra);
    assert_string_equal(str_at(m, "providerOrderId"), "po-1");
    assert_string_equal(str_at(m, "timelineEntryId"), "e1");
    assert_string_equal(str_at(m, "status"), "override");
    assert_null(json_object_get(m, "currency"));
    assert_null(json_object_get(m, "providerName"));
    assert_null(json_object_get(m, "x"));
    assert_null(json_object_get(m, "gone"));
    json_decref(m);
    json_decref(e);
    json_decref(extra);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_selection),
        cmocka_unit_test(test_ids_assigned_and_invalid_times_failed),
        cmocka_unit_test(test_state_changes),
        cmocka_unit_test(test_to_float),
        cmocka_unit_test(test_rules_and_timeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
