/*
 * Unit tests of core/snapshot.c and core/placement.c: guardrail statuses and the telemetry
 * counters of the automation snapshot with their sum over providers, and the pure parts of
 * provider-order placement (qualifying add-ons, creation payload, context, remote id).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/placement.h"
#include "core/snapshot.h"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("bad JSON in test: %s", err.text);
    return v;
}

static void assert_json(const json_t *got, const char *want_text)
{
    json_t *want = load(want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s\nwant %s", g, want_text);
    }
    json_decref(want);
}

static void test_guardrail_status(void **state)
{
    (void)state;
    json_t *c = load("{\"minimumMarginPercent\": 20, \"warningMarginPercent\": \"40\", "
                     "\"minimumMarginAbsolute\": null}");
    assert_string_equal(snapshot_guardrail_status(c, 0, 1), "idle");
    assert_string_equal(snapshot_guardrail_status(c, 10, 5), "pass");
    assert_string_equal(snapshot_guardrail_status(c, 10, 7), "warn");
    assert_string_equal(snapshot_guardrail_status(c, 10, 9), "fail");
    json_decref(c);
    c = load("{\"minimumMarginAbsolute\": 3}");
    assert_string_equal(snapshot_guardrail_status(c, 10, 8), "fail");
    assert_string_equal(snapshot_guardrail_status(c, 10, 6), "pass");
    json_decref(c);
}

static void test_telemetry(void **state)
{
    (void)state;
    json_t *a = snapshot_telemetry_new(), *b = snapshot_telemetry_new();
    json_t *agg = snapshot_telemetry_new();
    json_t *r1 = load("{\"service_id\": \"s1\", \"amount\": 10.0, \"payload\": {"
                      "\"guardrails\": {\"minimumMarginPercent\": 20}, \"providerCostAmount\": "
                      "\"5\", \"replays\": [{\"status\": \"executed\"}, {\"status\": \"failed\"}, "
                      "{}, 1], \"scheduledReplays\": [{\"status\": \"scheduled\"}, {}], "
                      "\"serviceRules\": [{\"id\": \"r\", \"label\": \"A\"}, {\"id\": \" \"}, "
                      "{\"id\": \"r\", \"label\": \" \"}]}}");
    json_t *r2 = load("{\"service_id\": null, \"provider_id\": \"p2\", \"amount\": 0, "
                      "\"payload\": {\"service\": {\"metadata\": {\"guardrails\": {}}}, "
                      "\"providerCostAmount\": 1, \"serviceRules\": [{\"id\": \"r\", \"label\": "
                      "\"B\"}]}}");
    json_t *r3 = load("{\"amount\": 5, \"payload\": {\"guardrails\": {}, "
                      "\"providerCostAmount\": \"\"}}");
    json_t *r4 = load("{\"amount\": 5, \"payload\": null}");
    snapshot_add_order(a, r1);
    snapshot_add_order(b, r2);
    snapshot_add_order(b, r3);
    snapshot_add_order(b, r4);
    assert_json(a,
                "{\"totalOrders\": 1, \"replays\": {\"total\": 3, \"executed\": 1, \"failed\": "
                "1, \"scheduled\": 1}, \"guardrails\": {\"evaluated\": 1, \"pass\": 1, "
                "\"warn\": 0, \"fail\": 0}, \"guardrailHitsByService\": {\"s1\": {\"evaluated\": "
                "1, \"pass\": 1, \"warn\": 0, \"fail\": 0}}, \"ruleOverridesByService\": {\"s1\": "
                "{\"totalOverrides\": 2, \"rules\": {\"r\": {\"id\": \"r\", \"label\": \"A\", "
                "\"count\": 2}}}}}");
    assert_json(b,
                "{\"totalOrders\": 3, \"replays\": {\"total\": 0, \"executed\": 0, \"failed\": "
                "0, \"scheduled\": 0}, \"guardrails\": {\"evaluated\": 1, \"pass\": 0, "
                "\"warn\": 0, \"fail\": 0}, \"guardrailHitsByService\": {\"p2\": {\"evaluated\": "
                "1, \"pass\": 0, \"warn\": 0, \"fail\": 0}}, \"ruleOverridesByService\": {\"p2\": "
                "{\"totalOverrides\": 1, \"rules\": {\"r\": {\"id\": \"r\", \"label\": \"B\", "
                "\"count\": 1}}}}}");
    snapshot_merge(agg, a);
    snapshot_merge(agg, b);
    assert_int_equal(json_integer_value(json_object_get(agg, "totalOrders")), 4);
    assert_json(json_object_get(agg, "guardrails"),
                "{\"evaluated\": 2, \"pass\": 1, \"warn\": 0, \"fail\": 0}");
    assert_json(
        json_object_get(agg, "ruleOverridesByService"),
        "{\"s1\": {\"totalOverrides\": 2, \"rules\": {\"r\": {\"id\": \"r\", \"label\": "
        "\"A\", \"count\": 2}}}, \"p2\": {\"totalOverrides\": 1, \"rules\": {\"r\": {\"id\": "
        "\"r\", \"label\": \"B\", \"count\": 1}}}}");
    json_t *x = snapshot_telemetry_new(), *y = snapshot_telemetry_new();
    json_t *u = load("{\"service_id\": \"s\", \"payload\": {\"serviceRules\": [{\"id\": \"r\"}]}}");
    json_t *v = load("{\"service_id\": \"s\", \"payload\": {\"serviceRules\": [{\"id\": \"r\", "
                     "\"label\": \"L\"}]}}");
    snapshot_add_order(x, u);
    snapshot_add_order(y, v);
    json_t *sum = snapshot_telemetry_new();
    snapshot_merge(sum, x);
    snapshot_merge(sum, y); /* the first non-empty label wins */
    assert_json(json_object_get(sum, "ruleOverridesByService"),
                "{\"s\": {\"totalOverrides\": 2, \"rules\": {\"r\": {\"id\": \"r\", \"label\": "
                "\"L\", \"count\": 2}}}}");
    json_t *values[] = {a, b, agg, r1, r2, r3, r4, x, y, u, v, sum};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        json_decref(values[i]);
}

