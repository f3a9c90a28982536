/*
 * Refills, on the same endpoint engine as replays. What differs from a replay: the endpoint
 * is `refill`, the provider's own order id is mandatory (and, unlike the original, never
 * replaced by the storefront's internal order id, which the provider would not know:
 * DECISIONS 10), the amount does not fall back to the payload, and the result is logged in
 * payload.refills without touching providerResponse.
 */
#include "core/refill.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/sb.h"
#include "base/uuid.h"
#include "core/endpoint.h"
#include "core/payload.h"
#include "core/schedule.h"
#include "core/template.h"

char *refill_remote_id(const json_t *payload)
{
    static const char *const keys[] = {"providerOrderId", "provider_order_id", "providerOrderID"};
    if (!json_is_object(payload))
        return NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(payload, keys[i]);
        if (!json_is_string(v) && !json_is_integer(v))
            continue;
        struct sb sb = SB_INIT;
        template_pystr(&sb, v);
        const char *a = sb_str(&sb), *b = a + sb.len;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        char *out = b > a ? xstrndup(a, (size_t)(b - a)) : NULL;
        sb_release(&sb);
        if (out)
            return out;
    }
    return NULL;
}

json_t *refill_amount(const struct provider_order_rec *o, const json_t *amount)
{
    if (amount && !json_is_null(amount))
        return json_deep_copy(amount);
    if (o->has_amount)
        return json_real(o->amount);
    return json_null();
}

static void setdefault(json_t *ctx, const char *key, json_t *value)
{
    if (!json_object_get(ctx, key))
        json_object_set_new(ctx, key, value);
    else
        json_decref(value);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *refill_context(const json_t *provider_metadata, const struct provider_order_rec *o,
                       const char *remote_id, const json_t *amount)
{
    json_t *ctx = endpoint_metadata_context(provider_metadata);
    json_object_set_new(ctx, "providerOrderId", str_or_null(remote_id));
    json_object_set_new(ctx, "orderId", str_or_null(o->order_id));
    json_object_set_new(ctx, "orderItemId", str_or_null(o->order_item_id));
    json_object_set_new(ctx, "serviceId", str_or_null(o->service_id));
    json_object_set_new(ctx, "serviceAction", str_or_null(o->service_action));
    if (amount && !json_is_null(amount)) {
        setdefault(ctx, "amount", json_deep_copy(amount));
        setdefault(ctx, "requestedAmount", json_deep_copy(amount));
    }
    if (o->currency && *o->currency)
        setdefault(ctx, "currency", json_string(o->currency));
    if (o->provider_name && *o->provider_name)
        setdefault(ctx, "providerName", json_string(o->provider_name));
    if (json_is_object(o->payload)) {
        const char *k;
        json_t *v;
        json_object_foreach (o->payload, k, v) {
            if (json_is_string(v) || json_is_number(v) || json_is_boolean(v))
                setdefault(ctx, k, json_deep_copy(v));
        }
    }
    return ctx;
}

json_t *refill_entry(const json_t *amount, const char *currency, int64_t performed_us,
                     const json_t *response)
{
    char id[UUID_STRLEN + 1], when[ISO_BUFSZ];
    uuid4(id);
    iso_format_utc(performed_us, when);
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(id));
    json_object_set_new(e, "amount", amount ? json_deep_copy(amount) : json_null());
    json_object_set_new(e, "currency", str_or_null(currency));
    json_object_set_new(e, "performedAt", json_string(when));
    json_object_set_new(e, "response", response ? json_deep_copy(response) : json_object());
    return e;
}

static char *store_error(struct store *s, const char *what)
{
    struct sb sb = SB_INIT;
    sb_printf(&sb, "%s: %s", what, s->ops->last_error(s));
    return sb_detach(&sb);
}

static void log_fields(enum log_level level, const char *message, json_t *fields)
{
    char *text = json_dumps(fields, JSON_COMPACT | JSON_ENSURE_ASCII);
    log_event(level, message, text);
    free(text);
    json_decref(fields);
}

/* The refill_completed event; failures are logged (spec-replay §8), never returned. */
static void record_timeline(struct store *s, const struct provider_order_rec *o,
                            const json_t *entry, const struct refill_trigger *trigger,
                            int64_t now_us)
{
    if (!o->order_id)
        return;
    json_t *meta = payload_timeline_metadata(o, entry, trigger ? trigger->extra : NULL);
    struct timeline_event ev = {
        .order_id = o->order_id,
        .event_type = "refill_completed",
        .actor_type = trigger && trigger->actor_type ? trigger->actor_type : "operator",
        .actor_id = o->id,
        .actor_label = trigger ? trigger->actor_label : NULL,
        .notes = trigger ? trigger->notes : NULL,
        .metadata = meta,
        .created_us = now_us,
    };
    if (s->ops->timeline_insert(s, &ev) != 0) {
        json_t *f = json_object();
        json_object_set_new(f, "order_id", json_string(o->order_id));
        json_object_set_new(f, "event_type", json_string("refill_completed"));
        json_object_set_new(f, "error", json_string(s->ops->last_error(s)));
        log_fields(LOG_ERROR, "Failed to record refill timeline event", f);
    }
    json_decref(meta);
}

