/*
 * Unit tests of core/alerts.c against the worked examples of spec-alerts: reasons, hotspots
 * and top-3 rule overrides of guardrail alerts; engagement windows and shares; load alerts
 * with the original's double arithmetic (0.6 - 0.4 < 0.2), thresholds exactly met, sorting
 * and max results; quote_plus links and absolute links; the auto pause/resume plan; the exact
 * email, Slack and follow-up texts; thousands separators; cooldown and retry policies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/alerts.h"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("bad JSON in test: %s (%s)", err.text, text);
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

static void assert_text(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("got:\n%s\n---\nwant:\n%s", got, want);
}

/* ---- guardrail alerts ---- */

static void test_reasons(void **state)
{
    (void)state;
    json_t *r = alerts_reasons(2, 1, 3, 4);
    assert_json(r, "[\"2 guardrail fail(s)\", \"1 guardrail warn(s)\", \"3/4 replay failures\"]");
    json_decref(r);
    r = alerts_reasons(0, 0, 2, 0);
    assert_json(r, "[\"2 replay failure(s)\"]");
    json_decref(r);
    r = alerts_reasons(0, 0, 0, 5);
    assert_json(r, "[]");
    json_decref(r);
}

static const char *const provider_a =
    "{\"id\": \"prov-a\", \"name\": \"Provider A\", \"telemetry\": {\"totalOrders\": 4, "
    "\"replays\": {\"total\": 4, \"executed\": 1, \"failed\": 3, \"scheduled\": 0}, "
    "\"guardrails\": {\"evaluated\": 3, \"pass\": 0, \"warn\": 1, \"fail\": 2}, "
    "\"guardrailHitsByService\": {\"svc-a\": {\"evaluated\": 3, \"pass\": 0, \"warn\": 1, "
    "\"fail\": 2}}, \"ruleOverridesByService\": {\"svc-a\": {\"totalOverrides\": 5, \"rules\": "
    "{\"b\": {\"id\": \"b\", \"label\": null, \"count\": 5}}}}}}";

static void test_evaluate_digest_example(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof(text), "[%s]", provider_a);
    json_t *providers = load(text);
    struct alert_thresholds t = {3, 5, 3};
    json_t *d = alerts_evaluate(providers, &t);
    assert_json(d, "[{\"providerId\": \"prov-a\", \"providerName\": \"Provider A\", "
                   "\"reasons\": [\"2 guardrail fail(s)\", \"1 guardrail warn(s)\", \"3/4 replay "
                   "failures\"], \"guardrailFailures\": 2, \"guardrailWarnings\": 1, "
                   "\"replayFailures\": 3, \"replayTotal\": 4, \"guardrailHotspots\": "
                   "{\"svc-a\": {\"fail\": 2, \"warn\": 1, \"pass\": 0, \"evaluated\": 3}}, "
                   "\"ruleOverrides\": {\"svc-a\": [{\"id\": \"b\", \"label\": null, \"count\": "
                   "5}]}}]");
    /* Key order as emitted. */
    const char *keys[] = {"providerId",        "providerName",      "reasons",
                          "guardrailFailures", "guardrailWarnings", "replayFailures",
                          "replayTotal",       "guardrailHotspots", "ruleOverrides"};
    void *it = json_object_iter(json_array_get(d, 0));
    for (size_t i = 0; i < 9; i++, it = json_object_iter_next(json_array_get(d, 0), it))
        assert_string_equal(json_object_iter_key(it), keys[i]);
    json_decref(d);
    /* Replay failures exactly at the threshold trigger; one less does not. */
    t.replay = 4;
    d = alerts_evaluate(providers, &t);
    assert_int_equal(json_array_size(d), 0);
    json_decref(d);
    t.fail = 2;
    d = alerts_evaluate(providers, &t);
    assert_int_equal(json_array_size(d), 1);
    json_decref(d);
    json_decref(providers);
}

