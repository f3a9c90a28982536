/*
 * The endpoint engine shared by order placement, replay, refill and balance (spec-replay §2).
 * It turns an endpoint configuration from a provider's metadata and a template context into
 * a transport request, and turns whatever the transport brought back into the original's
 * "invocation payload" or its error message. On top of the original it classifies failures
 * (DECISIONS 6 and 13) so the replay worker can tell a safe retry from an ambiguous one, and
 * supports the SMM panel conventions of DECISIONS "Beyond": form-encoded bodies and errors
 * reported inside 200 responses. No I/O happens here; the transport port does the wire work.
 */
#include "core/endpoint.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include "base/error.h"
#include "base/sb.h"
#include "core/pyjson.h"
#include "core/template.h"

/* A timeout longer than a day is a configuration slip, not a wish. */
#define ENDPOINT_MAX_TIMEOUT_MS (24L * 3600L * 1000L)

const json_t *endpoint_find(const json_t *provider_metadata, const char *key)
{
    if (!json_is_object(provider_metadata) || json_object_size(provider_metadata) == 0)
        return NULL;
    const json_t *automation = json_object_get(provider_metadata, "automation");
    if (!json_is_object(automation))
        return NULL;
    const json_t *endpoints = json_object_get(automation, "endpoints");
    if (!json_is_object(endpoints))
        return NULL;
    const json_t *ep = json_object_get(endpoints, key);
    return json_is_object(ep) ? ep : NULL;
}

json_t *endpoint_metadata_context(const json_t *provider_metadata)
{
    json_t *ctx = json_object();
    const json_t *automation =
        json_is_object(provider_metadata) ? json_object_get(provider_metadata, "automation") : NULL;
    if (!json_is_object(automation))
        return ctx;
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)automation, key, v) {
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v))
            json_object_set(ctx, key, v);
    }
    return ctx;
}

/* Python str.strip() emptiness for the URL check: the original refused a URL that is blank
 * after stripping. ASCII whitespace covers every realistic configuration. */
static int is_blank(const char *s)
{
    for (; *s; s++) {
        if (!isspace((unsigned char)*s))
            return 0;
    }
    return 1;
}

/* A rendered value as header or URL text: strings as they are, anything else str()'d. */
static char *rendered_text(const json_t *v)
{
    if (json_is_string(v))
        return xstrndup(json_string_value(v), json_string_length(v));
    struct sb sb = SB_INIT;
    template_pystr(&sb, v);
    return sb_detach(&sb);
}

static void add_header(struct http_request *r, const char *name, char *value_owned)
{
    r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
    r->headers[r->nheaders].name = xstrdup(name);
    r->headers[r->nheaders].value = value_owned;
    r->nheaders++;
}

static int has_header(const struct http_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return 1;
    }
    return 0;
}

/* urllib.parse.quote_plus: unreserved characters kept, space as '+', every other byte of
 * the UTF-8 text as %XX with upper-case hex. */
static void form_quote(struct sb *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
            sb_putc(out, (char)c);
        } else if (c == ' ') {
            sb_putc(out, '+');
        } else {
            sb_putc(out, '%');
            sb_putc(out, hex[c >> 4]);
            sb_putc(out, hex[c & 15]);
        }
    }
}

static void form_pair(struct sb *out, const char *key, const json_t *v)
{
    if (out->len > 0)
        sb_putc(out, '&');
    form_quote(out, key, strlen(key));
    sb_putc(out, '=');
    struct sb val = SB_INIT;
    template_pystr(&val, v);
    form_quote(out, sb_str(&val), val.len);
    sb_release(&val);
}

/* urlencode(body, doseq=True) of the rendered top-level object: an array value repeats its
 * key once per element (what PHP-style panels read as a list), everything else is str()'d. */
static void form_encode(struct sb *out, const json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)body, key, v) {
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach (v, i, e)
                form_pair(out, key, e);
        } else {
            form_pair(out, key, v);
        }
    }
    sb_append(out, "", 0);
}

/* timeoutSeconds when it is a real JSON number above zero (booleans are not numbers here),
 * else the caller's default; converted to whole milliseconds, at least 1. */
