/*
 * The provider transport on libcurl's multi interface. A batch of requests runs on one event
 * loop: different groups (providers) concurrently, at most group_cap requests of one group in
 * flight, the rest queued and started as earlier ones finish. The multi handle lives as long
 * as the transport, so its connection cache keeps keep-alive connections open across batches;
 * that reuse is what makes thousands of requests per second possible.
 *
 * Everything that protects the service from its own configuration happens here, before a byte
 * is sent (DECISIONS 13): only http and https, no redirects followed, no proxies from the
 * environment, TLS always verified, an optional host allow-list, and, unless private networks
 * are allowed, no connection to a loopback, private, link-local, CGNAT or unspecified address.
 * The address check runs in the open-socket callback, after name resolution, so a public name
 * that resolves to a private address (DNS rebinding) is refused as well.
 *
 * A transport is not thread-safe: one thread uses it at a time (one transport per worker).
 */
#include "adapters/http_client/curl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/error.h"
#include "base/sb.h"

#define CURL_TRANSPORT_MAX_INFLIGHT 256
#define CURL_TRANSPORT_MAX_BODY (4u * 1024u * 1024u)
#define CURL_TRANSPORT_POOL_MAX 512
#define CURL_TRANSPORT_DEFAULT_TIMEOUT_MS 10000L
#define CURL_TRANSPORT_USER_AGENT "smplat-automation/0.1"

struct curl_transport {
    struct http_transport base; /* first: the port's pointer is this struct's pointer */
    CURLM *multi;
    int allow_private;
    char **allowed;
    size_t nallowed;
    CURL **pool; /* idle easy handles, reset before reuse */
    size_t npool;
};

/* One request of a batch while it is being performed. */
struct xfer {
    struct curl_transport *t;
    CURL *easy;
    CURLU *url;
    const struct http_request *req;
    struct http_response *resp;
    struct curl_slist *headers;
    struct sb body;
    char *host;
    size_t group;
    int blocked;   /* the open-socket callback refused a private address */
    int too_large; /* the body passed CURL_TRANSPORT_MAX_BODY */
    char errbuf[CURL_ERROR_SIZE];
};

struct group {
    const char *name;
    size_t first, last; /* queue of request indices, linked through batch.next */
    size_t queued;
    int inflight;
    int runnable; /* currently in the runnable ring */
};

struct batch {
    struct curl_transport *t;
    const struct http_request *reqs;
    struct http_response *resps;
    size_t n, done;
    int cap, inflight;
    struct xfer *xfers;
    size_t *next;
    struct group *groups;
    size_t ngroups;
    size_t *ring; /* runnable groups, FIFO */
    size_t ring_head, ring_len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code = CURLE_OK;

static void curl_global_once(void)
{
    curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- outbound policy ---------------------------------------------------------------- */

static int ipv4_is_private(uint32_t a)
{
    return (a >> 24) == 0 ||                   /* 0.0.0.0/8: "this network", unspecified */
           (a >> 24) == 10 ||                  /* 10/8 */
           (a >> 24) == 127 ||                 /* loopback */
           (a >> 16) == ((169u << 8) | 254) || /* link-local */
           (a >> 20) == ((172u << 4) | 1) ||   /* 172.16/12 */
           (a >> 16) == ((192u << 8) | 168) || /* 192.168/16 */
           (a >> 22) == ((100u << 2) | 1) ||   /* 100.64/10: CGNAT */
           (a >> 29) == 7;                     /* 224/4 multicast, 240/4 reserved, broadcast */
}

/* Whether a resolved address is one the service must not reach on a provider's behalf.
 * IPv4-mapped and NAT64 IPv6 forms are judged by the IPv4 address they carry. */
static int sockaddr_is_private(const struct sockaddr *sa, size_t len)
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        return ipv4_is_private(ntohl(in.sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        const unsigned char *b = in6.sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
        static const unsigned char zero[15] = {0};
        if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) {
            uint32_t a =
                ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) | ((uint32_t)b[14] << 8) | b[15];
            return ipv4_is_private(a);
        }
        if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
            return 1;              /* :: and ::1 */
        if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
            return 1;
        if (b[0] == 0xfe && (b[1] & 0x80) == 0x80) /* fe80::/10 link-local, fec0::/10 */
            return 1;
        if (b[0] == 0xff) /* multicast */
            return 1;
        return 0;
    }
    return 1; /* anything that is not IP is not a provider */
}

