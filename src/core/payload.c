/*
 * The automation log inside fulfillment_provider_orders.payload. Every function
 * here edits jansson values in place or builds new ones; nothing is persisted.
 * Key names, value shapes and timestamp formats are the original's (spec-replay
 * §1.10), because other programs read these payloads: the storefront, the admin
 * pages, and the original Python service.
 */
#include "core/payload.h"

#include <math.h>
#include <string.h>

#include "base/iso8601.h"
#include "base/num.h"
#include "base/sb.h"
#include "base/uuid.h"
#include "core/rules.h"
#include "core/template.h"

static json_t *iso_string(int64_t us)
{
    char buf[ISO_BUFSZ];
    iso_format_utc(us, buf);
    return json_string(buf);
}

json_t *payload_array(json_t *payload, const char *key)
{
    json_t *arr = json_object_get(payload, key);
    if (!json_is_array(arr)) {
        arr = json_array();
        json_object_set_new(payload, key, arr);
    }
    return arr;
}

json_t *payload_to_float(const json_t *v)
{
    if (json_is_integer(v))
        return json_real((double)json_integer_value(v));
    if (json_is_real(v))
        return json_real(json_real_value(v));
    if (json_is_boolean(v))
        return json_real(json_is_true(v) ? 1.0 : 0.0);
    if (json_is_string(v)) {
        double d;
        if (num_parse_double(json_string_value(v), &d) == 0)
            return json_real(d);
    }
    return json_null();
}

json_t *payload_replay_entry(const json_t *payload, const json_t *requested_amount,
                             const char *currency, int64_t performed_us, const char *status,
                             const json_t *response)
{
    char id[UUID_STRLEN + 1];
    uuid4(id);
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(id));
    json_object_set_new(e, "requestedAmount",
                        requested_amount ? json_deep_copy(requested_amount) : json_null());
    json_object_set_new(e, "currency", currency ? json_string(currency) : json_null());
    json_object_set_new(e, "performedAt", iso_string(performed_us));
    json_object_set_new(e, "status", json_string(status));
    json_object_set_new(e, "response", response ? json_deep_copy(response) : json_object());
    rules_attach(e, payload);
    return e;
}

void payload_record_executed(json_t *payload, json_t *entry, const char *remote_id)
{
    json_array_append(payload_array(payload, "replays"), entry);
    json_object_set_new(payload, "providerResponse",
                        json_deep_copy(json_object_get(entry, "response")));
    if (remote_id)
        json_object_set_new(payload, "providerOrderId", json_string(remote_id));
}

/* str() of an entry id as the index keys it: strings as is, numbers rendered.
 */
static char *entry_key(const json_t *id)
{
    if (json_is_string(id))
        return xstrdup(json_string_value(id));
    struct sb sb = SB_INIT;
    template_pystr(&sb, id);
    return sb_detach(&sb);
}

/* Python truthiness of an id value. */
static int id_truthy(const json_t *id)
{
    if (!id || json_is_null(id) || json_is_false(id))
        return 0;
    if (json_is_string(id))
        return json_string_length(id) > 0;
    if (json_is_integer(id))
        return json_integer_value(id) != 0;
    if (json_is_real(id))
        return json_real_value(id) != 0.0;
    if (json_is_array(id))
        return json_array_size(id) > 0;
    if (json_is_object(id))
        return json_object_size(id) > 0;
    return 1;
}

json_t *payload_find_schedule(json_t *payload, const char *id)
{
    json_t *arr = json_is_object(payload) ? json_object_get(payload, "scheduledReplays") : NULL;
    if (!json_is_array(arr))
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach (arr, i, e) {
        if (!json_is_object(e))
            continue;
        const json_t *eid = json_object_get(e, "id");
        if (!id_truthy(eid) || json_is_array(eid) || json_is_object(eid))
            continue;
        char *key = entry_key(eid);
        int match = strcmp(key, id) == 0;
        free(key);
        if (match)
            return e;
    }
    return NULL;
}

/* ruleMetadata is filled from the payload's current rules when the entry has
 * none. */
