/*
 * The Celery broker and result backend on Redis (adapters/broker/redis_broker.h),
 * over hiredis. Key names and value shapes are kombu 5's and Celery 5's, so a
 * Python producer, worker or beat on the same Redis database works with ours
 * in both directions (shared/spec/reference/celery-wire.md §4, §5).
 *
 * kombu records a message as unacked in a MULTI after BRPOP returned it: a
 * worker dying between the two loses the message. Here the pop and the record
 * are one Lua script (Redis runs scripts atomically), and since a script may
 * not block, an empty poll waits with BLMOVE key key RIGHT RIGHT, which wakes
 * when a message arrives and leaves the list as it was.
 */
#include "adapters/broker/redis_broker.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapters/status/status.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "base/uuid.h"
#include "codec/celery.h"

#define DELIVERIES_PREFIX "smplat.deliveries."
#define DELIVERIES_TTL "604800" /* a week: counters of messages lost elsewhere expire */

struct conn {
    struct redis_url url;
    redisContext *c;
};

struct broker {
    struct conn broker;
    struct conn result;
    int same; /* results on the broker connection */
    char **declared;
    size_t ndeclared;
    int no_blmove; /* the server has no BLMOVE (Redis < 6.2): sleep instead */
    char err[512];
};

static void conn_drop(struct conn *c)
{
    if (c->c)
        redisFree(c->c);
    c->c = NULL;
}

static int conn_ensure(struct broker *b, struct conn *c)
{
    if (c->c)
        return 0;
    struct timeval tv = {2, 0};
    c->c = c->url.path ? redisConnectUnixWithTimeout(c->url.path, tv)
                       : redisConnectWithTimeout(c->url.host, c->url.port, tv);
    if (!c->c || c->c->err) {
        snprintf(b->err, sizeof(b->err), "Redis connection failed: %s",
                 c->c ? c->c->errstr : "out of memory");
        conn_drop(c);
        return ERR_IO;
    }
    struct timeval rw = {5, 0};
    redisSetTimeout(c->c, rw);
    redisReply *rep;
    if (c->url.password) {
        rep = c->url.username ? redisCommand(c->c, "AUTH %s %s", c->url.username, c->url.password)
                              : redisCommand(c->c, "AUTH %s", c->url.password);
        int bad = !rep || rep->type == REDIS_REPLY_ERROR;
        if (rep)
            freeReplyObject(rep);
        if (bad) {
            snprintf(b->err, sizeof(b->err), "Redis AUTH failed");
            conn_drop(c);
            return ERR_IO;
        }
    }
    if (c->url.db) {
        rep = redisCommand(c->c, "SELECT %d", c->url.db);
        int bad = !rep || rep->type == REDIS_REPLY_ERROR;
        if (rep)
            freeReplyObject(rep);
        if (bad) {
            snprintf(b->err, sizeof(b->err), "Redis SELECT %d failed", c->url.db);
            conn_drop(c);
            return ERR_IO;
        }
    }
    return 0;
}

static struct conn *result_conn(struct broker *b)
{
    return b->same ? &b->broker : &b->result;
}

struct broker *broker_new(const char *broker_url, const char *result_url, char **error)
{
    struct broker *b = xcalloc(1, sizeof(*b));
    if (redis_url_parse(broker_url, &b->broker.url, error) != 0) {
        free(b);
        return NULL;
    }
    b->same = !result_url || strcmp(result_url, broker_url) == 0;
    if (!b->same && redis_url_parse(result_url, &b->result.url, error) != 0) {
        redis_url_release(&b->broker.url);
        free(b);
        return NULL;
    }
    return b;
}

void broker_free(struct broker *b)
{
    if (!b)
        return;
    conn_drop(&b->broker);
    conn_drop(&b->result);
    redis_url_release(&b->broker.url);
    if (!b->same)
        redis_url_release(&b->result.url);
    for (size_t i = 0; i < b->ndeclared; i++)
        free(b->declared[i]);
    free(b->declared);
    free(b);
}

const char *broker_last_error(const struct broker *b)
{
    return b->err;
}

/* Runs argv on c; on a transport error or an error reply the reply is freed,
 * b->err set and NULL returned (the connection dropped on transport errors). */