/* libcurl asks us for each socket it wants to connect, with the resolved address: the one
 * place where the destination is known for certain and nothing has been sent yet. */
static curl_socket_t xfer_open_socket(void *clientp, curlsocktype purpose,
                                      struct curl_sockaddr *address)
{
    struct xfer *x = clientp;
    (void)purpose;
    if (!x->t->allow_private && sockaddr_is_private(&address->addr, (size_t)address->addrlen)) {
        x->blocked = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* ---- response capture --------------------------------------------------------------- */

static size_t xfer_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct xfer *x = userp;
    size_t n = size * nmemb;
    if (x->body.len + n > CURL_TRANSPORT_MAX_BODY) {
        x->too_large = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    sb_append(&x->body, data, n);
    return n;
}

static void set_owned(char **slot, const char *v, size_t n)
{
    free(*slot);
    *slot = xstrndup(v, n);
}

/* Keeps the headers the engine reads (Content-Type, Location, Retry-After) of the last
 * response only: a status line starts a new response (1xx interim answers, for instance). */
static size_t xfer_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct xfer *x = userp;
    size_t n = size * nmemb;
    struct http_response *r = x->resp;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        free(r->content_type);
        free(r->location);
        free(r->retry_after);
        r->content_type = r->location = r->retry_after = NULL;
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t nlen = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
                        v[vlen - 1] == '\t'))
        vlen--;
    if (nlen == 12 && strncasecmp(data, "Content-Type", 12) == 0)
        set_owned(&r->content_type, v, vlen);
    else if (nlen == 8 && strncasecmp(data, "Location", 8) == 0)
        set_owned(&r->location, v, vlen);
    else if (nlen == 11 && strncasecmp(data, "Retry-After", 11) == 0)
        set_owned(&r->retry_after, v, vlen);
    return n;
}

/* ---- request setup ------------------------------------------------------------------ */

static void resp_fail(struct http_response *r, enum http_outcome o, const char *msg, int sent)
{
    free(r->error);
    r->outcome = o;
    r->error = xstrdup(msg);
    r->request_sent = sent;
}

static int header_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return 0;
    }
    return 1;
}

static int header_value_ok(const char *s)
{
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n')
            return 0;
    }
    return 1;
}

/* Percent-encodes what httpx would encode before sending and libcurl would refuse or encode
 * differently: spaces, controls, non-ASCII bytes and the characters that are never legal in a
 * URL. Existing %XX sequences and the reserved characters are kept as they are. */
static char *url_escape(const char *u)
{
    static const char hex[] = "0123456789ABCDEF";
    struct sb sb = SB_INIT;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p)) {
            sb_putc(&sb, '%');
            sb_putc(&sb, hex[*p >> 4]);
            sb_putc(&sb, hex[*p & 15]);
        } else {
            sb_putc(&sb, (char)*p);
        }
    }
    return sb_detach(&sb);
}

/* Checks the URL against the policy that can be decided without the network: scheme, syntax
 * and the host allow-list. Fills resp and returns -1 when the request must not start. */
