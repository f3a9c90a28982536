/*
 * Replays, immediate and scheduled. The scheduled pass is built so that any
 * number of runners (CLI, in-process loops, Celery workers on several machines)
 * execute each entry at most once and none is lost when a runner dies:
 *
 *   1. sync: provider orders whose payload changed (our writes or anyone
 * else's) get their index rows re-derived; id-less entries get ids, unparseable
 * times fail;
 *   2. claim: due index rows are claimed atomically with a lease;
 *   3. settle: claims that will be sent are marked "sending" durably,
 * rate-limited ones are put back; a claim found "sending" with an expired lease
 * was in flight when its runner died, so its outcome is unknown and it is
 * failed for review instead of being re-sent;
 *   4. send: all requests of the chunk go out together, per-provider
 * concurrency capped;
 *   5. record: each result is applied to the order's current payload under a
 * row lock, with its timeline event, in one transaction.
 */
#include "core/replay.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/sb.h"
#include "core/endpoint.h"
#include "core/payload.h"
#include "core/rules.h"
#include "core/schedule.h"
#include "core/template.h"

#define MSG_OUTCOME_UNKNOWN_DIED "outcome unknown: worker stopped while the request was in flight"
#define MINUTE_US (60LL * 1000000LL)
#define SYNC_BATCH 200
#define SYNC_MAX_PER_PASS 20000
#define RECORD_BATCH 128

static int64_t env_now(struct replay_env *env)
{
    return env->now_us ? env->now_us(env->clock_ctx) : time_now_us();
}

static char *store_error(struct replay_env *env, const char *what)
{
    struct sb sb = SB_INIT;
    sb_printf(&sb, "%s: %s", what, env->store->ops->last_error(env->store));
    return sb_detach(&sb);
}

static void log_fields(enum log_level level, const char *message, json_t *fields)
{
    char *text = json_dumps(fields, JSON_COMPACT | JSON_ENSURE_ASCII);
    log_event(level, message, text);
    free(text);
    json_decref(fields);
}

/* spec-replay §4 step 4: explicit amount, else the row amount, else
 * payload.requestedAmount (a string parsed as float, any other value verbatim).
 * New reference, JSON null when none. */
static json_t *requested_amount(const struct provider_order_rec *o, const json_t *payload,
                                const json_t *amount)
{
    if (amount && !json_is_null(amount))
        return json_deep_copy(amount);
    if (o->has_amount)
        return json_real(o->amount);
    const json_t *p = json_is_object(payload) ? json_object_get(payload, "requestedAmount") : NULL;
    if (!p)
        return json_null();
    if (json_is_string(p))
        return payload_to_float(p);
    return json_deep_copy(p);
}

static int truthy_str(const char *s)
{
    return s && *s;
}

static void setdefault(json_t *ctx, const char *key, json_t *value)
{
    if (!json_object_get(ctx, key))
        json_object_set_new(ctx, key, value);
    else
        json_decref(value);
}

/* spec-replay §4 step 5: the template context of a replay. Values taken from the payload and
 * the amount are shared, not copied: the context is only read (template rendering copies what
 * it keeps) and dropped before anything edits the payload. */
static json_t *replay_context(const struct provider_rec *p, const struct provider_order_rec *o,
                              const json_t *payload, const json_t *amount)
{
    json_t *ctx = endpoint_metadata_context(p->metadata);
    json_object_set_new(ctx, "orderId", o->order_id ? json_string(o->order_id) : json_null());
    json_object_set_new(ctx, "orderItemId",
                        o->order_item_id ? json_string(o->order_item_id) : json_null());
    json_object_set_new(ctx, "serviceId", o->service_id ? json_string(o->service_id) : json_null());
    json_object_set_new(ctx, "serviceAction",
                        o->service_action ? json_string(o->service_action) : json_null());
    if (amount && !json_is_null(amount))
        setdefault(ctx, "requestedAmount", json_incref((json_t *)amount));
    if (truthy_str(o->currency))
        setdefault(ctx, "currency", json_string(o->currency));
    if (truthy_str(o->provider_name))
        setdefault(ctx, "providerName", json_string(o->provider_name));
    if (json_is_object(payload)) {
        const json_t *rules = json_object_get(payload, "serviceRules");
        if (rules && !json_is_null(rules))
            setdefault(ctx, "serviceRules", json_incref((json_t *)rules));
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)payload, k, v) {
            if (json_is_string(v) || json_is_number(v) || json_is_boolean(v))
                setdefault(ctx, k, json_incref(v));
        }
    }
    return ctx;
}

/* DECISIONS 10: the remote id the order endpoint's providerOrderIdPath yields,
 * if any. */