static void fill_rule_metadata(const json_t *payload, json_t *sched)
{
    const json_t *meta = json_object_get(sched, "ruleMetadata");
    if (json_is_object(meta) && json_object_size(meta) > 0)
        return;
    if (meta && !json_is_object(meta) && !json_is_null(meta) && !json_is_false(meta) &&
        !(json_is_array(meta) && json_array_size(meta) == 0) &&
        !(json_is_string(meta) && json_string_length(meta) == 0))
        return; /* a truthy non-object value is left alone, as the original does */
    json_t *ids, *m;
    rules_context(payload, &ids, &m);
    if (m)
        json_object_set_new(sched, "ruleMetadata", m);
    json_decref(ids);
}

static void clear_retry_keys(json_t *sched)
{
    json_object_del(sched, "nextAttemptAt");
}

void payload_schedule_executed(json_t *payload, json_t *sched, const json_t *replay_entry,
                               int64_t now_us)
{
    json_object_set_new(sched, "status", json_string("executed"));
    json_object_set_new(sched, "performedAt", iso_string(now_us));
    json_object_set_new(sched, "response", json_deep_copy(replay_entry));
    clear_retry_keys(sched);
    fill_rule_metadata(payload, sched);
}

void payload_schedule_failed(json_t *payload, json_t *sched, const char *error, int64_t now_us)
{
    json_object_set_new(sched, "status", json_string("failed"));
    json_object_set_new(sched, "performedAt", iso_string(now_us));
    json_t *resp = json_object();
    json_object_set_new(resp, "error", json_string(error));
    json_object_set_new(sched, "response", resp);
    clear_retry_keys(sched);
    fill_rule_metadata(payload, sched);
}

int payload_schedule_attempts(const json_t *sched)
{
    const json_t *a = json_object_get(sched, "attempts");
    if (json_is_integer(a) && json_integer_value(a) > 0 && json_integer_value(a) < 1000000)
        return (int)json_integer_value(a);
    return 0;
}

void payload_schedule_retry(json_t *sched, int attempts, const char *error, int64_t next_us)
{
    json_object_set_new(sched, "attempts", json_integer(attempts));
    json_object_set_new(sched, "lastError", json_string(error));
    json_object_set_new(sched, "nextAttemptAt", iso_string(next_us));
}

json_t *payload_schedule_entry(const json_t *payload, const json_t *requested_amount,
                               const char *currency, const char *scheduled_for)
{
    char id[UUID_STRLEN + 1];
    uuid4(id);
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(id));
    json_object_set_new(e, "requestedAmount",
                        requested_amount ? json_deep_copy(requested_amount) : json_null());
    json_object_set_new(e, "currency", currency ? json_string(currency) : json_null());
    json_object_set_new(e, "scheduledFor", json_string(scheduled_for));
    json_object_set_new(e, "status", json_string("scheduled"));
    rules_attach(e, payload);
    return e;
}

/* Due time of a pending entry: a retry's nextAttemptAt, else scheduledFor;
 * naive is UTC. */
static int entry_due(const json_t *e, int64_t *due)
{
    const json_t *next = json_object_get(e, "nextAttemptAt");
    struct iso_time t;
    if (json_is_string(next) &&
        iso_parse(json_string_value(next), json_string_length(next), &t) == 0) {
        *due = t.utc_us;
        return 0;
    }
    const json_t *sf = json_object_get(e, "scheduledFor");
    if (!json_is_string(sf) || iso_parse(json_string_value(sf), json_string_length(sf), &t) != 0)
        return -1;
    *due = t.utc_us;
    return 0;
}