static int xfer_check_url(struct xfer *x)
{
    const char *u = x->req->url ? x->req->url : "";
    size_t i = 0;
    if (isalpha((unsigned char)u[0])) {
        while (isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.')
            i++;
    }
    if (i == 0 || u[i] != ':') {
        resp_fail(x->resp, HTTP_OUTCOME_BLOCKED,
                  "Request URL is missing an 'http://' or 'https://' protocol.", 0);
        return -1;
    }
    if (!((i == 4 && strncasecmp(u, "http", 4) == 0) ||
          (i == 5 && strncasecmp(u, "https", 5) == 0))) {
        struct sb sb = SB_INIT;
        sb_puts(&sb, "URL scheme is not allowed: ");
        sb_append(&sb, u, i);
        char *msg = sb_detach(&sb);
        resp_fail(x->resp, HTTP_OUTCOME_BLOCKED, msg, 0);
        free(msg);
        return -1;
    }
    x->url = curl_url();
    if (!x->url)
        base_oom();
    char *enc = url_escape(u);
    CURLUcode uc = curl_url_set(x->url, CURLUPART_URL, enc, 0);
    free(enc);
    char *host = NULL;
    if (uc == CURLUE_OK)
        uc = curl_url_get(x->url, CURLUPART_HOST, &host, 0);
    if (uc != CURLUE_OK || !host || !*host) {
        struct sb sb = SB_INIT;
        sb_printf(&sb, "Invalid URL: %s", uc != CURLUE_OK ? curl_url_strerror(uc) : "no host");
        char *msg = sb_detach(&sb);
        resp_fail(x->resp, HTTP_OUTCOME_BLOCKED, msg, 0);
        free(msg);
        curl_free(host);
        return -1;
    }
    size_t hlen = strlen(host);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']')
        x->host = xstrndup(host + 1, hlen - 2);
    else
        x->host = xstrdup(host);
    curl_free(host);
    if (x->t->nallowed > 0) {
        int ok = 0;
        for (size_t k = 0; k < x->t->nallowed && !ok; k++)
            ok = strcasecmp(x->t->allowed[k], x->host) == 0;
        if (!ok) {
            struct sb sb = SB_INIT;
            sb_printf(&sb, "Outbound request blocked: host %s is not in PROVIDER_ALLOWED_HOSTS",
                      x->host);
            char *msg = sb_detach(&sb);
            resp_fail(x->resp, HTTP_OUTCOME_BLOCKED, msg, 0);
            free(msg);
            return -1;
        }
    }
    return 0;
}

/* Builds the header list: the request's headers (validated, since rendered templates must
 * not be able to inject header lines), no "Expect: 100-continue" round trip, and no default
 * form Content-Type from libcurl when the request did not ask for one. */
static int xfer_headers(struct xfer *x, int has_body)
{
    const struct http_request *r = x->req;
    int has_ctype = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct http_header *h = &r->headers[i];
        if (!h->name || !header_name_ok(h->name) || !h->value || !header_value_ok(h->value)) {
            resp_fail(x->resp, HTTP_OUTCOME_BLOCKED, "Illegal header name or value", 0);
            return -1;
        }
        if (strcasecmp(h->name, "Content-Type") == 0)
            has_ctype = 1;
        struct sb sb = SB_INIT;
        if (*h->value)
            sb_printf(&sb, "%s: %s", h->name, h->value);
        else
            sb_printf(&sb, "%s;", h->name);
        struct curl_slist *l = curl_slist_append(x->headers, sb_str(&sb));
        sb_release(&sb);
        if (!l)
            base_oom();
        x->headers = l;
    }
    struct curl_slist *l = curl_slist_append(x->headers, "Expect:");
    if (!l)
        base_oom();
    x->headers = l;
    if (has_body && !has_ctype) {
        l = curl_slist_append(x->headers, "Content-Type:");
        if (!l)
            base_oom();
        x->headers = l;
    }
    return 0;
}

static CURL *pool_get(struct curl_transport *t)
{
    if (t->npool > 0) {
        CURL *e = t->pool[--t->npool];
        curl_easy_reset(e);
        return e;
    }
    return curl_easy_init();
}