static void test_evaluate_edges(void **state)
{
    (void)state;
    struct alert_thresholds zero = {0, 0, 0};
    json_t *none = json_array();
    json_t *d = alerts_evaluate(none, &zero);
    assert_int_equal(json_array_size(d), 0);
    json_decref(d);
    json_decref(none);
    /* Thresholds clamp to 1: a clean provider never alerts, even with thresholds of 0. Zero-
     * count hotspots are listed, a provider without a name keeps null. Top three rules by
     * count, ties in insertion order. */
    json_t *p = load(
        "[{\"id\": \"clean\", \"name\": \"Clean\", \"telemetry\": {\"replays\": {\"total\": 0, "
        "\"failed\": 0}, \"guardrails\": {\"fail\": 0, \"warn\": 0}}}, {\"id\": \"p2\", \"name\": "
        "null, \"telemetry\": {\"replays\": {\"total\": 0, \"failed\": 0}, \"guardrails\": "
        "{\"fail\": 0, \"warn\": 1}, \"guardrailHitsByService\": {\"s0\": {\"evaluated\": 0, "
        "\"pass\": 0, \"warn\": 0, \"fail\": 0}}, \"ruleOverridesByService\": {\"s1\": "
        "{\"totalOverrides\": 9, \"rules\": {\"r1\": {\"id\": \"r1\", \"label\": \"One\", "
        "\"count\": 1}, \"r2\": {\"id\": \"r2\", \"label\": null, \"count\": 3}, \"r3\": {\"id\": "
        "\"r3\", \"label\": \"Three\", \"count\": 3}, \"r4\": {\"id\": \"r4\", \"label\": null, "
        "\"count\": 2}}}, \"s2\": {\"totalOverrides\": 0, \"rules\": {}}}}}]");
    d = alerts_evaluate(p, &zero);
    assert_json(d, "[{\"providerId\": \"p2\", \"providerName\": null, \"reasons\": [\"1 "
                   "guardrail warn(s)\"], \"guardrailFailures\": 0, \"guardrailWarnings\": 1, "
                   "\"replayFailures\": 0, \"replayTotal\": 0, \"guardrailHotspots\": {\"s0\": "
                   "{\"fail\": 0, \"warn\": 0, \"pass\": 0, \"evaluated\": 0}}, "
                   "\"ruleOverrides\": {\"s1\": [{\"id\": \"r2\", \"label\": null, \"count\": 3}, "
                   "{\"id\": \"r3\", \"label\": \"Three\", \"count\": 3}, {\"id\": \"r4\", "
                   "\"label\": null, \"count\": 2}], \"s2\": []}}]");
    json_decref(d);
    json_decref(p);
}

/* ---- windows ---- */

static struct preset_engagement_row row(const char *preset, const char *label, const char *provider,
                                        const char *service, int bucket, int64_t eng, double amount)
{
    struct preset_engagement_row r = {0};
    r.preset_id = (char *)preset;
    r.preset_label = (char *)label;
    r.provider_id = (char *)provider;
    r.provider_name = (char *)provider;
    r.service_id = (char *)service;
    r.service_action = (char *)"qa_support";
    r.currency = (char *)"USD";
    r.bucket = bucket;
    r.engagements = eng;
    r.amount_total = amount;
    return r;
}

static void test_windows_original_example(void **state)
{
    (void)state;
    /* Order A now (ops-beta, 250.00), order B 60 days ago (ops-gamma, 150.00), windows
     * 7/30/90: buckets 0 and 2. */
    struct preset_engagement_row rows[] = {
        row("preset-growth", "Growth Sprint", "ops-beta", "qa-escort", 0, 1, 250.0),
        row("preset-growth", "Growth Sprint", "ops-gamma", "qa-escort", 2, 1, 150.0),
    };
    int days[3] = {7, 30, 90};
    json_t *w = preset_windows_build(rows, 2, days, 3, 1700000000000000LL);
    json_t *w30 = json_object_get(json_object_get(w, "30"), "entries");
    assert_int_equal(json_array_size(w30), 1);
    assert_json(json_array_get(w30, 0),
                "{\"presetId\": \"preset-growth\", \"presetLabel\": \"Growth Sprint\", "
                "\"providerId\": \"ops-beta\", \"providerName\": \"ops-beta\", \"serviceId\": "
                "\"qa-escort\", \"serviceAction\": \"qa_support\", \"currency\": \"USD\", "
                "\"engagements\": 1, \"amountTotal\": 250.0, \"engagementShare\": 1.0}");
    json_t *w90 = json_object_get(json_object_get(w, "90"), "entries");
    assert_int_equal(json_array_size(w90), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(w90, 0), "providerId")),
                        "ops-beta"); /* amount breaks the tie */
    assert_true(json_real_value(json_object_get(json_array_get(w90, 1), "engagementShare")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(w, "7"), "days")), 7);
    assert_string_equal(json_string_value(json_object_get(json_object_get(w, "7"), "start")),
                        "2023-11-07T22:13:20+00:00");
    /* Truncation keeps the shares computed on the full window. */
    json_t *t = preset_windows_truncate(w, 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(t, "90"), "entries")), 1);
    assert_true(json_real_value(json_object_get(
                    json_array_get(json_object_get(json_object_get(t, "90"), "entries"), 0),
                    "engagementShare")) == 0.5);
    json_decref(t);
    json_decref(w);

    int extra[2] = {14, 60}, out[8];
    size_t n = alerts_window_set(extra, 2, out);
    assert_int_equal(n, 5);
    assert_int_equal(out[1], 14);
    assert_int_equal(out[3], 60);
    int same[2] = {7, 90};
    assert_int_equal(alerts_window_set(same, 2, out), 3);
}

