/*
 * The endpoint engine (spec-replay §2, DECISIONS 6, 13 and "Beyond"): finds an endpoint in a
 * provider's metadata, turns it and a context into an HTTP request, and interprets what came
 * back: the parsed invocation payload on success, or an error message in the original's words
 * and a classification that tells the replay worker whether a retry is safe.
 */
#ifndef SMPLAT_CORE_ENDPOINT_H
#define SMPLAT_CORE_ENDPOINT_H

#include <jansson.h>
#include <stdint.h>

#include "core/transport.h"

#define ENDPOINT_DEFAULT_TIMEOUT_MS 10000L
#define ENDPOINT_BALANCE_TIMEOUT_MS 8000L

/* metadata_json.automation.endpoints.<key> when metadata, automation, endpoints and the
 * endpoint are all objects; NULL otherwise. Borrowed. */
const json_t *endpoint_find(const json_t *provider_metadata, const char *key);

/* New object: the top-level keys of metadata_json.automation whose values are strings,
 * numbers or booleans, in order (spec-replay §2.1). Empty object when there are none. */
json_t *endpoint_metadata_context(const json_t *provider_metadata);

/* Renders the endpoint against ctx into *out: method (default POST, upper-cased), URL,
 * headers, body (JSON, or application/x-www-form-urlencoded when "encoding": "form"), timeout
 * (timeoutSeconds when a number > 0, else default_timeout_ms). `group` is stored borrowed.
 * 0, or ERR_INVALID with *error = "Endpoint URL is not configured" (owned). */
int endpoint_build_request(const json_t *endpoint, const json_t *ctx, long default_timeout_ms,
                           const char *group, struct http_request *out, char **error);

enum endpoint_failure {
    EP_OK = 0,
    EP_FAIL_CONFIG,            /* endpoint unusable: never retried */
    EP_FAIL_BLOCKED,           /* outbound policy refused it: never retried */
    EP_FAIL_CONNECT,           /* nothing was sent: retryable */
    EP_FAIL_TIMEOUT_AMBIGUOUS, /* sent, no answer: the provider may have acted; never retried */
    EP_FAIL_SERVER,            /* 5xx: retryable */
    EP_FAIL_RATE_LIMITED,      /* 429: retryable, honoring Retry-After */
    EP_FAIL_CLIENT,            /* 4xx other than 429: never retried */
    EP_FAIL_STATUS,            /* 1xx, 3xx (redirects are not followed), other: never retried */
    EP_FAIL_PROVIDER_ERROR,    /* 2xx whose body carries errorPath: never retried */
};

struct endpoint_result {
    enum endpoint_failure failure;
    json_t *parsed;         /* new reference: the invocation payload object (also on
                             * EP_FAIL_PROVIDER_ERROR); NULL when there was no response */
    char *error;            /* owned message when failure != EP_OK */
    int64_t retry_after_us; /* from Retry-After (seconds or HTTP date); -1 when absent */
};

/* Interprets resp for the request req that was built from endpoint. now_us resolves an
 * HTTP-date Retry-After. Messages: httpx's "<kind> '<code> <reason>' for url '<url>'" lines
 * for statuses, "outcome unknown: provider timed out" for ambiguous timeouts, the transport's
 * text otherwise. */
void endpoint_interpret(const json_t *endpoint, const struct http_request *req,
                        const struct http_response *resp, int64_t now_us,
                        struct endpoint_result *out);
void endpoint_result_release(struct endpoint_result *r);

/* 1 when a failure of this kind may be retried automatically. */
int endpoint_failure_retryable(enum endpoint_failure f);

/* Dot-separated path through nested objects (spec-replay §2.5); NULL when not found. */
const json_t *json_path_get(const json_t *root, const char *path);

#endif
