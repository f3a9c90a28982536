/*
 * The telemetry of the automation snapshot, counted as the original's build_snapshot does:
 * replays from payload.replays and payload.scheduledReplays (only an explicit "scheduled"
 * status counts as pending here, unlike the backlog), guardrail margins when a config, a
 * provider cost and a customer price are all present, and rule overrides from
 * payload.serviceRules. Numbers follow Python's checks: numeric strings count, blank strings
 * do not, booleans are numbers.
 *
 * The follow-up variant (spec-alerts §3.3, the original's provider_telemetry.py) counts the
 * same things with the differences that module has: snake_case fallbacks for the replay lists
 * and guardrail keys, statuses compared trimmed and lowercased, idle orders skipped, a rule's
 * label fixed by its first occurrence and a service's override bucket made only for a valid
 * rule. One counting routine serves both, switched by a flag, so that they cannot drift apart
 * elsewhere.
 */
#include "core/snapshot.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "base/num.h"
#include "base/sb.h"

static json_t *counters(const char *const *names)
{
    json_t *o = json_object();
    for (const char *const *n = names; *n; n++)
        json_object_set_new(o, *n, json_integer(0));
    return o;
}

static const char *const replay_keys[] = {"total", "executed", "failed", "scheduled", NULL};
static const char *const guard_keys[] = {"evaluated", "pass", "warn", "fail", NULL};

json_t *snapshot_telemetry_new(void)
{
    json_t *t = json_object();
    json_object_set_new(t, "totalOrders", json_integer(0));
    json_object_set_new(t, "replays", counters(replay_keys));
    json_object_set_new(t, "guardrails", counters(guard_keys));
    json_object_set_new(t, "guardrailHitsByService", json_object());
    json_object_set_new(t, "ruleOverridesByService", json_object());
    return t;
}

static void bump(json_t *obj, const char *key, json_int_t by)
{
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer((v ? json_integer_value(v) : 0) + by));
}

/* A number as the original's float conversion sees it; 0 when it is not one. */
static int as_number(const json_t *v, double *out)
{
    if (json_is_integer(v) || json_is_real(v)) {
        *out = json_number_value(v);
        return 1;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1.0 : 0.0;
        return 1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '\0')
            return 0;
        return num_parse_double(s, out) == 0 && isfinite(*out);
    }
    return 0;
}

/* Whether entry e has the given status: exactly in the snapshot, trimmed and case-folded in
 * the follow-up variant. */
static int status_is(const json_t *e, const char *status, int followup)
{
    const json_t *st = json_object_get(e, "status");
    if (!json_is_string(st))
        return 0;
    if (!followup)
        return strcmp(json_string_value(st), status) == 0;
    const char *a = json_string_value(st), *b = a + json_string_length(st);
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    return (size_t)(b - a) == strlen(status) && strncasecmp(a, status, (size_t)(b - a)) == 0;
}

/* A guardrail threshold of config: the camelCase key, else (follow-up variant) the snake_case
 * one. */
static int limit_of(const json_t *config, const char *camel, const char *snake, int followup,
                    double *out)
{
    const json_t *v = json_object_get(config, camel);
    if (!v && followup)
        v = json_object_get(config, snake);
    return as_number(v, out);
}

static const char *guardrail_status(const json_t *config, double price, double cost, int followup)
{
    if (price <= 0)
        return "idle";
    double margin = price - cost, pct = margin / price * 100.0, limit;
    if ((limit_of(config, "minimumMarginAbsolute", "minimum_margin_absolute", followup, &limit) &&
         margin < limit) ||
        (limit_of(config, "minimumMarginPercent", "minimum_margin_percent", followup, &limit) &&
         pct < limit))
        return "fail";
    if (limit_of(config, "warningMarginPercent", "warning_margin_percent", followup, &limit) &&
        pct < limit)
        return "warn";
    return "pass";
}

const char *snapshot_guardrail_status(const json_t *config, double price, double cost)
{
    return guardrail_status(config, price, cost, 0);
}

