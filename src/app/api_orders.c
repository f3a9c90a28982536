/*
 * Orders routes of the HTTP API (see api_routes.h): provider orders of a provider or of an
 * order (spec-api-ui §4.12, 4.13, §5.4-5.6), refill and replay of one provider order (§4.14,
 * 4.15), the order timeline (§4.22), and order intake (DECISIONS "Beyond"): creating an order
 * with its items, reading it, and changing its status, which places its provider orders when
 * the order moves to processing (spec-replay §3). The domain work is in core (refill.c,
 * schedule.c, placement.c, replay.c); this file validates, translates rows to the original's
 * camelCase JSON, and maps errors to status codes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/api_routes.h"
#include "app/placement.h"
#include "app/validate.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/num.h"
#include "base/sb.h"
#include "base/uuid.h"
#include "core/pyjson.h"
#include "core/endpoint.h"
#include "core/payload.h"
#include "core/placement.h"
#include "core/refill.h"
#include "core/replay.h"
#include "core/schedule.h"

/* How many provider orders of one order intake looks at for idempotency. */
#define ORDER_PROVIDER_ORDERS_MAX 10000

static const char *const order_statuses[] = {"pending", "processing", "active", "completed",
                                             "on_hold", "canceled",   NULL};
static const char *const order_sources[] = {"checkout", "manual", NULL};
static const char *const currencies[] = {"EUR", "USD", NULL};

/* ---- shared helpers ---- */

static void log_fields(enum log_level level, const char *message, json_t *fields)
{
    char *text = pyjson_dumps(fields, PYJSON_COMPACT);
    log_event(level, message, text);
    free(text);
    json_decref(fields);
}

/* A typed datetime field from stored ISO text (spec-api-ui §1.3): UTC with "Z", another
 * offset kept, a naive value without suffix. NULL when v is not a parseable string. */
static json_t *typed_time(const json_t *v)
{
    struct iso_time t;
    char buf[ISO_BUFSZ];
    if (!json_is_string(v) || iso_parse(json_string_value(v), json_string_length(v), &t) != 0)
        return NULL;
    if (t.has_offset && t.offset_sec == 0)
        return api_time(t.utc_us);
    iso_format(&t, buf);
    return json_string(buf);
}

/* A row's microsecond timestamp column as a typed field, or null. */
static json_t *row_time(const json_t *row, const char *col)
{
    const json_t *v = json_object_get(row, col);
    return json_is_integer(v) ? api_time(json_integer_value(v)) : json_null();
}

static json_t *copy_or_null(const json_t *v)
{
    return v ? json_deep_copy(v) : json_null();
}

/* Python float() as pydantic's lax float sees it; 0 when v is not a number. */
static int lax_float(const json_t *v, json_t **out)
{
    if (!v || json_is_null(v)) {
        *out = json_null();
        return 1;
    }
    json_t *f = payload_to_float(v);
    if (json_is_null(f)) {
        json_decref(f);
        return 0;
    }
    *out = f;
    return 1;
}

/* A RefillEntry (§5.5), or NULL when the stored entry does not fit it (DECISIONS 14: such
 * entries are skipped instead of failing the listing). */
static json_t *refill_json(const json_t *e)
{
    const json_t *id = json_object_get(e, "id"), *cur = json_object_get(e, "currency");
    const json_t *resp = json_object_get(e, "response");
    json_t *when = typed_time(json_object_get(e, "performedAt")), *amount = NULL;
    if (!json_is_string(id) || !when || (cur && !json_is_null(cur) && !json_is_string(cur)) ||
        (resp && !json_is_null(resp) && !json_is_object(resp)) ||
        !lax_float(json_object_get(e, "amount"), &amount)) {
        json_decref(when);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_deep_copy(id));
    json_object_set_new(o, "amount", amount);
    json_object_set_new(o, "currency", copy_or_null(cur));
    json_object_set_new(o, "performedAt", when);
    json_object_set_new(o, "response", copy_or_null(resp));
    return o;
}

/* An optional typed datetime: 1 with *out (null when absent), 0 when present but invalid. */
static int opt_time(const json_t *v, json_t **out)
{
    if (!v || json_is_null(v)) {
        *out = json_null();
        return 1;
    }
    *out = typed_time(v);
    return *out != NULL;
}

static int str_list_or_null(const json_t *v)
{
    if (!v || json_is_null(v))
        return 1;
    if (!json_is_array(v))
        return 0;
    size_t i;
    json_t *x;
    json_array_foreach (v, i, x) {
        if (!json_is_string(x))
            return 0;
    }
    return 1;
}

/* A ReplayEntry (§5.6) with every key present, or NULL when the stored entry does not fit. */
static json_t *replay_json(const json_t *e)
{
    const json_t *id = json_object_get(e, "id"), *cur = json_object_get(e, "currency");
    const json_t *st = json_object_get(e, "status"), *resp = json_object_get(e, "response");
    const json_t *ids = json_object_get(e, "ruleIds"), *meta = json_object_get(e, "ruleMetadata");
    const char *status = "executed"; /* the original's default for an entry without status */
    json_t *amount = NULL, *performed = NULL, *scheduled = NULL;
    if (st && !json_is_null(st)) {
        status = json_is_string(st) ? json_string_value(st) : "";
        if (strcmp(status, "executed") != 0 && strcmp(status, "scheduled") != 0 &&
            strcmp(status, "failed") != 0)
            return NULL;
    }
    int ok = json_is_string(id) && (!cur || json_is_null(cur) || json_is_string(cur)) &&
             (!resp || json_is_null(resp) || json_is_object(resp)) && str_list_or_null(ids) &&
             (!meta || json_is_null(meta) || json_is_object(meta));
    ok = ok && lax_float(json_object_get(e, "requestedAmount"), &amount);
    ok = ok && opt_time(json_object_get(e, "performedAt"), &performed);
    ok = ok && opt_time(json_object_get(e, "scheduledFor"), &scheduled);
    if (!ok) {
        json_decref(amount);
        json_decref(performed);
        json_decref(scheduled);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_deep_copy(id));
    json_object_set_new(o, "requestedAmount", amount);
    json_object_set_new(o, "currency", copy_or_null(cur));
    json_object_set_new(o, "performedAt", performed);
    json_object_set_new(o, "scheduledFor", scheduled);
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "response", copy_or_null(resp));
    json_object_set_new(o, "ruleIds", copy_or_null(ids));
    json_object_set_new(o, "ruleMetadata", copy_or_null(meta));
    return o;
}