static char *remote_order_id(const json_t *endpoint, const json_t *parsed)
{
    const json_t *resp = json_object_get(endpoint, "response");
    const json_t *path = json_is_object(resp) ? json_object_get(resp, "providerOrderIdPath") : NULL;
    if (!json_is_string(path) || !parsed)
        return NULL;
    const json_t *v = json_path_get(parsed, json_string_value(path));
    if (!v || !(json_is_string(v) || json_is_integer(v) || json_is_real(v)) || json_is_boolean(v))
        return NULL;
    struct sb sb = SB_INIT;
    template_pystr(&sb, v);
    if (sb.len == 0) {
        sb_release(&sb);
        return NULL;
    }
    return sb_detach(&sb);
}

/* Everything needed to send one replay request. */
struct prepared {
    json_t *amount;         /* requested amount (new ref) */
    const json_t *endpoint; /* borrowed from provider metadata */
    struct http_request req;
    char *error; /* set when the replay fails before sending */
    int error_code;
};

static void prepared_release(struct prepared *pr)
{
    json_decref(pr->amount);
    http_request_release(&pr->req);
    free(pr->error);
    memset(pr, 0, sizeof(*pr));
}

/* Builds the request of a replay, or records why it cannot be sent. */
static void prepare(const struct provider_rec *p, const struct provider_order_rec *o,
                    const json_t *amount_arg, struct prepared *pr)
{
    memset(pr, 0, sizeof(*pr));
    json_t *payload = json_is_object(o->payload) ? o->payload : NULL;
    pr->amount = requested_amount(o, payload, amount_arg);
    if (!p) {
        pr->error = xstrdup("Provider not found");
        pr->error_code = ERR_NOT_FOUND;
        return;
    }
    pr->endpoint = endpoint_find(p->metadata, "order");
    if (!pr->endpoint) {
        pr->error = xstrdup("Order endpoint is not configured for provider");
        pr->error_code = ERR_INVALID;
        return;
    }
    json_t *ctx = replay_context(p, o, payload, pr->amount);
    char *err = NULL;
    if (endpoint_build_request(pr->endpoint, ctx, ENDPOINT_DEFAULT_TIMEOUT_MS, p->id, &pr->req,
                               &err) != 0) {
        pr->error = err ? err : xstrdup("Endpoint URL is not configured");
        pr->error_code = ERR_INVALID;
    }
    json_decref(ctx);
}

/* Inserts a timeline event inside the caller's transaction. It cannot fail for want of its
 * order: the provider order row is locked, and deleting the order would have to delete that
 * row (ON DELETE CASCADE), so a failure here means the connection failed, and the
 * transaction with it. */
static void insert_timeline(struct replay_env *env, const struct provider_order_rec *o,
                            const char *actor_type, const char *actor_id, const char *notes,
                            json_t *metadata, int64_t now)
{
    if (!o->order_id) {
        json_decref(metadata);
        return;
    }
    struct timeline_event ev = {
        .order_id = o->order_id,
        .event_type = "replay_executed",
        .actor_type = actor_type,
        .actor_id = actor_id ? actor_id : o->id,
        .notes = notes,
        .metadata = metadata,
        .created_us = now,
    };
    if (env->store->ops->timeline_insert(env->store, &ev) != 0) {
        json_t *f = json_object();
        json_object_set_new(f, "order_id", json_string(o->order_id));
        json_object_set_new(f, "event_type", json_string("replay_executed"));
        json_object_set_new(f, "error", json_string(env->store->ops->last_error(env->store)));
        log_fields(LOG_ERROR, "Failed to record automation replay timeline event", f);
    } else {
        json_t *f = json_object();
        json_object_set_new(f, "order_id", json_string(o->order_id));
        json_object_set_new(f, "event_type", json_string("replay_executed"));
        json_object_set_new(f, "actor_type", json_string(actor_type));
        log_fields(LOG_DEBUG, "Order timeline event recorded", f);
    }
    json_decref(metadata);
}

/* Saves an order's payload with its index rows (core/schedule.c), counting entries found
 * invalid on the way as failed attempts of this pass. */
static int save_and_index(struct replay_env *env, struct provider_order_rec *o, int64_t now,
                          int payload_changed, const json_t *reset_entries,
                          struct replay_summary *sum)
{
    size_t invalid = 0;
    int rc = schedule_save(env->store, o, now, payload_changed, reset_entries, &invalid);
    if (sum) {
        sum->processed += (int64_t)invalid;
        sum->failed += (int64_t)invalid;
    }
    return rc;
}

/* Step 1: bring the index up to date with every payload changed since the last
 * sync. */