static long endpoint_timeout_ms(const json_t *endpoint, long default_timeout_ms)
{
    const json_t *t = json_object_get(endpoint, "timeoutSeconds");
    if (!json_is_number(t))
        return default_timeout_ms;
    double secs = json_number_value(t);
    if (!(secs > 0) || isnan(secs))
        return default_timeout_ms;
    double ms = ceil(secs * 1000.0);
    if (ms > (double)ENDPOINT_MAX_TIMEOUT_MS)
        return ENDPOINT_MAX_TIMEOUT_MS;
    return ms < 1 ? 1 : (long)ms;
}

int endpoint_build_request(const json_t *endpoint, const json_t *ctx, long default_timeout_ms,
                           const char *group, struct http_request *out, char **error)
{
    memset(out, 0, sizeof(*out));
    if (error)
        *error = NULL;
    const json_t *url = json_object_get(endpoint, "url");
    if (!json_is_string(url) || is_blank(json_string_value(url))) {
        if (error)
            *error = xstrdup("Endpoint URL is not configured");
        return ERR_INVALID;
    }

    const json_t *method = json_object_get(endpoint, "method");
    const char *m = json_is_string(method) && json_string_length(method) > 0
                        ? json_string_value(method)
                        : "POST";
    out->method = xstrdup(m);
    for (char *p = out->method; *p; p++)
        *p = (char)toupper((unsigned char)*p);

    json_t *rurl = template_render(url, ctx);
    out->url = rendered_text(rurl);
    json_decref(rurl);

    const json_t *headers = json_object_get(endpoint, "headers");
    if (json_is_object(headers)) {
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)headers, key, v) {
            json_t *rv = template_render(v, ctx);
            add_header(out, key, rendered_text(rv));
            json_decref(rv);
        }
    }

    const json_t *payload = json_object_get(endpoint, "payload");
    if (json_is_object(payload)) {
        json_t *body = template_render(payload, ctx);
        struct sb sb = SB_INIT;
        const json_t *enc = json_object_get(endpoint, "encoding");
        const char *ctype;
        if (json_is_string(enc) && strcmp(json_string_value(enc), "form") == 0) {
            form_encode(&sb, body);
            ctype = "application/x-www-form-urlencoded";
        } else {
            pyjson_dump_sb(&sb, body, PYJSON_ENSURE_ASCII); /* json.dumps defaults */
            ctype = "application/json";
        }
        json_decref(body);
        out->body_len = sb.len;
        out->body = sb_detach(&sb);
        /* Like httpx, an explicit Content-Type header in the configuration wins. */
        if (!has_header(out, "Content-Type"))
            add_header(out, "Content-Type", xstrdup(ctype));
    }

    out->timeout_ms = endpoint_timeout_ms(endpoint, default_timeout_ms);
    out->group = group;
    return 0;
}

/* The reason phrases of httpx.codes, which httpx uses when composing its status errors. */
static const char *reason_phrase(long code)
{
    switch (code) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 102:
        return "Processing";
    case 103:
        return "Early Hints";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 205:
        return "Reset Content";
    case 206:
        return "Partial Content";
    case 207:
        return "Multi-Status";
    case 208:
        return "Already Reported";
    case 226:
        return "IM Used";
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 305:
        return "Use Proxy";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Request Entity Too Large";
    case 414:
        return "Request-URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Requested Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 418:
        return "I'm a teapot";
    case 421:
        return "Misdirected Request";
    case 422:
        return "Unprocessable Entity";
    case 423:
        return "Locked";
    case 424:
        return "Failed Dependency";
    case 425:
        return "Too Early";
    case 426:
        return "Upgrade Required";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 451:
        return "Unavailable For Legal Reasons";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    case 506:
        return "Variant Also Negotiates";
    case 507:
        return "Insufficient Storage";
    case 508:
        return "Loop Detected";
    case 510:
        return "Not Extended";
    case 511:
        return "Network Authentication Required";
    default:
        return "";
    }
}

/* httpx Response.raise_for_status() message, including the redirect line it adds for the
 * five redirect codes when a Location header came back. */