static void pool_put(struct curl_transport *t, CURL *e)
{
    if (t->npool < CURL_TRANSPORT_POOL_MAX) {
        t->pool = xrealloc(t->pool, (t->npool + 1) * sizeof(*t->pool));
        t->pool[t->npool++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

static void xfer_cleanup(struct xfer *x)
{
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    curl_url_cleanup(x->url);
    x->url = NULL;
    free(x->host);
    x->host = NULL;
    sb_release(&x->body);
}

/* Prepares and adds one transfer. Returns 0 when it is in flight, -1 when it was finished
 * on the spot (refused by the policy or impossible to set up): its response is filled. */
static int xfer_start(struct batch *b, size_t i)
{
    struct xfer *x = &b->xfers[i];
    const struct http_request *r = &b->reqs[i];
    x->t = b->t;
    x->req = r;
    x->resp = &b->resps[i];
    if (xfer_check_url(x) < 0)
        goto fail;
    int has_body = r->body != NULL;
    const char *method = r->method && *r->method ? r->method : "POST";
    int is_post = strcmp(method, "POST") == 0;
    int wants_len = is_post || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    if (xfer_headers(x, has_body || wants_len) < 0)
        goto fail;
    x->easy = pool_get(b->t);
    if (!x->easy) {
        resp_fail(x->resp, HTTP_OUTCOME_ERROR, "could not create a libcurl handle", 0);
        goto fail;
    }
    CURL *e = x->easy;
    long timeout = r->timeout_ms > 0 ? r->timeout_ms : CURL_TRANSPORT_DEFAULT_TIMEOUT_MS;
    x->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_CURLU, x->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, xfer_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, xfer_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, CURL_TRANSPORT_USER_AGENT);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (has_body || wants_len) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? r->body_len : 0));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, has_body ? r->body : "");
        if (!is_post)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (curl_multi_add_handle(b->t->multi, e) != CURLM_OK) {
        resp_fail(x->resp, HTTP_OUTCOME_ERROR, "could not start the request", 0);
        pool_put(b->t, e);
        x->easy = NULL;
        goto fail;
    }
    return 0;
fail:
    xfer_cleanup(x);
    return -1;
}

/* Turns libcurl's result for a finished transfer into the port's outcome. The line between
 * "nothing was sent" and "sent, no answer" is drawn on the request bytes libcurl reports:
 * once any went out, the provider may have acted, and a timeout is ambiguous. */
static void xfer_finish(struct xfer *x, CURLcode res)
{
    struct http_response *r = x->resp;
    long reqsize = 0, status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &reqsize);
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    int sent = reqsize > 0;
    if (x->too_large) {
        resp_fail(r, HTTP_OUTCOME_ERROR, "response body exceeds 4 MiB", 1);
    } else if (res == CURLE_OK) {
        r->outcome = HTTP_OUTCOME_RESPONSE;
        r->status = status;
        r->request_sent = 1;
        r->body_len = x->body.len;
        r->body = sb_detach(&x->body);
    } else if (x->blocked && !sent) {
        struct sb sb = SB_INIT;
        sb_printf(&sb, "Outbound request blocked: %s resolves to a private or loopback address",
                  x->host ? x->host : "");
        char *msg = sb_detach(&sb);
        resp_fail(r, HTTP_OUTCOME_BLOCKED, msg, 0);
        free(msg);
    } else if (res == CURLE_OPERATION_TIMEDOUT) {
        resp_fail(r, sent ? HTTP_OUTCOME_TIMEOUT_AFTER_SEND : HTTP_OUTCOME_TIMEOUT_BEFORE_SEND,
                  sent ? "outcome unknown: provider timed out" : "timed out", sent);
    } else if (res == CURLE_COULDNT_CONNECT && !sent) {
        resp_fail(r, HTTP_OUTCOME_CONNECT_FAILED, "All connection attempts failed", 0);
    } else if (res == CURLE_COULDNT_RESOLVE_HOST && !sent) {
        resp_fail(r, HTTP_OUTCOME_CONNECT_FAILED, "[Errno -2] Name or service not known", 0);
    } else {
        resp_fail(r, HTTP_OUTCOME_ERROR, x->errbuf[0] ? x->errbuf : curl_easy_strerror(res), sent);
    }
    curl_multi_remove_handle(x->t->multi, x->easy);
    pool_put(x->t, x->easy);
    x->easy = NULL;
    xfer_cleanup(x);
}