static json_t *growth_windows(int64_t short_b, int64_t short_x, int64_t long_b_extra,
                              int64_t long_x_extra)
{
    struct preset_engagement_row rows[] = {
        row("preset-growth", "Growth Sprint", "prov-b", "svc-b", 0, short_b, 50.0 * short_b),
        row("preset-growth", "Growth Sprint", "prov-x", "svc-x", 0, short_x, 10.0),
        row("preset-growth", NULL, "prov-b", "svc-b", 1, long_b_extra, 50.0 * long_b_extra),
        row("preset-growth", NULL, "prov-x", "svc-x", 1, long_x_extra, 10.0),
    };
    int days[2] = {7, 90};
    return preset_windows_build(rows, 4, days, 2, 1700000000000000LL);
}

static const struct load_alert_params defaults = {7, 90, 0.6, 0.2, 10, 25};

static void test_load_alert_example(void **state)
{
    (void)state;
    /* §7.2: 12 of 14 short engagements, 22 of 54 long ones. */
    json_t *w = growth_windows(12, 2, 10, 30);
    json_t *a = load_alerts_compute(w, &defaults);
    assert_int_equal(json_array_size(a), 1);
    json_t *x = json_array_get(a, 0);
    assert_true(json_real_value(json_object_get(x, "shortShare")) == 0.8571428571428571);
    assert_true(json_real_value(json_object_get(x, "longShare")) == 0.4074074074074074);
    assert_true(json_real_value(json_object_get(x, "shareDelta")) == 0.4497354497354497);
    assert_json(json_object_get(x, "links"),
                "{\"merchandising\": \"/admin/merchandising?presetId=preset-growth\", "
                "\"fulfillment\": \"/admin/fulfillment/providers?providerId=prov-b\", \"orders\": "
                "\"/admin/orders?presetId=preset-growth&providerId=prov-b\"}");
    json_t *d = load_alerts_digest(a, &defaults, "https://admin.example.com");
    assert_json(
        d,
        "[{\"providerId\": \"prov-b\", \"providerName\": \"prov-b\", \"presetId\": "
        "\"preset-growth\", \"presetLabel\": \"Growth Sprint\", \"serviceId\": \"svc-b\", "
        "\"serviceAction\": \"qa_support\", \"currency\": \"USD\", \"shortWindowDays\": 7, "
        "\"longWindowDays\": 90, \"shortShare\": 0.8571428571428571, \"longShare\": "
        "0.4074074074074074, \"shareDelta\": 0.4497354497354497, \"shortEngagements\": 12, "
        "\"longEngagements\": 22, \"shortAmountTotal\": 600.0, \"longAmountTotal\": 1100.0, "
        "\"links\": {\"merchandising\": "
        "\"https://admin.example.com/admin/merchandising?presetId=preset-growth\", "
        "\"fulfillment\": "
        "\"https://admin.example.com/admin/fulfillment/providers?providerId=prov-b\", "
        "\"orders\": "
        "\"https://admin.example.com/admin/orders?presetId=preset-growth&providerId=prov-b\"}}]");
    json_decref(d);
    json_decref(a);
    json_decref(w);
}