static redisReply *run(struct broker *b, struct conn *c, int argc, const char **argv,
                       const size_t *lens)
{
    if (conn_ensure(b, c) != 0)
        return NULL;
    redisReply *rep = redisCommandArgv(c->c, argc, argv, lens);
    if (!rep) {
        snprintf(b->err, sizeof(b->err), "Redis command %s failed: %s", argv[0], c->c->errstr);
        conn_drop(c);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(b->err, sizeof(b->err), "Redis %s: %.*s", argv[0], (int)rep->len, rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

int broker_ping(struct broker *b)
{
    const char *argv[] = {"PING"};
    size_t lens[] = {4};
    redisReply *rep = run(b, &b->broker, 1, argv, lens);
    if (!rep)
        return ERR_IO;
    freeReplyObject(rep);
    if (!b->same) {
        rep = run(b, &b->result, 1, argv, lens);
        if (!rep)
            return ERR_IO;
        freeReplyObject(rep);
    }
    return 0;
}

static void now_str(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, 32, "%lld.%06ld", (long long)ts.tv_sec, ts.tv_nsec / 1000);
}

void broker_delivery_release(struct broker_delivery *d)
{
    if (!d)
        return;
    free(d->key);
    free(d->raw);
    memset(d, 0, sizeof(*d));
}

/* Pop and record as unacked in one step. The envelope is spliced into the
 * unacked value as popped, like kombu does, so nothing is re-serialized. */
static const char take_lua[] =
    "for i, k in ipairs(KEYS) do\n"
    "  local raw = redis.call('RPOP', k)\n"
    "  if raw then\n"
    "    local ok, env = pcall(cjson.decode, raw)\n"
    "    local tag, ex = nil, ''\n"
    "    local rk = string.gsub(k, '\\6\\22%d+$', '')\n"
    "    if ok and type(env) == 'table' and type(env.properties) == 'table' then\n"
    "      local p = env.properties\n"
    "      if type(p.delivery_tag) == 'string' then tag = p.delivery_tag end\n"
    "      local di = p.delivery_info\n"
    "      if type(di) == 'table' then\n"
    "        if type(di.exchange) == 'string' then ex = di.exchange end\n"
    "        if type(di.routing_key) == 'string' then rk = di.routing_key end\n"
    "      end\n"
    "    end\n"
    "    if not tag then return {k, raw, -1} end\n"
    "    redis.call('ZADD', 'unacked_index', ARGV[1], tag)\n"
    "    redis.call('HSET', 'unacked', tag, '[' .. raw .. ', ' .. cjson.encode(ex) .. ', ' ..\n"
    "               cjson.encode(rk) .. ']')\n"
    "    local n = redis.call('INCR', '" DELIVERIES_PREFIX "' .. tag)\n"
    "    redis.call('EXPIRE', '" DELIVERIES_PREFIX "' .. tag, ARGV[2])\n"
    "    return {k, raw, n}\n"
    "  end\n"
    "end\n"
    "return false\n";

int broker_take(struct broker *b, char *const *keys, size_t nkeys, struct broker_delivery *out)
{
    memset(out, 0, sizeof(*out));
    size_t argc = nkeys + 5;
    const char **argv = xcalloc(argc, sizeof(*argv));
    size_t *lens = xcalloc(argc, sizeof(*lens));
    char nk[24], now[32];
    snprintf(nk, sizeof(nk), "%zu", nkeys);
    now_str(now);
    argv[0] = "EVAL";
    argv[1] = take_lua;
    argv[2] = nk;
    for (size_t i = 0; i < nkeys; i++)
        argv[3 + i] = keys[i];
    argv[3 + nkeys] = now;
    argv[4 + nkeys] = DELIVERIES_TTL;
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisReply *rep = run(b, &b->broker, (int)argc, argv, lens);
    free(argv);
    free(lens);
    if (!rep)
        return ERR_IO;
    int rc = 0;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING &&
        rep->element[2]->type == REDIS_REPLY_INTEGER) {
        out->key = xstrndup(rep->element[0]->str, rep->element[0]->len);
        out->raw = xstrndup(rep->element[1]->str, rep->element[1]->len);
        out->len = rep->element[1]->len;
        out->count = rep->element[2]->integer;
        rc = 1;
    }
    freeReplyObject(rep);
    return rc;
}

int broker_wait(struct broker *b, const char *key, double timeout)
{
    if (!b->no_blmove) {
        char t[32];
        snprintf(t, sizeof(t), "%.3f", timeout);
        const char *argv[] = {"BLMOVE", key, key, "RIGHT", "RIGHT", t};
        size_t lens[6];
        for (int i = 0; i < 6; i++)
            lens[i] = strlen(argv[i]);
        redisReply *rep = run(b, &b->broker, 6, argv, lens);
        if (rep) {
            freeReplyObject(rep);
            return 0;
        }
        if (!b->broker.c)
            return ERR_IO;
        if (strstr(b->err, "unknown command"))
            b->no_blmove = 1;
        else
            return ERR_IO;
    }
    struct timespec ts = {(time_t)timeout, (long)((timeout - (double)(time_t)timeout) * 1e9)};
    nanosleep(&ts, NULL);
    return 0;
}

static const char finish_lua[] =
    "local write = ARGV[1] ~= ''\n"
    "if write and ARGV[4] == '1' then\n"
    "  local cur = redis.call('GET', KEYS[1])\n"
    "  if cur then\n"
    "    local ok, d = pcall(cjson.decode, cur)\n"
    "    if ok and type(d) == 'table' and d.status == 'SUCCESS' then write = false end\n"
    "  end\n"
    "end\n"
    "if write then\n"
    "  if tonumber(ARGV[2]) > 0 then redis.call('SETEX', KEYS[1], ARGV[2], ARGV[1])\n"
    "  else redis.call('SET', KEYS[1], ARGV[1]) end\n"
    "  redis.call('PUBLISH', KEYS[1], ARGV[1])\n"
    "end\n"
    "if ARGV[3] ~= '' then\n"
    "  redis.call('ZREM', 'unacked_index', ARGV[3])\n"
    "  redis.call('HDEL', 'unacked', ARGV[3])\n"
    "  redis.call('DEL', '" DELIVERIES_PREFIX "' .. ARGV[3])\n"
    "end\n"
    "return write and 1 or 0\n";

static int eval_int(struct broker *b, struct conn *c, const char *script, int nkeys,
                    const char *const *keys, int nargs, const char *const *args,
                    const size_t *arg_lens)
{
    int argc = 3 + nkeys + nargs;
    const char *argv[16];
    size_t lens[16];
    char nk[8];
    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[0] = "EVAL";
    argv[1] = script;
    argv[2] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[3 + nkeys + i] = args[i];
    for (int i = 0; i < argc; i++)
        lens[i] = i >= 3 + nkeys && arg_lens ? arg_lens[i - 3 - nkeys] : strlen(argv[i]);
    redisReply *rep = run(b, c, argc, argv, lens);
    if (!rep)
        return ERR_IO;
    int rc = rep->type == REDIS_REPLY_INTEGER ? (int)rep->integer : 0;
    freeReplyObject(rep);
    return rc;
}

static const char ack_lua[] = "redis.call('ZREM', 'unacked_index', ARGV[1])\n"
                              "redis.call('HDEL', 'unacked', ARGV[1])\n"
                              "redis.call('DEL', '" DELIVERIES_PREFIX "' .. ARGV[1])\n"
                              "return 1\n";

int broker_finish(struct broker *b, const char *task_id, const char *meta, int expires_s,
                  const char *tag)
{
    char key[128], exp[24];
    snprintf(key, sizeof(key), "celery-task-meta-%s", task_id ? task_id : "");
    snprintf(exp, sizeof(exp), "%d", expires_s);
    if (b->same || !meta || !tag) {
        /* One step when the results live on the broker's server. */
        if (!b->same && meta) {
            const char *args[] = {meta, exp, "", "1"};
            return eval_int(b, &b->result, finish_lua, 1, (const char *const[]){key}, 4, args,
                            NULL);
        }
        const char *args[] = {meta ? meta : "", exp, tag ? tag : "", "1"};
        return eval_int(b, &b->broker, finish_lua, 1, (const char *const[]){key}, 4, args, NULL);
    }
    /* Separate servers: the result first, then the ack (at least once). */
    const char *args[] = {meta, exp, "", "1"};
    int rc = eval_int(b, &b->result, finish_lua, 1, (const char *const[]){key}, 4, args, NULL);
    if (rc < 0)
        return rc;
    const char *aargs[] = {tag};
    int arc = eval_int(b, &b->broker, ack_lua, 0, NULL, 1, aargs, NULL);
    return arc < 0 ? arc : rc;
}

static const char requeue_lua[] =
    "if redis.call('HEXISTS', 'unacked', ARGV[1]) == 0 then return 0 end\n"
    "if ARGV[5] ~= '' then\n"
    "  local s = redis.call('ZSCORE', 'unacked_index', ARGV[1])\n"
    "  if s and tonumber(s) > tonumber(ARGV[5]) then return 0 end\n"
    "end\n"
    "redis.call('ZREM', 'unacked_index', ARGV[1])\n"
    "redis.call('HDEL', 'unacked', ARGV[1])\n"
    "if ARGV[3] == '1' then redis.call('LPUSH', KEYS[1], ARGV[2])\n"
    "else redis.call('RPUSH', KEYS[1], ARGV[2]) end\n"
    "if ARGV[4] == '1' then\n"
    "  local n = redis.call('DECR', '" DELIVERIES_PREFIX "' .. ARGV[1])\n"
    "  if n <= 0 then redis.call('DEL', '" DELIVERIES_PREFIX "' .. ARGV[1]) end\n"
    "end\n"
    "return 1\n";

static int requeue(struct broker *b, const char *tag, const char *dest_key, const char *envelope,
                   int leftmost, int uncount, const char *max_score)
{
    const char *args[] = {tag, envelope, leftmost ? "1" : "0", uncount ? "1" : "0", max_score};
    return eval_int(b, &b->broker, requeue_lua, 1, (const char *const[]){dest_key}, 5, args, NULL);
}

int broker_requeue(struct broker *b, const char *tag, const char *dest_key, const char *envelope,
                   int leftmost, int uncount)
{
    return requeue(b, tag, dest_key, envelope, leftmost, uncount, "");
}

static const char dead_lua[] = "redis.call('LPUSH', KEYS[1], ARGV[2])\n"
                               "redis.call('ZREM', 'unacked_index', ARGV[1])\n"
                               "redis.call('HDEL', 'unacked', ARGV[1])\n"
                               "redis.call('DEL', '" DELIVERIES_PREFIX "' .. ARGV[1])\n"
                               "return 1\n";

int broker_dead_letter(struct broker *b, const char *tag, const char *raw, size_t len,
                       const char *dead_letter_key)
{
    const char *args[] = {tag, raw};
    size_t lens[] = {strlen(tag), len};
    return eval_int(b, &b->broker, dead_lua, 1, (const char *const[]){dead_letter_key}, 2, args,
                    lens);
}

int broker_refresh(struct broker *b, char *const *tags, size_t n)
{
    if (n == 0)
        return 0;
    char now[32];
    now_str(now);
    size_t argc = 2 + 2 * n;
    const char **argv = xcalloc(argc, sizeof(*argv));
    size_t *lens = xcalloc(argc, sizeof(*lens));
    argv[0] = "ZADD";
    argv[1] = "unacked_index";
    /* ZADD key XX score member ...: only members still there. */
    size_t k = 2;
    const char **full = xcalloc(argc + 1, sizeof(*full));
    full[0] = argv[0];
    full[1] = argv[1];
    full[2] = "XX";
    for (size_t i = 0; i < n; i++) {
        full[3 + 2 * i] = now;
        full[4 + 2 * i] = tags[i];
    }
    k = argc + 1;
    size_t *flens = xcalloc(k, sizeof(*flens));
    for (size_t i = 0; i < k; i++)
        flens[i] = strlen(full[i]);
    redisReply *rep = run(b, &b->broker, (int)k, full, flens);
    free(argv);
    free(lens);
    free(full);
    free(flens);
    if (!rep)
        return ERR_IO;
    freeReplyObject(rep);
    return 0;
}

/* The queue an exchange routes routing_key to, from kombu's binding set
 * (members "rk\x06\x16pattern\x06\x16queue"). NULL when none. */
static char *binding_queue(struct broker *b, const char *exchange, const char *routing_key)
{
    char key[256];
    snprintf(key, sizeof(key), "_kombu.binding.%s", exchange);
    const char *argv[] = {"SMEMBERS", key};
    size_t lens[] = {8, strlen(key)};
    redisReply *rep = run(b, &b->broker, 2, argv, lens);
    if (!rep)
        return NULL;
    char *found = NULL;
    size_t rklen = strlen(routing_key);
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements && !found; i++) {
        const redisReply *m = rep->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len < rklen + 4)
            continue;
        if (memcmp(m->str, routing_key, rklen) != 0 || memcmp(m->str + rklen, "\x06\x16", 2) != 0)
            continue;
        const char *q = NULL;
        for (size_t j = m->len - 1; j >= 1 && !q; j--)
            if (m->str[j - 1] == '\x06' && m->str[j] == '\x16')
                q = m->str + j + 1;
        if (q)
            found = xstrndup(q, (size_t)(m->str + m->len - q));
    }
    freeReplyObject(rep);
    return found;
}