/* The valid object entries of payload[key] through conv. */
static json_t *entries_json(const json_t *payload, const char *key, const char *alt,
                            json_t *(*conv)(const json_t *))
{
    json_t *out = json_array();
    const json_t *arr = json_is_object(payload) ? json_object_get(payload, key) : NULL;
    if (!arr && alt && json_is_object(payload))
        arr = json_object_get(payload, alt);
    size_t i;
    json_t *e;
    if (!json_is_array(arr))
        return out;
    json_array_foreach (arr, i, e) {
        json_t *c = json_is_object(e) ? conv(e) : NULL;
        if (c)
            json_array_append_new(out, c);
    }
    return out;
}

/* str() of a remote id value: strings as they are, numbers rendered; NULL otherwise. */
static json_t *remote_id_json(const json_t *payload)
{
    const json_t *v = json_object_get(payload, "providerOrderId");
    if (!v || json_is_null(v))
        v = json_object_get(payload, "provider_order_id");
    if (json_is_string(v))
        return json_deep_copy(v);
    if (json_is_integer(v) || json_is_real(v)) {
        char *text = pyjson_dumps(v, PYJSON_COMPACT);
        json_t *s = json_string(text);
        free(text);
        return s;
    }
    return json_null();
}

/* A ProviderOrder (§5.4) from a provider-order row. */
static json_t *provider_order_json(const json_t *row)
{
    const json_t *payload = json_object_get(row, "payload");
    if (!json_is_object(payload))
        payload = NULL;
    json_t *o = json_object();
    json_object_set_new(o, "id", copy_or_null(json_object_get(row, "id")));
    json_object_set_new(o, "providerId", copy_or_null(json_object_get(row, "provider_id")));
    json_object_set_new(o, "providerName", copy_or_null(json_object_get(row, "provider_name")));
    json_object_set_new(o, "serviceId", copy_or_null(json_object_get(row, "service_id")));
    json_object_set_new(o, "serviceAction", copy_or_null(json_object_get(row, "service_action")));
    json_object_set_new(o, "orderId", copy_or_null(json_object_get(row, "order_id")));
    json_object_set_new(o, "orderItemId", copy_or_null(json_object_get(row, "order_item_id")));
    json_object_set_new(o, "amount", copy_or_null(json_object_get(row, "amount")));
    json_object_set_new(o, "currency", copy_or_null(json_object_get(row, "currency")));
    json_object_set_new(o, "providerOrderId", payload ? remote_id_json(payload) : json_null());
    json_object_set_new(o, "payload", payload ? json_deep_copy(payload) : json_null());
    json_object_set_new(o, "createdAt", row_time(row, "created_at"));
    json_object_set_new(o, "updatedAt", row_time(row, "updated_at"));
    json_object_set_new(o, "refills", entries_json(payload, "refills", NULL, refill_json));
    json_object_set_new(o, "replays", entries_json(payload, "replays", NULL, replay_json));
    json_object_set_new(
        o, "scheduledReplays",
        entries_json(payload, "scheduledReplays", "scheduled_replays", replay_json));
    return o;
}

static json_t *provider_orders_json(const json_t *rows)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach (rows, i, r)
        json_array_append_new(out, provider_order_json(r));
    return out;
}

/* Appends the 422 error of a path parameter that must be a UUID; 0 when it is one. */
static int check_path_uuid(const char *name, const char *value, json_t *errors)
{
    char canon[UUID_STRLEN + 1];
    if (value && uuid_parse(value, canon) == 0)
        return 0;
    json_t *input = json_string(value ? value : "");
    json_array_append_new(errors, validate_error("uuid_parsing", json_pack("[s,s]", "path", name),
                                                 "Input should be a valid UUID, unable to parse "
                                                 "string as a UUID",
                                                 input, NULL));
    json_decref(input);
    return -1;
}

/* A provider transport under the configured outbound policy (DECISIONS 13), or NULL. */
static struct http_transport *orders_transport(struct api *api)
{
    char *error = NULL;
    struct http_transport *t = app_transport_new(api->cfg, &error);
    if (!t) {
        log_msgf(LOG_ERROR, "cannot start the HTTP client: %s", error ? error : "unknown error");
        free(error);
    }
    return t;
}

/* The replay environment of one request: the pooled store and, when given, a transport. */
static void orders_env(struct api *api, struct store *s, struct http_transport *t,
                       struct replay_env *env)
{
    memset(env, 0, sizeof(*env));
    env->store = s;
    env->transport = t;
    env->owner = "api";
    env->max_attempts = api->cfg->replay_max_attempts;
    env->lease_us = (int64_t)api->cfg->replay_lease_seconds * 1000000LL;
    env->provider_concurrency = 1;
    env->chunk = 1;
}

/* 404 "Provider not found" unless the provider exists; 0 and *p filled when it does. */
static int load_provider(struct store *s, const char *id, struct provider_rec *p,
                         struct http_reply *rep)
{
    int rc = s->ops->provider_get(s, id, p);
    if (rc == ERR_NOT_FOUND)
        reply_detail(rep, 404, "Provider not found");
    else if (rc != 0)
        reply_detail(rep, 500, "Internal Server Error");
    return rc;
}