static int sync_dirty(struct replay_env *env, int64_t now, struct replay_summary *sum, char **error)
{
    const struct store_ops *ops = env->store->ops;
    size_t total = 0;
    while (total < SYNC_MAX_PER_PASS) {
        if (ops->begin(env->store) != 0) {
            *error = store_error(env, "could not start a transaction");
            return ERR_DB;
        }
        char **ids = NULL;
        size_t n = 0;
        int rc = ops->dirty_take(env->store, SYNC_BATCH, &ids, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            struct provider_order_rec o;
            int g = ops->order_get(env->store, ids[i], NULL, 1, &o);
            if (g == ERR_NOT_FOUND) {
                rc = ops->schedule_replace(env->store, ids[i], "", NULL, 0);
                continue;
            }
            if (g != 0) {
                rc = g;
                break;
            }
            rc = save_and_index(env, &o, now, 0, NULL, sum);
            provider_order_rec_release(&o);
        }
        store_strv_free(ids, n);
        if (rc != 0) {
            *error = store_error(env, "could not sync the schedule index");
            ops->rollback(env->store);
            return ERR_DB;
        }
        if (ops->commit(env->store) != 0) {
            *error = store_error(env, "could not commit the schedule index");
            ops->rollback(env->store);
            return ERR_DB;
        }
        total += n;
        if (n < SYNC_BATCH)
            break;
    }
    return 0;
}

/* One claimed entry on its way through a chunk. */
struct work {
    struct schedule_claim *claim;
    struct provider_rec *provider; /* borrowed from the chunk's provider cache, may be NULL */
    int provider_loaded;
    struct prepared pr;
    int skip;            /* nothing to do (stale claim): just re-derive the order's index */
    int release;         /* rate limited: put back */
    int send;            /* a request goes out */
    int fail_now;        /* fails without a request */
    char *fail_msg;      /* borrowed or owned below */
    int outcome_unknown; /* the previous runner died while sending */
    struct http_response resp;
};

struct provider_cache {
    char **ids;
    struct provider_rec *recs;
    int *found;
    size_t n, cap;
};

static struct provider_rec *provider_lookup(struct replay_env *env, struct provider_cache *pc,
                                            const char *id)
{
    for (size_t i = 0; i < pc->n; i++)
        if (strcmp(pc->ids[i], id) == 0)
            return pc->found[i] ? &pc->recs[i] : NULL;
    if (pc->n == pc->cap) {
        pc->cap = pc->cap ? pc->cap * 2 : 8;
        pc->ids = xrealloc(pc->ids, pc->cap * sizeof(*pc->ids));
        pc->recs = xrealloc(pc->recs, pc->cap * sizeof(*pc->recs));
        pc->found = xrealloc(pc->found, pc->cap * sizeof(*pc->found));
    }
    size_t i = pc->n++;
    pc->ids[i] = xstrdup(id);
    memset(&pc->recs[i], 0, sizeof(pc->recs[i]));
    pc->found[i] = env->store->ops->provider_get(env->store, id, &pc->recs[i]) == 0;
    return pc->found[i] ? &pc->recs[i] : NULL;
}

static void provider_cache_release(struct provider_cache *pc)
{
    for (size_t i = 0; i < pc->n; i++) {
        free(pc->ids[i]);
        if (pc->found[i])
            provider_rec_release(&pc->recs[i]);
    }
    free(pc->ids);
    free(pc->recs);
    free(pc->found);
    memset(pc, 0, sizeof(*pc));
}

static int cmp_work_by_order(const void *a, const void *b)
{
    const struct work *x = a, *y = b;
    int c = strcmp(x->claim->provider_order_id, y->claim->provider_order_id);
    return c ? c : strcmp(x->claim->entry_id, y->claim->entry_id);
}

/* The entry's ruleIds (new reference), or an empty array, for log fields. */
static json_t *rule_ids_or_empty(const json_t *entry)
{
    json_t *ids = json_object_get(entry, "ruleIds");
    return ids ? json_incref(ids) : json_array();
}

static json_t *rule_labels_of(const json_t *entry)
{
    return rules_labels(json_object_get(entry, "ruleIds"), json_object_get(entry, "ruleMetadata"));
}