static const char unlock_lua[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end";

int broker_restore_visible(struct broker *b, int visibility_timeout)
{
    char token[UUID_STRLEN + 1];
    uuid4(token);
    const char *lock[] = {"SET", "unacked_mutex", token, "PX", "300000", "NX"};
    size_t llens[6];
    for (int i = 0; i < 6; i++)
        llens[i] = strlen(lock[i]);
    redisReply *rep = run(b, &b->broker, 6, lock, llens);
    if (!rep)
        return ERR_IO;
    int held = rep->type == REDIS_REPLY_STATUS;
    freeReplyObject(rep);
    if (!held)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char cutoff[32];
    snprintf(cutoff, sizeof(cutoff), "%lld", (long long)ts.tv_sec - (long long)visibility_timeout);
    const char *range[] = {"ZREVRANGEBYSCORE", "unacked_index", cutoff, "0", "LIMIT", "0", "1000"};
    size_t rlens[7];
    for (int i = 0; i < 7; i++)
        rlens[i] = strlen(range[i]);
    int restored = 0;
    rep = run(b, &b->broker, 7, range, rlens);
    if (!rep) {
        restored = ERR_IO;
        goto out;
    }
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const redisReply *t = rep->element[i];
        if (t->type != REDIS_REPLY_STRING)
            continue;
        char *tag = xstrndup(t->str, t->len);
        const char *hget[] = {"HGET", "unacked", tag};
        size_t hlens[] = {4, 7, strlen(tag)};
        redisReply *v = run(b, &b->broker, 3, hget, hlens);
        if (!v) {
            free(tag);
            restored = ERR_IO;
            break;
        }
        char *env = NULL, *dest = NULL, *ex = NULL;
        if (v->type != REDIS_REPLY_STRING) {
            /* An index entry without its message: drop it. */
            const char *zrem[] = {"ZREM", "unacked_index", tag};
            size_t zlens[] = {4, 13, strlen(tag)};
            redisReply *z = run(b, &b->broker, 3, zrem, zlens);
            if (z)
                freeReplyObject(z);
        } else if (celery_restore_envelope(v->str, v->len, &env, &dest, &ex) != 0) {
            broker_dead_letter(b, tag, v->str, v->len, "smplat.dead-letter");
        } else {
            if (*ex) {
                /* Routed through an exchange: find the bound queue, keeping the
                 * bucket suffix of dest. */
                char *q = celery_key_queue(dest);
                char *bound = binding_queue(b, ex, q);
                if (bound) {
                    char *suffix = xstrdup(dest + strlen(q));
                    free(dest);
                    struct sb sb;
                    sb_init(&sb);
                    sb_puts(&sb, bound);
                    sb_puts(&sb, suffix);
                    dest = sb_detach(&sb);
                    free(suffix);
                    free(bound);
                }
                free(q);
            }
            int rc = requeue(b, tag, dest, env, 0, 0, cutoff);
            if (rc > 0)
                restored++;
        }
        free(env);
        free(dest);
        free(ex);
        freeReplyObject(v);
        free(tag);
    }
    freeReplyObject(rep);
out:;
    const char *args[] = {token};
    eval_int(b, &b->broker, unlock_lua, 1, (const char *const[]){"unacked_mutex"}, 1, args, NULL);
    return restored;
}