/* ---- scheduling --------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Assigns every request to its group (requests without a group each get their own) and
 * queues it there in batch order, with an open-addressing table over the group names. */
static void batch_group(struct batch *b)
{
    size_t tsize = 16;
    while (tsize < 2 * b->n)
        tsize *= 2;
    size_t *table = xmalloc(tsize * sizeof(*table));
    for (size_t k = 0; k < tsize; k++)
        table[k] = SIZE_MAX;
    for (size_t i = 0; i < b->n; i++) {
        const char *name = b->reqs[i].group;
        size_t g = SIZE_MAX;
        int fresh = 0;
        if (name) {
            size_t slot = (size_t)hash_str(name) & (tsize - 1);
            while (table[slot] != SIZE_MAX && strcmp(b->groups[table[slot]].name, name) != 0)
                slot = (slot + 1) & (tsize - 1);
            if (table[slot] == SIZE_MAX) {
                table[slot] = b->ngroups++;
                fresh = 1;
            }
            g = table[slot];
        } else {
            g = b->ngroups++;
            fresh = 1;
        }
        struct group *gr = &b->groups[g];
        if (fresh) {
            gr->name = name;
            gr->first = i;
        } else {
            b->next[gr->last] = i;
        }
        gr->last = i;
        b->next[i] = SIZE_MAX;
        gr->queued++;
        b->xfers[i].group = g;
    }
    free(table);
    for (size_t g = 0; g < b->ngroups; g++) {
        b->ring[(b->ring_head + b->ring_len++) % b->ngroups] = g;
        b->groups[g].runnable = 1;
    }
}

static void ring_push(struct batch *b, size_t g)
{
    b->ring[(b->ring_head + b->ring_len++) % b->ngroups] = g;
    b->groups[g].runnable = 1;
}

/* Starts queued requests while there is room overall, taking groups round-robin so that one
 * busy provider does not delay the others, and never more than the cap of one group. */
static void batch_schedule(struct batch *b)
{
    while (b->inflight < CURL_TRANSPORT_MAX_INFLIGHT && b->ring_len > 0) {
        size_t g = b->ring[b->ring_head];
        b->ring_head = (b->ring_head + 1) % b->ngroups;
        b->ring_len--;
        struct group *gr = &b->groups[g];
        gr->runnable = 0;
        size_t i = gr->first;
        gr->first = b->next[i];
        gr->queued--;
        if (xfer_start(b, i) == 0) {
            gr->inflight++;
            b->inflight++;
        } else {
            b->done++;
        }
        if (gr->queued > 0 && gr->inflight < b->cap)
            ring_push(b, g);
    }
}

static void batch_drain(struct batch *b)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(b->t->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = msg->data.result;
        size_t g = x->group;
        xfer_finish(x, res);
        b->done++;
        b->inflight--;
        struct group *gr = &b->groups[g];
        gr->inflight--;
        if (gr->queued > 0 && !gr->runnable && gr->inflight < b->cap)
            ring_push(b, g);
    }
}

/* Fails every request of the batch that has not finished, after the event loop broke. */
static void batch_abort(struct batch *b, const char *why)
{
    for (size_t i = 0; i < b->n; i++) {
        struct xfer *x = &b->xfers[i];
        if (x->easy) {
            resp_fail(x->resp, HTTP_OUTCOME_ERROR, why, 1);
            curl_multi_remove_handle(b->t->multi, x->easy);
            pool_put(b->t, x->easy);
            x->easy = NULL;
            xfer_cleanup(x);
        } else if (!b->resps[i].error && b->resps[i].outcome == HTTP_OUTCOME_RESPONSE &&
                   b->resps[i].status == 0) {
            resp_fail(&b->resps[i], HTTP_OUTCOME_ERROR, why, 0);
        }
    }
}

