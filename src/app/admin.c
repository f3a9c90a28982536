/*
 * Serves the admin pages embedded from web/admin/. Every answer carries the same security
 * headers: a Content-Security-Policy that allows scripts, styles and fetches from this origin
 * only (no inline script or style, no framing), nosniff and no referrer. Caching is by ETag:
 * "Cache-Control: no-cache" lets a browser keep a copy but revalidate it on each use, and a
 * matching If-None-Match gets an empty 304, so a reload costs a few hundred bytes and a new
 * build is picked up at once without hashed file names.
 */
#include "app/admin.h"

#include <stdlib.h>
#include <string.h>

#include "app/validate.h"
#include "base/sb.h"

#define ADMIN_CSP                                                                                  \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

const struct admin_asset *admin_asset_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < admin_assets_count; i++)
        if (admin_assets[i].name && strcmp(admin_assets[i].name, name) == 0)
            return &admin_assets[i];
    return NULL;
}

static void security_headers(struct http_reply *rep)
{
    http_reply_add_header(rep, "Content-Security-Policy", ADMIN_CSP);
    http_reply_add_header(rep, "X-Content-Type-Options", "nosniff");
    http_reply_add_header(rep, "Referrer-Policy", "no-referrer");
    http_reply_add_header(rep, "X-Frame-Options", "DENY");
}

/* Does an If-None-Match header list this ETag (or "*")? The header is a comma list of
 * quoted tags, possibly weak (W/"..."); a weak match is enough for GET (RFC 9110 13.1.2). */
static int etag_matches(const char *header, const char *etag)
{
    if (!header)
        return 0;
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, elen) == 0 &&
            (p[elen] == '\0' || p[elen] == ',' || p[elen] == ' ' || p[elen] == '\t'))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

/* Answers with an embedded asset: 200 with a copy of its bytes, or 304 when the client's
 * copy is current. */
static void send_asset(const struct http_req *req, const struct admin_asset *a,
                       struct http_reply *rep)
{
    security_headers(rep);
    http_reply_add_header(rep, "Cache-Control", "no-cache");
    http_reply_add_header(rep, "ETag", a->etag);
    rep->content_type = a->content_type;
    if (etag_matches(http_req_header(req, "If-None-Match"), a->etag)) {
        rep->status = 304;
        return;
    }
    rep->status = 200;
    rep->body = xmalloc(a->len + 1);
    memcpy(rep->body, a->data, a->len);
    rep->body[a->len] = '\0';
    rep->body_len = a->len;
}

static void not_found(struct http_reply *rep)
{
    security_headers(rep);
    reply_detail(rep, 404, "Not Found");
}

void admin_index(void *ctx, const struct http_req *req, const struct route_params *p,
                 struct http_reply *rep)
{
    (void)ctx;
    (void)req;
    (void)p;
    security_headers(rep);
    rep->status = 302;
    rep->content_type = "text/plain; charset=utf-8";
    rep->body = xstrdup("See /admin/orders\n");
    rep->body_len = strlen(rep->body);
    rep->extra_header_name = "Location";
    rep->extra_header_value = "/admin/orders";
}

/* The page module a path shows (the main.js table of pages, in the same order). */
static const char *page_shell(const char *path)
{
    static const struct {
        const char *prefix;
        const char *shell;
    } pages[] = {
        {"/admin/orders", "shell-orders.html"},
        {"/admin/fulfillment/providers", "shell-providers.html"},
        {"/admin/merchandising", "shell-merchandising.html"},
        {"/admin/reports", "shell-reports.html"},
    };
    for (size_t i = 0; path && i < sizeof pages / sizeof pages[0]; i++) {
        size_t n = strlen(pages[i].prefix);
        if (strncmp(path, pages[i].prefix, n) == 0 && (path[n] == '\0' || path[n] == '/'))
            return pages[i].shell;
    }
    return "index.html";
}

/* Every page route answers with the page shell; the shell of a known page also preloads the
 * page's module (scripts/embed-assets.py), falling back to the plain shell. */
void admin_page(void *ctx, const struct http_req *req, const struct route_params *p,
                struct http_reply *rep)
{
    (void)ctx;
    (void)p;
    const struct admin_asset *a = admin_asset_find(page_shell(http_req_path(req)));
    if (!a)
        a = admin_asset_find("index.html");
    if (!a) {
        not_found(rep);
        return;
    }
    send_asset(req, a, rep);
}

void admin_asset(void *ctx, const struct http_req *req, const struct route_params *p,
                 struct http_reply *rep)
{
    (void)ctx;
    const struct admin_asset *a = admin_asset_find(route_param(p, "name"));
    if (!a) {
        not_found(rep);
        return;
    }
    send_asset(req, a, rep);
}
