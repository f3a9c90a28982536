/*
 * Validation in the words of pydantic v2, because the admin pages and scripts written for the
 * original read `detail[0].loc` and `msg`. Lax mode, as FastAPI uses it: numeric strings are
 * numbers, "true"/"1" are booleans, whole floats are integers.
 */
#include "app/validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/iso8601.h"
#include "base/num.h"
#include "base/sb.h"
#include "core/pyjson.h"

#define ERR_URL "https://errors.pydantic.dev/2.5/v/"

json_t *validate_error(const char *type, json_t *loc, const char *msg, const json_t *input,
                       json_t *ctx)
{
    json_t *e = json_object();
    json_object_set_new(e, "type", json_string(type));
    json_object_set_new(e, "loc", loc);
    json_object_set_new(e, "msg", json_string(msg));
    json_object_set_new(e, "input", input ? json_deep_copy(input) : json_null());
    if (ctx)
        json_object_set_new(e, "ctx", ctx);
    char url[128];
    snprintf(url, sizeof(url), ERR_URL "%s", type);
    json_object_set_new(e, "url", json_string(url));
    return e;
}

static json_t *body_loc(const char *field)
{
    json_t *loc = json_array();
    json_array_append_new(loc, json_string("body"));
    if (field)
        json_array_append_new(loc, json_string(field));
    return loc;
}

/* "'a' or 'b'", "'a', 'b' or 'c'" */
static char *enum_expected(const char *const *values)
{
    struct sb sb = SB_INIT;
    size_t n = 0;
    while (values[n])
        n++;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sb_puts(&sb, i == n - 1 ? " or " : ", ");
        sb_printf(&sb, "'%s'", values[i]);
    }
    return sb_detach(&sb);
}

/* Checks and coerces one value; returns the coerced value (new) or NULL after appending an
 * error. */