static char *status_message(long code, const char *url, const char *location)
{
    const char *kind;
    switch (code / 100) {
    case 1:
        kind = "Informational response";
        break;
    case 3:
        kind = "Redirect response";
        break;
    case 4:
        kind = "Client error";
        break;
    case 5:
        kind = "Server error";
        break;
    default:
        kind = "Invalid status code";
        break;
    }
    struct sb sb = SB_INIT;
    sb_printf(&sb, "%s '%ld %s' for url '%s'\n", kind, code, reason_phrase(code), url);
    int redirect = code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
    if (redirect && location)
        sb_printf(&sb, "Redirect location: '%s'\n", location);
    sb_printf(
        &sb,
        "For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/%ld",
        code);
    return sb_detach(&sb);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), so that
 * an HTTP date can be resolved without the process time zone. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_digits(const char **p, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

/* IMF-fixdate (RFC 9110 §5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT", as microseconds since the
 * epoch; -1 when the text is not one. */
static int64_t parse_http_date(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *comma = strchr(s, ',');
    if (!comma)
        return -1;
    const char *p = comma + 1;
    while (*p == ' ')
        p++;
    int64_t day, year, hh, mm, ss, mon = -1;
    if (parse_digits(&p, 2, &day) || *p++ != ' ')
        return -1;
    for (int i = 0; i < 12; i++) {
        if (strncmp(p, months + 3 * i, 3) == 0)
            mon = i + 1;
    }
    if (mon < 0)
        return -1;
    p += 3;
    if (*p++ != ' ' || parse_digits(&p, 4, &year) || *p++ != ' ' || parse_digits(&p, 2, &hh) ||
        *p++ != ':' || parse_digits(&p, 2, &mm) || *p++ != ':' || parse_digits(&p, 2, &ss))
        return -1;
    while (*p == ' ')
        p++;
    if (strncmp(p, "GMT", 3) != 0)
        return -1;
    p += 3;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    int64_t secs = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
    return secs * 1000000;
}

/* Retry-After as a delay: delta-seconds, or an HTTP date resolved against now (a date in
 * the past means "now", 0). -1 when absent or unreadable. */
static int64_t retry_after_us(const char *value, int64_t now_us)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        int64_t secs = 0;
        const char *p = value;
        for (; isdigit((unsigned char)*p); p++) {
            if (secs > 100000000)
                return -1;
            secs = secs * 10 + (*p - '0');
        }
        while (*p == ' ' || *p == '\t')
            p++;
        return *p ? -1 : secs * 1000000;
    }
    int64_t at = parse_http_date(value);
    if (at < 0)
        return -1;
    return at > now_us ? at - now_us : 0;
}

/* bytes.decode("utf-8", errors="replace"): each maximal ill-formed subpart becomes U+FFFD,
 * so that a body in a wrong encoding still yields a valid JSON string as Python did. */
static char *utf8_sanitize(const char *s, size_t len, size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)s;
    struct sb sb = SB_INIT;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c < 0x80) {
            sb_putc(&sb, (char)c);
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            sb_puts(&sb, "\xEF\xBF\xBD");
            i++;
            continue;
        }
        size_t k = 1;
        for (; k <= need && i + k < len; k++) {
            unsigned char b = u[i + k];
            unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (b < l || b > h)
                break;
        }
        if (k == need + 1) {
            sb_append(&sb, s + i, need + 1);
            i += need + 1;
        } else {
            sb_puts(&sb, "\xEF\xBF\xBD");
            i += k;
        }
    }
    *out_len = sb.len;
    return sb_detach(&sb);
}

static json_t *text_payload(const char *body, size_t len)
{
    size_t n;
    char *text = utf8_sanitize(body ? body : "", body ? len : 0, &n);
    json_t *obj = json_object();
    json_object_set_new(obj, "text", json_stringn(text, n));
    free(text);
    return obj;
}

/* The invocation payload of a response (§2.4): a JSON object body as it is, another JSON
 * value under "data", anything unparseable or not JSON under "text". */
static json_t *parse_body(const struct http_response *resp)
{
    const char *ct = resp->content_type ? resp->content_type : "";
    if (strncmp(ct, "application/json", 16) == 0 && resp->body && resp->body_len > 0) {
        json_error_t jerr;
        json_t *v = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (v) {
            if (json_is_object(v))
                return v;
            json_t *obj = json_object();
            json_object_set_new(obj, "data", v);
            return obj;
        }
    }
    return text_payload(resp->body, resp->body_len);
}