/* Applies one finished work item to the locked, freshly read order. */
static void apply_result(struct replay_env *env, struct work *w, struct provider_order_rec *o,
                         int64_t now, struct replay_summary *sum, json_t *reset_entries)
{
    const char *entry_id = w->claim->entry_id;
    if (!json_is_object(o->payload)) {
        json_decref(o->payload);
        o->payload = json_object();
    }
    json_t *sched = payload_find_schedule(o->payload, entry_id);
    int pending =
        sched && (!json_object_get(sched, "status") ||
                  (json_is_string(json_object_get(sched, "status")) &&
                   strcmp(json_string_value(json_object_get(sched, "status")), "scheduled") == 0));
    int ok = 0;
    char *msg = NULL;
    enum endpoint_failure failure = EP_FAIL_CONFIG;
    int64_t retry_after = -1;
    json_t *parsed = NULL;

    if (w->send) {
        struct endpoint_result r;
        endpoint_interpret(w->pr.endpoint, &w->pr.req, &w->resp, now, &r);
        failure = r.failure;
        ok = r.failure == EP_OK;
        parsed = r.parsed ? json_incref(r.parsed) : NULL;
        msg = r.error ? xstrdup(r.error) : NULL;
        retry_after = r.retry_after_us;
        endpoint_result_release(&r);
    } else if (w->outcome_unknown) {
        msg = xstrdup(MSG_OUTCOME_UNKNOWN_DIED);
        failure = EP_FAIL_TIMEOUT_AMBIGUOUS;
    } else {
        msg = xstrdup(w->pr.error ? w->pr.error : "replay could not be prepared");
    }

    if (ok) {
        char *remote = remote_order_id(w->pr.endpoint, parsed);
        json_t *entry =
            payload_replay_entry(o->payload, w->pr.amount, o->currency, now, "executed", parsed);
        if (remote)
            json_object_set_new(entry, "providerOrderId", json_string(remote));
        payload_record_executed(o->payload, entry, remote);
        free(remote);
        if (pending) {
            payload_schedule_executed(o->payload, sched, entry, now);
            sum->succeeded++;
            if (env->on_outcome)
                env->on_outcome(env->outcome_ctx, o->provider_id, "executed");
            sum->processed++;
            json_t *f = json_object();
            json_object_set_new(f, "provider_order_id", json_string(o->id));
            json_object_set_new(f, "schedule_id", json_string(entry_id));
            json_object_set_new(f, "rule_ids", rule_ids_or_empty(entry));
            json_object_set_new(f, "rule_labels", rule_labels_of(entry));
            log_fields(LOG_INFO, "Provider scheduled replay executed", f);
            json_t *extra = json_object();
            json_object_set_new(extra, "scheduleId", json_string(entry_id));
            json_object_set_new(extra, "trigger", json_string("scheduled_replay"));
            insert_timeline(env, o, "automation", NULL, "Automation replay executed from schedule",
                            payload_timeline_metadata(o, entry, extra), now);
            json_decref(extra);
        }
        json_decref(entry);
    } else if (pending || w->send) {
        json_t *amount_in =
            sched ? payload_to_float(json_object_get(sched, "requestedAmount")) : json_null();
        json_t *err = json_object();
        json_object_set_new(err, "error", json_string(msg));
        json_t *failed =
            payload_replay_entry(o->payload, amount_in, o->currency, now, "failed", err);
        json_array_append_new(payload_array(o->payload, "replays"), failed);
        json_decref(amount_in);
        json_decref(err);
        if (pending) {
            int attempts = payload_schedule_attempts(sched) + 1;
            int retry =
                endpoint_failure_retryable(failure) && w->send && attempts < env->max_attempts;
            const char *notes;
            json_t *extra = json_object();
            json_object_set_new(extra, "scheduleId", json_string(entry_id));
            json_object_set_new(extra, "trigger", json_string("scheduled_replay"));
            json_object_set_new(extra, "error", json_string(msg));
            if (retry) {
                int64_t delay = env->retry_backoff_us;
                for (int i = 1; i < attempts && delay < 86400LL * 1000000LL; i++)
                    delay *= 2;
                if (retry_after > delay)
                    delay = retry_after;
                payload_schedule_retry(sched, attempts, msg, now + delay);
                json_array_append_new(reset_entries, json_string(entry_id));
                sum->retrying++;
                json_object_set_new(extra, "attempt", json_integer(attempts));
                json_object_set(extra, "nextAttemptAt", json_object_get(sched, "nextAttemptAt"));
                notes = "Automation replay attempt failed; retry scheduled";
            } else {
                if (attempts > 1)
                    json_object_set_new(sched, "attempts", json_integer(attempts));
                payload_schedule_failed(o->payload, sched, msg, now);
                notes = "Automation replay attempt failed";
            }
            sum->failed++;
            sum->processed++;
            if (env->on_outcome)
                env->on_outcome(env->outcome_ctx, o->provider_id, retry ? "retrying" : "failed");
            json_t *f = json_object();
            json_object_set_new(f, "provider_order_id", json_string(o->id));
            json_object_set_new(f, "schedule_id", json_string(entry_id));
            json_object_set_new(f, "error", json_string(msg));
            json_object_set_new(f, "rule_ids", rule_ids_or_empty(sched));
            json_object_set_new(f, "rule_labels", rule_labels_of(sched));
            log_fields(LOG_WARNING, "Provider scheduled replay failed", f);
            insert_timeline(env, o, "automation", NULL, notes,
                            payload_timeline_metadata(o, failed, extra), now);
            json_decref(extra);
        }
    }
    json_decref(parsed);
    free(msg);
}