/* service_id, else provider_id, else "unknown". */
static const char *service_key(const json_t *row)
{
    const json_t *v = json_object_get(row, "service_id");
    if (json_is_string(v) && json_string_length(v) > 0)
        return json_string_value(v);
    v = json_object_get(row, "provider_id");
    if (json_is_string(v) && json_string_length(v) > 0)
        return json_string_value(v);
    return "unknown";
}

static json_t *child(json_t *obj, const char *key, json_t *(*make)(void))
{
    json_t *c = json_object_get(obj, key);
    if (!c) {
        c = make();
        json_object_set_new(obj, key, c);
    }
    return c;
}

static json_t *guard_bucket_new(void)
{
    return counters(guard_keys);
}

static json_t *rules_bucket_new(void)
{
    json_t *b = json_object();
    json_object_set_new(b, "totalOverrides", json_integer(0));
    json_object_set_new(b, "rules", json_object());
    return b;
}

/* s trimmed into a new string, NULL when blank or not a string. */
static char *trimmed(const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *a = json_string_value(v), *b = a + json_string_length(v);
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    return b > a ? xstrndup(a, (size_t)(b - a)) : NULL;
}

static void add_guardrails(json_t *tel, const json_t *row, const json_t *payload, int followup)
{
    const json_t *config = json_object_get(payload, "guardrails");
    if (!json_is_object(config)) {
        const json_t *svc = json_object_get(payload, "service");
        const json_t *meta = json_is_object(svc) ? json_object_get(svc, "metadata") : NULL;
        config = json_is_object(meta) ? json_object_get(meta, "guardrails") : NULL;
    }
    double cost, price;
    if (!json_is_object(config) ||
        !as_number(json_object_get(payload, "providerCostAmount"), &cost) ||
        !as_number(json_object_get(row, "amount"), &price))
        return;
    const char *status = guardrail_status(config, price, cost, followup);
    if (followup && strcmp(status, "idle") == 0)
        return; /* the follow-up variant does not count idle orders at all */
    json_t *g = json_object_get(tel, "guardrails");
    json_t *hit =
        child(json_object_get(tel, "guardrailHitsByService"), service_key(row), guard_bucket_new);
    bump(g, "evaluated", 1);
    bump(hit, "evaluated", 1);
    if (strcmp(status, "idle") != 0) {
        bump(g, status, 1);
        bump(hit, status, 1);
    }
}

static void add_rules(json_t *tel, const json_t *row, const json_t *payload, int followup)
{
    const json_t *rules = json_object_get(payload, "serviceRules");
    if (!json_is_array(rules) || json_array_size(rules) == 0)
        return;
    /* The snapshot makes the bucket for any non-empty list; the follow-up variant only once a
     * valid rule shows up. */
    json_t *bucket = followup ? NULL
                              : child(json_object_get(tel, "ruleOverridesByService"),
                                      service_key(row), rules_bucket_new);
    size_t i;
    json_t *r;
    json_array_foreach (rules, i, r) {
        if (!json_is_object(r))
            continue;
        char *id = trimmed(json_object_get(r, "id"));
        if (!id)
            continue;
        if (!bucket)
            bucket = child(json_object_get(tel, "ruleOverridesByService"), service_key(row),
                           rules_bucket_new);
        json_t *by_id = json_object_get(bucket, "rules");
        bump(bucket, "totalOverrides", 1);
        json_t *entry = json_object_get(by_id, id);
        int first = entry == NULL;
        if (first) {
            entry = json_pack("{s:s,s:n,s:i}", "id", id, "label", "count", 0);
            json_object_set_new(by_id, id, entry);
        }
        bump(entry, "count", 1);
        char *label = trimmed(json_object_get(r, "label"));
        /* The snapshot keeps the latest non-blank label; the follow-up variant the label of
         * the rule's first occurrence, blank or not. */
        if (label && (!followup || first))
            json_object_set_new(entry, "label", json_string(label));
        free(label);
        free(id);
    }
}