static void fail(struct endpoint_result *out, enum endpoint_failure f, const char *text,
                 const char *fallback)
{
    out->failure = f;
    out->error = xstrdup(text && *text ? text : fallback);
}

void endpoint_interpret(const json_t *endpoint, const struct http_request *req,
                        const struct http_response *resp, int64_t now_us,
                        struct endpoint_result *out)
{
    memset(out, 0, sizeof(*out));
    out->retry_after_us = -1;
    if (!resp) {
        fail(out, EP_FAIL_CONNECT, NULL, "All connection attempts failed");
        return;
    }
    switch (resp->outcome) {
    case HTTP_OUTCOME_RESPONSE:
        break;
    case HTTP_OUTCOME_TIMEOUT_AFTER_SEND:
        fail(out, EP_FAIL_TIMEOUT_AMBIGUOUS, NULL, "outcome unknown: provider timed out");
        return;
    case HTTP_OUTCOME_TIMEOUT_BEFORE_SEND:
        fail(out, EP_FAIL_CONNECT, resp->error, "timed out");
        return;
    case HTTP_OUTCOME_CONNECT_FAILED:
        fail(out, EP_FAIL_CONNECT, resp->error, "All connection attempts failed");
        return;
    case HTTP_OUTCOME_BLOCKED:
        fail(out, EP_FAIL_BLOCKED, resp->error, "Outbound request blocked");
        return;
    case HTTP_OUTCOME_ERROR:
    default:
        /* Once bytes went out the provider may have acted: never guess, never retry. */
        if (resp->request_sent)
            fail(out, EP_FAIL_TIMEOUT_AMBIGUOUS, resp->error,
                 "outcome unknown: provider connection failed");
        else
            fail(out, EP_FAIL_CONNECT, resp->error, "All connection attempts failed");
        return;
    }

    out->parsed = parse_body(resp);
    out->retry_after_us = retry_after_us(resp->retry_after, now_us);
    long code = resp->status;
    if (code >= 200 && code <= 299) {
        const json_t *path = json_object_get(endpoint, "errorPath");
        if (json_is_string(path) && json_string_length(path) > 0) {
            const json_t *v = json_path_get(out->parsed, json_string_value(path));
            int empty = !v || json_is_false(v) || (json_is_string(v) && json_string_length(v) == 0);
            if (!empty) {
                struct sb sb = SB_INIT;
                sb_puts(&sb, "Provider returned an error: ");
                template_pystr(&sb, v);
                out->failure = EP_FAIL_PROVIDER_ERROR;
                out->error = sb_detach(&sb);
            }
        }
        return;
    }
    if (code == 429)
        out->failure = EP_FAIL_RATE_LIMITED;
    else if (code >= 500 && code <= 599)
        out->failure = EP_FAIL_SERVER;
    else if (code >= 400 && code <= 499)
        out->failure = EP_FAIL_CLIENT;
    else
        out->failure = EP_FAIL_STATUS;
    out->error = status_message(code, req && req->url ? req->url : "", resp->location);
}

void endpoint_result_release(struct endpoint_result *r)
{
    if (!r)
        return;
    json_decref(r->parsed);
    free(r->error);
    memset(r, 0, sizeof(*r));
    r->retry_after_us = -1;
}

int endpoint_failure_retryable(enum endpoint_failure f)
{
    return f == EP_FAIL_CONNECT || f == EP_FAIL_SERVER || f == EP_FAIL_RATE_LIMITED;
}

/* The original's _extract_path: split on every '.', walk objects only, and treat a missing
 * key, a null on the way or at the end, or a non-object intermediate as "not found". */
const json_t *json_path_get(const json_t *root, const char *path)
{
    if (!root || !path)
        return NULL;
    const json_t *cur = root;
    const char *seg = path;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, seg, n);
        if (!cur || json_is_null(cur))
            return NULL;
        if (!dot)
            return cur;
        seg = dot + 1;
    }
}

void http_request_release(struct http_request *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->url);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

void http_response_release(struct http_response *r)
{
    if (!r)
        return;
    free(r->error);
    free(r->content_type);
    free(r->location);
    free(r->retry_after);
    free(r->body);
    memset(r, 0, sizeof(*r));
}
