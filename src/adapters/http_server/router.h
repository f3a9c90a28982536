/*
 * The route table: method + path pattern -> handler, matched in registration order like the
 * original's Starlette router. A pattern segment "{name}" matches one path segment
 * A trailing slash is ignored, so "/x/" and "/x" reach the same route. A
 * path that matches some route under another method is a 405, otherwise a 404.
 */
#ifndef SMPLAT_ADAPTERS_ROUTER_H
#define SMPLAT_ADAPTERS_ROUTER_H

#include <stddef.h>

#include "adapters/http_server/server.h"

#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_PATH 2048

struct route_params {
    const char *names[ROUTER_MAX_PARAMS];
    const char *values[ROUTER_MAX_PARAMS]; /* point into buf */
    size_t n;
    char buf[ROUTER_MAX_PATH];
};

struct route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/v1/fulfillment/providers/{provider_id}/orders" */
    const char *name;    /* label for metrics, e.g. "provider_orders" */
    void (*handle)(void *ctx, const struct http_req *req, const struct route_params *params,
                   struct http_reply *rep);
};

enum { ROUTER_NOT_FOUND = -1, ROUTER_METHOD_NOT_ALLOWED = -2 };

/* Index of the matching route (and its params), or ROUTER_NOT_FOUND /
 * ROUTER_METHOD_NOT_ALLOWED. HEAD matches GET routes. */
int router_match(const struct route *routes, size_t n, const char *method, const char *path,
                 struct route_params *out);
/* A path parameter by name, or NULL. */
const char *route_param(const struct route_params *p, const char *name);

#endif