static json_t *check_field(const struct field_spec *f, json_t *v, json_t *errors)
{
    char msg[160];
    if (json_is_null(v)) {
        if (f->nullable || f->type == FIELD_ANY)
            return json_null();
    }
    switch (f->type) {
    case FIELD_ANY:
        return json_incref(v);
    case FIELD_STRING: {
        if (!json_is_string(v)) {
            json_array_append_new(errors,
                                  validate_error("string_type", body_loc(f->name),
                                                 "Input should be a valid string", v, NULL));
            return NULL;
        }
        size_t len = json_string_length(v); /* bytes; close enough for limits */
        if (f->min_len > 0 && (long)len < f->min_len) {
            snprintf(msg, sizeof(msg), "String should have at least %ld character%s", f->min_len,
                     f->min_len == 1 ? "" : "s");
            json_array_append_new(
                errors, validate_error("string_too_short", body_loc(f->name), msg, v,
                                       json_pack("{s:i}", "min_length", (int)f->min_len)));
            return NULL;
        }
        if (f->max_len > 0 && (long)len > f->max_len) {
            snprintf(msg, sizeof(msg), "String should have at most %ld character%s", f->max_len,
                     f->max_len == 1 ? "" : "s");
            json_array_append_new(
                errors, validate_error("string_too_long", body_loc(f->name), msg, v,
                                       json_pack("{s:i}", "max_length", (int)f->max_len)));
            return NULL;
        }
        return json_incref(v);
    }
    case FIELD_ENUM: {
        if (json_is_string(v))
            for (const char *const *e = f->enum_values; *e; e++)
                if (strcmp(*e, json_string_value(v)) == 0)
                    return json_incref(v);
        char *exp = enum_expected(f->enum_values);
        snprintf(msg, sizeof(msg), "Input should be %s", exp);
        json_array_append_new(errors, validate_error("enum", body_loc(f->name), msg, v,
                                                     json_pack("{s:s}", "expected", exp)));
        free(exp);
        return NULL;
    }
    case FIELD_NUMBER:
    case FIELD_INT: {
        double d;
        int ok = 0;
        if (json_is_integer(v)) {
            d = (double)json_integer_value(v);
            ok = 1;
        } else if (json_is_real(v)) {
            d = json_real_value(v);
            ok = 1;
        } else if (json_is_string(v) && num_parse_double(json_string_value(v), &d) == 0) {
            ok = 1;
        }
        int is_int = f->type == FIELD_INT;
        if (!ok || !isfinite(d)) {
            const char *type = json_is_string(v) ? (is_int ? "int_parsing" : "float_parsing")
                                                 : (is_int ? "int_type" : "float_type");
            const char *m = json_is_string(v)
                                ? (is_int ? "Input should be a valid integer, unable to parse "
                                            "string as an integer"
                                          : "Input should be a valid number, unable to parse "
                                            "string as a number")
                                : (is_int ? "Input should be a valid integer"
                                          : "Input should be a valid number");
            json_array_append_new(errors, validate_error(type, body_loc(f->name), m, v, NULL));
            return NULL;
        }
        if (is_int && d != floor(d)) {
            json_array_append_new(
                errors,
                validate_error("int_from_float", body_loc(f->name),
                               "Input should be a valid integer, got a number with a fractional "
                               "part",
                               v, NULL));
            return NULL;
        }
        if (f->has_ge && d < f->ge) {
            snprintf(msg, sizeof(msg), "Input should be greater than or equal to %g", f->ge);
            json_t *ctx = json_object();
            json_object_set_new(ctx, "ge",
                                f->ge == floor(f->ge) ? json_integer((json_int_t)f->ge)
                                                      : json_real(f->ge));
            json_array_append_new(
                errors, validate_error("greater_than_equal", body_loc(f->name), msg, v, ctx));
            return NULL;
        }
        if (is_int)
            return json_integer((json_int_t)d);
        return json_is_integer(v) ? json_incref(v) : json_real(d);
    }
    case FIELD_BOOL: {
        if (json_is_boolean(v))
            return json_incref(v);
        int b;
        if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
            return json_boolean(json_integer_value(v));
        if (json_is_string(v) && num_parse_bool(json_string_value(v), &b) == 0)
            return json_boolean(b);
        json_array_append_new(
            errors,
            validate_error(json_is_string(v) ? "bool_parsing" : "bool_type", body_loc(f->name),
                           json_is_string(v) ? "Input should be a valid boolean, unable to "
                                               "interpret input"
                                             : "Input should be a valid boolean",
                           v, NULL));
        return NULL;
    }
    case FIELD_OBJECT:
        if (json_is_object(v))
            return json_incref(v);
        json_array_append_new(errors,
                              validate_error("dict_type", body_loc(f->name),
                                             "Input should be a valid dictionary", v, NULL));
        return NULL;
    case FIELD_STR_LIST: {
        if (!json_is_array(v)) {
            json_array_append_new(errors, validate_error("list_type", body_loc(f->name),
                                                         "Input should be a valid list", v, NULL));
            return NULL;
        }
        size_t i;
        json_t *item;
        json_array_foreach (v, i, item) {
            if (!json_is_string(item)) {
                json_t *loc = body_loc(f->name);
                json_array_append_new(loc, json_integer((json_int_t)i));
                json_array_append_new(errors,
                                      validate_error("string_type", loc,
                                                     "Input should be a valid string", item, NULL));
                return NULL;
            }
        }
        return json_incref(v);
    }
    case FIELD_DATETIME: {
        struct iso_time t;
        if (json_is_string(v) && iso_parse(json_string_value(v), json_string_length(v), &t) == 0)
            return json_incref(v);
        json_array_append_new(
            errors,
            validate_error(json_is_string(v) ? "datetime_from_date_parsing" : "datetime_type",
                           body_loc(f->name),
                           json_is_string(v) ? "Input should be a valid datetime or date, invalid "
                                               "character in year"
                                             : "Input should be a valid datetime",
                           v, NULL));
        return NULL;
    }
    }
    return NULL;
}