static int declare(struct broker *b, const char *queue)
{
    for (size_t i = 0; i < b->ndeclared; i++)
        if (strcmp(b->declared[i], queue) == 0)
            return 0;
    char key[256];
    snprintf(key, sizeof(key), "_kombu.binding.%s", queue);
    struct sb m;
    sb_init(&m);
    sb_puts(&m, queue);
    sb_puts(&m, "\x06\x16\x06\x16");
    sb_puts(&m, queue);
    const char *argv[] = {"SADD", key, sb_str(&m)};
    size_t lens[] = {4, strlen(key), m.len};
    redisReply *rep = run(b, &b->broker, 3, argv, lens);
    sb_release(&m);
    if (!rep)
        return ERR_IO;
    freeReplyObject(rep);
    b->declared = xrealloc(b->declared, (b->ndeclared + 1) * sizeof(*b->declared));
    b->declared[b->ndeclared++] = xstrdup(queue);
    return 0;
}

int broker_publish(struct broker *b, const char *queue, int priority, const char *envelope)
{
    if (declare(b, queue) != 0)
        return ERR_IO;
    char *key = celery_queue_key(queue, priority);
    const char *argv[] = {"LPUSH", key, envelope};
    size_t lens[] = {5, strlen(key), strlen(envelope)};
    redisReply *rep = run(b, &b->broker, 3, argv, lens);
    free(key);
    if (!rep) {
        /* A reconnect forgets what was declared. */
        for (size_t i = 0; i < b->ndeclared; i++)
            free(b->declared[i]);
        b->ndeclared = 0;
        return ERR_IO;
    }
    freeReplyObject(rep);
    return 0;
}

