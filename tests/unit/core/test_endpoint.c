/*
 * Unit tests of core/endpoint.c without a network: endpoint lookup and context, request
 * building (method, URL, headers, JSON and form bodies, timeouts), and the interpretation of
 * hand-built responses: parsing by content type, httpx's status messages, Retry-After, the
 * errorPath convention and the retry classification of transport outcomes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "base/error.h"
#include "core/endpoint.h"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    assert_non_null(v);
    return v;
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static const char *header(const struct http_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

static void test_find_and_context(void **state)
{
    (void)state;
    json_t *md =
        load("{\"automation\": {\"apiKey\": \"k\", \"n\": 2, \"b\": false, \"z\": null,"
             " \"arr\": [1], \"endpoints\": {\"order\": {\"url\": \"u\"}, \"refill\": 1}}}");
    assert_non_null(endpoint_find(md, "order"));
    assert_null(endpoint_find(md, "refill"));
    assert_null(endpoint_find(md, "balance"));
    json_t *ctx = endpoint_metadata_context(md);
    char *s = dump(ctx);
    assert_string_equal(s, "{\"apiKey\":\"k\",\"n\":2,\"b\":false}");
    free(s);
    json_decref(ctx);
    json_decref(md);

    json_t *empty = json_object();
    assert_null(endpoint_find(empty, "order"));
    ctx = endpoint_metadata_context(empty);
    assert_int_equal(json_object_size(ctx), 0);
    json_decref(ctx);
    json_decref(empty);
    md = load("{\"automation\": {\"endpoints\": []}}");
    assert_null(endpoint_find(md, "order"));
    json_decref(md);
}

static void test_build_json_request(void **state)
{
    (void)state;
    json_t *ep = load("{\"method\": \"put\", \"url\": \" https://p.example/{{apiKey}}/o \","
                      " \"headers\": {\"X-Key\": \"{{apiKey}}\", \"X-N\": \"{{amount}}\","
                      " \"X-R\": \"{{rules}}\"},"
                      " \"payload\": {\"amount\": \"{{amount}}\", \"rules\": \"{{rules}}\","
                      " \"note\": \"caf\\u00e9\", \"q\": 2},"
                      " \"timeoutSeconds\": 2.5}");
    json_t *ctx = load("{\"apiKey\": \"k1\", \"amount\": 150.0, \"rules\": [{\"id\": \"r1\"}]}");
    struct http_request r;
    char *err = NULL;
    assert_int_equal(endpoint_build_request(ep, ctx, ENDPOINT_DEFAULT_TIMEOUT_MS, "prov", &r, &err),
                     0);
    assert_null(err);
    assert_string_equal(r.method, "PUT");
    assert_string_equal(r.url, " https://p.example/k1/o ");
    assert_string_equal(header(&r, "X-Key"), "k1");
    assert_string_equal(header(&r, "X-N"), "150.0");
    assert_string_equal(header(&r, "X-R"), "[{'id': 'r1'}]");
    assert_string_equal(header(&r, "Content-Type"), "application/json");
    assert_string_equal(r.body, "{\"amount\": \"150.0\", \"rules\": [{\"id\": \"r1\"}], \"note\": "
                                "\"caf\\u00e9\", \"q\": 2}");
    assert_int_equal(r.body_len, strlen(r.body));
    assert_int_equal(r.timeout_ms, 2500);
    assert_string_equal(r.group, "prov");
    http_request_release(&r);
    http_request_release(NULL);
    json_decref(ep);
    json_decref(ctx);
}

static void test_build_defaults(void **state)
{
    (void)state;
    json_t *ctx = json_object();
    struct http_request r;
    char *err = NULL;
    const char *cases[] = {
        "{\"url\": \"https://x/\", \"timeoutSeconds\": true, \"headers\": [1], \"payload\": [1]}",
        "{\"url\": \"https://x/\", \"timeoutSeconds\": -1, \"method\": 5}",
        "{\"url\": \"https://x/\", \"timeoutSeconds\": \"5\"}",
        "{\"url\": \"https://x/\", \"timeoutSeconds\": 0}",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *ep = load(cases[i]);
        assert_int_equal(endpoint_build_request(ep, ctx, 8000, NULL, &r, &err), 0);
        assert_string_equal(r.method, "POST");
        assert_int_equal(r.timeout_ms, 8000);
        assert_int_equal(r.nheaders, 0);
        assert_null(r.body);
        http_request_release(&r);
        json_decref(ep);
    }
    json_decref(ctx);
}

static void test_build_url_not_configured(void **state)
{
    (void)state;
    json_t *ctx = json_object();
    const char *cases[] = {"{}", "{\"url\": 5}", "{\"url\": \"  \"}", "{\"url\": \"\"}"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *ep = load(cases[i]);
        struct http_request r;
        char *err = NULL;
        assert_int_equal(endpoint_build_request(ep, ctx, 10000, NULL, &r, &err), ERR_INVALID);
        assert_string_equal(err, "Endpoint URL is not configured");
        free(err);
        http_request_release(&r);
        json_decref(ep);
    }
    json_decref(ctx);
}

static void test_build_form(void **state)
{
    (void)state;
    json_t *ep = load("{\"url\": \"https://panel/api/v2\", \"encoding\": \"form\","
                      " \"errorPath\": \"error\","
                      " \"payload\": {\"key\": \"{{apiKey}}\", \"action\": \"add\","
                      " \"service\": \"{{serviceId}}\", \"link\": \"{{link}}\","
                      " \"quantity\": \"{{quantity}}\", \"t\": true, \"ids\": [1, \"a b\"],"
                      " \"q\": \"\\u00e9~_.-*\"}}");
    json_t *ctx = load("{\"apiKey\": \"s3cr3t\", \"serviceId\": 12, \"quantity\": 150.0,"
                       " \"link\": \"https://x.com/a b?c=d&e\"}");
    struct http_request r;
    assert_int_equal(endpoint_build_request(ep, ctx, 10000, "g", &r, NULL), 0);
    assert_string_equal(header(&r, "Content-Type"), "application/x-www-form-urlencoded");
    assert_string_equal(r.body, "key=s3cr3t&action=add&service=12"
                                "&link=https%3A%2F%2Fx.com%2Fa+b%3Fc%3Dd%26e&quantity=150.0"
                                "&t=True&ids=1&ids=a+b&q=%C3%A9~_.-%2A");
    http_request_release(&r);
    json_decref(ep);
    json_decref(ctx);
}

static void test_build_explicit_content_type(void **state)
{
    (void)state;
    json_t *ep = load("{\"url\": \"https://x\", \"headers\": {\"content-type\": \"text/plain\"},"
                      " \"payload\": {}}");
    json_t *ctx = json_object();
    struct http_request r;
    assert_int_equal(endpoint_build_request(ep, ctx, 10000, NULL, &r, NULL), 0);
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(header(&r, "content-type"), "text/plain");
    assert_string_equal(r.body, "{}");
    http_request_release(&r);
    json_decref(ep);
    json_decref(ctx);
}

/* A response built by hand, as a transport would fill it. */
static struct http_response response(long status, const char *ctype, const char *body)
{
    struct http_response r;
    memset(&r, 0, sizeof(r));
    r.outcome = HTTP_OUTCOME_RESPONSE;
    r.status = status;
    r.content_type = ctype ? strdup(ctype) : NULL;
    r.body = strdup(body ? body : "");
    r.body_len = strlen(r.body);
    r.request_sent = 1;
    return r;
}