/* Status of a core error code from replay, schedule and refill. */
static int error_status(int rc)
{
    if (rc == ERR_NOT_FOUND)
        return 404;
    if (rc == ERR_DB || rc == ERR_NOMEM)
        return 500;
    return 400;
}

/* ---- provider orders ---- */

API_HANDLER(orders_list_for_provider)
{
    struct api *api = ctx;
    long limit = 25;
    json_t *errors = json_array();
    if (validate_query_int(req, "limit", 1, 250, &limit, errors) < 0) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    const char *provider_id = route_param(p, "provider_id");
    struct provider_rec prov;
    if (load_provider(s, provider_id, &prov, rep) == 0) {
        provider_rec_release(&prov);
        json_t *rows = NULL;
        if (s->ops->provider_orders_list(s, provider_id, (size_t)limit, &rows) != 0) {
            log_msgf(LOG_ERROR, "provider orders: %s", s->ops->last_error(s));
            reply_detail(rep, 500, "Internal Server Error");
        } else {
            reply_json(rep, 200, provider_orders_json(rows));
        }
        json_decref(rows);
    }
    api_store_release(api, s);
}

API_HANDLER(orders_by_order)
{
    struct api *api = ctx;
    long limit = 100;
    const char *order_id = route_param(p, "order_id");
    json_t *errors = json_array();
    int bad = check_path_uuid("order_id", order_id, errors);
    bad |= validate_query_int(req, "limit", 1, 500, &limit, errors) < 0;
    if (bad) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    json_t *rows = NULL;
    if (s->ops->provider_orders_for_order(s, order_id, (size_t)limit, &rows) != 0) {
        log_msgf(LOG_ERROR, "provider orders of an order: %s", s->ops->last_error(s));
        reply_detail(rep, 500, "Internal Server Error");
    } else {
        reply_json(rep, 200, provider_orders_json(rows));
    }
    json_decref(rows);
    api_store_release(api, s);
}

/* Path and body of refill and replay; the body (new) or NULL after replying 422. */
static json_t *action_input(const struct http_req *req, const struct route_params *p,
                            const struct field_spec *specs, struct http_reply *rep)
{
    json_t *errors = json_array(), *body_errors = NULL;
    check_path_uuid("provider_order_id", route_param(p, "provider_order_id"), errors);
    size_t len = 0;
    const char *text = http_req_body(req, &len);
    json_t *body = validate_body(text ? text : "", text ? len : 0, specs, 1, 0, &body_errors);
    if (body_errors)
        json_array_extend(errors, body_errors);
    json_decref(body_errors);
    if (json_array_size(errors) > 0) {
        json_decref(body);
        reply_validation(rep, errors);
        return NULL;
    }
    json_decref(errors);
    return body;
}