static void test_load_alert_thresholds(void **state)
{
    (void)state;
    /* 0.6 vs 0.4: 0.6 - 0.4 = 0.19999999999999996 < 0.2, no alert. Short 12/20 = 0.6, long
     * 24/60 = 0.4. */
    json_t *w = growth_windows(12, 8, 12, 28);
    json_t *a = load_alerts_compute(w, &defaults);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    /* The same shares with delta 0.19: alert, share exactly at 0.6. */
    struct load_alert_params p = defaults;
    p.delta_threshold = 0.19;
    a = load_alerts_compute(w, &p);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    /* min engagements exactly met (12), then not (13). */
    p.min_engagements = 12;
    a = load_alerts_compute(w, &p);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    p.min_engagements = 13;
    a = load_alerts_compute(w, &p);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    json_decref(w);
    /* Zero engagements anywhere, or no windows: nothing. */
    json_t *empty = json_object();
    a = load_alerts_compute(empty, &defaults);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    json_decref(empty);
    int days[2] = {7, 90};
    w = preset_windows_build(NULL, 0, days, 2, 0);
    a = load_alerts_compute(w, &defaults);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
    json_decref(w);
}

static void test_load_alert_sort_and_limit(void **state)
{
    (void)state;
    /* Three presets, each dominated by one provider in the short window with no long
     * baseline beyond it: deltas 1.0 (p1), 0.9 (p2), 0.75 (p3); no label on p3. */
    struct preset_engagement_row rows[] = {
        row("p3", NULL, "c", "s", 0, 15, 1.0),  row("p3", NULL, "z", "s", 0, 5, 1.0),
        row("p1", "One", "a", "s", 0, 10, 1.0), row("p2", "Two", "b", "s", 0, 18, 1.0),
        row("p2", "Two", "y", "s", 0, 2, 1.0),
    };
    int days[2] = {7, 90};
    json_t *w = preset_windows_build(rows, 5, days, 2, 0);
    /* Long window == short window here, so deltas are 0: use a long window that is absent. */
    struct load_alert_params p = defaults;
    p.long_days = 30; /* not in the windows: longShare 0 */
    json_t *a = load_alerts_compute(w, &p);
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "presetId")), "p1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "presetId")), "p2");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "presetId")), "p3");
    assert_true(json_is_null(json_object_get(json_array_get(a, 2), "presetLabel")));
    json_decref(a);
    p.limit = 2;
    a = load_alerts_compute(w, &p);
    assert_int_equal(json_array_size(a), 2);
    json_decref(a);
    json_decref(w);
}

/* ---- links ---- */

static void test_links(void **state)
{
    (void)state;
    json_t *l = alerts_links("Growth Sprint/Q1", "prov&1");
    assert_json(l,
                "{\"merchandising\": \"/admin/merchandising?presetId=Growth+Sprint%2FQ1\", "
                "\"fulfillment\": \"/admin/fulfillment/providers?providerId=prov%261\", "
                "\"orders\": \"/admin/orders?presetId=Growth+Sprint%2FQ1&providerId=prov%261\"}");
    json_decref(l);
    l = alerts_links(NULL, "p");
    assert_json(l, "{\"fulfillment\": \"/admin/fulfillment/providers?providerId=p\", \"orders\": "
                   "\"/admin/orders?providerId=p\"}");
    json_decref(l);
    char *q = alerts_quote_plus("a~b_c.d-e \xc3\xa9");
    assert_string_equal(q, "a~b_c.d-e+%C3%A9");
    free(q);
    char *u =
        alerts_absolutize("https://app.example.com/console/", "/admin/merchandising?presetId=p1");
    assert_string_equal(u, "https://app.example.com/console/admin/merchandising?presetId=p1");
    free(u);
    u = alerts_absolutize("https://x", " https://other/a ");
    assert_string_equal(u, "https://other/a");
    free(u);
    u = alerts_absolutize("https://x", "mailto:ops@example.com");
    assert_string_equal(u, "mailto:ops@example.com");
    free(u);
}

/* ---- auto actions ---- */

