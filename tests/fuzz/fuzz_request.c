/*
 * Fuzz target for what the network sends the HTTP API before any handler runs: the request
 * line's path (the route matcher, adapters/http_server/router.c), the JSON body (bounded
 * parsing, core/pyjson.c) and the body's validation against a field table
 * (app/validate.c). The whole input is used by each: its first line as "METHOD PATH" (or
 * just a path), the whole of it as a body. Besides crashes and sanitizer reports, it checks
 * properties that must hold for any input: a match names a route of the right method and its
 * parameters are whole non-empty segments; a trailing slash never changes the match; a
 * validation either returns a body or a non-empty error array, never both; parsed JSON
 * renders, re-parses and renders again to the same text.
 *
 * api.c's route table is static to it, so a copy of its shape lives here (same patterns, same
 * order); the provider-create and replay field tables follow spec-api-ui §4.4 and §4.15.
 * Built as a libFuzzer target with clang (tests/fuzz/meson.build) and, everywhere, with
 * replay_main.c as an ordinary test that runs the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapters/http_server/router.h"
#include "app/validate.h"
#include "core/pyjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_request: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void never_called(void *ctx, const struct http_req *req, const struct route_params *params,
                         struct http_reply *rep)
{
    (void)ctx;
    (void)req;
    (void)params;
    (void)rep;
    abort();
}

#define P "/api/v1/fulfillment/providers"

static const struct route routes[] = {
    {"GET", P, "providers_list", never_called},
    {"GET", P "/platform-contexts", "platform_contexts", never_called},
    {"GET", P "/{provider_id}", "provider_get", never_called},
    {"POST", P "/{provider_id}/balance/refresh", "balance_refresh", never_called},
    {"GET", P "/{provider_id}/orders", "provider_orders", never_called},
    {"GET", P "/automation/snapshot", "automation_snapshot", never_called},
    {"GET", P "/automation/status", "automation_status", never_called},
    {"GET", P "/automation/status/history", "automation_history", never_called},
    {"POST", P "/automation/replay/run", "replay_run", never_called},
    {"POST", P "/automation/alerts/run", "alerts_run", never_called},
    {"POST", P "/{provider_id}/orders/{provider_order_id}/refill", "refill", never_called},
    {"GET", P "/orders/by-order/{order_id}", "orders_by_order", never_called},
    {"POST", P "/{provider_id}/orders/{provider_order_id}/replay", "replay", never_called},
    {"POST", P, "provider_create", never_called},
    {"PATCH", P "/{provider_id}", "provider_update", never_called},
    {"DELETE", P "/{provider_id}", "provider_delete", never_called},
    {"POST", P "/{provider_id}/services", "service_create", never_called},
    {"GET", P "/{provider_id}/services/{service_id}", "service_get", never_called},
    {"PATCH", P "/{provider_id}/services/{service_id}", "service_update", never_called},
    {"DELETE", P "/{provider_id}/services/{service_id}", "service_delete", never_called},
    {"GET", "/api/v1/orders/{order_id}/state-events", "order_state_events", never_called},
    {"POST", "/api/v1/orders", "order_create", never_called},
    {"GET", "/api/v1/orders/{order_id}", "order_get", never_called},
    {"PATCH", "/api/v1/orders/{order_id}", "order_update", never_called},
    {"GET", "/healthz", "healthz", never_called},
    {"GET", "/metrics", "metrics", never_called},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *const provider_status[] = {"active", "inactive", NULL};
static const char *const health_status[] = {"unknown", "healthy", "degraded", "offline", NULL};

/* FulfillmentProviderCreate (spec-api-ui §4.4, with the two keys DECISIONS accepts). */
static const struct field_spec provider_create[] = {
    {"id", FIELD_STRING, 1, 0, 1, 64, 0, 0, NULL},
    {"name", FIELD_STRING, 1, 0, 1, 255, 0, 0, NULL},
    {"description", FIELD_STRING, 0, 1, 0, 0, 0, 0, NULL},
    {"base_url", FIELD_STRING, 0, 1, 0, 512, 0, 0, NULL},
    {"allowed_regions", FIELD_STR_LIST, 0, 1, 0, 0, 0, 0, NULL},
    {"rate_limit_per_minute", FIELD_INT, 0, 1, 0, 0, 1, 0.0, NULL},
    {"metadata", FIELD_OBJECT, 0, 1, 0, 0, 0, 0, NULL},
    {"credentials", FIELD_OBJECT, 0, 1, 0, 0, 0, 0, NULL},
    {"status", FIELD_ENUM, 0, 0, 0, 0, 0, 0, provider_status},
    {"health_status", FIELD_ENUM, 0, 1, 0, 0, 0, 0, health_status},
    {"health_payload", FIELD_OBJECT, 0, 1, 0, 0, 0, 0, NULL},
    {"last_health_check_at", FIELD_DATETIME, 0, 1, 0, 0, 0, 0, NULL},
    {NULL, FIELD_ANY, 0, 0, 0, 0, 0, 0, NULL},
};

/* The replay request (spec-api-ui §4.15): camelCase, extra keys ignored, body optional. */
static const struct field_spec replay_body[] = {
    {"amount", FIELD_NUMBER, 0, 1, 0, 0, 1, 0.0, NULL},
    {"runAt", FIELD_DATETIME, 0, 1, 0, 0, 0, 0, NULL},
    {"scheduleOnly", FIELD_BOOL, 0, 1, 0, 0, 0, 0, NULL},
    {"actorLabel", FIELD_STRING, 0, 1, 0, 0, 0, 0, NULL},
    {NULL, FIELD_ANY, 0, 0, 0, 0, 0, 0, NULL},
};