/* A wave: the work items whose requests go out together, with copies of their claims for
 * schedule_settle (which flags the ones that are not ours any more). */
struct wave {
    struct work *items;
    struct schedule_claim *claims;
    size_t n;
    long max_timeout_ms;
};

/* Marks a wave "sending" (step 3) in the open transaction, or in one of its own, and drops
 * the claims that another runner took after our lease ran out: they are not ours to send. */
static int settle_wave(struct replay_env *env, struct wave *wv, char **error)
{
    const struct store_ops *ops = env->store->ops;
    if (wv->n == 0)
        return 0;
    if (ops->schedule_settle(env->store, env->owner, wv->claims, wv->n,
                             env_now(env) + (int64_t)wv->max_timeout_ms * 1000 + env->lease_us,
                             NULL, 0, 0) != 0) {
        *error = store_error(env, "could not mark replays as sending");
        return ERR_DB;
    }
    size_t kept = 0;
    for (size_t k = 0; k < wv->n; k++) {
        if (wv->claims[k].lost)
            continue;
        wv->items[kept] = wv->items[k];
        wv->claims[kept] = wv->claims[k];
        kept++;
    }
    wv->n = kept;
    return 0;
}

/* Step 5 for a slice of work items sorted by order id: one transaction. When settle is not
 * NULL, that wave is marked "sending" in the same transaction, after the results. */
static int record_slice(struct replay_env *env, struct work *items, size_t n, int64_t now,
                        struct replay_summary *sum, struct wave *settle, char **error)
{
    const struct store_ops *ops = env->store->ops;
    if (ops->begin(env->store) != 0) {
        *error = store_error(env, "could not start a transaction");
        return ERR_DB;
    }
    int rc = 0;
    size_t i = 0;
    while (rc == 0 && i < n) {
        /* All items of one order are applied to one fresh read of its payload. */
        size_t j = i;
        while (j < n &&
               strcmp(items[j].claim->provider_order_id, items[i].claim->provider_order_id) == 0)
            j++;
        struct provider_order_rec o;
        int g = ops->order_get(env->store, items[i].claim->provider_order_id, NULL, 1, &o);
        if (g == ERR_NOT_FOUND) {
            rc = ops->schedule_replace(env->store, items[i].claim->provider_order_id, "", NULL, 0);
            i = j;
            continue;
        }
        if (g != 0) {
            rc = g;
            break;
        }
        json_t *reset = json_array();
        int changed = 0;
        for (size_t k = i; k < j; k++) {
            if (items[k].skip || items[k].release)
                continue;
            apply_result(env, &items[k], &o, now, sum, reset);
            changed = 1;
        }
        rc = save_and_index(env, &o, now, changed, reset, sum);
        json_decref(reset);
        provider_order_rec_release(&o);
        i = j;
    }
    if (rc != 0) {
        *error = store_error(env, "could not record replay results");
        ops->rollback(env->store);
        return ERR_DB;
    }
    if (settle && settle_wave(env, settle, error) != 0) {
        ops->rollback(env->store);
        return ERR_DB;
    }
    if (ops->commit(env->store) != 0) {
        *error = store_error(env, "could not commit replay results");
        ops->rollback(env->store);
        return ERR_DB;
    }
    return 0;
}

/* Loads what each claim needs and decides its fate: send, fail now, skip or
 * release. */
static void plan_chunk(struct replay_env *env, struct work *w, size_t n, struct provider_cache *pc,
                       int64_t now, struct replay_summary *sum)
{
    const struct store_ops *ops = env->store->ops;
    for (size_t i = 0; i < n; i++) {
        struct schedule_claim *c = w[i].claim;
        if (c->was_sending) {
            w[i].outcome_unknown = 1;
            continue;
        }
        struct provider_order_rec o;
        if (ops->order_get(env->store, c->provider_order_id, NULL, 0, &o) != 0) {
            w[i].skip = 1;
            continue;
        }
        json_t *sched = payload_find_schedule(o.payload, c->entry_id);
        const json_t *st = sched ? json_object_get(sched, "status") : NULL;
        if (!sched ||
            (st && !(json_is_string(st) && strcmp(json_string_value(st), "scheduled") == 0))) {
            w[i].skip = 1;
            provider_order_rec_release(&o);
            continue;
        }
        json_t *amount = payload_to_float(json_object_get(sched, "requestedAmount"));
        struct provider_rec *p = provider_lookup(env, pc, o.provider_id);
        prepare(p, &o, json_is_null(amount) ? NULL : amount, &w[i].pr);
        json_decref(amount);
        provider_order_rec_release(&o);
        if (w[i].pr.error)
            w[i].fail_now = 1;
        else
            w[i].send = 1;
    }
    /* DECISIONS 9: rate_limit_per_minute, shared by every runner through the
     * store. */
    int64_t window = now - (now % MINUTE_US);
    for (size_t i = 0; i < n; i++) {
        if (!w[i].send)
            continue;
        const char *pid = w[i].claim->provider_id;
        struct provider_rec *p = provider_lookup(env, pc, pid);
        if (!p || p->rate_limit_per_minute <= 0)
            continue;
        /* Count this provider's sends in the chunk once, at its first item. */
        int first = 1;
        for (size_t k = 0; k < i; k++)
            if (w[k].send && strcmp(w[k].claim->provider_id, pid) == 0)
                first = 0;
        if (!first)
            continue;
        int want = 0;
        for (size_t k = i; k < n; k++)
            if (w[k].send && strcmp(w[k].claim->provider_id, pid) == 0)
                want++;
        int granted = 0;
        if (ops->rate_take(env->store, pid, p->rate_limit_per_minute, window, want, &granted) != 0)
            granted = 0;
        for (size_t k = i; k < n; k++) {
            if (w[k].send && strcmp(w[k].claim->provider_id, pid) == 0) {
                if (granted > 0) {
                    granted--;
                } else {
                    w[k].send = 0;
                    w[k].release = 1;
                    prepared_release(&w[k].pr);
                    sum->deferred++;
                }
            }
        }
    }
}

