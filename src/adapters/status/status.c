/*
 * The two status stores. The database one keeps the same JSON text the Redis
 * one keeps, in our table provider_automation_status, so the embedded default
 * needs no server. The Redis one writes plain SET key value under the original
 * keys (no TTL, last writer wins), exactly what the original's
 * AutomationStatusService did, so its readers keep working.
 */
#include "adapters/status/status.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "base/error.h"
#include "base/num.h"
#include "base/sb.h"

struct status_db {
    struct status_store base;
    struct store *store;
};

static int db_put(struct status_store *s, const char *key, const char *value)
{
    struct status_db *d = (struct status_db *)s;
    return d->store->ops->status_put(d->store, key, value);
}

static int db_get(struct status_store *s, const char *key, char **value)
{
    struct status_db *d = (struct status_db *)s;
    return d->store->ops->status_get(d->store, key, value);
}

static const char *db_last_error(struct status_store *s)
{
    struct status_db *d = (struct status_db *)s;
    return d->store->ops->last_error(d->store);
}

static void db_free(struct status_store *s)
{
    free(s);
}

struct status_store *status_db_new(struct store *store)
{
    struct status_db *d = xcalloc(1, sizeof(*d));
    d->base.put = db_put;
    d->base.get = db_get;
    d->base.last_error = db_last_error;
    d->base.free = db_free;
    d->store = store;
    return &d->base;
}

void redis_url_release(struct redis_url *u)
{
    if (!u)
        return;
    free(u->host);
    free(u->path);
    free(u->username);
    free(u->password);
    memset(u, 0, sizeof(*u));
}

static int url_error(char **error, const char *url, const char *why)
{
    struct sb sb = SB_INIT;
    sb_printf(&sb, "invalid Redis URL '%s': %s", url, why);
    *error = sb_detach(&sb);
    return ERR_CONFIG;
}

int redis_url_parse(const char *url, struct redis_url *out, char **error)
{
    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7;
        const char *q = strchr(p, '?');
        out->path = q ? xstrndup(p, (size_t)(q - p)) : xstrdup(p);
        if (q && strncmp(q, "?db=", 4) == 0 && num_parse_int(q + 4, &out->db) != 0) {
            redis_url_release(out);
            return url_error(error, url, "bad db number");
        }
        return 0;
    }
    const char *p;
    if (strncmp(url, "redis://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "rediss://", 9) == 0)
        return url_error(error, url, "TLS (rediss://) is not supported; use a local TLS proxy");
    else
        return url_error(error, url, "expected redis://host:port/db");
    const char *end = p + strcspn(p, "/?");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p)
                out->username = xstrndup(p, (size_t)(colon - p));
            out->password = xstrndup(colon + 1, (size_t)(at - colon - 1));
        } else {
            out->password = xstrndup(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *host_end = colon ? colon : end;
    out->host = host_end > p ? xstrndup(p, (size_t)(host_end - p)) : xstrdup("localhost");
    if (colon) {
        char *port = xstrndup(colon + 1, (size_t)(end - colon - 1));
        int bad = num_parse_int(port, &out->port) != 0 || out->port < 1 || out->port > 65535;
        free(port);
        if (bad) {
            redis_url_release(out);
            return url_error(error, url, "bad port");
        }
    }
    if (*end == '/' && end[1] && end[1] != '?') {
        char *db = xstrndup(end + 1, strcspn(end + 1, "?"));
        int bad = num_parse_int(db, &out->db) != 0 || out->db < 0;
        free(db);
        if (bad) {
            redis_url_release(out);
            return url_error(error, url, "bad db number");
        }
    }
    return 0;
}

struct status_redis {
    struct status_store base;
    struct redis_url url;
    redisContext *c;
    char err[512];
};

static void redis_drop(struct status_redis *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
}

/* Connects lazily and again after any failure, so a Redis restart heals by
 * itself. */
static int redis_ensure(struct status_redis *r)
{
    if (r->c)
        return 0;
    struct timeval tv = {2, 0};
    r->c = r->url.path ? redisConnectUnixWithTimeout(r->url.path, tv)
                       : redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (!r->c || r->c->err) {
        snprintf(r->err, sizeof(r->err), "Redis connection failed: %s",
                 r->c ? r->c->errstr : "out of memory");
        redis_drop(r);
        return ERR_IO;
    }
    redisSetTimeout(r->c, tv);
    redisReply *rep = NULL;
    if (r->url.password) {
        rep = r->url.username ? redisCommand(r->c, "AUTH %s %s", r->url.username, r->url.password)
                              : redisCommand(r->c, "AUTH %s", r->url.password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            snprintf(r->err, sizeof(r->err), "Redis AUTH failed");
            if (rep)
                freeReplyObject(rep);
            redis_drop(r);
            return ERR_IO;
        }
        freeReplyObject(rep);
    }
    if (r->url.db) {
        rep = redisCommand(r->c, "SELECT %d", r->url.db);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            snprintf(r->err, sizeof(r->err), "Redis SELECT %d failed", r->url.db);
            if (rep)
                freeReplyObject(rep);
            redis_drop(r);
            return ERR_IO;
        }
        freeReplyObject(rep);
    }
    return 0;
}

static int redis_put(struct status_store *s, const char *key, const char *value)
{
    struct status_redis *r = (struct status_redis *)s;
    if (redis_ensure(r) != 0)
        return ERR_IO;
    redisReply *rep = redisCommand(r->c, "SET %s %s", key, value);
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        snprintf(r->err, sizeof(r->err), "Redis SET failed: %s", rep ? rep->str : r->c->errstr);
        if (rep)
            freeReplyObject(rep);
        redis_drop(r);
        return ERR_IO;
    }
    freeReplyObject(rep);
    return 0;
}

static int redis_get(struct status_store *s, const char *key, char **value)
{
    struct status_redis *r = (struct status_redis *)s;
    *value = NULL;
    if (redis_ensure(r) != 0)
        return ERR_IO;
    redisReply *rep = redisCommand(r->c, "GET %s", key);
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        snprintf(r->err, sizeof(r->err), "Redis GET failed: %s", rep ? rep->str : r->c->errstr);
        if (rep)
            freeReplyObject(rep);
        redis_drop(r);
        return ERR_IO;
    }
    if (rep->type == REDIS_REPLY_STRING && rep->len > 0)
        *value = xstrndup(rep->str, rep->len);
    freeReplyObject(rep);
    return 0;
}

static const char *redis_last_error(struct status_store *s)
{
    return ((struct status_redis *)s)->err;
}

static void redis_free(struct status_store *s)
{
    if (!s)
        return;
    struct status_redis *r = (struct status_redis *)s;
    redis_drop(r);
    redis_url_release(&r->url);
    free(r);
}

struct status_store *status_redis_new(const char *url, char **error)
{
    struct status_redis *r = xcalloc(1, sizeof(*r));
    if (redis_url_parse(url, &r->url, error) != 0) {
        free(r);
        return NULL;
    }
    r->base.put = redis_put;
    r->base.get = redis_get;
    r->base.last_error = redis_last_error;
    r->base.free = redis_free;
    return &r->base;
}