static const char *opt_string(const json_t *body, const char *key)
{
    const json_t *v = json_object_get(body, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

API_HANDLER(orders_refill)
{
    static const struct field_spec specs[] = {
        {.name = "amount", .type = FIELD_NUMBER, .nullable = 1, .has_ge = 1, .ge = 0},
        {.name = "note", .type = FIELD_STRING, .nullable = 1, .max_len = 500},
        {.name = "actorLabel", .type = FIELD_STRING, .nullable = 1},
        {0},
    };
    struct api *api = ctx;
    json_t *body = action_input(req, p, specs, rep);
    if (!body)
        return;
    struct store *s = api_store_acquire(api);
    if (!s) {
        json_decref(body);
        api_reply_unavailable(api, rep);
        return;
    }
    const char *provider_id = route_param(p, "provider_id");
    const char *po_id = route_param(p, "provider_order_id");
    struct provider_rec prov;
    if (load_provider(s, provider_id, &prov, rep) != 0)
        goto out;
    struct http_transport *t = orders_transport(api);
    if (!t) {
        provider_rec_release(&prov);
        reply_detail(rep, 500, "Internal Server Error");
        goto out;
    }
    struct replay_env env;
    orders_env(api, s, t, &env);
    json_t *extra = json_pack("{s:s}", "providerId", provider_id);
    struct refill_trigger trig = {
        .actor_type = "operator",
        .actor_label = opt_string(body, "actorLabel"),
        .notes = opt_string(body, "note"),
        .extra = extra,
    };
    const json_t *amount = json_object_get(body, "amount");
    json_t *entry = NULL;
    char *error = NULL;
    int rc =
        refill_now(&env, &prov, po_id, json_is_null(amount) ? NULL : amount, &trig, &entry, &error);
    if (rc == 0) {
        reply_json(rep, 200, refill_json(entry));
    } else {
        if (rc == ERR_DB)
            log_msgf(LOG_ERROR, "refill: %s", error);
        reply_detail(rep, error_status(rc), error ? error : "refill failed");
    }
    free(error);
    json_decref(entry);
    json_decref(extra);
    t->free(t);
    provider_rec_release(&prov);
out:
    json_decref(body);
    api_store_release(api, s);
}

/* spec-api-ui §4.15: schedule when runAt is given with scheduleOnly, or is in the future
 * (a naive runAt is UTC: DECISIONS 14). */
static int wants_schedule(const json_t *body)
{
    const json_t *run_at = json_object_get(body, "runAt");
    struct iso_time t;
    if (!json_is_string(run_at))
        return 0;
    if (json_is_true(json_object_get(body, "scheduleOnly")))
        return 1;
    if (iso_parse(json_string_value(run_at), json_string_length(run_at), &t) != 0)
        return 0;
    return t.utc_us > time_now_us();
}

API_HANDLER(orders_replay)
{
    static const struct field_spec specs[] = {
        {.name = "amount", .type = FIELD_NUMBER, .nullable = 1, .has_ge = 1, .ge = 0},
        {.name = "runAt", .type = FIELD_DATETIME, .nullable = 1},
        {.name = "scheduleOnly", .type = FIELD_BOOL},
        {0},
    };
    struct api *api = ctx;
    json_t *body = action_input(req, p, specs, rep);
    if (!body)
        return;
    struct store *s = api_store_acquire(api);
    if (!s) {
        json_decref(body);
        api_reply_unavailable(api, rep);
        return;
    }
    const char *provider_id = route_param(p, "provider_id");
    const char *po_id = route_param(p, "provider_order_id");
    struct provider_rec prov;
    struct http_transport *t = NULL;
    if (load_provider(s, provider_id, &prov, rep) != 0)
        goto out;
    provider_rec_release(&prov);
    int schedule = wants_schedule(body);
    if (!schedule && !(t = orders_transport(api))) {
        reply_detail(rep, 500, "Internal Server Error");
        goto out;
    }
    struct replay_env env;
    orders_env(api, s, t, &env);
    json_t *extra = json_pack("{s:s,s:s}", "providerId", provider_id, "trigger", "admin_replay");
    struct replay_trigger trig = {
        .actor_type = "operator",
        .actor_id = NULL,
        .notes = NULL,
        .extra = extra,
    };
    const json_t *amount = json_object_get(body, "amount");
    if (json_is_null(amount))
        amount = NULL;
    json_t *entry = NULL;
    char *error = NULL;
    int rc = schedule ? schedule_replay(&env, provider_id, po_id, amount,
                                        json_string_value(json_object_get(body, "runAt")), &trig,
                                        &entry, &error)
                      : replay_now(&env, provider_id, po_id, amount, &trig, &entry, &error);
    if (rc == 0) {
        reply_json(rep, 200, replay_json(entry));
    } else {
        if (rc == ERR_DB)
            log_msgf(LOG_ERROR, "replay: %s", error);
        reply_detail(rep, error_status(rc), error ? error : "replay failed");
    }
    free(error);
    json_decref(entry);
    json_decref(extra);
out:
    if (t)
        t->free(t);
    json_decref(body);
    api_store_release(api, s);
}

/* ---- orders ---- */

/* An order row as the API's camelCase object, items included. */
static json_t *order_json(const json_t *row)
{
    static const char *const order_keys[][2] = {{"id", "id"},
                                                {"orderNumber", "order_number"},
                                                {"status", "status"},
                                                {"source", "source"},
                                                {"currency", "currency"},
                                                {"subtotal", "subtotal"},
                                                {"tax", "tax"},
                                                {"total", "total"},
                                                {"userId", "user_id"},
                                                {"notes", "notes"}};
    static const char *const item_keys[][2] = {{"id", "id"},
                                               {"orderId", "order_id"},
                                               {"productId", "product_id"},
                                               {"productTitle", "product_title"},
                                               {"quantity", "quantity"},
                                               {"unitPrice", "unit_price"},
                                               {"totalPrice", "total_price"},
                                               {"selectedOptions", "selected_options"},
                                               {"attributes", "attributes"},
                                               {"platformContext", "platform_context"}};
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof(order_keys) / sizeof(order_keys[0]); i++)
        json_object_set_new(o, order_keys[i][0],
                            copy_or_null(json_object_get(row, order_keys[i][1])));
    json_object_set_new(o, "createdAt", row_time(row, "created_at"));
    json_object_set_new(o, "updatedAt", row_time(row, "updated_at"));
    json_t *items = json_array();
    size_t i;
    json_t *it;
    json_array_foreach (json_object_get(row, "items"), i, it) {
        json_t *x = json_object();
        for (size_t k = 0; k < sizeof(item_keys) / sizeof(item_keys[0]); k++)
            json_object_set_new(x, item_keys[k][0],
                                copy_or_null(json_object_get(it, item_keys[k][1])));
        json_object_set_new(x, "createdAt", row_time(it, "created_at"));
        json_object_set_new(x, "updatedAt", row_time(it, "updated_at"));
        json_array_append_new(items, x);
    }
    json_object_set_new(o, "items", items);
    return o;
}

/* Rewrites the loc ["body", field, ...] of item errors to ["body", "items", i, field, ...]. */
static void relocate_item_errors(json_t *errors, size_t index)
{
    size_t i;
    json_t *e;
    json_array_foreach (errors, i, e) {
        json_t *loc = json_object_get(e, "loc");
        if (json_is_array(loc)) {
            json_array_insert_new(loc, 1, json_integer((json_int_t)index));
            json_array_insert_new(loc, 1, json_string("items"));
        }
    }
}

/* A UUID-typed body field; appends an error at loc when present and not a UUID. */
static void check_body_uuid(const json_t *obj, const char *key, json_t *loc, json_t *errors)
{
    const json_t *v = json_object_get(obj, key);
    char canon[UUID_STRLEN + 1];
    if (v && !json_is_null(v) &&
        !(json_is_string(v) && uuid_parse(json_string_value(v), canon) == 0)) {
        json_array_append_new(
            errors, validate_error("uuid_parsing", loc, "Input should be a valid UUID", v, NULL));
        return;
    }
    json_decref(loc);
}

/* Validates the items of an intake body into a new array of item rows, appending errors. */
static json_t *intake_items(const json_t *items, json_t *errors)
{
    static const struct field_spec specs[] = {
        {.name = "product_id", .type = FIELD_STRING, .nullable = 1},
        {.name = "product_title",
         .type = FIELD_STRING,
         .required = 1,
         .min_len = 1,
         .max_len = 255},
        {.name = "quantity", .type = FIELD_INT, .required = 1, .has_ge = 1, .ge = 1},
        {.name = "unit_price", .type = FIELD_NUMBER, .required = 1, .has_ge = 1, .ge = 0},
        {.name = "total_price", .type = FIELD_NUMBER, .required = 1, .has_ge = 1, .ge = 0},
        {.name = "selected_options", .type = FIELD_OBJECT, .nullable = 1},
        {.name = "attributes", .type = FIELD_OBJECT, .nullable = 1},
        {.name = "platform_context", .type = FIELD_OBJECT, .nullable = 1},
        {0},
    };
    json_t *rows = json_array();
    if (!json_is_array(items)) {
        json_array_append_new(errors,
                              validate_error("list_type", json_pack("[s,s]", "body", "items"),
                                             "Input should be a valid list", items, NULL));
        return rows;
    }
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        char *text = pyjson_dumps(it, PYJSON_COMPACT);
        json_t *item_errors = NULL;
        json_t *row =
            validate_body(text ? text : "", text ? strlen(text) : 0, specs, 1, 0, &item_errors);
        free(text);
        if (!row) {
            relocate_item_errors(item_errors, i);
            json_array_extend(errors, item_errors);
            json_decref(item_errors);
            continue;
        }
        check_body_uuid(row, "product_id",
                        json_pack("[s,s,I,s]", "body", "items", (json_int_t)i, "product_id"),
                        errors);
        const json_t *opts = json_object_get(row, "selected_options");
        const json_t *addons = json_is_object(opts) ? json_object_get(opts, "addOns") : NULL;
        if (addons && !json_is_null(addons) && !json_is_array(addons))
            json_array_append_new(
                errors, validate_error("list_type",
                                       json_pack("[s,s,I,s,s]", "body", "items", (json_int_t)i,
                                                 "selected_options", "addOns"),
                                       "Input should be a valid list", addons, NULL));
        json_array_append_new(rows, row);
    }
    return rows;
}