static void test_plan_actions(void **state)
{
    (void)state;
    json_t *digest =
        load("[{\"providerId\": \"warn-only\", \"providerName\": \"W\", \"guardrailFailures\": 0, "
             "\"replayFailures\": 0, \"guardrailWarnings\": 6}, {\"providerId\": \"z-fail\", "
             "\"providerName\": \"Z\", \"guardrailFailures\": 3, \"replayFailures\": 0}, "
             "{\"providerId\": \"a-replay\", \"providerName\": \"A\", \"guardrailFailures\": 0, "
             "\"replayFailures\": 3}, {\"providerId\": \"manual\", \"providerName\": \"M\", "
             "\"guardrailFailures\": 5, \"replayFailures\": 0}]");
    char m[] = "manual", mn[] = "M", h[] = "healed", e[] = "", a[] = "automation";
    char f1[] = "f-1", mp[] = "manual-paused", mpn[] = "MP", w[] = "warn-only", wn[] = "W";
    char f2[] = "f-2";
    struct guardrail_status_row st[] = {
        {m, mn, m, NULL, 1},
        {h, e, a, f1, 1},
        {mp, mpn, m, NULL, 1},
        {w, wn, a, f2, 1},
    };
    struct alert_thresholds raw = {3, 5, 3};
    struct auto_action *acts = NULL;
    size_t n = 0;
    alerts_plan_actions(digest, st, 4, &raw, &acts, &n);
    assert_int_equal(n, 3);
    assert_true(acts[0].pause);
    assert_string_equal(acts[0].provider_id, "a-replay");
    assert_true(acts[1].pause);
    assert_string_equal(acts[1].provider_id, "z-fail");
    assert_false(acts[2].pause);
    assert_string_equal(acts[2].provider_id, "healed");
    json_t *item = alerts_auto_resumed_item(acts[2].status, "f-9");
    assert_json(item, "{\"providerId\": \"healed\", \"providerName\": \"healed\", \"action\": "
                      "\"resume\", \"notes\": \"Automation worker resumed provider after "
                      "guardrails cleared\", \"followUpId\": \"f-9\", \"previousFollowUpId\": "
                      "\"f-1\"}");
    json_decref(item);
    free(acts);
    /* A raw threshold of 0 pauses warn-only alerts too (the original's quirk). */
    struct alert_thresholds zero = {0, 5, 0};
    alerts_plan_actions(digest, NULL, 0, &zero, &acts, &n);
    assert_int_equal(n, 4);
    free(acts);
    json_decref(digest);
}

/* ---- texts ---- */

static const char *const email_example =
    "The following providers breached automation guardrails:\n"
    "\n"
    "- Provider A (prov-a): 3 guardrail fail(s)\n"
    "  Guardrail hotspots:\n"
    "    \u2022 svc-a: 3 fail / 0 warn\n"
    "\n"
    "Preset/provider cohort pressure detected:\n"
    "\n"
    "- Provider B dominating Growth Sprint (85.7% vs 40.7% baseline)\n"
    "  Window 7d vs 90d \u00b7 12 vs 22 engagements\n"
    "  Provider spend USD 600 short / 1,100 long\n"
    "  Service svc-b \u00b7 qa_support\n"
    "  Links:\n"
    "    \u2022 Merchandising: "
    "https://admin.example.com/admin/merchandising?presetId=preset-growth\n"
    "    \u2022 Fulfillment: "
    "https://admin.example.com/admin/fulfillment/providers?providerId=prov-b\n"
    "    \u2022 Orders: "
    "https://admin.example.com/admin/orders?presetId=preset-growth&providerId=prov-b\n"
    "\n"
    "Automation guardrail actions taken automatically:\n"
    "\n"
    "- Paused: Provider A (prov-a) \u2014 3 guardrail fail(s)\n"
    "  Dashboard: https://admin.example.com/admin/fulfillment/providers/prov-a?tab=automation\n"
    "\n"
    "Investigate these providers before rerunning automated fulfillments.";

static const char *const slack_example =
    ":warning: Provider automation alerts detected\n"
    "\u2022 Provider A (prov-a) \u2014 3 guardrail fail(s)\n"
    ":robot_face: Guardrail playbook actions\n"
    "\u2022 Auto-pause \u2014 Provider A (prov-a) \u2014 3 guardrail fail(s)\n"
    "    <https://admin.example.com/admin/fulfillment/providers/prov-a?tab=automation|Open "
    "automation tab>\n"
    ":bar_chart: Provider cohort pressure detected\n"
    "\u2022 Provider B / Growth Sprint 86% vs 41% baseline\n"
    "    <https://admin.example.com/admin/merchandising?presetId=preset-growth|Merchandising> "
    "\u00b7 <https://admin.example.com/admin/fulfillment/providers?providerId=prov-b|Fulfillment> "
    "\u00b7 "
    "<https://admin.example.com/admin/orders?presetId=preset-growth&providerId=prov-b|Orders>";