/* Records a set of work items (shallow copies; ownership stays with the chunk), sorted by
 * order so that every runner locks orders in the same sequence, in slices of about
 * RECORD_BATCH items that never split one order. settle, when not NULL, is a wave to mark
 * "sending" in the transaction of the last slice. */
static int record_items(struct replay_env *env, struct work *items, size_t n,
                        struct replay_summary *sum, struct wave *settle, char **error)
{
    qsort(items, n, sizeof(*items), cmp_work_by_order);
    int64_t done_at = env_now(env);
    int rc = 0;
    size_t i = 0;
    while (rc == 0 && i < n) {
        size_t m = n - i < RECORD_BATCH ? n - i : RECORD_BATCH;
        while (i + m < n && strcmp(items[i + m].claim->provider_order_id,
                                   items[i + m - 1].claim->provider_order_id) == 0)
            m++;
        rc = record_slice(env, items + i, m, done_at, sum, i + m == n ? settle : NULL, error);
        i += m;
    }
    return rc;
}

/* Whether one transaction may both record a wave and mark the next one "sending". On SQLite
 * every write transaction holds the database's single write lock, so no lock order can
 * deadlock. On PostgreSQL the row locks of a sync (order row, then its index rows) and of
 * such a transaction (index rows of the next wave, order rows of this one) could cross, so
 * the mark keeps a transaction of its own there, which locks nothing else. */
static int settle_with_record(const struct store_ops *ops)
{
    return strcmp(ops->name, "sqlite") == 0;
}

/* Picks the next wave: at most provider_concurrency not yet sent items per provider. */
static void pick_wave(struct replay_env *env, struct work *w, size_t n, char *done, struct wave *wv)
{
    wv->n = 0;
    wv->max_timeout_ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (!w[i].send || done[i])
            continue;
        int same = 0;
        for (size_t k = 0; k < wv->n; k++)
            if (strcmp(wv->items[k].claim->provider_id, w[i].claim->provider_id) == 0)
                same++;
        if (same >= env->provider_concurrency)
            continue;
        done[i] = 1;
        wv->items[wv->n] = w[i];
        wv->claims[wv->n] = *w[i].claim;
        wv->n++;
        if (w[i].pr.req.timeout_ms > wv->max_timeout_ms)
            wv->max_timeout_ms = w[i].pr.req.timeout_ms;
    }
}

