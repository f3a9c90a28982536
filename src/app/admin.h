/*
 * The admin pages (/admin/...): one HTML shell and its CSS and ES modules, embedded in the
 * binary at build time from web/admin/ by scripts/embed-assets.py (admin_assets.c, generated).
 * The pages are not behind the API token: they hold no data, and the API calls they make
 * carry the token the operator types in (docs/ADMIN_UI.md).
 */
#ifndef SMPLAT_APP_ADMIN_H
#define SMPLAT_APP_ADMIN_H

#include <stddef.h>

#include "adapters/http_server/router.h"

struct admin_asset {
    const char *name;         /* "app.js": served as /admin/assets/app.js */
    const char *content_type; /* "text/javascript; charset=utf-8" */
    const char *data;         /* len bytes (NUL-terminated, the NUL not counted) */
    size_t len;
    const char *etag; /* quoted strong validator, e.g. "\"3f2a...\"" */
};

/* Generated (admin_assets.c). */
extern const struct admin_asset admin_assets[];
extern const size_t admin_assets_count;

/* The embedded asset called name, or NULL. */
const struct admin_asset *admin_asset_find(const char *name);

/* GET /admin: redirects to /admin/orders. */
void admin_index(void *ctx, const struct http_req *req, const struct route_params *p,
                 struct http_reply *rep);
/* GET of a page route (/admin/orders, /admin/fulfillment/providers[/{id}],
 * /admin/merchandising, /admin/reports): the HTML shell; the page module renders by path. */
void admin_page(void *ctx, const struct http_req *req, const struct route_params *p,
                struct http_reply *rep);
/* GET /admin/assets/{name}: a stylesheet or module. */
void admin_asset(void *ctx, const struct http_req *req, const struct route_params *p,
                 struct http_reply *rep);

#endif
