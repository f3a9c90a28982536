/*
 * Catalog routes of the HTTP API (spec-api-ui §3 rows 1-4 and 14-20, §4.1-4.11, §5.1-5.3):
 * providers and their services (list, detail, create, update, delete), the on-demand balance
 * refresh through the provider's balance endpoint, and the platform context cache.
 *
 * Bodies are the original's pydantic models: snake_case keys, unknown keys refused, and the
 * decisions of DECISIONS 14 (create accepts health_payload and last_health_check_at; a null
 * name, action, status or health_status on PATCH is a 422 rather than the original's 500; a
 * service id taken by another provider is a 409). Responses are built from the store's rows
 * (core/store.h "Catalog"): camelCase keys, typed datetimes with "Z", allowedRegions never
 * null, metadata and healthPayload never null, and a service's metadata always expanded to
 * the full ServiceMetadata shape, with the stored object under `legacy` when it does not
 * validate (§5.3). The metadata schema below is the original's ProviderServiceMetadata,
 * field for field, so that what validates there validates here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/api_routes.h"
#include "app/validate.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/num.h"
#include "base/sb.h"
#include "core/endpoint.h"
#include "core/store.h"
#include "core/template.h"

/* At most this many providerId values are answered by /platform-contexts. */
#define PLATFORM_CONTEXT_MAX_IDS 200

/* ---- ServiceMetadata (spec-api-ui §5.3; the original's ProviderServiceMetadata) ---- */

enum mkind {
    MK_INT,
    MK_FLOAT,
    MK_STR,
    MK_BOOL,
    MK_ENUM,
    MK_DICT,        /* dict[str, Any] */
    MK_STR_DICT,    /* dict[str, str] */
    MK_INT_LIST,    /* list[int] */
    MK_MODEL,       /* a nested model */
    MK_MODEL_LIST,  /* list of a nested model */
    MK_SCALAR,      /* str | int | float */
    MK_SCALAR_BOOL, /* str | int | float | bool */
};

enum mdefault { MD_NULL, MD_REQUIRED, MD_ONE, MD_TRUE, MD_FALSE, MD_ZERO, MD_EMPTY_LIST, MD_STR };

struct mmodel;

struct mfield {
    const char *name;  /* snake_case name (populate_by_name) */
    const char *alias; /* camelCase alias: input and output key */
    enum mkind kind;
    int nullable;
    enum mdefault def;
    const char *def_str;
    int has_ge;
    double ge;
    long min_len, max_len; /* characters; 0 = none */
    const char *const *enums;
    const struct mmodel *model;
};

struct mmodel {
    const struct mfield *fields;
    int extra_allow;
};

static const char *const cost_kinds[] = {"flat", "per_unit", "tiered", NULL};
static const char *const input_types[] = {"string", "number", "integer", "boolean", "select", NULL};
static const char *const schema_types[] = {"json_schema", "key_value", NULL};
static const char *const operations[] = {"order", "refill", "balance", "cancel", NULL};
static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};

