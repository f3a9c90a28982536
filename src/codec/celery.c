/*
 * Celery protocol v2 over the kombu Redis envelope (codec/celery.h). Decoding
 * is strict about what we act on (task, id, content type, body shape) and
 * lenient about everything else, as Celery is: unknown headers and properties
 * are ignored, the minimal {task, id} header set is enough, the body may be
 * base64 or plain JSON text. Encoding writes the full header set of a Python
 * producer with lang "c", so Flower and `celery inspect` see the usual fields
 * and a Python worker accepts our messages.
 */
#include "codec/celery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "base/uuid.h"
#include "core/pyjson.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *celery_b64_encode(const unsigned char *data, size_t len)
{
    size_t outlen = (len + 2) / 3 * 4;
    char *out = xmalloc(outlen + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64chars[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

unsigned char *celery_b64_decode(const char *text, size_t len, size_t *out_len)
{
    while (len > 0 && text[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = xmalloc(len / 4 * 3 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(text[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

static const char *str_or_null(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (errlen)
        snprintf(err, errlen, "%s", msg);
}

/* An ISO-8601 header (eta, expires): null/absent is none, anything else must
 * parse. */
static int read_time(const json_t *headers, const char *key, int64_t *out)
{
    *out = CELERY_NO_TIME;
    const json_t *v = json_object_get(headers, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return ERR_INVALID;
    struct iso_time t;
    if (iso_parse(json_string_value(v), json_string_length(v), &t) != 0)
        return ERR_INVALID;
    *out = t.utc_us;
    return 0;
}

void celery_msg_release(struct celery_msg *m)
{
    if (!m)
        return;
    json_decref(m->envelope);
    json_decref(m->body);
    memset(m, 0, sizeof(*m));
}

int celery_msg_decode(const char *raw, size_t len, struct celery_msg *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->eta_us = out->expires_us = CELERY_NO_TIME;
    if (len > CELERY_MAX_MESSAGE) {
        set_err(err, errlen, "message too large");
        return CELERY_E_MALFORMED;
    }
    char perr[160];
    json_t *env = pyjson_loads(raw, len, CELERY_MAX_DEPTH, perr, sizeof(perr));
    if (!env || !json_is_object(env)) {
        json_decref(env);
        set_err(err, errlen, "envelope is not a JSON object");
        return CELERY_E_MALFORMED;
    }
    out->envelope = env;
    const json_t *headers = json_object_get(env, "headers");
    const json_t *props = json_object_get(env, "properties");
    if (!json_is_object(props) || !json_is_string(json_object_get(env, "body"))) {
        set_err(err, errlen, "envelope without properties or body");
        return CELERY_E_MALFORMED;
    }
    if (!json_is_object(headers))
        headers = NULL;
    const json_t *dinfo = json_object_get(props, "delivery_info");
    out->delivery_tag = str_or_null(props, "delivery_tag");
    out->exchange = json_is_object(dinfo) ? str_or_null(dinfo, "exchange") : NULL;
    if (!out->exchange)
        out->exchange = "";
    out->routing_key = json_is_object(dinfo) ? str_or_null(dinfo, "routing_key") : NULL;
    const json_t *prio = json_object_get(props, "priority");
    if (json_is_integer(prio) && json_integer_value(prio) >= 0 && json_integer_value(prio) <= 255)
        out->priority = (int)json_integer_value(prio);
    out->redelivered = json_is_true(json_object_get(headers, "redelivered")) ||
                       json_is_true(json_object_get(dinfo, "redelivered"));
    out->content_type = str_or_null(env, "content-type");
    out->task = headers ? str_or_null(headers, "task") : NULL;
    out->id = headers ? str_or_null(headers, "id") : NULL;
    if (!out->id)
        out->id = str_or_null(props, "correlation_id");
    if (!out->content_type || strcmp(out->content_type, "application/json") != 0) {
        set_err(err, errlen, "content type is not application/json");
        return CELERY_E_CONTENT_TYPE;
    }
    if (!out->task) {
        set_err(err, errlen, "no task header (protocol v1, event or control message)");
        return CELERY_E_NOT_TASK;
    }
    if (!out->id || !*out->id) {
        set_err(err, errlen, "task message without id");
        return CELERY_E_BODY;
    }
    out->root_id = str_or_null(headers, "root_id");
    out->parent_id = str_or_null(headers, "parent_id");
    out->group = str_or_null(headers, "group");
    const json_t *retries = json_object_get(headers, "retries");
    if (json_is_integer(retries) && json_integer_value(retries) >= 0 &&
        json_integer_value(retries) < 1000000)
        out->retries = (int)json_integer_value(retries);
    out->ignore_result = json_is_true(json_object_get(headers, "ignore_result"));
    if (read_time(headers, "eta", &out->eta_us) != 0 ||
        read_time(headers, "expires", &out->expires_us) != 0) {
        set_err(err, errlen, "bad eta or expires header");
        return CELERY_E_BODY;
    }
    const json_t *body = json_object_get(env, "body");
    const char *enc = str_or_null(props, "body_encoding");
    const char *text = json_string_value(body);
    size_t tlen = json_string_length(body);
    unsigned char *decoded = NULL;
    if (enc && strcmp(enc, "base64") == 0) {
        decoded = celery_b64_decode(text, tlen, &tlen);
        if (!decoded) {
            set_err(err, errlen, "body is not valid base64");
            return CELERY_E_BODY;
        }
        text = (const char *)decoded;
    } else if (enc) {
        set_err(err, errlen, "unsupported body_encoding");
        return CELERY_E_BODY;
    }
    out->body = pyjson_loads(text, tlen, CELERY_MAX_DEPTH, perr, sizeof(perr));
    free(decoded);
    if (!out->body || !json_is_array(out->body) || json_array_size(out->body) < 2 ||
        !json_is_array(json_array_get(out->body, 0)) ||
        !json_is_object(json_array_get(out->body, 1))) {
        set_err(err, errlen, "body is not [args, kwargs, embed]");
        return CELERY_E_BODY;
    }
    out->args = json_array_get(out->body, 0);
    out->kwargs = json_array_get(out->body, 1);
    return 0;
}

static json_t *time_or_null(int64_t us)
{
    if (us == CELERY_NO_TIME)
        return json_null();
    char buf[ISO_BUFSZ];
    iso_format_utc(us, buf);
    return json_string(buf);
}

char *celery_msg_encode(const struct celery_publish *p, char task_id_out[37])
{
    char id[UUID_STRLEN + 1], tag[UUID_STRLEN + 1];
    if (p->id)
        snprintf(id, sizeof(id), "%s", p->id);
    else
        uuid4(id);
    uuid4(tag);
    if (task_id_out)
        memcpy(task_id_out, id, sizeof(id));
    json_t *args = p->args ? json_deep_copy(p->args) : json_array();
    json_t *kwargs = p->kwargs ? json_deep_copy(p->kwargs) : json_object();
    char *argsrepr = pyjson_dumps(args, 0);
    char *kwargsrepr = pyjson_dumps(kwargs, 0);
    json_t *body = json_pack("[o,o,{s:n,s:n,s:n,s:n}]", args, kwargs, "callbacks", "errbacks",
                             "chain", "chord");
    char *body_text = pyjson_dumps(body, 0);
    char *b64 = celery_b64_encode((const unsigned char *)body_text, strlen(body_text));
    json_t *headers = json_object();
    json_object_set_new(headers, "lang", json_string("c"));
    json_object_set_new(headers, "task", json_string(p->task));
    json_object_set_new(headers, "id", json_string(id));
    json_object_set_new(headers, "shadow", json_null());
    json_object_set_new(headers, "eta", time_or_null(p->eta_us));
    json_object_set_new(headers, "expires", time_or_null(p->expires_us));
    json_object_set_new(headers, "group", json_null());
    json_object_set_new(headers, "group_index", json_null());
    json_object_set_new(headers, "retries", json_integer(0));
    json_object_set_new(headers, "timelimit", json_pack("[n,n]"));
    json_object_set_new(headers, "root_id", json_string(id));
    json_object_set_new(headers, "parent_id", json_null());
    json_object_set_new(headers, "argsrepr", json_string(argsrepr));
    json_object_set_new(headers, "kwargsrepr", json_string(kwargsrepr));
    json_object_set_new(headers, "origin", json_string(p->origin ? p->origin : "smplat"));
    json_object_set_new(headers, "ignore_result", json_false());
    if (p->extra_headers)
        json_object_update(headers, (json_t *)p->extra_headers);
    json_t *env = json_object();
    json_object_set_new(env, "body", json_string(b64));
    json_object_set_new(env, "content-encoding", json_string("utf-8"));
    json_object_set_new(env, "content-type", json_string("application/json"));
    json_object_set_new(env, "headers", headers);
    json_t *props = json_object();
    json_object_set_new(props, "correlation_id", json_string(id));
    json_object_set_new(props, "reply_to", json_string(""));
    json_object_set_new(props, "delivery_mode", json_integer(2));
    json_object_set_new(props, "delivery_info",
                        json_pack("{s:s,s:s}", "exchange", "", "routing_key", p->queue));
    json_object_set_new(props, "priority", json_integer(p->priority));
    json_object_set_new(props, "body_encoding", json_string("base64"));
    json_object_set_new(props, "delivery_tag", json_string(tag));
    json_object_set_new(env, "properties", props);
    char *text = pyjson_dumps(env, 0);
    json_decref(env);
    json_decref(body);
    free(body_text);
    free(b64);
    free(argsrepr);
    free(kwargsrepr);
    return text;
}

#define SEP "\x06\x16"

char *celery_queue_key(const char *queue, int priority)
{
    int step = priority >= 9 ? 9 : priority >= 6 ? 6 : priority >= 3 ? 3 : 0;
    struct sb sb;
    sb_init(&sb);
    sb_puts(&sb, queue);
    if (step)
        sb_printf(&sb, SEP "%d", step);
    return sb_detach(&sb);
}

char *celery_key_queue(const char *key)
{
    const char *last = NULL;
    for (const char *p = strstr(key, SEP); p; p = strstr(p + 1, SEP))
        last = p;
    return last ? xstrndup(key, (size_t)(last - key)) : xstrdup(key);
}

/* Appends s as a JSON string literal. */
static void put_json_string(struct sb *sb, const char *s)
{
    json_t *v = json_string(s ? s : "");
    if (!v) {
        sb_puts(sb, "\"\"");
        return;
    }
    pyjson_dump_sb(sb, v, 0);
    json_decref(v);
}

char *celery_unacked_value(const char *raw, size_t len, const char *exchange,
                           const char *routing_key)
{
    struct sb sb;
    sb_init(&sb);
    sb_putc(&sb, '[');
    sb_append(&sb, raw, len);
    sb_puts(&sb, ", ");
    put_json_string(&sb, exchange);
    sb_puts(&sb, ", ");
    put_json_string(&sb, routing_key);
    sb_putc(&sb, ']');
    return sb_detach(&sb);
}

int celery_restore_envelope(const char *value, size_t len, char **envelope, char **dest_key,
                            char **exchange)
{
    *envelope = *dest_key = *exchange = NULL;
    json_t *v = pyjson_loads(value, len, CELERY_MAX_DEPTH + 1, NULL, 0);
    if (!json_is_array(v) || json_array_size(v) < 3 || !json_is_object(json_array_get(v, 0)) ||
        !json_is_string(json_array_get(v, 1)) || !json_is_string(json_array_get(v, 2))) {
        json_decref(v);
        return ERR_INVALID;
    }
    json_t *env = json_array_get(v, 0);
    json_t *headers = json_object_get(env, "headers");
    json_t *props = json_object_get(env, "properties");
    if (!json_is_object(props)) {
        json_decref(v);
        return ERR_INVALID;
    }
    if (json_is_object(headers))
        json_object_set_new(headers, "redelivered", json_true());
    json_t *dinfo = json_object_get(props, "delivery_info");
    if (json_is_object(dinfo))
        json_object_set_new(dinfo, "redelivered", json_true());
    const json_t *prio = json_object_get(props, "priority");
    int p =
        json_is_integer(prio) && json_integer_value(prio) >= 0 && json_integer_value(prio) <= 255
            ? (int)json_integer_value(prio)
            : 0;
    *envelope = pyjson_dumps(env, 0);
    *dest_key = celery_queue_key(json_string_value(json_array_get(v, 2)), p);
    *exchange = xstrdup(json_string_value(json_array_get(v, 1)));
    json_decref(v);
    return *envelope ? 0 : ERR_INVALID;
}

const char *celery_state_name(enum celery_state s)
{
    switch (s) {
    case CELERY_STARTED:
        return "STARTED";
    case CELERY_SUCCESS:
        return "SUCCESS";
    case CELERY_FAILURE:
        return "FAILURE";
    case CELERY_REVOKED:
        return "REVOKED";
    case CELERY_RETRY:
        return "RETRY";
    }
    return "FAILURE";
}

json_t *celery_exc(const char *type, const char *module, const char *message)
{
    return json_pack("{s:s,s:[s],s:s}", "exc_type", type, "exc_message", message ? message : "",
                     "exc_module", module);
}

char *celery_meta_encode(const struct celery_meta *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(celery_state_name(m->state)));
    json_object_set(o, "result", m->result ? (json_t *)m->result : json_null());
    json_object_set_new(o, "traceback", m->traceback ? json_string(m->traceback) : json_null());
    json_object_set_new(o, "children", json_array());
    json_object_set_new(o, "date_done", time_or_null(m->date_done_us));
    if (m->group_id)
        json_object_set_new(o, "group_id", json_string(m->group_id));
    if (m->parent_id)
        json_object_set_new(o, "parent_id", json_string(m->parent_id));
    json_object_set_new(o, "task_id", json_string(m->task_id));
    char *text = pyjson_dumps(o, 0);
    json_decref(o);
    return text;
}

int celery_meta_decode(const char *text, size_t len, json_t **doc, const char **status)
{
    *doc = pyjson_loads(text, len, CELERY_MAX_DEPTH, NULL, 0);
    *status = NULL;
    if (!json_is_object(*doc) || !json_is_string(json_object_get(*doc, "status")) ||
        !json_object_get(*doc, "task_id")) {
        json_decref(*doc);
        *doc = NULL;
        return ERR_INVALID;
    }
    *status = json_string_value(json_object_get(*doc, "status"));
    return 0;
}
