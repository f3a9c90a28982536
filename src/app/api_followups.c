/*
 * The guardrail follow-up API (spec-alerts §11): POST /api/v1/reporting/guardrails/followups
 * records an operator's follow-up (source "manual", with the §7.1 status upsert the alert
 * worker's auto pause/resume use too) and posts the §8.4 Slack message with the provider's
 * telemetry; GET lists a provider's follow-ups newest first, paged by a createdAt cursor.
 * Both answer the provider's guardrail status and the follow-up telemetry of §3.3 (core's
 * snapshot_followup_telemetry over its latest 50 provider orders).
 *
 * Bodies are checked in pydantic's words like every other route (app/validate.c), including
 * the nested platformContext and attachments models; unknown keys are ignored, as the
 * original's models do. A Slack failure never fails the request: the follow-up is recorded
 * and the failure is logged.
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/notify/notify.h"
#include "adapters/store/store_alerts.h"
#include "app/api_routes.h"
#include "app/validate.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/num.h"
#include "base/sb.h"
#include "core/pyjson.h"
#include "core/alert_store.h"
#include "core/alerts.h"
#include "core/snapshot.h"

#define FOLLOWUPS_DEFAULT_LIMIT 15
#define FOLLOWUPS_MAX_LIMIT 100

/* The lengths the original's columns hold (spec-alerts §2.2: provider_id varchar(128),
 * provider_name and conversion_cursor varchar(255)) are checked here, so that a longer value is
 * a 422 naming the field on both backends rather than a database error. */
static const struct field_spec followup_fields[] = {
    {"providerId", FIELD_STRING, 1, 0, 0, 128, 0, 0, NULL},
    {"providerName", FIELD_STRING, 0, 1, 0, 255, 0, 0, NULL},
    {"action", FIELD_STRING, 1, 0, 1, 64, 0, 0, NULL},
    {"notes", FIELD_STRING, 0, 1, 0, 500, 0, 0, NULL},
    {"platformContext", FIELD_OBJECT, 0, 1, 0, 0, 0, 0, NULL},
    {"conversionCursor", FIELD_STRING, 0, 1, 0, 255, 0, 0, NULL},
    {"conversionHref", FIELD_STRING, 0, 1, 0, 0, 0, 0, NULL},
    {"attachments", FIELD_ANY, 0, 1, 0, 0, 0, 0, NULL},
    {NULL, FIELD_ANY, 0, 0, 0, 0, 0, 0, NULL},
};

/* ["body", field, (index,) key] */
static json_t *nested_loc(const char *field, long index, const char *key)
{
    json_t *loc = json_pack("[s,s]", "body", field);
    if (index >= 0)
        json_array_append_new(loc, json_integer(index));
    if (key)
        json_array_append_new(loc, json_string(key));
    return loc;
}

enum nested_kind { NESTED_STR, NESTED_INT, NESTED_TIME };

struct nested_field {
    const char *name;
    enum nested_kind kind;
    int required;
};

static const struct nested_field context_fields[] = {
    {"id", NESTED_STR, 1},           {"label", NESTED_STR, 1}, {"handle", NESTED_STR, 0},
    {"platformType", NESTED_STR, 0}, {NULL, NESTED_STR, 0},
};

static const struct nested_field attachment_fields[] = {
    {"id", NESTED_STR, 1},          {"fileName", NESTED_STR, 1}, {"assetUrl", NESTED_STR, 1},
    {"storageKey", NESTED_STR, 1},  {"size", NESTED_INT, 0},     {"contentType", NESTED_STR, 0},
    {"uploadedAt", NESTED_TIME, 0}, {NULL, NESTED_STR, 0},
};

/* Checks one nested model (platformContext or an attachment) and returns its dump by alias:
 * every field present, null when absent, size as an integer and uploadedAt as ISO-8601 UTC
 * text (the original stored a datetime object there, which its JSON column could not
 * serialize). NULL after appending errors. */