/* The follow-up variant (spec-alerts §3.3) against the same kind of rows: snake_case lists and
 * keys, case-folded statuses, idle orders skipped, first labels kept, buckets only for valid
 * rules, and NULL for no rows. */
static void test_followup_telemetry(void **state)
{
    (void)state;
    assert_null(snapshot_followup_telemetry(NULL));
    json_t *empty = json_array();
    assert_null(snapshot_followup_telemetry(empty));
    json_decref(empty);
    json_t *rows =
        load("[{\"service_id\": \"s1\", \"amount\": 100, \"payload\": {\"guardrails\": "
             "{\"minimum_margin_percent\": 10, \"warning_margin_percent\": 50}, "
             "\"providerCostAmount\": 70, \"replay_entries\": [{\"status\": \" Executed \"}, "
             "{\"status\": \"FAILED\"}, {\"status\": \"queued\"}], \"scheduled_replays\": "
             "[{\"status\": \"Scheduled\"}, {\"status\": \"done\"}], \"serviceRules\": [{\"id\": "
             "\"r\", \"label\": \"First\"}, {\"id\": \"r\", \"label\": \"Second\"}]}},"
             " {\"service_id\": \"s1\", \"amount\": 0, \"payload\": {\"guardrails\": "
             "{\"minimumMarginPercent\": 10}, \"providerCostAmount\": 1, \"replays\": [], "
             "\"scheduledReplays\": [{\"status\": \"scheduled\"}]}},"
             " {\"service_id\": \"s2\", \"amount\": 100, \"payload\": {\"guardrails\": "
             "{\"minimumMarginAbsolute\": 20, \"minimum_margin_absolute\": 1}, "
             "\"providerCostAmount\": \"95\", \"serviceRules\": [{\"id\": \" \"}, 3]}},"
             " {\"service_id\": \"s3\", \"amount\": 100, \"payload\": {\"serviceRules\": [{\"id\": "
             "\"x\"}, {\"id\": \"x\", \"label\": \"Late\"}]}}]");
    json_t *tel = snapshot_followup_telemetry(rows);
    assert_non_null(tel);
    assert_json(tel,
                "{\"totalOrders\": 4, \"replays\": {\"total\": 3, \"executed\": 1, \"failed\": "
                "1, \"scheduled\": 2}, \"guardrails\": {\"evaluated\": 2, \"pass\": 0, "
                "\"warn\": 1, \"fail\": 1}, \"guardrailHitsByService\": {\"s1\": {\"evaluated\": "
                "1, \"pass\": 0, \"warn\": 1, \"fail\": 0}, \"s2\": {\"evaluated\": 1, \"pass\": "
                "0, \"warn\": 0, \"fail\": 1}}, \"ruleOverridesByService\": {\"s1\": "
                "{\"totalOverrides\": 2, \"rules\": {\"r\": {\"id\": \"r\", \"label\": "
                "\"First\", \"count\": 2}}}, \"s3\": {\"totalOverrides\": 2, \"rules\": {\"x\": "
                "{\"id\": \"x\", \"label\": null, \"count\": 2}}}}}");
    /* The same rows in the snapshot's rules differ where §3.3 says they do. */
    json_t *snap = snapshot_telemetry_new();
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row)
        snapshot_add_order(snap, row);
    assert_json(json_object_get(snap, "replays"),
                "{\"total\": 0, \"executed\": 0, \"failed\": 0, \"scheduled\": 1}");
    assert_json(json_object_get(snap, "guardrails"),
                "{\"evaluated\": 3, \"pass\": 1, \"warn\": 0, \"fail\": 1}");
    assert_non_null(json_object_get(json_object_get(snap, "ruleOverridesByService"), "s2"));
    json_decref(snap);
    json_decref(tel);
    json_decref(rows);
}

