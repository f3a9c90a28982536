/*
 * libmicrohttpd glue. MHD calls the access handler several times per request:
 * first with no context (we allocate one), then with body chunks (we buffer
 * them, refusing more than HTTP_SERVER_MAX_BODY), then once with nothing left
 * (we call the app's handler and queue the reply). Timeouts and connection
 * limits are MHD options, so a client that sends a byte a second cannot hold a
 * thread forever.
 */
#include "adapters/http_server/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sb.h"

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_handler handler;
};

struct http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    struct sb body;
    int too_large;
};

const char *http_req_method(const struct http_req *r)
{
    return r->method;
}

const char *http_req_path(const struct http_req *r)
{
    return r->path;
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
    *len = r->body.len;
    return sb_str(&r->body);
}

const char *http_req_header(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_all {
    const char *name;
    const char **out;
    size_t max, n;
};

static enum MHD_Result query_all_each(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct query_all *q = cls;
    (void)kind;
    if (key && strcmp(key, q->name) == 0) {
        if (q->n < q->max)
            q->out[q->n] = value ? value : "";
        q->n++;
    }
    return MHD_YES;
}

size_t http_req_query_all(const struct http_req *r, const char *name, const char **out, size_t max)
{
    struct query_all q = {name, out, max, 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_all_each, &q);
    return q.n;
}

int http_reply_add_header(struct http_reply *rep, const char *name, const char *value)
{
    if (rep->nheaders >= HTTP_REPLY_MAX_HEADERS)
        return -1;
    rep->headers[rep->nheaders].name = name;
    rep->headers[rep->nheaders].value = value;
    rep->nheaders++;
    return 0;
}

int http_reply_add_header_copy(struct http_reply *rep, const char *name, const char *value)
{
    size_t len = strlen(value);
    if (len >= sizeof(rep->value_buf) - rep->value_used || rep->nheaders >= HTTP_REPLY_MAX_HEADERS)
        return -1;
    char *copy = rep->value_buf + rep->value_used;
    memcpy(copy, value, len + 1);
    rep->value_used += len + 1;
    return http_reply_add_header(rep, name, copy);
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct http_reply *rep)
{
    struct MHD_Response *resp =
        rep->body ? MHD_create_response_from_buffer(rep->body_len, rep->body, MHD_RESPMEM_MUST_FREE)
                  : MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    rep->body = NULL; /* MHD owns it now */
    MHD_add_response_header(resp, "Content-Type",
                            rep->content_type ? rep->content_type : "application/json");
    if (rep->extra_header_name && rep->extra_header_value)
        MHD_add_response_header(resp, rep->extra_header_name, rep->extra_header_value);
    for (size_t i = 0; i < rep->nheaders && i < HTTP_REPLY_MAX_HEADERS; i++)
        if (rep->headers[i].name && rep->headers[i].value)
            MHD_add_response_header(resp, rep->headers[i].name, rep->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rep->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct http_req *r = *con_cls;
    if (!r) {
        r = xcalloc(1, sizeof(*r));
        r->conn = conn;
        r->method = method;
        r->path = url;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (r->body.len + *upload_data_size > HTTP_SERVER_MAX_BODY)
            r->too_large = 1;
        else
            sb_append(&r->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct http_reply rep = {0};
    if (r->too_large) {
        rep.status = 413;
        rep.body = xstrdup("{\"detail\":\"Request body exceeds 1 MiB\"}");
        rep.body_len = strlen(rep.body);
    } else {
        s->handler.handle(s->handler.ctx, r, &rep);
    }
    enum MHD_Result ret = queue(conn, &rep);
    free(rep.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    sb_release(&r->body);
    free(r);
    *con_cls = NULL;
}

struct http_server *http_server_start(const char *host, int port, int threads,
                                      const struct http_handler *h, char **error)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        struct sb sb = SB_INIT;
        sb_printf(&sb, "invalid listen address '%s' (an IPv4 address is expected)", host);
        *error = sb_detach(&sb);
        return NULL;
    }
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->handler = *h;
    /* Each connection's memory pool holds the request line, the headers and the read buffer
     * (bodies stream through it into our own buffer); 16 KiB serves 8 KiB of headers and
     * answers larger ones with 431. libmicrohttpd zeroes the whole pool between the requests of
     * a keep-alive connection, so a larger pool costs time on every request. */
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads > 0 ? threads : 4),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        struct sb sb = SB_INIT;
        sb_printf(&sb, "cannot listen on %s:%d (address in use or not permitted)", host, port);
        *error = sb_detach(&sb);
        free(s);
        return NULL;
    }
    return s;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    MHD_quiesce_daemon(s->daemon);
    MHD_stop_daemon(s->daemon);
    free(s);
}
