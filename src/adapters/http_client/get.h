/*
 * One plain HTTP GET with libcurl, for command-line tools that read our own API (the run
 * history exporter). Unlike the provider transport it applies no outbound policy: the
 * operator chose the URL. Redirects are not followed; any status is returned to the caller.
 */
#ifndef SMPLAT_ADAPTERS_HTTP_CLIENT_GET_H
#define SMPLAT_ADAPTERS_HTTP_CLIENT_GET_H

#include <stddef.h>

/* Largest response body http_get accepts. */
#define HTTP_GET_MAX_BODY (64u * 1024u * 1024u)

struct http_get_result {
    long status; /* HTTP status of the response */
    char *body;  /* owned, NUL-terminated (may contain NULs before body_len) */
    size_t body_len;
};

/* GETs url with the given extra header lines ("Name: value", borrowed; n may be 0).
 * timeout_ms bounds connect and the whole exchange (0: no limit). Returns 0 with *res filled
 * when a response arrived (any status), or a negative code with *error (owned): the
 * connection failed, timed out, or the body exceeded HTTP_GET_MAX_BODY. Connection failures
 * that carry an OS error read like Python's ("[Errno 111] Connection refused"). */
int http_get(const char *url, const char *const *headers, size_t n, long timeout_ms,
             struct http_get_result *res, char **error);

/* Frees what http_get put in res; accepts an empty or zeroed result. */
void http_get_result_release(struct http_get_result *res);

#endif