static struct http_request request(const char *url)
{
    struct http_request q;
    memset(&q, 0, sizeof(q));
    q.url = strdup(url);
    q.method = strdup("POST");
    return q;
}

static void check_parsed(const char *ctype, const char *body, const char *expected)
{
    json_t *ep = json_object();
    struct http_request q = request("https://x/");
    struct http_response resp = response(200, ctype, body);
    struct endpoint_result res;
    endpoint_interpret(ep, &q, &resp, 0, &res);
    assert_int_equal(res.failure, EP_OK);
    assert_null(res.error);
    char *s = dump(res.parsed);
    assert_string_equal(s, expected);
    free(s);
    endpoint_result_release(&res);
    http_response_release(&resp);
    http_request_release(&q);
    json_decref(ep);
}

static void test_parse_content_types(void **state)
{
    (void)state;
    check_parsed("application/json", "{\"order\": 7}", "{\"order\":7}");
    check_parsed("application/json; charset=utf-8", "[1, 2]", "{\"data\":[1,2]}");
    check_parsed("application/json", "\"ok\"", "{\"data\":\"ok\"}");
    check_parsed("application/json", "null", "{\"data\":null}");
    check_parsed("application/json", "{not json", "{\"text\":\"{not json\"}");
    check_parsed("application/json", "", "{\"text\":\"\"}");
    check_parsed("text/html", "<p>hi</p>", "{\"text\":\"<p>hi</p>\"}");
    check_parsed("Application/JSON", "{\"a\": 1}", "{\"text\":\"{\\\"a\\\": 1}\"}");
    check_parsed(NULL, "{\"a\": 1}", "{\"text\":\"{\\\"a\\\": 1}\"}");
    check_parsed("text/plain", "bad \xff utf8", "{\"text\":\"bad \xef\xbf\xbd utf8\"}");
}