/* One placement request: built before the claim (its timeout sets the claim's lease), sent
 * after it. */
struct placement_req {
    const char *provider_id; /* borrowed */
    const json_t *endpoint;  /* borrowed; NULL when the provider has no order endpoint */
    struct http_request req;
    int built;       /* req is ready to send */
    json_t *failure; /* the providerResponse when it cannot be sent */
};

static void placement_build(const json_t *provider, const json_t *payload, struct placement_req *pl)
{
    const json_t *metadata = json_object_get(provider, "metadata_json");
    memset(pl, 0, sizeof(*pl));
    pl->endpoint = endpoint_find(metadata, "order");
    pl->provider_id = json_string_value(json_object_get(provider, "id"));
    if (!pl->endpoint)
        return;
    json_t *ctx = placement_context(metadata, payload, pl->provider_id);
    char *error = NULL;
    if (endpoint_build_request(pl->endpoint, ctx, ENDPOINT_DEFAULT_TIMEOUT_MS, pl->provider_id,
                               &pl->req, &error) != 0)
        pl->failure = json_pack("{s:s,s:n}", "error",
                                error ? error : "Endpoint URL is not configured", "url");
    else
        pl->built = 1;
    free(error);
    json_decref(ctx);
}

/* Sends the request (when it was built); records providerOrderId and providerResponse in
 * payload. */
static void placement_send(struct http_transport *t, struct placement_req *pl, json_t *payload)
{
    if (!pl->endpoint)
        return;
    if (pl->built) {
        struct http_response resp;
        memset(&resp, 0, sizeof(resp));
        t->perform(t, &pl->req, &resp, 1, 1);
        struct endpoint_result r;
        endpoint_interpret(pl->endpoint, &pl->req, &resp, time_now_us(), &r);
        http_response_release(&resp);
        if (r.failure == EP_OK) {
            char *remote = placement_remote_id(pl->endpoint, r.parsed);
            if (remote)
                json_object_set_new(payload, "providerOrderId", json_string(remote));
            free(remote);
            json_object_set(payload, "providerResponse", r.parsed ? r.parsed : json_object());
        } else {
            pl->failure =
                json_pack("{s:s,s:s}", "error", r.error ? r.error : "provider request failed",
                          "url", pl->req.url ? pl->req.url : "");
        }
        endpoint_result_release(&r);
    }
    if (pl->failure) {
        json_t *f = json_pack("{s:s,s:O}", "provider_id", pl->provider_id ? pl->provider_id : "",
                              "error", json_object_get(pl->failure, "error"));
        log_fields(LOG_WARNING, "Provider order endpoint failed", f);
        json_object_set(payload, "providerResponse", pl->failure);
    }
}

static void placement_release(struct placement_req *pl)
{
    http_request_release(&pl->req);
    json_decref(pl->failure);
}

/* The catalog service of id with its provider row, borrowed from providers; 0 when unknown. */
static int find_service(const json_t *providers, const char *id, const json_t **service,
                        const json_t **provider)
{
    size_t i, k;
    json_t *prov, *svc;
    json_array_foreach (providers, i, prov) {
        json_array_foreach (json_object_get(prov, "services"), k, svc) {
            const json_t *sid = json_object_get(svc, "id");
            if (json_is_string(sid) && strcmp(json_string_value(sid), id) == 0) {
                *service = svc;
                *provider = prov;
                return 1;
            }
        }
    }
    return 0;
}

static int already_placed(const json_t *existing, const char *item_id, const char *service_id)
{
    size_t i;
    json_t *r;
    json_array_foreach (existing, i, r) {
        const json_t *a = json_object_get(r, "order_item_id"),
                     *b = json_object_get(r, "service_id");
        if (json_is_string(a) && json_is_string(b) && strcmp(json_string_value(a), item_id) == 0 &&
            strcmp(json_string_value(b), service_id) == 0)
            return 1;
    }
    return 0;
}

/* This process's name in placement claims, made once. */
static pthread_once_t owner_once = PTHREAD_ONCE_INIT;
static char owner_name[160];

static void owner_init(void)
{
    placement_owner(owner_name, sizeof(owner_name));
}

