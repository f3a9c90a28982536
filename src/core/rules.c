/*
 * Rule context: which service rules shaped a provider order. Every replay,
 * schedule and refill entry snapshots them so that an operator reading the
 * payload later sees the rules as they were, even after the catalog changed.
 * The derivation is the original's, rule for rule.
 */
#include "core/rules.h"

#include <math.h>
#include <string.h>

#include "base/sb.h"

/* Trimmed copy of a JSON string, or NULL when it is not a string or is blank.
 */
static char *trimmed_string(const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    size_t a = 0, b = len;
    while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r' || s[a] == '\f' ||
                     s[a] == '\v'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' || s[b - 1] == '\r' ||
                     s[b - 1] == '\f' || s[b - 1] == '\v'))
        b--;
    if (a == b)
        return NULL;
    return xstrndup(s + a, b - a);
}

/* Python int() of a priority: numbers truncate toward zero, booleans are 0/1.
 */
static int priority_value(const json_t *v, json_int_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1 : 0;
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d))
            return 0;
        *out = (json_int_t)trunc(d);
        return 1;
    }
    return 0;
}

static json_t *rule_snapshot(const json_t *rule, const char *id)
{
    json_t *snap = json_object();
    json_object_set_new(snap, "id", json_string(id));
    char *label = trimmed_string(json_object_get(rule, "label"));
    if (label) {
        json_object_set_new(snap, "label", json_string(label));
        free(label);
    }
    char *desc = trimmed_string(json_object_get(rule, "description"));
    if (desc) {
        json_object_set_new(snap, "description", json_string(desc));
        free(desc);
    }
    json_int_t prio;
    if (priority_value(json_object_get(rule, "priority"), &prio))
        json_object_set_new(snap, "priority", json_integer(prio));
    const json_t *conds = json_object_get(rule, "conditions");
    if (json_is_array(conds)) {
        json_t *kept = json_array();
        size_t i;
        const json_t *c;
        json_array_foreach (conds, i, c) {
            if (json_is_object(c))
                json_array_append_new(kept, json_deep_copy(c));
        }
        if (json_array_size(kept) > 0)
            json_object_set_new(snap, "conditions", kept);
        else
            json_decref(kept);
    }
    const json_t *ov = json_object_get(rule, "overrides");
    if (json_is_object(ov))
        json_object_set_new(snap, "overrides", json_deep_copy(ov));
    return snap;
}

void rules_context(const json_t *payload, json_t **rule_ids, json_t **rule_meta)
{
    *rule_ids = NULL;
    *rule_meta = NULL;
    const json_t *rules = json_is_object(payload) ? json_object_get(payload, "serviceRules") : NULL;
    if (!json_is_array(rules))
        return;
    json_t *ids = json_array();
    json_t *meta = json_object();
    size_t i;
    const json_t *rule;
    json_array_foreach (rules, i, rule) {
        if (!json_is_object(rule))
            continue;
        char *id = trimmed_string(json_object_get(rule, "id"));
        if (!id)
            continue;
        json_array_append_new(ids, json_string(id));
        /* Later duplicates overwrite earlier snapshots, as a dict assignment would.
         */
        json_object_set_new(meta, id, rule_snapshot(rule, id));
        free(id);
    }
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        json_decref(meta);
        return;
    }
    *rule_ids = ids;
    *rule_meta = meta;
}

void rules_attach(json_t *entry, const json_t *payload)
{
    json_t *ids, *meta;
    rules_context(payload, &ids, &meta);
    if (ids) {
        json_object_set_new(entry, "ruleIds", ids);
        json_object_set_new(entry, "ruleMetadata", meta);
    }
}

json_t *rules_labels(const json_t *rule_ids, const json_t *rule_meta)
{
    json_t *labels = json_array();
    size_t i;
    const json_t *id;
    json_array_foreach (rule_ids, i, id) {
        if (!json_is_string(id))
            continue;
        const json_t *snap =
            json_is_object(rule_meta) ? json_object_get(rule_meta, json_string_value(id)) : NULL;
        const json_t *label = json_is_object(snap) ? json_object_get(snap, "label") : NULL;
        if (json_is_string(label) && json_string_length(label) > 0)
            json_array_append(labels, (json_t *)label);
        else
            json_array_append(labels, (json_t *)id);
    }
    return labels;
}