static json_t *nested_model(const json_t *v, const struct nested_field *fields, const char *field,
                            long index, json_t *errors)
{
    if (!json_is_object(v)) {
        json_array_append_new(errors, validate_error("model_type", nested_loc(field, index, NULL),
                                                     "Input should be a valid dictionary or "
                                                     "instance of a model",
                                                     v, NULL));
        return NULL;
    }
    json_t *out = json_object();
    int bad = 0;
    for (const struct nested_field *f = fields; f->name; f++) {
        const json_t *x = json_object_get(v, f->name);
        json_t *loc = nested_loc(field, index, f->name);
        if (!x || (json_is_null(x) && !f->required)) {
            if (!x && f->required) {
                json_array_append_new(errors,
                                      validate_error("missing", loc, "Field required", v, NULL));
                bad = 1;
            } else {
                json_decref(loc);
            }
            json_object_set_new(out, f->name, json_null());
            continue;
        }
        json_t *value = NULL;
        struct iso_time t;
        switch (f->kind) {
        case NESTED_STR:
            if (json_is_string(x))
                value = json_incref((json_t *)x);
            else
                json_array_append_new(errors,
                                      validate_error("string_type", json_incref(loc),
                                                     "Input should be a valid string", x, NULL));
            break;
        case NESTED_INT: {
            int64_t n;
            if (json_is_integer(x))
                value = json_incref((json_t *)x);
            else if (json_is_real(x) && json_real_value(x) > -9e15 && json_real_value(x) < 9e15 &&
                     json_real_value(x) == (double)(int64_t)json_real_value(x))
                value = json_integer((json_int_t)json_real_value(x));
            else if (json_is_string(x) && num_parse_i64(json_string_value(x), &n) == 0)
                value = json_integer((json_int_t)n);
            else
                json_array_append_new(errors,
                                      validate_error(json_is_string(x) ? "int_parsing" : "int_type",
                                                     json_incref(loc),
                                                     "Input should be a valid integer", x, NULL));
            break;
        }
        case NESTED_TIME:
            if (json_is_string(x) &&
                iso_parse(json_string_value(x), json_string_length(x), &t) == 0) {
                char buf[ISO_BUFSZ];
                iso_format_z(t.utc_us, buf);
                value = json_string(buf);
            } else {
                json_array_append_new(
                    errors, validate_error(
                                json_is_string(x) ? "datetime_from_date_parsing" : "datetime_type",
                                json_incref(loc), "Input should be a valid datetime", x, NULL));
            }
            break;
        }
        json_decref(loc);
        if (!value) {
            bad = 1;
            continue;
        }
        json_object_set_new(out, f->name, value);
    }
    if (bad) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The follow-up body checked and normalised: platformContext and attachments dumped by alias.
 * NULL with *errors (new) on a 422. */
static json_t *followup_body(const struct http_req *req, json_t **errors)
{
    size_t len;
    const char *body = http_req_body(req, &len);
    json_t *in = validate_body(body, len, followup_fields, 1, 0, errors);
    /* Nested models are checked even when a top-level field failed, so that one answer lists
     * every problem, as pydantic's does. */
    json_t *errs = *errors ? *errors : json_array();
    json_t *raw = NULL;
    if (!in) {
        /* Re-read the raw nested values for their errors; the top-level ones are in errs. */
        char err[64];
        json_t *doc = body ? pyjson_loads(body, len, BODY_MAX_DEPTH, err, sizeof(err)) : NULL;
        if (json_is_object(doc))
            raw = json_incref(doc);
        json_decref(doc);
    } else {
        raw = json_incref(in);
    }
    json_t *ctx = json_object_get(raw, "platformContext");
    if (json_is_object(ctx)) {
        json_t *dumped = nested_model(ctx, context_fields, "platformContext", -1, errs);
        if (dumped && in)
            json_object_set_new(in, "platformContext", dumped);
        else
            json_decref(dumped);
    }
    json_t *att = json_object_get(raw, "attachments");
    if (att && !json_is_null(att)) {
        if (!json_is_array(att)) {
            json_array_append_new(errs,
                                  validate_error("list_type", nested_loc("attachments", -1, NULL),
                                                 "Input should be a valid list", att, NULL));
        } else {
            json_t *list = json_array();
            size_t i;
            json_t *a;
            json_array_foreach (att, i, a) {
                json_t *dumped = nested_model(a, attachment_fields, "attachments", (long)i, errs);
                if (dumped)
                    json_array_append_new(list, dumped);
            }
            if (in)
                json_object_set_new(in, "attachments", list);
            else
                json_decref(list);
        }
    }
    json_decref(raw);
    if (json_array_size(errs) > 0) {
        json_decref(in);
        *errors = errs;
        return NULL;
    }
    json_decref(errs);
    *errors = NULL;
    return in;
}

static const char *str_or(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static json_t *copy_or_null(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return v ? json_deep_copy(v) : json_null();
}

static json_t *time_or_null(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? api_time(json_integer_value(v)) : json_null();
}

/* A follow-up row of the store as the API's entry (§11.1 key order). New object. */
static json_t *entry_json(const json_t *row)
{
    json_t *e = json_object();
    json_object_set_new(e, "id", copy_or_null(row, "id"));
    json_object_set_new(e, "providerId", copy_or_null(row, "provider_id"));
    json_object_set_new(e, "providerName", copy_or_null(row, "provider_name"));
    json_object_set_new(e, "action", copy_or_null(row, "action"));
    json_object_set_new(e, "notes", copy_or_null(row, "notes"));
    json_object_set_new(e, "platformContext", copy_or_null(row, "platform_context"));
    json_object_set_new(e, "attachments", copy_or_null(row, "attachments"));
    json_object_set_new(e, "createdAt", time_or_null(row, "created_at"));
    json_object_set_new(e, "conversionCursor", copy_or_null(row, "conversion_cursor"));
    json_object_set_new(e, "conversionHref", copy_or_null(row, "conversion_href"));
    return e;
}

/* A status row as the API's status, or null. New reference. */
static json_t *status_json(const json_t *row)
{
    if (!row)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "providerId", copy_or_null(row, "provider_id"));
    json_object_set_new(o, "providerName", copy_or_null(row, "provider_name"));
    json_object_set_new(o, "isPaused",
                        json_boolean(json_is_true(json_object_get(row, "is_paused"))));
    json_object_set_new(o, "lastAction", copy_or_null(row, "last_action"));
    json_object_set_new(o, "updatedAt", time_or_null(row, "updated_at"));
    json_object_set_new(o, "lastFollowUpId", copy_or_null(row, "last_follow_up_id"));
    return o;
}

/* The §3.3 telemetry of the provider's latest provider orders: 0 with *out new (NULL when it
 * has none), or the store's error. */
static int provider_telemetry(struct store *s, const char *provider_id, json_t **out)
{
    json_t *rows = NULL;
    *out = NULL;
    int rc = s->ops->provider_orders_list(s, provider_id, SNAPSHOT_FOLLOWUP_LIMIT, &rows);
    if (rc != 0)
        return rc;
    *out = snapshot_followup_telemetry(rows);
    json_decref(rows);
    return 0;
}

/* Posts the §8.4 message of a recorded follow-up to the alert webhook, through a transport
 * under the outbound policy (DECISIONS 13) like every other webhook. Failures are logged,
 * never returned: the follow-up is already recorded. */
static void notify_slack(struct api *api, const json_t *entry, const json_t *status,
                         const json_t *telemetry)
{
    const struct config *cfg = api->cfg;
    if (!cfg->alert_slack_webhook_url || !*cfg->alert_slack_webhook_url)
        return;
    struct followup_message m = {
        .provider_id = str_or(entry, "providerId"),
        .provider_name = str_or(entry, "providerName"),
        .action = str_or(entry, "action"),
        .notes = str_or(entry, "notes"),
        .attachments = json_object_get(entry, "attachments"),
        .has_status = json_is_object(status),
        .is_paused = json_is_true(json_object_get(status, "isPaused")),
        .platform_context = json_object_get(entry, "platformContext"),
        .telemetry = telemetry,
        .conversion_cursor = str_or(entry, "conversionCursor"),
        .conversion_href = str_or(entry, "conversionHref"),
    };
    char *text = alerts_followup_message(&m, cfg->frontend_url);
    json_t *payload = alerts_slack_payload(text, cfg->alert_slack_channel);
    char *body = pyjson_dumps(payload, PYJSON_COMPACT);
    json_decref(payload);
    free(text);
    char *error = NULL;
    struct http_transport *t = app_transport_new(cfg, &error);
    struct notify_result r;
    memset(&r, 0, sizeof(r));
    if (!t) {
        r.error = error;
        error = NULL;
    } else {
        slack_post(t, cfg->alert_slack_webhook_url, body, 0, &r);
        t->free(t);
    }
    if (!r.delivered) {
        json_t *fields = json_pack("{s:s?,s:s?,s:i,s:s}", "provider_id", m.provider_id,
                                   "follow_up_id", str_or(entry, "id"), "attempts", r.attempts,
                                   "error", r.error ? r.error : "unknown");
        char *f = pyjson_dumps(fields, PYJSON_COMPACT);
        log_event(LOG_WARNING, "Failed to send guardrail follow-up Slack notification", f);
        free(f);
        json_decref(fields);
    }
    notify_result_release(&r);
    free(error);
    free(body);
}

static void internal_error(struct http_reply *rep, struct store *s, const char *what)
{
    log_msgf(LOG_ERROR, "guardrail follow-ups: %s: %s", what, s->ops->last_error(s));
    reply_detail(rep, 500, "Internal Server Error");
}

void followups_record(void *ctx, const struct http_req *req, const struct route_params *p,
                      struct http_reply *rep)
{
    (void)p;
    struct api *api = ctx;
    json_t *errors = NULL;
    json_t *in = followup_body(req, &errors);
    if (!in) {
        reply_validation(rep, errors);
        return;
    }
    struct store *s = api_store_acquire(api);
    if (!s) {
        json_decref(in);
        api_reply_unavailable(api, rep);
        return;
    }
    const struct alert_store_ops *aops = store_alert_ops(s);
    struct followup_input fin = {
        .provider_id = str_or(in, "providerId"),
        .provider_name = str_or(in, "providerName"),
        .action = str_or(in, "action"),
        .notes = str_or(in, "notes"),
        .source = "manual",
        .platform_context = json_object_get(in, "platformContext"),
        .attachments = json_object_get(in, "attachments"),
        .conversion_cursor = str_or(in, "conversionCursor"),
        .conversion_href = str_or(in, "conversionHref"),
        .now_us = time_now_us(),
    };
    char id[37];
    json_t *status_row = NULL, *telemetry = NULL;
    if (aops->followup_insert(s, &fin, id) != 0) {
        internal_error(rep, s, "record");
        goto out;
    }
    if (aops->guardrail_status_get(s, fin.provider_id, &status_row) != 0) {
        internal_error(rep, s, "status");
        goto out;
    }
    if (provider_telemetry(s, fin.provider_id, &telemetry) != 0) {
        internal_error(rep, s, "telemetry");
        goto out;
    }
    api_store_release(api, s);
    s = NULL;
    json_t *row = json_pack(
        "{s:s,s:s,s:O?,s:s,s:O?,s:O?,s:O?,s:I,s:O?,s:O?}", "id", id, "provider_id", fin.provider_id,
        "provider_name", json_object_get(in, "providerName"), "action", fin.action, "notes",
        json_object_get(in, "notes"), "platform_context", json_object_get(in, "platformContext"),
        "attachments", json_object_get(in, "attachments"), "created_at", (json_int_t)fin.now_us,
        "conversion_cursor", json_object_get(in, "conversionCursor"), "conversion_href",
        json_object_get(in, "conversionHref"));
    json_t *out = json_object();
    json_object_set_new(out, "entry", entry_json(row));
    json_object_set_new(out, "status", status_json(status_row));
    json_object_set_new(out, "providerTelemetry", telemetry ? json_incref(telemetry) : json_null());
    json_decref(row);
    notify_slack(api, json_object_get(out, "entry"), json_object_get(out, "status"), telemetry);
    reply_json(rep, 201, out);
out:
    api_store_release(api, s);
    json_decref(status_row);
    json_decref(telemetry);
    json_decref(in);
}

void followups_list(void *ctx, const struct http_req *req, const struct route_params *p,
                    struct http_reply *rep)
{
    (void)p;
    struct api *api = ctx;
    long limit = FOLLOWUPS_DEFAULT_LIMIT;
    int64_t before = STORE_NO_TIME;
    json_t *errors = json_array();
    const char *provider_id = http_req_query(req, "providerId");
    if (!provider_id)
        json_array_append_new(errors,
                              validate_error("missing", json_pack("[s,s]", "query", "providerId"),
                                             "Field required", NULL, NULL));
    validate_query_int(req, "limit", 1, FOLLOWUPS_MAX_LIMIT, &limit, errors);
    const char *cursor = http_req_query(req, "cursor");
    if (cursor) {
        struct iso_time t;
        if (iso_parse(cursor, strlen(cursor), &t) == 0) {
            before = t.utc_us;
        } else {
            json_t *input = json_string(cursor);
            json_array_append_new(errors,
                                  validate_error("datetime_from_date_parsing",
                                                 json_pack("[s,s]", "query", "cursor"),
                                                 "Input should be a valid datetime or date, "
                                                 "invalid character in year",
                                                 input, NULL));
            json_decref(input);
        }
    }
    if (json_array_size(errors) > 0) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    struct store *s = api_store_acquire(api);
    if (!s) {
        api_reply_unavailable(api, rep);
        return;
    }
    const struct alert_store_ops *aops = store_alert_ops(s);
    json_t *rows = NULL, *status_row = NULL, *telemetry = NULL;
    if (aops->followup_list(s, provider_id, before, (size_t)limit + 1, &rows) != 0) {
        internal_error(rep, s, "list");
        goto out;
    }
    if (aops->guardrail_status_get(s, provider_id, &status_row) != 0) {
        internal_error(rep, s, "status");
        goto out;
    }
    if (provider_telemetry(s, provider_id, &telemetry) != 0) {
        internal_error(rep, s, "telemetry");
        goto out;
    }
    json_t *entries = json_array();
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        if (i == (size_t)limit)
            break;
        json_array_append_new(entries, entry_json(row));
    }
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit)
        next = json_deep_copy(
            json_object_get(json_array_get(entries, (size_t)limit - 1), "createdAt"));
    json_t *out = json_object();
    json_object_set_new(out, "entries", entries);
    json_object_set_new(out, "nextCursor", next);
    json_object_set_new(out, "status", status_json(status_row));
    json_object_set_new(out, "providerTelemetry", telemetry ? json_incref(telemetry) : json_null());
    reply_json(rep, 200, out);
out:
    api_store_release(api, s);
    json_decref(rows);
    json_decref(status_row);
    json_decref(telemetry);
}