static const struct mfield tier_fields[] = {
    {"up_to", "upTo", MK_INT, 1, MD_NULL, NULL, 1, 1, 0, 0, NULL, NULL},
    {"unit_amount", "unitAmount", MK_FLOAT, 0, MD_ZERO, NULL, 1, 0, 0, 0, NULL, NULL},
    {"label", "label", MK_STR, 1, MD_NULL, NULL, 0, 0, 0, 120, NULL, NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel tier_model = {tier_fields, 0};

static const struct mfield cost_fields[] = {
    {"kind", "kind", MK_ENUM, 0, MD_REQUIRED, NULL, 0, 0, 0, 0, cost_kinds, NULL},
    {"amount", "amount", MK_FLOAT, 1, MD_NULL, NULL, 1, 0, 0, 0, NULL, NULL},
    {"currency", "currency", MK_STR, 1, MD_NULL, NULL, 0, 0, 3, 3, NULL, NULL},
    {"unit", "unit", MK_STR, 1, MD_NULL, NULL, 0, 0, 0, 64, NULL, NULL},
    {"unit_amount", "unitAmount", MK_FLOAT, 1, MD_NULL, NULL, 1, 0, 0, 0, NULL, NULL},
    {"minimum_units", "minimumUnits", MK_INT, 1, MD_NULL, NULL, 1, 1, 0, 0, NULL, NULL},
    {"tiers", "tiers", MK_MODEL_LIST, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, &tier_model},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel cost_model = {cost_fields, 0};

static const struct mfield cadence_fields[] = {
    {"batch_size", "batchSize", MK_INT, 1, MD_NULL, NULL, 1, 1, 0, 0, NULL, NULL},
    {"default_daily_quota", "defaultDailyQuota", MK_INT, 1, MD_NULL, NULL, 1, 1, 0, 0, NULL, NULL},
    {"fulfillment_window_hours", "fulfillmentWindowHours", MK_INT, 1, MD_NULL, NULL, 1, 1, 0, 0,
     NULL, NULL},
    {"refill_window_hours", "refillWindowHours", MK_INT, 1, MD_NULL, NULL, 1, 0, 0, 0, NULL, NULL},
    {"expected_completion_hours", "expectedCompletionHours", MK_INT, 1, MD_NULL, NULL, 1, 0, 0, 0,
     NULL, NULL},
    {"supports_refill", "supportsRefill", MK_BOOL, 0, MD_TRUE, NULL, 0, 0, 0, 0, NULL, NULL},
    {"notes", "notes", MK_STR, 1, MD_NULL, NULL, 0, 0, 0, 500, NULL, NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel cadence_model = {cadence_fields, 0};

static const struct mfield option_fields[] = {
    {"label", "label", MK_STR, 0, MD_REQUIRED, NULL, 0, 0, 0, 120, NULL, NULL},
    {"value", "value", MK_SCALAR, 0, MD_REQUIRED, NULL, 0, 0, 0, 0, NULL, NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel option_model = {option_fields, 0};

static const struct mfield config_field_fields[] = {
    {"key", "key", MK_STR, 0, MD_REQUIRED, NULL, 0, 0, 1, 120, NULL, NULL},
    {"label", "label", MK_STR, 0, MD_REQUIRED, NULL, 0, 0, 1, 120, NULL, NULL},
    {"input_type", "inputType", MK_ENUM, 0, MD_STR, "string", 0, 0, 0, 0, input_types, NULL},
    {"required", "required", MK_BOOL, 0, MD_FALSE, NULL, 0, 0, 0, 0, NULL, NULL},
    {"description", "description", MK_STR, 1, MD_NULL, NULL, 0, 0, 0, 500, NULL, NULL},
    {"options", "options", MK_MODEL_LIST, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, &option_model},
    {"default_value", "defaultValue", MK_SCALAR_BOOL, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel config_field_model = {config_field_fields, 0};

static const struct mfield configuration_fields[] = {
    {"schema_type", "schemaType", MK_ENUM, 0, MD_STR, "key_value", 0, 0, 0, 0, schema_types, NULL},
    {"json_schema", "jsonSchema", MK_DICT, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
    {"fields", "fields", MK_MODEL_LIST, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, &config_field_model},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel configuration_model = {configuration_fields, 0};

static const struct mfield guardrail_fields[] = {
    {"minimum_margin_percent", "minimumMarginPercent", MK_FLOAT, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL,
     NULL},
    {"warning_margin_percent", "warningMarginPercent", MK_FLOAT, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL,
     NULL},
    {"minimum_margin_absolute", "minimumMarginAbsolute", MK_FLOAT, 1, MD_NULL, NULL, 0, 0, 0, 0,
     NULL, NULL},
    {"currency", "currency", MK_STR, 1, MD_NULL, NULL, 0, 0, 3, 3, NULL, NULL},
    {"notes", "notes", MK_STR, 1, MD_NULL, NULL, 0, 0, 0, 240, NULL, NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel guardrail_model = {guardrail_fields, 0};

static const struct mfield inputs_fields[] = {
    {"quantity", "quantity", MK_FLOAT, 1, MD_NULL, NULL, 1, 0, 0, 0, NULL, NULL},
    {"duration_days", "durationDays", MK_INT, 1, MD_NULL, NULL, 1, 0, 0, 0, NULL, NULL},
    {"rate_per_day", "ratePerDay", MK_FLOAT, 1, MD_NULL, NULL, 1, 0, 0, 0, NULL, NULL},
    {"geo", "geo", MK_STR, 1, MD_NULL, NULL, 0, 0, 0, 64, NULL, NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel inputs_model = {inputs_fields, 0};

static const struct mfield template_fields[] = {
    {"operation", "operation", MK_ENUM, 0, MD_REQUIRED, NULL, 0, 0, 0, 0, operations, NULL},
    {"method", "method", MK_ENUM, 0, MD_STR, "POST", 0, 0, 0, 0, methods, NULL},
    {"path", "path", MK_STR, 0, MD_REQUIRED, NULL, 0, 0, 1, 255, NULL, NULL},
    {"headers", "headers", MK_STR_DICT, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
    {"body_template", "bodyTemplate", MK_DICT, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
    {"success_codes", "successCodes", MK_INT_LIST, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
    {"response_mappings", "responseMappings", MK_STR_DICT, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL,
     NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel template_model = {template_fields, 0};

static const struct mfield metadata_fields[] = {
    {"version", "version", MK_INT, 0, MD_ONE, NULL, 1, 1, 0, 0, NULL, NULL},
    {"cost_model", "costModel", MK_MODEL, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, &cost_model},
    {"cadence", "cadence", MK_MODEL, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, &cadence_model},
    {"configuration", "configuration", MK_MODEL, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL,
     &configuration_model},
    {"guardrails", "guardrails", MK_MODEL, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, &guardrail_model},
    {"payload_templates", "payloadTemplates", MK_MODEL_LIST, 0, MD_EMPTY_LIST, NULL, 0, 0, 0, 0,
     NULL, &template_model},
    {"default_inputs", "defaultInputs", MK_MODEL, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL,
     &inputs_model},
    {"legacy", "legacy", MK_DICT, 1, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
    {NULL, NULL, MK_INT, 0, MD_NULL, NULL, 0, 0, 0, 0, NULL, NULL},
};
static const struct mmodel metadata_model = {metadata_fields, 1};

/* Characters (code points) of UTF-8 text: pydantic's lengths count characters. */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* A number in pydantic's lax mode (ints, floats, numeric strings; not booleans). */
static int lax_number(const json_t *v, double *out)
{
    if (json_is_integer(v) || json_is_real(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v) && num_parse_double(json_string_value(v), out) == 0)
        return 0;
    return -1;
}

static json_t *model_validate(const struct mmodel *m, const json_t *in);

/* One value checked and coerced as pydantic's lax mode would; NULL when it does not validate. */
static json_t *mfield_validate(const struct mfield *f, const json_t *v)
{
    double d;
    size_t i;
    const json_t *item;

    if (json_is_null(v))
        return f->nullable ? json_null() : NULL;
    switch (f->kind) {
    case MK_INT:
        if (json_is_integer(v)) {
            d = (double)json_integer_value(v);
        } else if (lax_number(v, &d) != 0 || !isfinite(d) || d != floor(d) || fabs(d) > 9e15) {
            return NULL;
        }
        if (f->has_ge && d < f->ge)
            return NULL;
        return json_is_integer(v) ? json_incref((json_t *)v) : json_integer((json_int_t)d);
    case MK_FLOAT:
        if (lax_number(v, &d) != 0 || (f->has_ge && d < f->ge))
            return NULL;
        return json_real(d);
    case MK_STR: {
        if (!json_is_string(v))
            return NULL;
        size_t n = utf8_chars(json_string_value(v), json_string_length(v));
        if ((f->min_len > 0 && (long)n < f->min_len) || (f->max_len > 0 && (long)n > f->max_len))
            return NULL;
        return json_incref((json_t *)v);
    }
    case MK_BOOL: {
        int b;
        if (json_is_boolean(v))
            return json_incref((json_t *)v);
        if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
            return json_boolean(json_integer_value(v));
        if (json_is_string(v) && num_parse_bool(json_string_value(v), &b) == 0)
            return json_boolean(b);
        return NULL;
    }
    case MK_ENUM:
        if (json_is_string(v))
            for (const char *const *e = f->enums; *e; e++)
                if (strcmp(*e, json_string_value(v)) == 0)
                    return json_incref((json_t *)v);
        return NULL;
    case MK_DICT:
        return json_is_object(v) ? json_deep_copy(v) : NULL;
    case MK_STR_DICT: {
        const char *k;
        json_t *x;
        if (!json_is_object(v))
            return NULL;
        json_object_foreach ((json_t *)v, k, x)
            if (!json_is_string(x))
                return NULL;
        return json_deep_copy(v);
    }
    case MK_INT_LIST: {
        json_t *out;
        if (!json_is_array(v))
            return NULL;
        out = json_array();
        json_array_foreach (v, i, item) {
            if (json_is_integer(item)) {
                json_array_append(out, (json_t *)item);
            } else if (lax_number(item, &d) == 0 && isfinite(d) && d == floor(d) &&
                       fabs(d) <= 9e15) {
                json_array_append_new(out, json_integer((json_int_t)d));
            } else {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    case MK_MODEL:
        return model_validate(f->model, v);
    case MK_MODEL_LIST: {
        json_t *out;
        if (!json_is_array(v))
            return NULL;
        out = json_array();
        json_array_foreach (v, i, item) {
            json_t *x = model_validate(f->model, item);
            if (!x) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, x);
        }
        return out;
    }
    case MK_SCALAR:
    case MK_SCALAR_BOOL:
        if (json_is_string(v) || json_is_integer(v) || json_is_real(v) ||
            (f->kind == MK_SCALAR_BOOL && json_is_boolean(v)))
            return json_incref((json_t *)v);
        return NULL;
    }
    return NULL;
}

static json_t *mfield_default(const struct mfield *f)
{
    switch (f->def) {
    case MD_ONE:
        return json_integer(1);
    case MD_TRUE:
        return json_true();
    case MD_FALSE:
        return json_false();
    case MD_ZERO:
        return json_real(0);
    case MD_EMPTY_LIST:
        return json_array();
    case MD_STR:
        return json_string(f->def_str);
    case MD_NULL:
    case MD_REQUIRED:
        break;
    }
    return json_null();
}

static int mfield_known(const struct mmodel *m, const char *key)
{
    for (const struct mfield *f = m->fields; f->name; f++)
        if (strcmp(f->name, key) == 0 || strcmp(f->alias, key) == 0)
            return 1;
    return 0;
}

/* Validates `in` against model m: a new object with every field under its alias (defaults
 * and nulls included) followed by the extra keys when the model allows them, or NULL. The
 * alias wins over the field name when both are given, as in pydantic. */
static json_t *model_validate(const struct mmodel *m, const json_t *in)
{
    json_t *out;

    if (!json_is_object(in))
        return NULL;
    out = json_object();
    for (const struct mfield *f = m->fields; f->name; f++) {
        const json_t *v = json_object_get(in, f->alias);
        json_t *c;
        if (!v)
            v = json_object_get(in, f->name);
        if (!v) {
            if (f->def == MD_REQUIRED)
                goto fail;
            json_object_set_new(out, f->alias, mfield_default(f));
            continue;
        }
        c = mfield_validate(f, v);
        if (!c)
            goto fail;
        json_object_set_new(out, f->alias, c);
    }
    if (m->extra_allow) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)in, k, v)
            if (!mfield_known(m, k))
                json_object_set_new(out, k, json_deep_copy(v));
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* model_dump(exclude_none=True) of a validated model, in place: null fields are dropped,
 * nested models too; dict-typed values are left as they are. */
static void model_strip_nulls(const struct mmodel *m, json_t *obj)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(obj, tmp, k, v)
    {
        const struct mfield *f = NULL;
        for (const struct mfield *x = m->fields; x->name && !f; x++)
            if (strcmp(x->alias, k) == 0)
                f = x;
        if (json_is_null(v)) {
            json_object_del(obj, k);
        } else if (f && f->kind == MK_MODEL) {
            model_strip_nulls(f->model, v);
        } else if (f && f->kind == MK_MODEL_LIST) {
            size_t i;
            json_t *item;
            json_array_foreach (v, i, item)
                model_strip_nulls(f->model, item);
        }
    }
}

/* ServiceMetadata of a stored metadata_json for a response (§5.3): the expanded model, or the
 * default model with `legacy` = the stored object when it does not validate. */
static json_t *service_metadata_out(const json_t *stored)
{
    int falsy = !stored || json_is_null(stored) || json_is_false(stored) ||
                (json_is_object(stored) && json_object_size(stored) == 0) ||
                (json_is_array(stored) && json_array_size(stored) == 0) ||
                (json_is_string(stored) && json_string_length(stored) == 0) ||
                (json_is_integer(stored) && json_integer_value(stored) == 0);
    json_t *empty = json_object(), *out, *wrapped;

    out = model_validate(&metadata_model, falsy ? empty : stored);
    if (!out) {
        wrapped = json_object();
        if (json_is_object(stored))
            json_object_set(wrapped, "legacy", (json_t *)stored);
        out = model_validate(&metadata_model, wrapped);
        json_decref(wrapped);
    }
    json_decref(empty);
    return out;
}

/* What a create or update stores for a metadata body value: a structured ServiceMetadata is
 * normalised (camelCase, nulls dropped, extra keys kept); anything else verbatim. New ref. */
static json_t *service_metadata_in(const json_t *body_value)
{
    json_t *v;

    if (!json_is_object(body_value))
        return json_incref((json_t *)body_value);
    v = model_validate(&metadata_model, body_value);
    if (!v)
        return json_incref((json_t *)body_value);
    model_strip_nulls(&metadata_model, v);
    return v;
}

/* ---- responses ---- */

static json_t *copy_or_null(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    return v ? json_deep_copy(v) : json_null();
}

static json_t *time_or_null(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    return json_is_integer(v) ? api_time((int64_t)json_integer_value(v)) : json_null();
}

/* An object column that is never null in responses ({} for NULL or a non-object). */
static json_t *object_or_empty(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    return json_is_object(v) ? json_deep_copy(v) : json_object();
}

static json_t *object_or_null(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    return json_is_object(v) ? json_deep_copy(v) : json_null();
}

/* allowedRegions: the stored list's strings, [] for NULL or anything else. */
static json_t *regions(const json_t *row)
{
    const json_t *v = json_object_get(row, "allowed_regions");
    json_t *out = json_array(), *item;
    size_t i;

    if (json_is_array(v))
        json_array_foreach (v, i, item)
            if (json_is_string(item))
                json_array_append(out, item);
    return out;
}

/* Service object of §5.3 from a service row. New reference. */
static json_t *service_json(const json_t *row)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", copy_or_null(row, "id"));
    json_object_set_new(o, "providerId", copy_or_null(row, "provider_id"));
    json_object_set_new(o, "name", copy_or_null(row, "name"));
    json_object_set_new(o, "action", copy_or_null(row, "action"));
    json_object_set_new(o, "category", copy_or_null(row, "category"));
    json_object_set_new(o, "defaultCurrency", copy_or_null(row, "default_currency"));
    json_object_set_new(o, "status", copy_or_null(row, "status"));
    json_object_set_new(o, "healthStatus", copy_or_null(row, "health_status"));
    json_object_set_new(o, "allowedRegions", regions(row));
    json_object_set_new(o, "rateLimitPerMinute", copy_or_null(row, "rate_limit_per_minute"));
    json_object_set_new(o, "metadata", service_metadata_out(json_object_get(row, "metadata_json")));
    json_object_set_new(o, "credentials", object_or_null(row, "credentials"));
    json_object_set_new(o, "lastHealthCheckAt", time_or_null(row, "last_health_check_at"));
    json_object_set_new(o, "healthPayload", object_or_empty(row, "health_payload"));
    json_object_set_new(o, "createdAt", time_or_null(row, "created_at"));
    json_object_set_new(o, "updatedAt", time_or_null(row, "updated_at"));
    return o;
}

/* BalanceSnapshot of §5.2 from a balance row, or null. */
static json_t *balance_json(const json_t *row)
{
    const json_t *amount;
    json_t *o;

    if (!json_is_object(row))
        return json_null();
    amount = json_object_get(row, "balance_amount");
    o = json_object();
    json_object_set_new(
        o, "amount", json_is_number(amount) ? json_real(json_number_value(amount)) : json_null());
    json_object_set_new(o, "currency", copy_or_null(row, "currency"));
    json_object_set_new(o, "retrievedAt", time_or_null(row, "retrieved_at"));
    json_object_set_new(o, "payload", object_or_null(row, "payload"));
    return o;
}

/* Provider object of §5.1 from a provider row (with "services" and "balance"). */
static json_t *provider_json(const json_t *row)
{
    json_t *o = json_object(), *services = json_array(), *svc;
    size_t i;

    json_object_set_new(o, "id", copy_or_null(row, "id"));
    json_object_set_new(o, "name", copy_or_null(row, "name"));
    json_object_set_new(o, "description", copy_or_null(row, "description"));
    json_object_set_new(o, "baseUrl", copy_or_null(row, "base_url"));
    json_object_set_new(o, "status", copy_or_null(row, "status"));
    json_object_set_new(o, "healthStatus", copy_or_null(row, "health_status"));
    json_object_set_new(o, "allowedRegions", regions(row));
    json_object_set_new(o, "rateLimitPerMinute", copy_or_null(row, "rate_limit_per_minute"));
    json_object_set_new(o, "metadata", object_or_empty(row, "metadata_json"));
    json_object_set_new(o, "credentials", object_or_null(row, "credentials"));
    json_object_set_new(o, "lastHealthCheckAt", time_or_null(row, "last_health_check_at"));
    json_object_set_new(o, "healthPayload", object_or_empty(row, "health_payload"));
    json_object_set_new(o, "createdAt", time_or_null(row, "created_at"));
    json_object_set_new(o, "updatedAt", time_or_null(row, "updated_at"));
    json_array_foreach (json_object_get(row, "services"), i, svc)
        json_array_append_new(services, service_json(svc));
    json_object_set_new(o, "services", services);
    json_object_set_new(o, "balanceSnapshot", balance_json(json_object_get(row, "balance")));
    return o;
}

/* ---- request bodies (snake_case, unknown keys forbidden) ---- */

static const char *const status_values[] = {"active", "inactive", NULL};
static const char *const health_values[] = {"unknown", "healthy", "degraded", "offline", NULL};

#define F_STR(n, req, null, lo, hi)                                                                \
    {                                                                                              \
        n, FIELD_STRING, req, null, lo, hi, 0, 0, NULL                                             \
    }
#define F_TYPE(n, type, null)                                                                      \
    {                                                                                              \
        n, type, 0, null, 0, 0, 0, 0, NULL                                                         \
    }
#define F_INT_GE0(n)                                                                               \
    {                                                                                              \
        n, FIELD_INT, 0, 1, 0, 0, 1, 0, NULL                                                       \
    }
#define F_ENUM(n, null, vals)                                                                      \
    {                                                                                              \
        n, FIELD_ENUM, 0, null, 0, 0, 0, 0, vals                                                   \
    }
#define F_END                                                                                      \
    {                                                                                              \
        NULL, FIELD_ANY, 0, 0, 0, 0, 0, 0, NULL                                                    \
    }

/* The fields providers and services share, at the end of all four tables: on create a null
 * health_status means "unknown" (spec-api-ui §4.4), on update it is a 422 (§10 quirk 4). */
#define F_SHARED(health_nullable)                                                                  \
    F_TYPE("allowed_regions", FIELD_STR_LIST, 1), F_INT_GE0("rate_limit_per_minute"),              \
        F_TYPE("metadata", FIELD_OBJECT, 1), F_TYPE("credentials", FIELD_OBJECT, 1),               \
        F_ENUM("status", 0, status_values),                                                        \
        F_ENUM("health_status", health_nullable, health_values),                                   \
        F_TYPE("last_health_check_at", FIELD_DATETIME, 1),                                         \
        F_TYPE("health_payload", FIELD_OBJECT, 1), F_END

static const struct field_spec provider_create_spec[] = {
    F_STR("id", 1, 0, 1, 64),
    F_STR("name", 1, 0, 1, 255),
    F_STR("description", 0, 1, 0, 0),
    F_STR("base_url", 0, 1, 0, 512),
    F_SHARED(1),
};

static const struct field_spec provider_update_spec[] = {
    F_STR("name", 0, 0, 1, 255),
    F_STR("description", 0, 1, 0, 0),
    F_STR("base_url", 0, 1, 0, 512),
    F_SHARED(0),
};

static const struct field_spec service_create_spec[] = {
    F_STR("id", 1, 0, 1, 64),
    F_STR("name", 1, 0, 1, 255),
    F_STR("action", 1, 0, 1, 255),
    F_STR("category", 0, 1, 0, 255),
    F_STR("default_currency", 0, 1, 3, 3),
    F_SHARED(1),
};

static const struct field_spec service_update_spec[] = {
    F_STR("name", 0, 0, 1, 255),
    F_STR("action", 0, 0, 1, 255),
    F_STR("category", 0, 1, 0, 255),
    F_STR("default_currency", 0, 1, 3, 3),
    F_SHARED(0),
};

/* Body key -> column, for the keys whose names differ; a key not listed keeps its name. */
static const char *column_of(const char *key)
{
    if (strcmp(key, "metadata") == 0)
        return "metadata_json";
    return key;
}

/* Store changes (column -> value) from a validated body: allowed_regions null -> [],
 * metadata normalised for services, last_health_check_at as microseconds, everything else as
 * given (null clears). */
static json_t *body_to_columns(const json_t *body, int is_service)
{
    json_t *cols = json_object(), *v;
    const char *k;

    json_object_foreach ((json_t *)body, k, v) {
        json_t *c;
        if (strcmp(k, "allowed_regions") == 0 && json_is_null(v)) {
            c = json_array();
        } else if (strcmp(k, "metadata") == 0 && is_service) {
            c = service_metadata_in(v);
        } else if (strcmp(k, "last_health_check_at") == 0 && json_is_string(v)) {
            struct iso_time t;
            if (iso_parse(json_string_value(v), json_string_length(v), &t) != 0)
                c = json_null(); /* validated already; cannot happen */
            else
                c = json_integer((json_int_t)t.utc_us);
        } else {
            c = json_incref(v);
        }
        json_object_set_new(cols, column_of(k), c);
    }
    return cols;
}

/* ---- helpers shared by the handlers ---- */

/* An unexpected store failure: logged, and answered like the original's unhandled errors. */
static void reply_store_error(struct http_reply *rep, struct store *s, const char *what)
{
    log_msgf(LOG_ERROR, "%s failed: %s", what, s ? s->ops->last_error(s) : "no database");
    rep->status = 500;
    rep->content_type = "text/plain; charset=utf-8";
    rep->body = xstrdup("Internal Server Error");
    rep->body_len = strlen(rep->body);
}

static struct store *acquire(struct api *api, struct http_reply *rep)
{
    struct store *s = api_store_acquire(api);
    if (!s)
        api_reply_unavailable(api, rep);
    return s;
}

/* Parses a JSON body against spec; on failure replies 422 and returns NULL. */
static json_t *parse_body(const struct http_req *req, const struct field_spec *spec,
                          struct http_reply *rep)
{
    size_t len;
    const char *body = http_req_body(req, &len);
    json_t *errors = NULL;
    json_t *v = validate_body(body, len, spec, 1, 1, &errors);

    if (!v)
        reply_validation(rep, errors);
    return v;
}

/* Replies 200/201 with the provider's current row, or 404 / 500. */
static void reply_provider(struct http_reply *rep, struct store *s, const char *id, int status)
{
    json_t *row = NULL;
    int rc = s->ops->provider_row(s, id, &row);

    if (rc == ERR_NOT_FOUND)
        reply_detail(rep, 404, "Provider not found");
    else if (rc != 0)
        reply_store_error(rep, s, "provider_row");
    else
        reply_json(rep, status, provider_json(row));
    json_decref(row);
}

/* 0 when the provider exists; otherwise the reply is filled (404 or 500). */
static int provider_exists(struct http_reply *rep, struct store *s, const char *id)
{
    json_t *row = NULL;
    int rc = s->ops->provider_row(s, id, &row);

    json_decref(row);
    if (rc == ERR_NOT_FOUND)
        reply_detail(rep, 404, "Provider not found");
    else if (rc != 0)
        reply_store_error(rep, s, "provider_row");
    return rc;
}

/* ---- handlers ---- */

API_HANDLER(catalog_list_providers)
{
    (void)req;
    (void)p;
    struct api *api = ctx;
    struct store *s = acquire(api, rep);
    json_t *rows = NULL, *out, *row;
    size_t i;

    if (!s)
        return;
    if (s->ops->providers_list(s, &rows) != 0) {
        reply_store_error(rep, s, "providers_list");
    } else {
        out = json_array();
        json_array_foreach (rows, i, row)
            json_array_append_new(out, provider_json(row));
        reply_json(rep, 200, out);
    }
    json_decref(rows);
    api_store_release(api, s);
}

/* §4.2: one element per non-empty providerId, in request order, duplicates included. */
API_HANDLER(catalog_platform_contexts)
{
    (void)p;
    struct api *api = ctx;
    const char *ids[PLATFORM_CONTEXT_MAX_IDS];
    size_t n = http_req_query_all(req, "providerId", ids, PLATFORM_CONTEXT_MAX_IDS);
    json_t *errors = json_array(), *out;
    long limit = 3;
    struct store *s;

    if (n == 0)
        json_array_append_new(errors,
                              validate_error("missing", json_pack("[s,s]", "query", "providerId"),
                                             "Field required", NULL, NULL));
    validate_query_int(req, "limit", 1, 10, &limit, errors);
    if (json_array_size(errors) > 0) {
        reply_validation(rep, errors);
        return;
    }
    json_decref(errors);
    if (n > PLATFORM_CONTEXT_MAX_IDS)
        n = PLATFORM_CONTEXT_MAX_IDS;
    s = acquire(api, rep);
    if (!s)
        return;
    out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *rows = NULL, *contexts, *row;
        size_t k;
        if (ids[i][0] == '\0')
            continue;
        if (s->ops->platform_contexts(s, ids[i], (size_t)limit, &rows) != 0) {
            json_decref(out);
            reply_store_error(rep, s, "platform_contexts");
            api_store_release(api, s);
            return;
        }
        contexts = json_array();
        json_array_foreach (rows, k, row) {
            json_array_append_new(contexts, json_pack("{s:o,s:o,s:o,s:o}", "id",
                                                      copy_or_null(row, "platform_id"), "label",
                                                      copy_or_null(row, "label"), "handle",
                                                      copy_or_null(row, "handle"), "platformType",
                                                      copy_or_null(row, "platform_type")));
        }
        json_decref(rows);
        json_array_append_new(out,
                              json_pack("{s:s,s:o}", "providerId", ids[i], "contexts", contexts));
    }
    api_store_release(api, s);
    reply_json(rep, 200, out);
}

API_HANDLER(catalog_get_provider)
{
    (void)req;
    struct api *api = ctx;
    struct store *s = acquire(api, rep);

    if (!s)
        return;
    reply_provider(rep, s, route_param(p, "provider_id"), 200);
    api_store_release(api, s);
}

/* Python float(): numbers, booleans and numeric strings; anything else is "no amount". */
static int py_float(const json_t *v, double *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1.0 : 0.0;
        return 0;
    }
    return lax_number(v, out);
}

/* Amount and currency from a balance response (spec-replay §15 step 3; DECISIONS 11: a
 * top-level balance of 0 is 0, not a fall-through to `amount`). *amount = NAN when none. */
static void balance_extract(const json_t *endpoint, const json_t *payload, double *amount,
                            char **currency)
{
    const json_t *config = json_object_get(endpoint, "response");
    const json_t *v;
    struct sb sb = SB_INIT;
    int have_amount = 0, have_currency = 0;

    *amount = NAN;
    *currency = NULL;
    if (json_is_object(config)) {
        const json_t *ap = json_object_get(config, "balancePath");
        const json_t *cp = json_object_get(config, "currencyPath");
        if (json_is_string(ap)) {
            v = json_path_get(payload, json_string_value(ap));
            if (v && !json_is_null(v) && py_float(v, amount) == 0)
                have_amount = 1;
        }
        if (json_is_string(cp)) {
            v = json_path_get(payload, json_string_value(cp));
            if (v && !json_is_null(v)) {
                template_pystr(&sb, v);
                have_currency = 1;
            }
        }
    }
    if (!have_amount) {
        v = json_object_get(payload, "balance");
        if (!v || json_is_null(v))
            v = json_object_get(payload, "amount");
        if (v && !json_is_null(v) && py_float(v, amount) != 0)
            *amount = NAN;
    }
    if (!have_currency) {
        v = json_object_get(payload, "currency");
        if (json_is_string(v) || json_is_integer(v)) {
            template_pystr(&sb, v);
            have_currency = 1;
        }
    }
    if (have_currency) {
        char *c = sb_detach(&sb);
        for (char *q = c; *q; q++)
            if (*q >= 'a' && *q <= 'z')
                *q = (char)(*q - 'a' + 'A');
        *currency = c;
    } else {
        sb_release(&sb);
    }
}

/* Calls the provider's balance endpoint. 0 with *parsed (new) or -1 with *error (owned). */
static int balance_call(struct api *api, const char *provider_id, const json_t *endpoint,
                        const json_t *metadata, json_t **parsed, char **error)
{
    struct http_request hreq;
    struct http_response resp;
    struct endpoint_result r;
    struct http_transport *t;
    json_t *ctxv = endpoint_metadata_context(metadata);
    int rc = -1;

    *parsed = NULL;
    *error = NULL;
    memset(&hreq, 0, sizeof hreq);
    memset(&resp, 0, sizeof resp);
    if (endpoint_build_request(endpoint, ctxv, ENDPOINT_BALANCE_TIMEOUT_MS, provider_id, &hreq,
                               error) != 0) {
        if (!*error)
            *error = xstrdup("Endpoint URL is not configured");
        json_decref(ctxv);
        return -1;
    }
    json_decref(ctxv);
    t = app_transport_new(api->cfg, error);
    if (!t) {
        if (!*error)
            *error = xstrdup("HTTP client unavailable");
        http_request_release(&hreq);
        return -1;
    }
    t->perform(t, &hreq, &resp, 1, 1);
    endpoint_interpret(endpoint, &hreq, &resp, time_now_us(), &r);
    if (r.failure == EP_OK) {
        *parsed = r.parsed ? json_incref(r.parsed) : json_object();
        rc = 0;
    } else {
        *error = xstrdup(r.error ? r.error : "provider request failed");
    }
    endpoint_result_release(&r);
    http_response_release(&resp);
    http_request_release(&hreq);
    t->free(t);
    return rc;
}

/* §4.11. */
API_HANDLER(catalog_refresh_balance)
{
    (void)req;
    struct api *api = ctx;
    const char *id = route_param(p, "provider_id");
    struct store *s = acquire(api, rep);
    json_t *row = NULL, *metadata, *parsed = NULL, *bal;
    const json_t *endpoint;
    char *error = NULL, *currency = NULL;
    double amount;
    int rc;

    if (!s)
        return;
    rc = s->ops->provider_row(s, id, &row);
    if (rc == ERR_NOT_FOUND) {
        reply_detail(rep, 404, "Provider not found");
        goto out;
    }
    if (rc != 0) {
        reply_store_error(rep, s, "provider_row");
        goto out;
    }
    metadata = json_object_get(row, "metadata_json");
    endpoint = endpoint_find(metadata, "balance");
    if (!endpoint) {
        reply_detail(rep, 400, "Balance endpoint is not configured for provider");
        goto out;
    }
    if (balance_call(api, id, endpoint, metadata, &parsed, &error) != 0) {
        reply_detail(rep, 400, error);
        goto out;
    }
    balance_extract(endpoint, parsed, &amount, &currency);
    bal = json_object();
    /* NUMERIC(14,2): rounded as the column would, so both backends read back the same */
    json_object_set_new(bal, "balance_amount",
                        isfinite(amount) ? json_real(round(amount * 100.0) / 100.0) : json_null());
    json_object_set_new(bal, "currency", currency ? json_string(currency) : json_null());
    json_object_set_new(bal, "payload",
                        json_object_size(parsed) > 0 ? json_incref(parsed) : json_null());
    rc = s->ops->balance_upsert(s, id, bal, time_now_us());
    json_decref(bal);
    if (rc != 0) {
        reply_store_error(rep, s, "balance_upsert");
        goto out;
    }
    reply_provider(rep, s, id, 200);
out:
    free(error);
    free(currency);
    json_decref(parsed);
    json_decref(row);
    api_store_release(api, s);
}

/* §4.4 with DECISIONS 14. */
API_HANDLER(catalog_create_provider)
{
    (void)p;
    struct api *api = ctx;
    json_t *body = parse_body(req, provider_create_spec, rep), *cols, *existing = NULL;
    struct store *s;
    const char *id;
    int rc;

    if (!body)
        return;
    s = acquire(api, rep);
    if (!s) {
        json_decref(body);
        return;
    }
    id = json_string_value(json_object_get(body, "id"));
    rc = s->ops->provider_row(s, id, &existing);
    json_decref(existing);
    if (rc == 0) {
        reply_detail(rep, 409, "Provider already exists");
        goto out;
    }
    if (rc != ERR_NOT_FOUND) {
        reply_store_error(rep, s, "provider_row");
        goto out;
    }
    cols = body_to_columns(body, 0);
    if (!json_object_get(cols, "allowed_regions"))
        json_object_set_new(cols, "allowed_regions", json_array());
    if (!json_object_get(cols, "status"))
        json_object_set_new(cols, "status", json_string("active"));
    if (!json_is_string(json_object_get(cols, "health_status")))
        json_object_set_new(cols, "health_status", json_string("unknown"));
    rc = s->ops->provider_insert(s, cols, time_now_us());
    json_decref(cols);
    if (rc == ERR_CONFLICT)
        reply_detail(rep, 409, "Provider already exists");
    else if (rc != 0)
        reply_store_error(rep, s, "provider_insert");
    else
        reply_provider(rep, s, id, 201);
out:
    json_decref(body);
    api_store_release(api, s);
}

/* §4.5: only the keys present change; an empty body changes nothing. */
API_HANDLER(catalog_update_provider)
{
    struct api *api = ctx;
    const char *id = route_param(p, "provider_id");
    json_t *body = parse_body(req, provider_update_spec, rep), *cols;
    struct store *s;
    int rc;

    if (!body)
        return;
    s = acquire(api, rep);
    if (!s) {
        json_decref(body);
        return;
    }
    if (provider_exists(rep, s, id) != 0)
        goto out;
    if (json_object_size(body) > 0) {
        cols = body_to_columns(body, 0);
        rc = s->ops->provider_update(s, id, cols, time_now_us());
        json_decref(cols);
        if (rc == ERR_NOT_FOUND) {
            reply_detail(rep, 404, "Provider not found");
            goto out;
        }
        if (rc != 0) {
            reply_store_error(rep, s, "provider_update");
            goto out;
        }
    }
    reply_provider(rep, s, id, 200);
out:
    json_decref(body);
    api_store_release(api, s);
}

API_HANDLER(catalog_delete_provider)
{
    (void)req;
    struct api *api = ctx;
    struct store *s = acquire(api, rep);
    int rc;

    if (!s)
        return;
    rc = s->ops->provider_delete(s, route_param(p, "provider_id"));
    if (rc == ERR_NOT_FOUND)
        reply_detail(rep, 404, "Provider not found");
    else if (rc != 0)
        reply_store_error(rep, s, "provider_delete");
    else
        reply_empty(rep, 204);
    api_store_release(api, s);
}

/* Replies with the service's current row (status), or 404 / 500. */
static void reply_service(struct http_reply *rep, struct store *s, const char *provider_id,
                          const char *id, int status)
{
    json_t *row = NULL;
    int rc = s->ops->service_row(s, provider_id, id, &row);

    if (rc == ERR_NOT_FOUND)
        reply_detail(rep, 404, "Service not found");
    else if (rc != 0)
        reply_store_error(rep, s, "service_row");
    else
        reply_json(rep, status, service_json(row));
    json_decref(row);
}

/* §4.7 with DECISIONS 14 (a service id is global: taken under any provider is a 409). */
API_HANDLER(catalog_create_service)
{
    struct api *api = ctx;
    const char *pid = route_param(p, "provider_id");
    json_t *body = parse_body(req, service_create_spec, rep), *cols;
    struct store *s;
    const char *id;
    int rc;

    if (!body)
        return;
    s = acquire(api, rep);
    if (!s) {
        json_decref(body);
        return;
    }
    if (provider_exists(rep, s, pid) != 0)
        goto out;
    id = json_string_value(json_object_get(body, "id"));
    cols = body_to_columns(body, 1);
    json_object_set_new(cols, "provider_id", json_string(pid));
    if (!json_object_get(cols, "allowed_regions"))
        json_object_set_new(cols, "allowed_regions", json_array());
    if (!json_object_get(cols, "status"))
        json_object_set_new(cols, "status", json_string("active"));
    if (!json_is_string(json_object_get(cols, "health_status")))
        json_object_set_new(cols, "health_status", json_string("unknown"));
    rc = s->ops->service_insert(s, cols, time_now_us());
    json_decref(cols);
    if (rc == ERR_CONFLICT)
        reply_detail(rep, 409, "Service already exists for provider");
    else if (rc != 0)
        reply_store_error(rep, s, "service_insert");
    else
        reply_service(rep, s, pid, id, 201);
out:
    json_decref(body);
    api_store_release(api, s);
}

API_HANDLER(catalog_get_service)
{
    (void)req;
    struct api *api = ctx;
    const char *pid = route_param(p, "provider_id");
    struct store *s = acquire(api, rep);

    if (!s)
        return;
    if (provider_exists(rep, s, pid) == 0)
        reply_service(rep, s, pid, route_param(p, "service_id"), 200);
    api_store_release(api, s);
}

/* §4.9: the provider update's semantics. */
API_HANDLER(catalog_update_service)
{
    struct api *api = ctx;
    const char *pid = route_param(p, "provider_id");
    const char *id = route_param(p, "service_id");
    json_t *body = parse_body(req, service_update_spec, rep), *cols, *row = NULL;
    struct store *s;
    int rc;

    if (!body)
        return;
    s = acquire(api, rep);
    if (!s) {
        json_decref(body);
        return;
    }
    if (provider_exists(rep, s, pid) != 0)
        goto out;
    rc = s->ops->service_row(s, pid, id, &row);
    json_decref(row);
    if (rc == ERR_NOT_FOUND) {
        reply_detail(rep, 404, "Service not found");
        goto out;
    }
    if (rc != 0) {
        reply_store_error(rep, s, "service_row");
        goto out;
    }
    if (json_object_size(body) > 0) {
        cols = body_to_columns(body, 1);
        rc = s->ops->service_update(s, pid, id, cols, time_now_us());
        json_decref(cols);
        if (rc == ERR_NOT_FOUND) {
            reply_detail(rep, 404, "Service not found");
            goto out;
        }
        if (rc != 0) {
            reply_store_error(rep, s, "service_update");
            goto out;
        }
    }
    reply_service(rep, s, pid, id, 200);
out:
    json_decref(body);
    api_store_release(api, s);
}

API_HANDLER(catalog_delete_service)
{
    (void)req;
    struct api *api = ctx;
    const char *pid = route_param(p, "provider_id");
    struct store *s = acquire(api, rep);
    int rc;

    if (!s)
        return;
    if (provider_exists(rep, s, pid) == 0) {
        rc = s->ops->service_delete(s, pid, route_param(p, "service_id"));
        if (rc == ERR_NOT_FOUND)
            reply_detail(rep, 404, "Service not found");
        else if (rc != 0)
            reply_store_error(rep, s, "service_delete");
        else
            reply_empty(rep, 204);
    }
    api_store_release(api, s);
}