json_t *validate_body(const char *body, size_t len, const struct field_spec *specs,
                      int body_required, int forbid_extra, json_t **errors)
{
    *errors = json_array();
    size_t start = 0;
    while (start < len && (body[start] == ' ' || body[start] == '\n' || body[start] == '\r' ||
                           body[start] == '\t'))
        start++;
    if (start == len) {
        if (!body_required)
            return json_object();
        json_array_append_new(
            *errors, validate_error("missing", body_loc(NULL), "Field required", NULL, NULL));
        return NULL;
    }
    char err[200];
    json_t *doc = pyjson_loads(body, len, BODY_MAX_DEPTH, err, sizeof(err));
    if (!doc) {
        json_t *loc = body_loc(NULL);
        json_array_append_new(loc, json_integer(0));
        json_array_append_new(*errors, validate_error("json_invalid", loc, "JSON decode error",
                                                      NULL, json_pack("{s:s}", "error", err)));
        json_object_set_new(json_array_get(*errors, 0), "input", json_object());
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_array_append_new(*errors,
                              validate_error("model_attributes_type", body_loc(NULL),
                                             "Input should be a valid dictionary or object to "
                                             "extract fields from",
                                             doc, NULL));
        json_decref(doc);
        return NULL;
    }
    json_t *out = json_object();
    for (const struct field_spec *f = specs; f->name; f++) {
        json_t *v = json_object_get(doc, f->name);
        if (!v) {
            if (f->required)
                json_array_append_new(*errors, validate_error("missing", body_loc(f->name),
                                                              "Field required", doc, NULL));
            continue;
        }
        json_t *c = check_field(f, v, *errors);
        if (c)
            json_object_set_new(out, f->name, c);
    }
    if (forbid_extra) {
        const char *k;
        json_t *v;
        json_object_foreach (doc, k, v) {
            int known = 0;
            for (const struct field_spec *f = specs; f->name && !known; f++)
                known = strcmp(f->name, k) == 0;
            if (!known)
                json_array_append_new(*errors,
                                      validate_error("extra_forbidden", body_loc(k),
                                                     "Extra inputs are not permitted", v, NULL));
        }
    }
    json_decref(doc);
    if (json_array_size(*errors) > 0) {
        json_decref(out);
        return NULL;
    }
    json_decref(*errors);
    *errors = NULL;
    return out;
}

int validate_query_int(const struct http_req *req, const char *name, long lo, long hi, long *out,
                       json_t *errors)
{
    const char *v = http_req_query(req, name);
    if (!v)
        return 1;
    json_t *loc = json_pack("[s,s]", "query", name);
    json_t *input = json_string(v);
    int64_t i;
    char msg[96];
    int rc = -1;
    if (num_parse_i64(v, &i) != 0) {
        json_array_append_new(
            errors, validate_error("int_parsing", loc,
                                   "Input should be a valid integer, unable to parse string as an "
                                   "integer",
                                   input, NULL));
    } else if (i < lo) {
        snprintf(msg, sizeof(msg), "Input should be greater than or equal to %ld", lo);
        json_array_append_new(errors, validate_error("greater_than_equal", loc, msg, input,
                                                     json_pack("{s:I}", "ge", (json_int_t)lo)));
    } else if (i > hi) {
        snprintf(msg, sizeof(msg), "Input should be less than or equal to %ld", hi);
        json_array_append_new(errors, validate_error("less_than_equal", loc, msg, input,
                                                     json_pack("{s:I}", "le", (json_int_t)hi)));
    } else {
        *out = (long)i;
        json_decref(loc);
        rc = 0;
    }
    json_decref(input);
    return rc;
}

int validate_query_enum(const struct http_req *req, const char *name, const char *const *values,
                        const char **out, json_t *errors)
{
    const char *v = http_req_query(req, name);
    if (!v)
        return 1;
    for (const char *const *e = values; *e; e++) {
        if (strcmp(*e, v) == 0) {
            *out = v;
            return 0;
        }
    }
    char *exp = enum_expected(values);
    struct sb msg = SB_INIT;
    sb_printf(&msg, "Input should be %s", exp);
    json_t *input = json_string(v);
    json_array_append_new(errors,
                          validate_error("enum", json_pack("[s,s]", "query", name), sb_str(&msg),
                                         input, json_pack("{s:s}", "expected", exp)));
    json_decref(input);
    sb_release(&msg);
    free(exp);
    return -1;
}

void reply_json(struct http_reply *rep, int status, json_t *body)
{
    rep->status = status;
    rep->content_type = "application/json";
    rep->body = pyjson_dumps(body, PYJSON_COMPACT);
    rep->body_len = strlen(rep->body);
    json_decref(body);
}

void reply_validation(struct http_reply *rep, json_t *errors)
{
    json_t *body = json_object();
    json_object_set_new(body, "detail", errors);
    reply_json(rep, 422, body);
}

void reply_detail(struct http_reply *rep, int status, const char *detail)
{
    reply_json(rep, status, json_pack("{s:s}", "detail", detail));
}

void reply_empty(struct http_reply *rep, int status)
{
    rep->status = status;
    rep->content_type = "application/json";
    rep->body = NULL;
    rep->body_len = 0;
}