static void check_status(long status, const char *location, const char *retry_after,
                         enum endpoint_failure expected_failure, const char *expected_message,
                         int64_t expected_retry_us)
{
    json_t *ep = json_object();
    struct http_request q = request("https://p.example/api?x=1");
    struct http_response resp = response(status, "application/json", "{\"e\": 1}");
    resp.location = location ? strdup(location) : NULL;
    resp.retry_after = retry_after ? strdup(retry_after) : NULL;
    struct endpoint_result res;
    /* now = 2025-01-01T00:00:00Z */
    endpoint_interpret(ep, &q, &resp, INT64_C(1735689600) * 1000000, &res);
    assert_int_equal(res.failure, expected_failure);
    assert_string_equal(res.error, expected_message);
    assert_int_equal(res.retry_after_us, expected_retry_us);
    assert_non_null(res.parsed);
    endpoint_result_release(&res);
    http_response_release(&resp);
    http_request_release(&q);
    json_decref(ep);
}

static void test_status_messages(void **state)
{
    (void)state;
    check_status(404, NULL, NULL, EP_FAIL_CLIENT,
                 "Client error '404 Not Found' for url 'https://p.example/api?x=1'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/404",
                 -1);
    check_status(500, NULL, NULL, EP_FAIL_SERVER,
                 "Server error '500 Internal Server Error' for url 'https://p.example/api?x=1'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/500",
                 -1);
    check_status(302, "https://elsewhere/", NULL, EP_FAIL_STATUS,
                 "Redirect response '302 Found' for url 'https://p.example/api?x=1'\n"
                 "Redirect location: 'https://elsewhere/'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/302",
                 -1);
    check_status(304, "https://elsewhere/", NULL, EP_FAIL_STATUS,
                 "Redirect response '304 Not Modified' for url 'https://p.example/api?x=1'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/304",
                 -1);
    check_status(429, NULL, "120", EP_FAIL_RATE_LIMITED,
                 "Client error '429 Too Many Requests' for url 'https://p.example/api?x=1'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/429",
                 INT64_C(120000000));
    check_status(503, NULL, "Wed, 01 Jan 2025 00:00:30 GMT", EP_FAIL_SERVER,
                 "Server error '503 Service Unavailable' for url 'https://p.example/api?x=1'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/503",
                 INT64_C(30000000));
    check_status(103, NULL, "soon", EP_FAIL_STATUS,
                 "Informational response '103 Early Hints' for url 'https://p.example/api?x=1'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/103",
                 -1);
    check_status(600, NULL, "Tue, 31 Dec 2024 23:00:00 GMT", EP_FAIL_STATUS,
                 "Invalid status code '600 ' for url 'https://p.example/api?x=1'\n"
                 "For more information check: "
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/600",
                 0);
}

static void check_error_path(const char *body, enum endpoint_failure expected, const char *msg)
{
    json_t *ep = load("{\"url\": \"https://x\", \"errorPath\": \"error\"}");
    struct http_request q = request("https://x");
    struct http_response resp = response(200, "application/json", body);
    struct endpoint_result res;
    endpoint_interpret(ep, &q, &resp, 0, &res);
    assert_int_equal(res.failure, expected);
    if (msg)
        assert_string_equal(res.error, msg);
    else
        assert_null(res.error);
    assert_true(json_is_object(res.parsed));
    assert_int_equal(endpoint_failure_retryable(res.failure), 0);
    endpoint_result_release(&res);
    http_response_release(&resp);
    http_request_release(&q);
    json_decref(ep);
}

static void test_error_path(void **state)
{
    (void)state;
    check_error_path("{\"error\": \"Incorrect request\"}", EP_FAIL_PROVIDER_ERROR,
                     "Provider returned an error: Incorrect request");
    check_error_path("{\"error\": {\"code\": 5}}", EP_FAIL_PROVIDER_ERROR,
                     "Provider returned an error: {'code': 5}");
    check_error_path("{\"order\": 23501}", EP_OK, NULL);
    check_error_path("{\"order\": 1, \"error\": null}", EP_OK, NULL);
    check_error_path("{\"order\": 1, \"error\": false}", EP_OK, NULL);
    check_error_path("{\"order\": 1, \"error\": \"\"}", EP_OK, NULL);
}