static void example_inputs(json_t **alerts, json_t **load_digest, json_t **paused)
{
    *alerts = load("[{\"providerId\": \"prov-a\", \"providerName\": \"Provider A\", \"reasons\": "
                   "[\"3 guardrail fail(s)\"], \"guardrailFailures\": 3, \"guardrailWarnings\": "
                   "0, \"replayFailures\": 0, \"replayTotal\": 0, \"guardrailHotspots\": "
                   "{\"svc-a\": {\"fail\": 3, \"warn\": 0, \"pass\": 0, \"evaluated\": 3}}, "
                   "\"ruleOverrides\": {}}]");
    json_t *w = growth_windows(12, 2, 10, 30);
    json_t *a = load_alerts_compute(w, &defaults);
    json_object_set_new(json_array_get(a, 0), "providerName", json_string("Provider B"));
    *load_digest = load_alerts_digest(a, &defaults, "https://admin.example.com");
    json_decref(a);
    json_decref(w);
    *paused = json_array();
    json_array_append_new(*paused, alerts_auto_paused_item(json_array_get(*alerts, 0), "f-1"));
}

static void test_email_and_slack_examples(void **state)
{
    (void)state;
    json_t *alerts, *load_digest, *paused;
    example_inputs(&alerts, &load_digest, &paused);
    json_t *resumed = json_array();
    char *body =
        alerts_email_body(alerts, load_digest, paused, resumed, "https://admin.example.com/");
    assert_text(body, email_example);
    free(body);
    char *slack =
        alerts_slack_text(alerts, load_digest, paused, resumed, NULL, "https://admin.example.com");
    assert_text(slack, slack_example);
    free(slack);
    /* Contexts under an alert; an empty FRONTEND_URL drops the dashboard lines. */
    json_t *ctx = load("{\"prov-a\": [\"Instagram @brand (instagram)\", \"TikTok (@tt)\"]}");
    slack = alerts_slack_text(alerts, NULL, NULL, NULL, ctx, "");
    assert_text(slack, ":warning: Provider automation alerts detected\n"
                       "\u2022 Provider A (prov-a) \u2014 3 guardrail fail(s)\n"
                       "    contexts: Instagram @brand (instagram), TikTok (@tt)");
    free(slack);
    json_decref(ctx);
    body = alerts_email_body(NULL, NULL, NULL, resumed, "");
    assert_text(body, "Investigate these providers before rerunning automated fulfillments.");
    free(body);
    json_decref(alerts);
    json_decref(load_digest);
    json_decref(paused);
    json_decref(resumed);

    json_t *row = load("{\"label\": \"Instagram @brand\", \"handle\": \"@brand\", "
                       "\"platform_type\": \"instagram\"}");
    char *label = alerts_context_label(row);
    assert_string_equal(label, "Instagram @brand (instagram)");
    free(label);
    json_decref(row);
    row = load("{\"label\": \"TikTok\", \"handle\": \"@tt\", \"platform_type\": null}");
    label = alerts_context_label(row);
    assert_string_equal(label, "TikTok (@tt)");
    free(label);
    json_decref(row);
}

static void test_followup_text(void **state)
{
    (void)state;
    char *t = alerts_followup_slack_text("prov-auto", "Automation Provider", "pause",
                                         ALERTS_PAUSE_NOTES, 1, "https://app.smplat.local");
    assert_text(t,
                ":warning: Guardrail follow-up recorded for *Automation Provider* "
                "(`prov-auto`)\n"
                "\u2022 Action: *Pause*\n"
                "\u2022 Notes: Auto pause triggered by provider automation alerts worker\n"
                "\u2022 Status: *Paused*\n"
                "<https://app.smplat.local/admin/fulfillment/providers/"
                "prov-auto?tab=automation|Open dashboard>\n"
                "\u2022 Live conversion snapshot: "
                "<https://app.smplat.local/admin/reports#experiment-analytics|Open conversions>");
    free(t);
    t = alerts_followup_slack_text("p", NULL, "escalate_to_ops", NULL, 0, "");
    assert_text(t, ":warning: Guardrail follow-up recorded for *p* (`p`)\n"
                   "\u2022 Action: *Escalate To Ops*\n"
                   "\u2022 Notes: No notes provided.\n"
                   "\u2022 Status: *Active*\n"
                   "</admin/fulfillment/providers/p?tab=automation|Open dashboard>");
    free(t);
    json_t *p = alerts_slack_payload("hi", "#ops");
    assert_json(p, "{\"text\": \"hi\", \"channel\": \"#ops\"}");
    json_decref(p);
    p = alerts_slack_payload("hi", "");
    assert_json(p, "{\"text\": \"hi\"}");
    json_decref(p);
}