/* The provider order row to record for add-on `addon` of `item` (payload steals). New. */
static json_t *placement_row(const json_t *order, const char *item_id, const json_t *addon,
                             const json_t *svc, const json_t *prov, json_t *payload)
{
    json_t *row = json_object();
    json_object_set(row, "order_id", json_object_get(order, "id"));
    json_object_set_new(row, "order_item_id", json_string(item_id));
    json_object_set(row, "provider_id", json_object_get(svc, "provider_id"));
    json_object_set(row, "provider_name", json_object_get(prov, "name"));
    json_object_set(row, "service_id", json_object_get(svc, "id"));
    json_object_set(row, "service_action", json_object_get(svc, "action"));
    json_object_set_new(row, "amount", payload_to_float(json_object_get(addon, "pricingAmount")));
    json_object_set(row, "currency", json_object_get(order, "currency"));
    json_object_set_new(row, "payload", payload);
    return row;
}

/* spec-replay §3: for every serviceOverride add-on of every item whose serviceId is a known
 * service, one provider order, placed through the owning provider's order endpoint, unless
 * one already exists for (item, service). A failed placement is recorded in the row's
 * providerResponse; the row is created all the same. Returns how many rows were created.
 *
 * Exactly once across processes (docs/ARCHITECTURE.md "Order placement"): before a byte is
 * sent, (item, service) is claimed in provider_order_placements, and the claim is committed;
 * whoever does not get the claim skips. The row is then inserted and the claim marked placed
 * in one transaction. A claim whose placer stopped in between is recorded as outcome unknown
 * by placement_sweep (run here for this order first), never sent again. Provider orders that
 * exist without a claim (written before the claims existed, or by another program) still
 * count as placed. No process-local lock is needed: the claim serialises requests of one
 * process as it does those of several, and placements of unrelated orders no longer wait
 * for each other's providers. */
static int place_provider_orders(struct api *api, struct store *s, const json_t *order)
{
    const char *order_id = json_string_value(json_object_get(order, "id"));
    json_t *providers = NULL, *existing = NULL;
    struct http_transport *t = NULL;
    int created = 0;
    pthread_once(&owner_once, owner_init);
    if (placement_sweep(s, order_id, time_now_us(), PLACEMENT_SWEEP_LIMIT) < 0)
        log_msgf(LOG_ERROR, "order placement: cannot read the placement claims: %s",
                 s->ops->last_error(s));
    if (s->ops->providers_list(s, &providers) != 0) {
        log_msgf(LOG_ERROR, "order placement: cannot read the catalog: %s", s->ops->last_error(s));
        return 0;
    }
    if (s->ops->provider_orders_for_order(s, order_id, ORDER_PROVIDER_ORDERS_MAX, &existing) != 0) {
        log_msgf(LOG_ERROR, "order placement: %s", s->ops->last_error(s));
        json_decref(providers);
        return 0;
    }
    int64_t lease_us = (int64_t)api->cfg->placement_lease_seconds * 1000000LL;
    size_t i, k;
    json_t *item, *addon;
    json_array_foreach (json_object_get(order, "items"), i, item) {
        const char *item_id = json_string_value(json_object_get(item, "id"));
        json_t *addons = placement_addons(json_object_get(item, "selected_options"));
        json_array_foreach (addons, k, addon) {
            const char *sid = json_string_value(json_object_get(addon, "serviceId"));
            const json_t *svc = NULL, *prov = NULL;
            if (!item_id || !find_service(providers, sid, &svc, &prov) ||
                already_placed(existing, item_id, sid))
                continue;
            if (!t && !(t = orders_transport(api)))
                break;
            json_t *desc = placement_service_descriptor(svc);
            json_t *payload = placement_payload(order_id, item, addon, desc);
            json_decref(desc);
            json_t *row = placement_row(order, item_id, addon, svc, prov, payload);
            struct placement_req pl;
            placement_build(prov, payload, &pl);
            int64_t now = time_now_us();
            struct placement_claim claim = {
                .order_id = order_id,
                .order_item_id = item_id,
                .service_id = sid,
                .owner = owner_name,
                .claimed_us = now,
                .lease_until_us = now + (int64_t)pl.req.timeout_ms * 1000 + lease_us,
                .row = row,
            };
            int claimed = 0;
            if (s->ops->placement_claim(s, &claim, &claimed) != 0) {
                /* Without a durable claim nothing is sent: a later move places it. */
                log_msgf(LOG_ERROR, "order placement: cannot claim the placement: %s",
                         s->ops->last_error(s));
                claimed = 0;
            }
            if (claimed) {
                placement_send(t, &pl, payload);
                json_t *stored = NULL;
                int rc = s->ops->placement_finish(s, item_id, sid, owner_name, "placed", row,
                                                  time_now_us(), &stored);
                if (rc == 0) {
                    created++;
                    json_array_append(existing, stored);
                    json_t *f = json_pack("{s:s,s:s,s:O}", "order_id", order_id, "service_id", sid,
                                          "provider_order_id", json_object_get(stored, "id"));
                    log_fields(LOG_INFO, "Provider order created", f);
                } else {
                    /* The claim stays (or was already swept as) outcome unknown; the answer
                     * is logged so that ops can reconcile it. */
                    const json_t *answer = json_object_get(payload, "providerResponse");
                    json_t *f =
                        json_pack("{s:s,s:s,s:s,s:s,s:O}", "order_id", order_id, "order_item_id",
                                  item_id, "service_id", sid, "error", s->ops->last_error(s),
                                  "provider_response", answer ? answer : json_null());
                    log_fields(LOG_ERROR, "order placement: cannot record the provider order", f);
                }
                json_decref(stored);
            }
            placement_release(&pl);
            json_decref(row);
        }
        json_decref(addons);
    }
    if (t)
        t->free(t);
    json_decref(existing);
    json_decref(providers);
    return created;
}