/* Sends the refill request; 0 with *parsed (new), or a code with *error (owned). */
static int send_refill(struct replay_env *env, const struct provider_rec *p,
                       const struct provider_order_rec *o, const json_t *amount, json_t **parsed,
                       char **error)
{
    const json_t *endpoint = endpoint_find(p->metadata, "refill");
    if (!endpoint) {
        *error = xstrdup(REFILL_MSG_NO_ENDPOINT);
        return ERR_INVALID;
    }
    char *remote = refill_remote_id(o->payload);
    if (!remote) {
        *error = xstrdup(REFILL_MSG_NO_REMOTE_ID);
        return ERR_INVALID;
    }
    json_t *ctx = refill_context(p->metadata, o, remote, amount);
    free(remote);
    struct http_request req;
    memset(&req, 0, sizeof(req));
    char *err = NULL;
    int rc = endpoint_build_request(endpoint, ctx, ENDPOINT_DEFAULT_TIMEOUT_MS, p->id, &req, &err);
    json_decref(ctx);
    if (rc != 0) {
        *error = err ? err : xstrdup("Endpoint URL is not configured");
        http_request_release(&req);
        return ERR_INVALID;
    }
    struct http_response resp;
    memset(&resp, 0, sizeof(resp));
    env->transport->perform(env->transport, &req, &resp, 1, 1);
    struct endpoint_result r;
    endpoint_interpret(endpoint, &req, &resp,
                       env->now_us ? env->now_us(env->clock_ctx) : time_now_us(), &r);
    http_response_release(&resp);
    http_request_release(&req);
    if (r.failure != EP_OK) {
        *error = xstrdup(r.error ? r.error : "provider request failed");
        endpoint_result_release(&r);
        return ERR_IO;
    }
    *parsed = json_incref(r.parsed);
    endpoint_result_release(&r);
    return 0;
}

int refill_now(struct replay_env *env, const struct provider_rec *p, const char *po_id,
               const json_t *amount, const struct refill_trigger *trigger, json_t **entry_out,
               char **error)
{
    struct store *s = env->store;
    struct provider_order_rec o;
    *entry_out = NULL;
    *error = NULL;
    int rc = s->ops->order_get(s, po_id, p->id, 0, &o);
    if (rc != 0) {
        if (rc == ERR_NOT_FOUND) {
            *error = xstrdup("Provider order not found");
            return ERR_NOT_FOUND;
        }
        *error = store_error(s, "could not load the provider order");
        return ERR_DB;
    }
    json_t *want = refill_amount(&o, amount);
    json_t *parsed = NULL;
    rc = send_refill(env, p, &o, want, &parsed, error);
    provider_order_rec_release(&o);
    if (rc != 0) {
        json_decref(want);
        return rc;
    }

    /* Record against the current payload, under the row lock. */
    int64_t now = env->now_us ? env->now_us(env->clock_ctx) : time_now_us();
    json_t *entry = NULL;
    if (s->ops->begin(s) != 0) {
        *error = store_error(s, "refill was sent but could not be recorded");
        rc = ERR_DB;
        goto out;
    }
    rc = s->ops->order_get(s, po_id, NULL, 1, &o);
    if (rc == 0) {
        if (!json_is_object(o.payload)) {
            json_decref(o.payload);
            o.payload = json_object();
        }
        entry = refill_entry(want, o.currency, now, parsed);
        json_array_append(payload_array(o.payload, "refills"), entry);
        rc = schedule_save(s, &o, now, 1, NULL, NULL);
        if (rc == 0)
            rc = s->ops->commit(s);
        if (rc == 0) {
            record_timeline(s, &o, entry, trigger, now);
            json_t *f = json_object();
            json_object_set_new(f, "provider_id", json_string(o.provider_id));
            json_object_set_new(f, "provider_order_id", json_string(o.id));
            json_object_set(f, "amount", want);
            log_fields(LOG_INFO, "Provider order refill triggered", f);
        }
        provider_order_rec_release(&o);
    }
    if (rc != 0) {
        *error = store_error(s, "refill was sent but could not be recorded");
        s->ops->rollback(s);
        json_decref(entry);
        entry = NULL;
        rc = ERR_DB;
    }
out:
    json_decref(want);
    json_decref(parsed);
    *entry_out = entry;
    return rc;
}