/* Properties of one match: see the file comment. */
static void check_match(const char *method, const char *path)
{
    struct route_params params;
    int r = router_match(routes, NROUTES, method, path, &params);
    CHECK(r == ROUTER_NOT_FOUND || r == ROUTER_METHOD_NOT_ALLOWED || (r >= 0 && r < (int)NROUTES));
    if (r >= 0) {
        CHECK(strcmp(routes[r].method, method) == 0 ||
              (strcmp(method, "HEAD") == 0 && strcmp(routes[r].method, "GET") == 0));
        CHECK(params.n <= ROUTER_MAX_PARAMS);
        for (size_t i = 0; i < params.n; i++) {
            const char *v = params.values[i];
            CHECK(v >= params.buf && v < params.buf + sizeof(params.buf));
            CHECK(v[0] != '\0' && !strchr(v, '/') && !strchr(v, '?'));
            /* The name as written in the pattern: "{name}...". */
            const char *name = params.names[i] + 1;
            const char *close = strchr(name, '}');
            CHECK(close != NULL);
            char buf[64];
            size_t n = (size_t)(close - name);
            CHECK(n < sizeof(buf));
            memcpy(buf, name, n);
            buf[n] = '\0';
            CHECK(route_param(&params, buf) == v);
        }
    }
    /* Adding a trailing slash (before any query) never changes the answer. */
    size_t len = strlen(path);
    if (!strchr(path, '?') && len + 2 < ROUTER_MAX_PATH) {
        char *slashed = malloc(len + 2);
        CHECK(slashed != NULL);
        memcpy(slashed, path, len);
        slashed[len] = '/';
        slashed[len + 1] = '\0';
        struct route_params again;
        CHECK(router_match(routes, NROUTES, method, slashed, &again) == r || len == 0);
        free(slashed);
    }
}

/* The first line as "METHOD PATH" when it has a space, else as a path tried under a few
 * methods. Embedded NULs end the path, as they would in a C string from the server. */
static void fuzz_route(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line = nl ? (size_t)(nl - data) : size;
    if (line > 0 && data[line - 1] == '\r')
        line--;
    char *text = malloc(line + 1);
    CHECK(text != NULL);
    memcpy(text, data, line);
    text[line] = '\0';
    char *sp = strchr(text, ' ');
    if (sp && sp - text <= 16) {
        *sp = '\0';
        char *path = sp + 1;
        char *end = strchr(path, ' '); /* "GET /x HTTP/1.1" */
        if (end)
            *end = '\0';
        check_match(text, path);
    } else {
        static const char *const methods[] = {"GET", "POST", "HEAD", "PATCH", "DELETE", "PUT"};
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
            check_match(methods[i], text);
    }
    free(text);
}

static void check_validation(const char *body, size_t len, const struct field_spec *specs,
                             int body_required, int forbid_extra)
{
    json_t *errors = NULL;
    json_t *ok = validate_body(body, len, specs, body_required, forbid_extra, &errors);
    if (ok) {
        /* Success leaves no errors: NULL, or an empty array when an optional body is absent. */
        CHECK(json_is_object(ok));
        CHECK(!errors || (json_is_array(errors) && json_array_size(errors) == 0));
        char *text = pyjson_dumps(ok, PYJSON_COMPACT);
        CHECK(text != NULL);
        free(text);
    } else {
        CHECK(json_is_array(errors) && json_array_size(errors) > 0);
        /* The 422 body must always render. */
        json_t *detail = json_pack("{s:O}", "detail", errors);
        char *text = pyjson_dumps(detail, 0);
        CHECK(text != NULL);
        free(text);
        json_decref(detail);
    }
    json_decref(ok);
    json_decref(errors);
}

/* Parse, render, re-parse, render again: the two renderings are equal. Text comparison
 * rather than json_equal so that NaN (not equal to itself) is covered too. */
static void check_roundtrip(const char *text, size_t len)
{
    char err[160];
    json_t *v = pyjson_loads(text, len, 64, err, sizeof(err));
    if (!v)
        return;
    for (int flags = 0; flags <= (PYJSON_COMPACT | PYJSON_ENSURE_ASCII); flags++) {
        char *once = pyjson_dumps(v, flags);
        CHECK(once != NULL);
        json_t *again = pyjson_loads(once, strlen(once), 64, err, sizeof(err));
        if (!again)
            fprintf(stderr, "fuzz_request: re-parse failed (%s): %s\n", err, once);
        CHECK(again != NULL);
        char *twice = pyjson_dumps(again, flags);
        CHECK(twice != NULL && strcmp(once, twice) == 0);
        free(twice);
        free(once);
        json_decref(again);
    }
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, exactly size bytes, so reads past the end are sanitizer reports. */
    char *body = malloc(size ? size : 1);
    CHECK(body != NULL);
    if (size)
        memcpy(body, data, size);
    fuzz_route(data, size);
    check_validation(body, size, provider_create, 1, 1);
    check_validation(body, size, replay_body, 0, 0);
    check_roundtrip(body, size);
    free(body);
    return 0;
}