/* The HTTP form of the follow-up message (§8.4): attachments (at most 5), context, the
 * telemetry block with its top-3 services, and the conversion line with a cursor or an href. */
static void test_followup_message(void **state)
{
    (void)state;
    json_t *att = load("[{\"fileName\": \"a.png\", \"assetUrl\": \"https://cdn/a.png\"}, "
                       "{\"file_name\": \"b.txt\"}, {\"assetUrl\": \"https://cdn/c\"}, {}, "
                       "{\"fileName\": \"d\"}, {\"fileName\": \"e\"}, {\"fileName\": \"f\"}]");
    json_t *ctx = load("{\"id\": \"ig\", \"label\": \"Instagram\", \"handle\": \"@brand\"}");
    json_t *tel =
        load("{\"totalOrders\": 6, \"replays\": {\"total\": 4, \"executed\": 2, \"failed\": 1, "
             "\"scheduled\": 3}, \"guardrails\": {\"evaluated\": 5, \"pass\": 1, \"warn\": 2, "
             "\"fail\": 2}, \"guardrailHitsByService\": {\"ok\": {\"evaluated\": 1, \"pass\": 9, "
             "\"warn\": 0, \"fail\": 0}, \"w\": {\"evaluated\": 2, \"pass\": 0, \"warn\": 2, "
             "\"fail\": 0}, \"f\": {\"evaluated\": 2, \"pass\": 0, \"warn\": 0, \"fail\": 2}, "
             "\"late\": {\"evaluated\": 1, \"pass\": 0, \"warn\": 1, \"fail\": 0}}, "
             "\"ruleOverridesByService\": {\"s1\": {\"totalOverrides\": 1, \"rules\": {}}, \"s2\": "
             "{\"totalOverrides\": 3, \"rules\": {}}}}");
    struct followup_message m = {
        .provider_id = "p1",
        .provider_name = "Prov",
        .action = "escalate_to_ops",
        .notes = "  check it  ",
        .attachments = att,
        .has_status = 1,
        .platform_context = ctx,
        .telemetry = tel,
        .conversion_cursor = "2025-01-01 x",
    };
    char *t = alerts_followup_message(&m, "https://app.example/");
    assert_text(
        t, ":warning: Guardrail follow-up recorded for *Prov* (`p1`)\n"
           "\u2022 Action: *Escalate To Ops*\n"
           "\u2022 Notes: check it\n"
           "\u2022 Attachments: <https://cdn/a.png|a.png>, b.txt, "
           "<https://cdn/c|https://cdn/c>, d, e\n"
           "\u2022 Status: *Active*\n"
           "\u2022 Context: Instagram (@brand)\n"
           "<https://app.example/admin/fulfillment/providers/p1?tab=automation|Open "
           "dashboard>\n"
           ":bar_chart: Provider automation telemetry\n"
           "\u2022 Routed orders: 6\n"
           "\u2022 Replays executed 2/4 \u00b7 Failed 1 \u00b7 Scheduled 3\n"
           "\u2022 Guardrail checks 5: pass 1 \u00b7 warn 2 \u00b7 fail 2\n"
           "\u2022 Services under watch: f (warn 0, fail 2), w (warn 2, fail 0), late (warn 1, "
           "fail 0)\n"
           "\u2022 Rule overrides triggered: s2 (3), s1 (1)\n"
           "\u2022 Historical conversion slice: <https://app.example/admin/reports?"
           "conversionCursor=2025-01-01+x#experiment-analytics|Open conversions> "
           "(cursor 2025-01-01 x)");
    free(t);
    json_t *quiet = load("{\"totalOrders\": 1, \"replays\": {\"total\": 0, \"scheduled\": 0}, "
                         "\"guardrails\": {\"evaluated\": 0}, \"guardrailHitsByService\": {}, "
                         "\"ruleOverridesByService\": {}}");
    json_t *handle_only = load("{\"id\": \"x\", \"label\": \"\", \"handle\": \"@h\"}");
    struct followup_message q = {
        .provider_id = "p2",
        .action = "pause",
        .notes = "   ",
        .platform_context = handle_only,
        .telemetry = quiet,
        .conversion_href = "https://x/conv",
    };
    t = alerts_followup_message(&q, NULL);
    assert_text(t, ":warning: Guardrail follow-up recorded for *p2* (`p2`)\n"
                   "\u2022 Action: *Pause*\n"
                   "\u2022 Notes: \n"
                   "\u2022 Context: @h\n"
                   "</admin/fulfillment/providers/p2?tab=automation|Open dashboard>\n"
                   ":bar_chart: Provider automation telemetry\n"
                   "\u2022 Routed orders: 1\n"
                   "\u2022 Live conversion snapshot: <https://x/conv|Open conversions>");
    free(t);
    json_t *values[] = {att, ctx, tel, quiet, handle_only};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        json_decref(values[i]);
}