/* payload[key], else (follow-up variant) payload[alt] when key is absent or null. */
static const json_t *list_of(const json_t *payload, const char *key, const char *alt, int followup)
{
    const json_t *v = json_object_get(payload, key);
    if (followup && (!v || json_is_null(v)))
        v = json_object_get(payload, alt);
    return v;
}

static void add_order(json_t *tel, const json_t *row, int followup)
{
    bump(tel, "totalOrders", 1);
    const json_t *payload = json_object_get(row, "payload");
    if (!json_is_object(payload))
        return;
    json_t *rep = json_object_get(tel, "replays");
    const json_t *arr = list_of(payload, "replays", "replay_entries", followup);
    size_t i;
    json_t *e;
    if (json_is_array(arr)) {
        json_array_foreach (arr, i, e) {
            if (!json_is_object(e))
                continue;
            bump(rep, "total", 1);
            if (status_is(e, "executed", followup))
                bump(rep, "executed", 1);
            else if (status_is(e, "failed", followup))
                bump(rep, "failed", 1);
        }
    }
    arr = list_of(payload, "scheduledReplays", "scheduled_replays", followup);
    if (json_is_array(arr)) {
        json_array_foreach (arr, i, e) {
            if (json_is_object(e) && status_is(e, "scheduled", followup))
                bump(rep, "scheduled", 1);
        }
    }
    add_guardrails(tel, row, payload, followup);
    add_rules(tel, row, payload, followup);
}

void snapshot_add_order(json_t *tel, const json_t *row)
{
    add_order(tel, row, 0);
}

void snapshot_followup_add_order(json_t *tel, const json_t *row)
{
    add_order(tel, row, 1);
}

json_t *snapshot_followup_telemetry(const json_t *rows)
{
    if (json_array_size(rows) == 0)
        return NULL;
    json_t *tel = snapshot_telemetry_new();
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row)
        add_order(tel, row, 1);
    return tel;
}

static void add_counters(json_t *to, const json_t *from)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)from, k, v) {
        if (json_is_integer(v))
            bump(to, k, json_integer_value(v));
    }
}

void snapshot_merge(json_t *agg, const json_t *tel)
{
    bump(agg, "totalOrders", json_integer_value(json_object_get(tel, "totalOrders")));
    add_counters(json_object_get(agg, "replays"), json_object_get(tel, "replays"));
    add_counters(json_object_get(agg, "guardrails"), json_object_get(tel, "guardrails"));
    const char *svc;
    json_t *v;
    json_t *hits = json_object_get(agg, "guardrailHitsByService");
    json_object_foreach (json_object_get(tel, "guardrailHitsByService"), svc, v)
        add_counters(child(hits, svc, guard_bucket_new), v);
    json_t *overrides = json_object_get(agg, "ruleOverridesByService");
    json_object_foreach (json_object_get(tel, "ruleOverridesByService"), svc, v) {
        json_t *bucket = child(overrides, svc, rules_bucket_new);
        bump(bucket, "totalOverrides", json_integer_value(json_object_get(v, "totalOverrides")));
        json_t *by_id = json_object_get(bucket, "rules");
        const char *id;
        json_t *r;
        json_object_foreach (json_object_get(v, "rules"), id, r) {
            json_t *entry = json_object_get(by_id, id);
            if (!entry) {
                entry = json_pack("{s:s,s:n,s:i}", "id", id, "label", "count", 0);
                json_object_set_new(by_id, id, entry);
            }
            bump(entry, "count", json_integer_value(json_object_get(r, "count")));
            const json_t *label = json_object_get(r, "label");
            const json_t *have = json_object_get(entry, "label");
            if (json_is_string(label) && json_string_length(label) > 0 &&
                !(json_is_string(have) && json_string_length(have) > 0))
                json_object_set(entry, "label", (json_t *)label);
        }
    }
}
