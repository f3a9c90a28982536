/*
 * Route matching. Linear in the number of routes, which is a few dozen: simpler than a trie
 * and fast enough that the route table never shows in a profile. Registration order decides
 * between overlapping patterns, as in the original (a literal "/automation/status" is
 * registered before "/{provider_id}").
 */
#include "adapters/http_server/router.h"

#include <string.h>
#include <strings.h>

/* Copies one segment [s, e) into out; returns its length or -1. The server hands us paths
 * already percent-decoded (libmicrohttpd unescapes them), so nothing is decoded twice. */
static long decode_segment(const char *s, const char *e, char *out, size_t cap)
{
    size_t n = (size_t)(e - s);
    if (n + 1 > cap)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return (long)n;
}

/* Matches path against pattern; on success fills params (into out->buf). */
static int match_one(const char *pattern, const char *path, size_t path_len,
                     struct route_params *out)
{
    const char *p = pattern, *s = path, *end = path + path_len;
    size_t used = 0;
    out->n = 0;
    while (*p && s < end) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pe = strchr(p, '/');
        if (!pe)
            pe = p + strlen(p);
        const char *se = memchr(s, '/', (size_t)(end - s));
        if (!se)
            se = end;
        if (*p == '{') {
            if (se == s || out->n == ROUTER_MAX_PARAMS)
                return 0;
            long len = decode_segment(s, se, out->buf + used, sizeof(out->buf) - used);
            if (len <= 0)
                return 0;
            out->names[out->n] = p; /* "{name}..." compared by route_param */
            out->values[out->n] = out->buf + used;
            out->n++;
            used += (size_t)len + 1;
        } else if ((size_t)(pe - p) != (size_t)(se - s) || memcmp(p, s, (size_t)(se - s)) != 0) {
            return 0;
        }
        p = pe;
        s = se;
    }
    return *p == '\0' && s == end;
}

int router_match(const struct route *routes, size_t n, const char *method, const char *path,
                 struct route_params *out)
{
    size_t len = strlen(path);
    const char *q = memchr(path, '?', len);
    if (q)
        len = (size_t)(q - path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len >= ROUTER_MAX_PATH)
        return ROUTER_NOT_FOUND;
    int is_head = strcmp(method, "HEAD") == 0;
    int other_method = 0;
    struct route_params scratch;
    for (size_t i = 0; i < n; i++) {
        if (!match_one(routes[i].pattern, path, len, &scratch))
            continue;
        if (strcmp(routes[i].method, method) == 0 ||
            (is_head && strcmp(routes[i].method, "GET") == 0)) {
            *out = scratch;
            /* values point into scratch.buf: re-point them into out->buf */
            for (size_t k = 0; k < out->n; k++)
                out->values[k] = out->buf + (scratch.values[k] - scratch.buf);
            return (int)i;
        }
        other_method = 1;
    }
    return other_method ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

const char *route_param(const struct route_params *p, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < p->n; i++) {
        const char *pn = p->names[i] + 1; /* skip '{' */
        if (strncmp(pn, name, nl) == 0 && pn[nl] == '}')
            return p->values[i];
    }
    return NULL;
}