void payload_index_derive(json_t *payload, const char *currency, int64_t now_us,
                          struct payload_index *out)
{
    memset(out, 0, sizeof(*out));
    json_t *arr = json_is_object(payload) ? json_object_get(payload, "scheduledReplays") : NULL;
    if (!json_is_array(arr))
        return;
    size_t cap = json_array_size(arr);
    if (cap == 0)
        return;
    out->entries = xcalloc(cap, sizeof(*out->entries));
    size_t i;
    json_t *e;
    json_array_foreach (arr, i, e) {
        if (!json_is_object(e))
            continue;
        const json_t *st = json_object_get(e, "status");
        if (st && !(json_is_string(st) && strcmp(json_string_value(st), "scheduled") == 0))
            continue;
        json_t *id = json_object_get(e, "id");
        if (!id_truthy(id) || json_is_array(id) || json_is_object(id)) {
            char fresh[UUID_STRLEN + 1];
            uuid4(fresh);
            json_object_set_new(e, "id", json_string(fresh));
            id = json_object_get(e, "id");
            out->mutated = 1;
        } else if (!json_is_string(id)) {
            /* A numeric id is keyed by its rendering; store it as that string. */
            char *k = entry_key(id);
            json_object_set_new(e, "id", json_string(k));
            free(k);
            id = json_object_get(e, "id");
            out->mutated = 1;
        }
        int64_t due;
        if (entry_due(e, &due) != 0) {
            /* DECISIONS 4: fail it, with the attempt recorded like any failed replay.
             */
            json_t *err = json_object();
            json_object_set_new(err, "error", json_string(PAYLOAD_INVALID_SCHEDULED_FOR));
            json_t *amount = payload_to_float(json_object_get(e, "requestedAmount"));
            json_t *failed = payload_replay_entry(payload, amount, currency, now_us, "failed", err);
            json_array_append_new(payload_array(payload, "replays"), failed);
            json_decref(amount);
            json_decref(err);
            /* payload_array may have replaced nothing in scheduledReplays: `arr`
             * stays valid */
            payload_schedule_failed(payload, e, PAYLOAD_INVALID_SCHEDULED_FOR, now_us);
            if (!out->invalid)
                out->invalid = json_array();
            json_array_append(out->invalid, e);
            out->mutated = 1;
            continue;
        }
        out->entries[out->n].entry_id = json_string_value(id);
        out->entries[out->n].due_us = due;
        out->entries[out->n].reset_claim = 0;
        out->n++;
    }
}

void payload_index_release(struct payload_index *ix)
{
    if (!ix)
        return;
    free(ix->entries);
    json_decref(ix->invalid);
    memset(ix, 0, sizeof(*ix));
}

void payload_index_reset(struct payload_index *ix, const char *entry_id)
{
    for (size_t i = 0; i < ix->n; i++)
        if (strcmp(ix->entries[i].entry_id, entry_id) == 0)
            ix->entries[i].reset_claim = 1;
}

static void set_if(json_t *obj, const char *key, const char *value)
{
    if (value)
        json_object_set_new(obj, key, json_string(value));
}

/* The values copied from entry and extra are shared (reference counted), not deep copies:
 * every caller serialises the metadata for the timeline and drops it, never editing it. */
json_t *payload_timeline_metadata(const struct provider_order_rec *o, const json_t *entry,
                                  const json_t *extra)
{
    static const char *const copied[] = {"status",          "performedAt", "scheduledFor",
                                         "requestedAmount", "amount",      "currency",
                                         "response",        "ruleIds",     "ruleMetadata"};
    json_t *m = json_object();
    set_if(m, "providerId", o->provider_id);
    set_if(m, "providerName", o->provider_name);
    set_if(m, "providerOrderId", o->id);
    set_if(m, "orderId", o->order_id);
    set_if(m, "orderItemId", o->order_item_id);
    set_if(m, "serviceId", o->service_id);
    set_if(m, "serviceAction", o->service_action);
    if (json_is_object(entry)) {
        const json_t *id = json_object_get(entry, "id");
        if (id_truthy(id))
            json_object_set(m, "timelineEntryId", (json_t *)id);
        for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
            json_t *v = json_object_get(entry, copied[i]);
            if (v && !json_is_null(v))
                json_object_set(m, copied[i], v);
        }
    }
    if (json_is_object(extra)) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)extra, k, v) {
            if (!json_is_null(v))
                json_object_set(m, k, v);
        }
    }
    return m;
}