static void test_placement(void **state)
{
    (void)state;
    json_t *opts = load("{\"presetId\": \"p\", \"addOns\": [{\"id\": \"a1\", \"pricingMode\": "
                        "\"serviceOverride\", \"serviceId\": \"svc\", \"pricingAmount\": 150, "
                        "\"priceDelta\": \"2.5\", \"serviceProviderId\": \"over\", "
                        "\"providerCostAmount\": 90, \"payloadTemplate\": {\"x\": 1}, "
                        "\"serviceRules\": [{\"id\": \"r\"}], \"dripPerDay\": null}, "
                        "{\"pricingMode\": \"serviceOverride\", \"serviceId\": \" \"}, "
                        "{\"pricingMode\": \"flat\", \"serviceId\": \"svc\"}, 7]}");
    json_t *addons = placement_addons(opts);
    assert_int_equal(json_array_size(addons), 1);
    json_t *svc = load("{\"id\": \"svc\", \"provider_id\": \"p1\", \"name\": \"S\", \"action\": "
                       "\"follow\", \"status\": \"active\", \"health_status\": \"unknown\", "
                       "\"category\": null, \"metadata_json\": {\"m\": 1}, "
                       "\"rate_limit_per_minute\": 5}");
    json_t *desc = placement_service_descriptor(svc);
    assert_json(desc, "{\"id\": \"svc\", \"providerId\": \"p1\", \"name\": \"S\", \"action\": "
                      "\"follow\", \"status\": \"active\", \"healthStatus\": \"unknown\", "
                      "\"metadata\": {\"m\": 1}, \"rateLimitPerMinute\": 5}");
    json_t *item = load("{\"id\": \"item-1\", \"product_id\": null, \"attributes\": "
                        "{\"productSlug\": \"slug\"}}");
    json_t *payload = placement_payload("order-1", item, json_array_get(addons, 0), desc);
    assert_json(payload,
                "{\"orderId\": \"order-1\", \"orderItemId\": \"item-1\", \"productSlug\": "
                "\"slug\", \"addOnId\": \"a1\", \"pricingMode\": \"serviceOverride\", "
                "\"requestedAmount\": 150.0, \"fallbackDelta\": 2.5, \"service\": {\"id\": "
                "\"svc\", \"providerId\": \"p1\", \"name\": \"S\", \"action\": \"follow\", "
                "\"status\": \"active\", \"healthStatus\": \"unknown\", \"metadata\": {\"m\": 1}, "
                "\"rateLimitPerMinute\": 5}, \"serviceProviderIdOverride\": \"over\", "
                "\"providerCostAmount\": 90, \"payloadTemplate\": {\"x\": 1}, \"serviceRules\": "
                "[{\"id\": \"r\"}]}");
    json_t *meta = load("{\"automation\": {\"apiKey\": \"k\", \"orderId\": \"shadowed\"}}");
    json_t *ctx = placement_context(meta, payload, "p1");
    assert_string_equal(json_string_value(json_object_get(ctx, "apiKey")), "k");
    assert_string_equal(json_string_value(json_object_get(ctx, "orderId")), "order-1");
    assert_string_equal(json_string_value(json_object_get(ctx, "serviceId")), "svc");
    assert_string_equal(json_string_value(json_object_get(ctx, "providerId")), "over");
    assert_true(json_is_null(json_object_get(ctx, "dripPerDay")));
    assert_string_equal(json_string_value(json_object_get(ctx, "productSlug")), "slug");
    assert_true(json_is_array(json_object_get(ctx, "serviceRules")));

    json_t *ep = load("{\"response\": {\"providerOrderIdPath\": \"data.id\"}}");
    json_t *resp = load("{\"data\": {\"id\": 42}, \"orderId\": \"top\"}");
    char *id = placement_remote_id(ep, resp);
    assert_string_equal(id, "42");
    free(id);
    json_decref(resp);
    resp = load("{\"data\": {}, \"order_id\": \"o\", \"id\": \"i\"}");
    id = placement_remote_id(ep, resp);
    assert_string_equal(id, "o");
    free(id);
    json_decref(resp);
    resp = load("{\"id\": true}");
    assert_null(placement_remote_id(ep, resp));
    json_t *values[] = {opts, addons, svc, desc, item, payload, meta, ctx, ep, resp};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        json_decref(values[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guardrail_status),
        cmocka_unit_test(test_telemetry),
        cmocka_unit_test(test_followup_telemetry),
        cmocka_unit_test(test_placement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