static int run_chunk(struct replay_env *env, int want, int64_t now, struct replay_summary *sum,
                     int *claimed, char **error)
{
    const struct store_ops *ops = env->store->ops;
    struct schedule_claim *claims = NULL;
    size_t n = 0;
    int64_t lease_until = now + env->lease_us;
    if (ops->schedule_claim(env->store, env->owner, now, lease_until, (size_t)want, &claims, &n) !=
        0) {
        *error = store_error(env, "could not claim scheduled replays");
        return ERR_DB;
    }
    *claimed = (int)n;
    if (n == 0)
        return 0;
    struct work *w = xcalloc(n, sizeof(*w));
    for (size_t i = 0; i < n; i++)
        w[i].claim = &claims[i];
    struct provider_cache pc = {0};
    plan_chunk(env, w, n, &pc, now, sum);

    /* Rate-limited claims go back first; items that need no request are recorded at once. */
    int rc = 0;
    struct schedule_claim *set = xcalloc(n, sizeof(*set));
    size_t nr = 0;
    for (size_t i = 0; i < n; i++)
        if (w[i].release)
            set[nr++] = claims[i];
    int64_t window_end = now - (now % MINUTE_US) + MINUTE_US;
    if (nr > 0 &&
        ops->schedule_settle(env->store, env->owner, NULL, 0, 0, set, nr, window_end) != 0) {
        *error = store_error(env, "could not release rate-limited replays");
        rc = ERR_DB;
    }
    struct work *batch = xcalloc(n, sizeof(*batch));
    size_t nb = 0;
    for (size_t i = 0; i < n; i++)
        if (!w[i].send && !w[i].release)
            batch[nb++] = w[i];

    /* Then waves of at most provider_concurrency requests per provider: each wave is marked
     * "sending" durably before its requests leave (crash safety), sent together, and
     * recorded. A runner killed mid-wave leaves at most one wave whose outcome is unknown.
     * Where it is safe (settle_with_record), the mark of a wave is committed with the
     * results recorded before it: a kill still leaves at most that one wave unknown. */
    int fuse = settle_with_record(ops);
    char *done = xcalloc(n, 1);
    struct wave cur = {xcalloc(n, sizeof(struct work)), xcalloc(n, sizeof(struct schedule_claim)),
                       0, 0};
    struct wave next = {xcalloc(n, sizeof(struct work)), xcalloc(n, sizeof(struct schedule_claim)),
                        0, 0};
    pick_wave(env, w, n, done, &cur);
    size_t picked = cur.n;
    if (rc == 0 && nb > 0)
        rc = record_items(env, batch, nb, sum, fuse && cur.n > 0 ? &cur : NULL, error);
    if (rc == 0 && !(fuse && nb > 0))
        rc = settle_wave(env, &cur, error);
    while (rc == 0 && picked > 0) {
        if (cur.n > 0) {
            struct http_request *reqs = xcalloc(cur.n, sizeof(*reqs));
            struct http_response *resps = xcalloc(cur.n, sizeof(*resps));
            for (size_t k = 0; k < cur.n; k++)
                reqs[k] = cur.items[k].pr.req; /* shallow: w keeps ownership */
            env->transport->perform(env->transport, reqs, resps, cur.n, env->provider_concurrency);
            for (size_t k = 0; k < cur.n; k++) {
                cur.items[k].resp = resps[k];
                /* hand the response back to its owner so it is released once */
                for (size_t i = 0; i < n; i++)
                    if (w[i].claim == cur.items[k].claim)
                        w[i].resp = resps[k];
            }
            free(reqs);
            free(resps);
        }
        pick_wave(env, w, n, done, &next);
        picked = next.n;
        int fused = fuse && cur.n > 0 && next.n > 0;
        if (cur.n > 0)
            rc = record_items(env, cur.items, cur.n, sum, fused ? &next : NULL, error);
        if (rc == 0 && !fused)
            rc = settle_wave(env, &next, error);
        struct wave t = cur;
        cur = next;
        next = t;
    }
    free(cur.items);
    free(cur.claims);
    free(next.items);
    free(next.claims);
    free(done);
    free(batch);
    free(set);

    for (size_t i = 0; i < n; i++) {
        prepared_release(&w[i].pr);
        http_response_release(&w[i].resp);
    }
    free(w);
    provider_cache_release(&pc);
    schedule_claims_free(claims, n);
    return rc;
}

int replay_run_scheduled(struct replay_env *env, int limit, struct replay_summary *out,
                         char **error)
{
    memset(out, 0, sizeof(*out));
    out->backlog = -1;
    out->next_due_us = STORE_NO_TIME;
    *error = NULL;
    if (limit <= 0) {
        out->no_backlog = 1;
        return 0;
    }
    int64_t now = env_now(env);
    int rc = sync_dirty(env, now, out, error);
    if (rc != 0)
        return rc;
    int chunk = env->chunk > 0 ? env->chunk : 256;
    while (out->processed < limit) {
        int want = (int)(limit - out->processed);
        if (want > chunk)
            want = chunk;
        int claimed = 0;
        now = env_now(env);
        rc = run_chunk(env, want, now, out, &claimed, error);
        if (rc != 0)
            return rc;
        if (claimed == 0)
            break;
        /* Only rate-limited releases or stale claims: stop rather than spin. */
        if (claimed < want)
            break;
    }
    const struct store_ops *ops = env->store->ops;
    int64_t deferred = 0;
    if (ops->schedule_deferred(env->store, env_now(env), &deferred) == 0)
        out->deferred += deferred;
    if (ops->schedule_backlog(env->store, &out->backlog, &out->next_due_us) != 0) {
        *error = store_error(env, "could not compute the replay backlog");
        return ERR_DB;
    }
    return 0;
}

