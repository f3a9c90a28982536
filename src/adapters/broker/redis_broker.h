/*
 * Celery's Redis broker and result backend as kombu lays them out
 * (docs/CELERY.md): queue lists with priority buckets, the `unacked` hash and
 * `unacked_index` zset, restore of timed-out messages under `unacked_mutex`,
 * and `celery-task-meta-<id>` results. One `struct broker` is one pair of
 * connections and is not thread-safe: each thread makes its own.
 *
 * Every state change that kombu does in two steps with a window between them
 * is one Lua script here: take-and-record-unacked, store-result-and-ack,
 * requeue, dead-letter, and beat's lease-and-publish.
 *
 * Connections are made lazily and dropped on any error, so the next call
 * reconnects: a Redis restart heals by itself. Functions return 0 (or a count)
 * or ERR_IO with broker_last_error set.
 */
#ifndef SMPLAT_ADAPTERS_BROKER_REDIS_BROKER_H
#define SMPLAT_ADAPTERS_BROKER_REDIS_BROKER_H

#include <stddef.h>
#include <stdint.h>

struct broker;

/* broker_url: redis://...; result_url: the result backend, NULL or equal to
 * broker_url for the same server. NULL with *error (owned). */
struct broker *broker_new(const char *broker_url, const char *result_url, char **error);
void broker_free(struct broker *b);
const char *broker_last_error(const struct broker *b);
/* Connects now (else the first call does). 0 or ERR_IO. */
int broker_ping(struct broker *b);

/* A message taken off a queue, already recorded in `unacked`. */
struct broker_delivery {
    char *key; /* the list it came from (owned) */
    char *raw; /* envelope bytes (owned), NUL-terminated */
    size_t len;
    long long count; /* deliveries of this delivery_tag so far; -1: no tag, not recorded */
};
void broker_delivery_release(struct broker_delivery *d);

/* Takes one message from the first non-empty key (RPOP) and records it as
 * unacked in the same step. 1 with *out, 0 when every key is empty, ERR_IO. */
int broker_take(struct broker *b, char *const *keys, size_t nkeys, struct broker_delivery *out);
/* Blocks up to timeout seconds until key is non-empty, without taking
 * anything. 0 or ERR_IO. */
int broker_wait(struct broker *b, const char *key, double timeout);

/* Stores a result meta (SETEX + PUBLISH, skipped when the stored status is
 * already SUCCESS) and acks tag, in one step. meta NULL: ack only; tag NULL:
 * store only. expires_s 0: no expiry. 1 when written, 0 when skipped,
 * ERR_IO. */
int broker_finish(struct broker *b, const char *task_id, const char *meta, int expires_s,
                  const char *tag);
/* Puts an unacked message back on dest_key (LPUSH when leftmost, else RPUSH)
 * and removes it from `unacked`, if it is still there. uncount: this delivery
 * did not run (undo its delivery count). 1 moved, 0 gone, ERR_IO. */
int broker_requeue(struct broker *b, const char *tag, const char *dest_key, const char *envelope,
                   int leftmost, int uncount);
/* Moves an unacked message to the dead-letter list and acks it. */
int broker_dead_letter(struct broker *b, const char *tag, const char *raw, size_t len,
                       const char *dead_letter_key);
/* Refreshes the unacked_index score of messages we hold (ZADD XX now) so a
 * restore never takes them from a live worker. */
int broker_refresh(struct broker *b, char *const *tags, size_t n);
/* kombu's restore_visible: under unacked_mutex, puts every message unacked for
 * longer than visibility_timeout back on its queue (priority bucket kept) with
 * redelivered set. Returns the number restored, 0 when another process holds
 * the mutex, or ERR_IO. */
int broker_restore_visible(struct broker *b, int visibility_timeout);

/* SADD of the kombu binding of queue (once per connection) and LPUSH of the
 * envelope into the bucket of priority. */
int broker_publish(struct broker *b, const char *queue, int priority, const char *envelope);

/* Beat: if lease_key is free, takes it for lease_ms and publishes envelope
 * onto queue, records task_record under record_key and raises last_key to
 * slot, all in one step. 1 published, 0 the lease was taken, ERR_IO. */
int broker_lease_publish(struct broker *b, const char *lease_key, long long lease_ms,
                         const char *queue, int priority, const char *envelope,
                         const char *record_key, const char *task_record, const char *last_key,
                         long long slot);
/* GET on the broker connection; *value NULL when missing. */
int broker_get(struct broker *b, const char *key, char **value);
/* GET on the result backend connection. */
int broker_get_result(struct broker *b, const char *task_id, char **value);

#endif
