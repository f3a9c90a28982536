/*
 * The HTTP server: libmicrohttpd with a thread pool, request bodies buffered up
 * to a limit, slow clients timed out, graceful stop. It knows nothing of
 * routes: one handler gets every complete request and fills a reply (app/api.c
 * holds the route table).
 */
#ifndef SMPLAT_ADAPTERS_HTTP_SERVER_H
#define SMPLAT_ADAPTERS_HTTP_SERVER_H

#include <stddef.h>

#define HTTP_SERVER_MAX_BODY (1024 * 1024)
/* Extra response headers a reply may carry beside Content-Type (see http_reply_add_header). */
#define HTTP_REPLY_MAX_HEADERS 8
/* Bytes of header values a reply may own (see http_reply_add_header_copy). */
#define HTTP_REPLY_VALUE_BUFSZ 256

struct http_server;
struct http_req;

struct http_reply {
    int status;
    const char *content_type; /* borrowed static string */
    char *body;               /* owned (malloc) */
    size_t body_len;
    const char *extra_header_name;  /* borrowed, optional (e.g. "Allow") */
    const char *extra_header_value; /* borrowed, optional */
    /* More headers (Cache-Control, ETag, Content-Security-Policy...): names and values are
     * borrowed and must outlive the handler call (static strings). A zeroed reply has none,
     * so code that only knows extra_header_* keeps working. */
    struct http_reply_header {
        const char *name;
        const char *value;
    } headers[HTTP_REPLY_MAX_HEADERS];
    size_t nheaders;
    /* Storage of header values built for this reply (a paging cursor...), so that they live
     * as long as the reply; filled by http_reply_add_header_copy. */
    char value_buf[HTTP_REPLY_VALUE_BUFSZ];
    size_t value_used;
};

/* Appends a borrowed header to the reply; 0, or -1 when HTTP_REPLY_MAX_HEADERS are already
 * set (the header is then dropped). */
int http_reply_add_header(struct http_reply *rep, const char *name, const char *value);
/* Like http_reply_add_header, but the value is copied into the reply's own storage, so it may
 * be built on the handler's stack; -1 (header dropped) when the storage is full. */
int http_reply_add_header_copy(struct http_reply *rep, const char *name, const char *value);

/* Called from a pool thread for each complete request; must fill rep. */
struct http_handler {
    void (*handle)(void *ctx, const struct http_req *req, struct http_reply *rep);
    void *ctx;
};

const char *http_req_method(const struct http_req *r);
const char *http_req_path(const struct http_req *r);
const char *http_req_body(const struct http_req *r, size_t *len);
/* Header and query lookups; NULL when absent. Borrowed for the request's
 * lifetime. */
const char *http_req_header(const struct http_req *r, const char *name);
const char *http_req_query(const struct http_req *r, const char *name);
/* Every value of a query parameter that may repeat (?a=1&a=2), in request order: fills
 * out[0..max) with borrowed values and returns how many there are (which may exceed max). */
size_t http_req_query_all(const struct http_req *r, const char *name, const char **out, size_t max);

/* Starts serving on host:port with `threads` pool threads. NULL with *error
 * (owned). */
struct http_server *http_server_start(const char *host, int port, int threads,
                                      const struct http_handler *h, char **error);
/* Stops accepting, lets in-flight requests finish, frees. NULL-safe. */
void http_server_stop(struct http_server *s);

#endif