json_t *replay_summary_json(const struct replay_summary *s)
{
    json_t *j = json_object();
    json_object_set_new(j, "processed", json_integer(s->processed));
    json_object_set_new(j, "succeeded", json_integer(s->succeeded));
    json_object_set_new(j, "failed", json_integer(s->failed));
    if (s->no_backlog)
        return j;
    json_object_set_new(j, "scheduledBacklog", json_integer(s->backlog < 0 ? 0 : s->backlog));
    if (s->next_due_us != STORE_NO_TIME) {
        char buf[ISO_BUFSZ];
        iso_format_utc(s->next_due_us, buf);
        json_object_set_new(j, "nextScheduledAt", json_string(buf));
    }
    json_object_set_new(j, "retrying", json_integer(s->retrying));
    json_object_set_new(j, "deferred", json_integer(s->deferred));
    return j;
}

const char *replay_summary_status(const struct replay_summary *s)
{
    if (s->failed == 0)
        return "success";
    if (s->succeeded == 0)
        return "failed";
    return "partial";
}

int replay_now(struct replay_env *env, const char *provider_id, const char *po_id,
               const json_t *amount, const struct replay_trigger *trigger, json_t **entry_out,
               char **error)
{
    const struct store_ops *ops = env->store->ops;
    *entry_out = NULL;
    *error = NULL;
    struct provider_order_rec o;
    int rc = ops->order_get(env->store, po_id, provider_id, 0, &o);
    if (rc == ERR_NOT_FOUND) {
        *error = xstrdup("Provider order not found");
        return ERR_NOT_FOUND;
    }
    if (rc != 0) {
        *error = store_error(env, "could not load the provider order");
        return ERR_DB;
    }
    struct provider_rec p;
    int have_p = ops->provider_get(env->store, o.provider_id, &p) == 0;
    struct prepared pr;
    prepare(have_p ? &p : NULL, &o, amount, &pr);
    if (pr.error) {
        *error = xstrdup(pr.error);
        rc = pr.error_code;
        goto out;
    }
    struct http_response resp;
    memset(&resp, 0, sizeof(resp));
    env->transport->perform(env->transport, &pr.req, &resp, 1, 1);
    int64_t now = env_now(env);
    struct endpoint_result r;
    endpoint_interpret(pr.endpoint, &pr.req, &resp, now, &r);
    http_response_release(&resp);
    if (r.failure != EP_OK) {
        *error = xstrdup(r.error ? r.error : "provider request failed");
        endpoint_result_release(&r);
        rc = ERR_IO;
        goto out;
    }
    char *remote = remote_order_id(pr.endpoint, r.parsed);

    /* Record against the current payload, under the row lock. */
    if (ops->begin(env->store) != 0) {
        *error = store_error(env, "could not start a transaction");
        free(remote);
        endpoint_result_release(&r);
        rc = ERR_DB;
        goto out;
    }
    struct provider_order_rec cur;
    rc = ops->order_get(env->store, po_id, NULL, 1, &cur);
    if (rc == 0) {
        if (!json_is_object(cur.payload)) {
            json_decref(cur.payload);
            cur.payload = json_object();
        }
        json_t *entry =
            payload_replay_entry(cur.payload, pr.amount, cur.currency, now, "executed", r.parsed);
        if (remote)
            json_object_set_new(entry, "providerOrderId", json_string(remote));
        payload_record_executed(cur.payload, entry, remote);
        rc = save_and_index(env, &cur, now, 1, NULL, NULL);
        if (rc == 0) {
            json_t *f = json_object();
            json_object_set_new(f, "provider_id", json_string(cur.provider_id));
            json_object_set_new(f, "provider_order_id", json_string(cur.id));
            json_object_set_new(f, "order_id",
                                cur.order_id ? json_string(cur.order_id) : json_null());
            json_object_set_new(f, "rule_ids", rule_ids_or_empty(entry));
            json_object_set_new(f, "rule_labels", rule_labels_of(entry));
            json_object_set(f, "amount", json_object_get(entry, "requestedAmount"));
            json_object_set_new(f, "status", json_string("executed"));
            log_fields(LOG_INFO, "Provider order replay executed", f);
            if (trigger)
                insert_timeline(env, &cur, trigger->actor_type, trigger->actor_id, trigger->notes,
                                payload_timeline_metadata(&cur, entry, trigger->extra), now);
            *entry_out = entry;
        } else {
            json_decref(entry);
        }
        provider_order_rec_release(&cur);
    }
    free(remote);
    endpoint_result_release(&r);
    if (rc != 0 || ops->commit(env->store) != 0) {
        /* The provider acted but we could not record it: say so plainly. */
        char *e = store_error(env, "replay was sent but could not be recorded");
        *error = e;
        ops->rollback(env->store);
        json_decref(*entry_out);
        *entry_out = NULL;
        rc = ERR_DB;
    }
out:
    prepared_release(&pr);
    if (have_p)
        provider_rec_release(&p);
    provider_order_rec_release(&o);
    return rc;
}