static void test_thousands(void **state)
{
    (void)state;
    char b[64];
    alerts_format_thousands(1100.0, b, sizeof(b));
    assert_string_equal(b, "1,100");
    alerts_format_thousands(1234.5, b, sizeof(b));
    assert_string_equal(b, "1,234");
    alerts_format_thousands(999.5, b, sizeof(b));
    assert_string_equal(b, "1,000");
    alerts_format_thousands(2.5, b, sizeof(b));
    assert_string_equal(b, "2");
    alerts_format_thousands(-1234567.0, b, sizeof(b));
    assert_string_equal(b, "-1,234,567");
}

/* ---- cooldown, retries, Celery ---- */

static void test_cooldown_and_retry(void **state)
{
    (void)state;
    json_t *item = load("{\"providerId\": \"p\", \"reasons\": [\"3 guardrail fail(s)\", \"1 "
                        "guardrail warn(s)\"]}");
    char *key, *fp;
    alerts_guardrail_key(item, &key, &fp);
    assert_string_equal(key, "guardrail:p");
    assert_string_equal(fp, "3 guardrail fail(s); 1 guardrail warn(s)");
    assert_true(alerts_cooldown_due(NULL, 0, fp, 100, 3600));
    assert_false(alerts_cooldown_due(fp, 100, fp, 100 + 3599, 3600));
    assert_true(alerts_cooldown_due(fp, 100, fp, 100 + 3600, 3600));
    assert_true(alerts_cooldown_due("2 guardrail fail(s)", 100, fp, 101, 3600));
    free(key);
    free(fp);
    json_decref(item);
    item = load("{\"presetId\": \"g\", \"providerId\": \"b\", \"serviceId\": \"s\", "
                "\"shortShare\": 0.8571428571428571, \"longShare\": 0.4074074074074074}");
    alerts_load_key(item, &key, &fp);
    assert_string_equal(key, "load:g|b|s");
    assert_string_equal(fp, "86/41");
    free(key);
    free(fp);
    json_decref(item);

    int64_t dl = 10000000;
    assert_int_equal(alerts_retry_delay_us(2, -1, 0, dl), ALERTS_SEND_BASE_DELAY_US);
    assert_int_equal(alerts_retry_delay_us(3, -1, 0, dl), 2 * ALERTS_SEND_BASE_DELAY_US);
    assert_int_equal(alerts_retry_delay_us(2, 1000000, 0, dl), 1000000);
    assert_int_equal(alerts_retry_delay_us(2, 20000000, 0, dl), -1);
    assert_int_equal(alerts_retry_delay_us(ALERTS_SEND_ATTEMPTS + 1, -1, 0, dl), -1);
    assert_true(alerts_http_status_retryable(429));
    assert_true(alerts_http_status_retryable(503));
    assert_false(alerts_http_status_retryable(404));
    assert_false(alerts_http_status_retryable(200));

    json_t *skipped = alerts_skipped_result();
    assert_json(skipped, "{\"alertsSent\": 0, \"skipped\": true}");
    json_decref(skipped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_evaluate_digest_example),
        cmocka_unit_test(test_evaluate_edges),
        cmocka_unit_test(test_windows_original_example),
        cmocka_unit_test(test_load_alert_example),
        cmocka_unit_test(test_load_alert_thresholds),
        cmocka_unit_test(test_load_alert_sort_and_limit),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_plan_actions),
        cmocka_unit_test(test_email_and_slack_examples),
        cmocka_unit_test(test_followup_text),
        cmocka_unit_test(test_followup_message),
        cmocka_unit_test(test_thousands),
        cmocka_unit_test(test_cooldown_and_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