static const char lease_publish_lua[] =
    "if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end\n"
    "redis.call('SADD', KEYS[3], ARGV[3])\n"
    "redis.call('LPUSH', KEYS[2], ARGV[4])\n"
    "redis.call('SET', KEYS[4], ARGV[5])\n"
    "local last = tonumber(redis.call('GET', KEYS[5]) or '0')\n"
    "if tonumber(ARGV[6]) > last then redis.call('SET', KEYS[5], ARGV[6]) end\n"
    "return 1\n";

int broker_lease_publish(struct broker *b, const char *lease_key, long long lease_ms,
                         const char *queue, int priority, const char *envelope,
                         const char *record_key, const char *task_record, const char *last_key,
                         long long slot)
{
    char *qkey = celery_queue_key(queue, priority);
    char binding[256], ms[24], slot_s[24];
    snprintf(binding, sizeof(binding), "_kombu.binding.%s", queue);
    snprintf(ms, sizeof(ms), "%lld", lease_ms);
    snprintf(slot_s, sizeof(slot_s), "%lld", slot);
    struct sb m;
    sb_init(&m);
    sb_puts(&m, queue);
    sb_puts(&m, "\x06\x16\x06\x16");
    sb_puts(&m, queue);
    const char *keys[] = {lease_key, qkey, binding, record_key, last_key};
    const char *args[] = {"1", ms, sb_str(&m), envelope, task_record, slot_s};
    int rc = eval_int(b, &b->broker, lease_publish_lua, 5, keys, 6, args, NULL);
    sb_release(&m);
    free(qkey);
    return rc;
}

static int get(struct broker *b, struct conn *c, const char *key, char **value)
{
    *value = NULL;
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    redisReply *rep = run(b, c, 2, argv, lens);
    if (!rep)
        return ERR_IO;
    if (rep->type == REDIS_REPLY_STRING)
        *value = xstrndup(rep->str, rep->len);
    freeReplyObject(rep);
    return 0;
}

int broker_get(struct broker *b, const char *key, char **value)
{
    return get(b, &b->broker, key, value);
}

int broker_get_result(struct broker *b, const char *task_id, char **value)
{
    char key[128];
    snprintf(key, sizeof(key), "celery-task-meta-%s", task_id);
    return get(b, result_conn(b), key, value);
}