static int curl_perform(struct http_transport *base, const struct http_request *reqs,
                        struct http_response *resps, size_t n, int group_cap)
{
    struct curl_transport *t = (struct curl_transport *)base;
    for (size_t i = 0; i < n; i++)
        memset(&resps[i], 0, sizeof(resps[i]));
    if (n == 0)
        return 0;
    if (!t || !t->multi) {
        for (size_t i = 0; i < n; i++)
            resp_fail(&resps[i], HTTP_OUTCOME_ERROR, "HTTP transport is not available", 0);
        return ERR_IO;
    }
    struct batch b = {0};
    b.t = t;
    b.reqs = reqs;
    b.resps = resps;
    b.n = n;
    b.cap = group_cap > 0 ? group_cap : INT_MAX;
    b.xfers = xcalloc(n, sizeof(*b.xfers));
    b.next = xcalloc(n, sizeof(*b.next));
    b.groups = xcalloc(n, sizeof(*b.groups));
    b.ring = xcalloc(n, sizeof(*b.ring));
    batch_group(&b);

    int rc = 0;
    batch_schedule(&b);
    while (b.done < n) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(t->multi, &running);
        if (mc != CURLM_OK) {
            batch_abort(&b, curl_multi_strerror(mc));
            rc = ERR_IO;
            break;
        }
        size_t before = b.done;
        batch_drain(&b);
        batch_schedule(&b);
        if (b.done >= n)
            break;
        if (b.inflight == 0) {
            batch_abort(&b, "HTTP transport stalled");
            rc = ERR_IO;
            break;
        }
        if (b.done != before)
            continue; /* new transfers were added: let libcurl start them at once */
        mc = curl_multi_poll(t->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK) {
            batch_abort(&b, curl_multi_strerror(mc));
            rc = ERR_IO;
            break;
        }
    }
    free(b.xfers);
    free(b.next);
    free(b.groups);
    free(b.ring);
    return rc;
}

static void curl_transport_free(struct http_transport *base)
{
    struct curl_transport *t = (struct curl_transport *)base;
    if (!t)
        return;
    for (size_t i = 0; i < t->npool; i++)
        curl_easy_cleanup(t->pool[i]);
    free(t->pool);
    if (t->multi)
        curl_multi_cleanup(t->multi);
    for (size_t i = 0; i < t->nallowed; i++)
        free(t->allowed[i]);
    free(t->allowed);
    free(t);
}

struct http_transport *curl_transport_new(const struct outbound_policy *policy, char **error)
{
    if (error)
        *error = NULL;
    pthread_once(&curl_once, curl_global_once);
    if (curl_init_code != CURLE_OK) {
        if (error)
            *error = xstrdup(curl_easy_strerror(curl_init_code));
        return NULL;
    }
    struct curl_transport *t = xcalloc(1, sizeof(*t));
    t->base.perform = curl_perform;
    t->base.free = curl_transport_free;
    t->multi = curl_multi_init();
    if (!t->multi) {
        if (error)
            *error = xstrdup("curl_multi_init failed");
        free(t);
        return NULL;
    }
    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)(2 * CURL_TRANSPORT_MAX_INFLIGHT));
    if (policy) {
        t->allow_private = policy->allow_private;
        if (policy->nallowed > 0) {
            t->allowed = xcalloc(policy->nallowed, sizeof(*t->allowed));
            for (size_t i = 0; i < policy->nallowed; i++) {
                if (policy->allowed_hosts[i] && *policy->allowed_hosts[i])
                    t->allowed[t->nallowed++] = xstrdup(policy->allowed_hosts[i]);
            }
        }
    }
    return &t->base;
}