static void check_outcome(enum http_outcome o, int sent, const char *text,
                          enum endpoint_failure expected, const char *msg, int retryable)
{
    json_t *ep = json_object();
    struct http_request q = request("https://x");
    struct http_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.outcome = o;
    resp.request_sent = sent;
    resp.error = text ? strdup(text) : NULL;
    struct endpoint_result res;
    endpoint_interpret(ep, &q, &resp, 0, &res);
    assert_int_equal(res.failure, expected);
    assert_string_equal(res.error, msg);
    assert_null(res.parsed);
    assert_int_equal(res.retry_after_us, -1);
    assert_int_equal(endpoint_failure_retryable(res.failure), retryable);
    endpoint_result_release(&res);
    http_response_release(&resp);
    http_request_release(&q);
    json_decref(ep);
}

static void test_transport_outcomes(void **state)
{
    (void)state;
    check_outcome(HTTP_OUTCOME_TIMEOUT_AFTER_SEND, 1, "timed out", EP_FAIL_TIMEOUT_AMBIGUOUS,
                  "outcome unknown: provider timed out", 0);
    check_outcome(HTTP_OUTCOME_TIMEOUT_BEFORE_SEND, 0, "timed out", EP_FAIL_CONNECT, "timed out",
                  1);
    check_outcome(HTTP_OUTCOME_CONNECT_FAILED, 0, NULL, EP_FAIL_CONNECT,
                  "All connection attempts failed", 1);
    check_outcome(HTTP_OUTCOME_CONNECT_FAILED, 0, "[Errno -2] Name or service not known",
                  EP_FAIL_CONNECT, "[Errno -2] Name or service not known", 1);
    check_outcome(HTTP_OUTCOME_BLOCKED, 0, "URL scheme is not allowed: ftp", EP_FAIL_BLOCKED,
                  "URL scheme is not allowed: ftp", 0);
    check_outcome(HTTP_OUTCOME_ERROR, 1, "Connection reset by peer", EP_FAIL_TIMEOUT_AMBIGUOUS,
                  "Connection reset by peer", 0);
    check_outcome(HTTP_OUTCOME_ERROR, 0, "SSL certificate problem", EP_FAIL_CONNECT,
                  "SSL certificate problem", 1);
}

static void test_retryable(void **state)
{
    (void)state;
    assert_true(endpoint_failure_retryable(EP_FAIL_CONNECT));
    assert_true(endpoint_failure_retryable(EP_FAIL_SERVER));
    assert_true(endpoint_failure_retryable(EP_FAIL_RATE_LIMITED));
    assert_false(endpoint_failure_retryable(EP_OK));
    assert_false(endpoint_failure_retryable(EP_FAIL_CONFIG));
    assert_false(endpoint_failure_retryable(EP_FAIL_BLOCKED));
    assert_false(endpoint_failure_retryable(EP_FAIL_TIMEOUT_AMBIGUOUS));
    assert_false(endpoint_failure_retryable(EP_FAIL_CLIENT));
    assert_false(endpoint_failure_retryable(EP_FAIL_STATUS));
    assert_false(endpoint_failure_retryable(EP_FAIL_PROVIDER_ERROR));
}

static void test_json_path(void **state)
{
    (void)state;
    json_t *v = load("{\"data\": {\"order_id\": \"A1\", \"zero\": 0, \"f\": false, \"s\": \"\","
                     " \"n\": null, \"arr\": [1], \"\": {\"x\": 1}}}");
    assert_string_equal(json_string_value(json_path_get(v, "data.order_id")), "A1");
    assert_int_equal(json_integer_value(json_path_get(v, "data.zero")), 0);
    assert_true(json_is_false(json_path_get(v, "data.f")));
    assert_string_equal(json_string_value(json_path_get(v, "data.s")), "");
    assert_null(json_path_get(v, "data.n"));
    assert_null(json_path_get(v, "data.n.x"));
    assert_null(json_path_get(v, "data.arr.0"));
    assert_null(json_path_get(v, "data.missing"));
    assert_null(json_path_get(v, "data.order_id.x"));
    assert_int_equal(json_integer_value(json_path_get(v, "data..x")), 1);
    assert_true(json_is_object(json_path_get(v, "data")));
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_context),
        cmocka_unit_test(test_build_json_request),
        cmocka_unit_test(test_build_defaults),
        cmocka_unit_test(test_build_url_not_configured),
        cmocka_unit_test(test_build_form),
        cmocka_unit_test(test_build_explicit_content_type),
        cmocka_unit_test(test_parse_content_types),
        cmocka_unit_test(test_status_messages),
        cmocka_unit_test(test_error_path),
        cmocka_unit_test(test_transport_outcomes),
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_json_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
