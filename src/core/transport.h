/*
 * The provider transport port: how core asks for HTTP requests to be made without knowing how.
 * The libcurl adapter (adapters/http_client/curl.c) implements it; core tests use fakes.
 *
 * A batch of requests is performed together: requests that share a `group` (the provider id)
 * run at most `group_cap` at a time, different groups run concurrently. Redirects are never
 * followed, TLS is always verified, and the outbound policy (schemes, private networks, allowed
 * hosts) is enforced by the adapter before any byte is sent.
 */
#ifndef SMPLAT_CORE_TRANSPORT_H
#define SMPLAT_CORE_TRANSPORT_H

#include <stddef.h>

struct http_header {
    char *name;  /* owned */
    char *value; /* owned */
};

struct http_request {
    char *method;                /* owned, upper case */
    char *url;                   /* owned */
    struct http_header *headers; /* owned array */
    size_t nheaders;
    char *body; /* owned, may be NULL (no body) */
    size_t body_len;
    long timeout_ms;   /* applies to connect and to the whole exchange */
    const char *group; /* borrowed: requests of one group share the group cap */
};

/* What happened on the wire, independent of what it means for a replay. */
enum http_outcome {
    HTTP_OUTCOME_RESPONSE = 0,        /* a response arrived (any status) */
    HTTP_OUTCOME_CONNECT_FAILED,      /* DNS, refused, unreachable: nothing was sent */
    HTTP_OUTCOME_TIMEOUT_BEFORE_SEND, /* timed out before the request was fully sent */
    HTTP_OUTCOME_TIMEOUT_AFTER_SEND,  /* sent, no complete response: outcome unknown */
    HTTP_OUTCOME_BLOCKED,             /* refused by the outbound policy: nothing was sent */
    HTTP_OUTCOME_ERROR,               /* any other transport error (after or before sending) */
};

struct http_response {
    enum http_outcome outcome;
    char *error;        /* owned transport error text, or NULL */
    long status;        /* HTTP status when outcome == RESPONSE */
    char *content_type; /* owned header value or NULL */
    char *location;     /* owned header value or NULL */
    char *retry_after;  /* owned header value or NULL */
    char *body;         /* owned, NUL-terminated, may contain NULs before body_len */
    size_t body_len;
    int request_sent; /* 1 when at least the request line reached the socket */
};

struct http_transport {
    /* Performs n requests, filling resps[i] for reqs[i]. Returns 0, or a negative code when
     * the batch could not be attempted at all (every resps[i] is then an ERROR). */
    int (*perform)(struct http_transport *t, const struct http_request *reqs,
                   struct http_response *resps, size_t n, int group_cap);
    void (*free)(struct http_transport *t);
};

void http_request_release(struct http_request *r);
void http_response_release(struct http_response *r);

#endif