API_HANDLER(orders_create)
{
    static const struct field_spec specs[] = {
        {.name = "order_number", .type = FIELD_STRING, .nullable = 1, .min_len = 1, .max_len = 32},
        {.name = "status", .type = FIELD_ENUM, .enum_values = order_statuses},
        {.name = "source", .type = FIELD_ENUM, .enum_values = order_sources},
        {.name = "currency", .type = FIELD_ENUM, .required = 1, .enum_values = currencies},
        {.name = "subtotal", .type = FIELD_NUMBER, .has_ge = 1, .ge = 0},
        {.name = "tax", .type = FIELD_NUMBER, .has_ge = 1, .ge = 0},
        {.name = "total", .type = FIELD_NUMBER, .has_ge = 1, .ge = 0},
        {.name = "notes", .type = FIELD_STRING, .nullable = 1},
        {.name = "user_id", .type = FIELD_STRING, .nullable = 1},
        {.name = "items", .type = FIELD_ANY, .required = 1},
        {0},
    };
    (void)p;
    struct api *api = ctx;
    size_t len = 0;
    const char *text = http_req_body(req, &len);
    json_t *errors = NULL;
    json_t *body = validate_body(text ? text : "", text ? len : 0, specs, 1, 0, &errors);
    if (!body) {
        reply_validation(rep, errors);
        return;
    }
    errors = json_array();
    json_t *items = intake_items(json_object_get(body, "items"), errors);
    check_body_uuid(body, "user_id", json_pack("[s,s]", "body", "user_id"), errors);
    if (json_array_size(errors) > 0) {
        json_decref(items);
        json_decref(body);
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    json_object_set_new(body, "items", items);
    if (!json_object_get(body, "status"))
        json_object_set_new(body, "status", json_string("pending"));
    struct store *s = api_store_acquire(api);
    if (!s) {
        json_decref(body);
        api_reply_unavailable(api, rep);
        return;
    }
    json_t *row = NULL;
    int rc = s->ops->order_insert(s, body, time_now_us(), &row);
    if (rc == ERR_CONFLICT) {
        reply_detail(rep, 409, "Order already exists");
    } else if (rc != 0) {
        log_msgf(LOG_ERROR, "order intake: %s", s->ops->last_error(s));
        reply_detail(rep, 500, "Internal Server Error");
    } else {
        /* An order born in processing is placed at once, as one moved there would be. */
        if (strcmp(json_string_value(json_object_get(row, "status")), "processing") == 0)
            place_provider_orders(api, s, row);
        reply_json(rep, 201, order_json(row));
    }
    json_decref(row);
    json_decref(body);
    api_store_release(api, s);
}

/* Path check of the /api/v1/orders/{order_id} routes; 0, or -1 after replying 422. */
static int order_path(const struct route_params *p, struct http_reply *rep)
{
    json_t *errors = json_array();
    if (check_path_uuid("order_id", route_param(p, "order_id"), errors) != 0) {
        reply_validation(rep, errors);
        return -1;
    }
    json_decref(errors);
    return 0;
}

/* The order row (new) or NULL after replying 404/500. */
static json_t *load_order(struct store *s, const char *order_id, struct http_reply *rep)
{
    json_t *row = NULL;
    int rc = s->ops->order_row(s, order_id, &row);
    if (rc == ERR_NOT_FOUND) {
        reply_detail(rep, 404, "Order not found");
    } else if (rc != 0) {
        log_msgf(LOG_ERROR, "order: %s", s->ops->last_error(s));
        reply_detail(rep, 500, "Internal Server Error");
    }
    return row;
}

API_HANDLER(orders_get)
{
    (void)req;
    struct api *api = ctx;
    if (order_path(p, rep) != 0)
        return;
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    json_t *row = load_order(s, route_param(p, "order_id"), rep);
    if (row)
        reply_json(rep, 200, order_json(row));
    json_decref(row);
    api_store_release(api, s);
}

API_HANDLER(orders_update)
{
    static const struct field_spec specs[] = {
        {.name = "status", .type = FIELD_ENUM, .required = 1, .enum_values = order_statuses},
        {.name = "notes", .type = FIELD_STRING, .nullable = 1},
        {.name = "actorLabel", .type = FIELD_STRING, .nullable = 1, .max_len = 255},
        {0},
    };
    struct api *api = ctx;
    json_t *errors = json_array(), *body_errors = NULL;
    const char *order_id = route_param(p, "order_id");
    check_path_uuid("order_id", order_id, errors);
    size_t len = 0;
    const char *text = http_req_body(req, &len);
    json_t *body = validate_body(text ? text : "", text ? len : 0, specs, 1, 0, &body_errors);
    if (body_errors)
        json_array_extend(errors, body_errors);
    json_decref(body_errors);
    if (json_array_size(errors) > 0) {
        json_decref(body);
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        json_decref(body);
        api_reply_unavailable(api, rep);
        return;
    }
    const char *to = json_string_value(json_object_get(body, "status"));
    json_t *row = load_order(s, order_id, rep);
    if (!row)
        goto out;
    const char *from = json_string_value(json_object_get(row, "status"));
    if (!from || strcmp(from, to) != 0) {
        int64_t now = time_now_us();
        json_t *meta = json_object();
        struct timeline_event ev = {
            .order_id = json_string_value(json_object_get(row, "id")),
            .event_type = "state_change",
            .actor_type = "operator",
            .actor_label = opt_string(body, "actorLabel"),
            .from_status = from,
            .to_status = to,
            .notes = opt_string(body, "notes"),
            .metadata = meta,
            .created_us = now,
        };
        int rc = s->ops->begin(s);
        if (rc == 0)
            rc = s->ops->order_set_status(s, ev.order_id, to, now);
        if (rc == 0)
            rc = s->ops->timeline_insert(s, &ev);
        if (rc == 0)
            rc = s->ops->commit(s);
        json_decref(meta);
        if (rc != 0) {
            log_msgf(LOG_ERROR, "order status: %s", s->ops->last_error(s));
            s->ops->rollback(s);
            reply_detail(rep, 500, "Internal Server Error");
            goto out;
        }
        json_decref(row);
        row = load_order(s, order_id, rep);
        if (!row)
            goto out;
    }
    if (strcmp(to, "processing") == 0)
        place_provider_orders(api, s, row);
    reply_json(rep, 200, order_json(row));
out:
    json_decref(row);
    json_decref(body);
    api_store_release(api, s);
}

/* ---- the order queue ---- */

#define ORDERS_LIST_DEFAULT 50
#define ORDERS_LIST_MAX 100
/* "<created_at microseconds>_<id>": an opaque paging cursor to clients. */
#define ORDERS_CURSOR_BUFSZ (24 + 1 + UUID_STRLEN + 1)

/* The cursor that continues after row (the last order of a page). */
static void cursor_of(const json_t *row, char out[ORDERS_CURSOR_BUFSZ])
{
    snprintf(out, ORDERS_CURSOR_BUFSZ, "%" JSON_INTEGER_FORMAT "_%s",
             json_integer_value(json_object_get(row, "created_at")),
             json_string_value(json_object_get(row, "id")));
}

/* Parses a cursor into f; 0, or -1 after appending pydantic's value_error to errors. */
static int parse_cursor(const char *v, struct order_filter *f, char id[UUID_STRLEN + 1],
                        json_t *errors)
{
    const char *sep = strchr(v, '_');
    int64_t us = 0;
    if (sep && (size_t)(sep - v) < 24) {
        char num[24];
        memcpy(num, v, (size_t)(sep - v));
        num[sep - v] = '\0';
        if (num_parse_i64(num, &us) == 0 && uuid_parse(sep + 1, id) == 0) {
            f->after_created_us = us;
            f->after_id = id;
            return 0;
        }
    }
    json_t *input = json_string(v);
    json_array_append_new(errors,
                          validate_error("value_error", json_pack("[s,s]", "query", "cursor"),
                                         "Value error, invalid cursor", input,
                                         json_pack("{s:s}", "error", "invalid cursor")));
    json_decref(input);
    return -1;
}

/* A query parameter, NULL when absent or empty (an empty filter filters nothing). */
static const char *query_filter(const struct http_req *req, const char *name)
{
    const char *v = http_req_query(req, name);
    return v && *v ? v : NULL;
}

/* GET /api/v1/orders: the newest orders, each as GET /api/v1/orders/{id} shows it, filtered
 * by status, preset and provider, paged with the X-Next-Cursor header (docs/ENDPOINTS.md).
 * One more row than asked is read to know whether another page exists. */
API_HANDLER(orders_list)
{
    (void)p;
    struct api *api = ctx;
    long limit = ORDERS_LIST_DEFAULT;
    struct order_filter f = {0};
    char after_id[UUID_STRLEN + 1];
    json_t *errors = json_array();
    int bad = validate_query_int(req, "limit", 1, ORDERS_LIST_MAX, &limit, errors) < 0;
    bad |= validate_query_enum(req, "status", order_statuses, &f.status, errors) < 0;
    const char *cursor = http_req_query(req, "cursor");
    if (cursor && *cursor)
        bad |= parse_cursor(cursor, &f, after_id, errors) < 0;
    if (bad) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    f.preset_id = query_filter(req, "presetId");
    f.provider_id = query_filter(req, "providerId");
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    json_t *rows = NULL;
    if (s->ops->orders_list(s, &f, (size_t)limit + 1, &rows) != 0) {
        log_msgf(LOG_ERROR, "orders list: %s", s->ops->last_error(s));
        reply_detail(rep, 500, "Internal Server Error");
    } else {
        json_t *out = json_array();
        size_t n = json_array_size(rows);
        for (size_t i = 0; i < n && i < (size_t)limit; i++)
            json_array_append_new(out, order_json(json_array_get(rows, i)));
        reply_json(rep, 200, out);
        if (n > (size_t)limit) {
            char next[ORDERS_CURSOR_BUFSZ];
            cursor_of(json_array_get(rows, (size_t)limit - 1), next);
            http_reply_add_header_copy(rep, "X-Next-Cursor", next);
        }
    }
    json_decref(rows);
    api_store_release(api, s);
}

/* ---- timeline ---- */

API_HANDLER(orders_state_events)
{
    static const char *const keys[][2] = {{"id", "id"},
                                          {"eventType", "event_type"},
                                          {"actorType", "actor_type"},
                                          {"actorId", "actor_id"},
                                          {"actorLabel", "actor_label"},
                                          {"fromStatus", "from_status"},
                                          {"toStatus", "to_status"},
                                          {"notes", "notes"}};
    (void)req;
    struct api *api = ctx;
    if (order_path(p, rep) != 0)
        return;
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    const char *order_id = route_param(p, "order_id");
    json_t *order = load_order(s, order_id, rep), *rows = NULL;
    if (!order)
        goto out;
    if (s->ops->timeline_list(s, order_id, &rows) != 0) {
        log_msgf(LOG_ERROR, "state events: %s", s->ops->last_error(s));
        reply_detail(rep, 500, "Internal Server Error");
        goto out;
    }
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach (rows, i, r) {
        json_t *e = json_object();
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            json_object_set_new(e, keys[k][0], copy_or_null(json_object_get(r, keys[k][1])));
        const json_t *meta = json_object_get(r, "metadata");
        json_object_set_new(e, "metadata",
                            json_is_object(meta) ? json_deep_copy(meta) : json_object());
        json_object_set_new(e, "createdAt", row_time(r, "created_at"));
        json_array_append_new(out, e);
    }
    reply_json(rep, 200, out);
out:
    json_decref(rows);
    json_decref(order);
    api_store_release(api, s);
}
