/*
 * The store port: everything the domain needs from the database, as one table of function
 * pointers. Two backends implement it, adapters/store/sqlite.c and adapters/store/pg.c, over
 * the same schema (INTERFACE.md §4 plus our own tables, see docs/STORAGE.md).
 *
 * Transactions: begin/commit/rollback bracket a write transaction (BEGIN IMMEDIATE on SQLite,
 * READ COMMITTED on PostgreSQL). Every other operation runs inside the open transaction when
 * there is one, and otherwise in a transaction of its own. Rows read with for_update are
 * locked until the end of the transaction (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
 * write transaction is exclusive already).
 *
 * The scheduled-replay index (our table provider_replay_schedule) holds one row per pending
 * `scheduledReplays` entry: its due time (derived from the payload) and its claim state
 * (pending, claimed, sending, with owner and lease). A trigger on fulfillment_provider_orders
 * marks a provider order "dirty" whenever its payload changes, whoever writes it; the worker
 * re-derives the index rows of dirty orders (schedule_replace), so entries that other programs
 * append are found without scanning every order.
 *
 * Times are microseconds since the Unix epoch, UTC. Strings returned in records are owned by
 * the record and freed by its _release function. json_t values follow jansson's reference
 * counting: records own one reference.
 */
#ifndef SMPLAT_CORE_STORE_H
#define SMPLAT_CORE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NO_TIME INT64_MIN

struct provider_rec {
    char *id;
    char *name;
    char *status;              /* "active" | "inactive" */
    char *health_status;       /* "unknown" | "healthy" | "degraded" | "offline" */
    json_t *metadata;          /* metadata_json, NULL when SQL NULL */
    int rate_limit_per_minute; /* -1 when NULL */
    int paused;                /* provider_guardrail_status.is_paused, 0 when no row */
};

struct provider_order_rec {
    char *id;
    char *order_id; /* may be NULL when the row has none */
    char *order_item_id;
    char *provider_id;
    char *provider_name; /* may be NULL */
    char *service_id;
    char *service_action; /* may be NULL */
    char *currency;       /* may be NULL */
    int has_amount;
    double amount;
    json_t *payload; /* NULL when SQL NULL */
    int64_t created_us;
    int64_t updated_us;
};

/* One pending scheduled entry of a payload, as core derives it. */
struct schedule_index_entry {
    const char *entry_id; /* borrowed */
    int64_t due_us;
    int reset_claim; /* 1: drop any claim on this entry (it was retried and is pending again) */
};

/* A claimed index row. */
struct schedule_claim {
    char *provider_order_id;
    char *entry_id;
    char *provider_id;
    int64_t due_us;
    int was_sending; /* the previous holder's lease ran out while its request was in flight */
    int lost;        /* set by schedule_settle: the row is no longer ours (another runner took
                      * it after our lease ran out), so it must not be sent */
};

/* A placement claim (our table provider_order_placements): the right to place the provider
 * order of one (order item, service), taken before the request is sent. */
struct placement_claim {
    const char *order_id;      /* borrowed */
    const char *order_item_id; /* borrowed */
    const char *service_id;    /* borrowed */
    const char *owner;         /* borrowed: the placing process */
    int64_t claimed_us;
    int64_t lease_until_us; /* past it, a claim still "sending" is presumed abandoned */
    const json_t *row;      /* borrowed: the provider order row to record (see
                             * provider_order_insert), payload without the provider's answer */
};

struct timeline_event {
    const char *order_id;
    const char *event_type; /* lowercase enum value, e.g. "replay_executed" */
    const char *actor_type; /* lowercase enum value or NULL */
    const char *actor_id;
    const char *actor_label;
    const char *from_status;
    const char *to_status;
    const char *notes;
    json_t *metadata; /* borrowed; NULL stores {} */
    int64_t created_us;
};

struct run_record {
    const char *run_type;      /* "replay" | "alert" */
    const char *status;        /* "success" | "partial" | "failed" */
    json_t *summary;           /* borrowed */
    json_t *metadata;          /* borrowed, NULL or empty object stores NULL */
    int64_t backlog_total;     /* -1 stores NULL */
    int64_t next_scheduled_us; /* STORE_NO_TIME stores NULL */
    int64_t alerts_sent;       /* -1 stores NULL */
    int64_t created_us;
};

/* A row of provider_automation_runs as read back. */
struct run_row {
    char *id;
    char *run_type;
    char *status;
    json_t *summary;
    json_t *metadata;          /* NULL when SQL NULL */
    int64_t backlog_total;     /* -1 when NULL */
    int64_t next_scheduled_us; /* STORE_NO_TIME when NULL */
    int64_t alerts_sent;       /* -1 when NULL */
    int64_t created_us;
};

/* What orders_list selects; NULL or 0 fields select everything. */
struct order_filter {
    const char *status;      /* orders.status equals it */
    const char *preset_id;   /* an item's selected_options presetId (or preset_id) equals it */
    const char *provider_id; /* a provider order of the order is on this provider */
    /* Keyset paging: only orders strictly older than (after_created_us, after_id) in the
     * listing order, when after_id is not NULL (a lowercase UUID). */
    int64_t after_created_us;
    const char *after_id;
};

struct store;

struct store_ops {
    const char *name; /* "sqlite" | "postgresql" */
    void (*close)(struct store *s);
    /* Text of the last failure, never NULL. */
    const char *(*last_error)(struct store *s);

    /* Creates or upgrades the schema (versioned; PostgreSQL under an advisory lock). */
    int (*migrate)(struct store *s);

    int (*begin)(struct store *s);
    int (*commit)(struct store *s);
    int (*rollback)(struct store *s);

    /* 0 and *out filled, or ERR_NOT_FOUND. */
    int (*provider_get)(struct store *s, const char *id, struct provider_rec *out);
    /* Loads a provider order by id, and by provider when provider_id is not NULL.
     * 0 and *out filled, or ERR_NOT_FOUND (also when id is not a valid UUID). */
    int (*order_get)(struct store *s, const char *id, const char *provider_id, int for_update,
                     struct provider_order_rec *out);
    /* Writes payload (serialised Python-style) and bumps updated_at. */
    int (*order_save_payload)(struct store *s, const char *id, const json_t *payload,
                              int64_t now_us);

    /* Ids of up to `limit` provider orders whose payload changed since their index rows were
     * last derived. In an open transaction on PostgreSQL the marks are locked (SKIP LOCKED),
     * so two runners never sync the same order at once. *ids is a NULL-free array of n owned
     * strings; free with store_strv_free. */
    int (*dirty_take)(struct store *s, size_t limit, char ***ids, size_t *n);
    /* Replaces the index rows of provider order po_id with entries[0..n): rows for entries
     * no longer listed are deleted, listed ones are inserted or get the new due time (their
     * claim is kept unless reset_claim). Clears the order's dirty mark. Call after
     * order_save_payload in the same transaction. */
    int (*schedule_replace)(struct store *s, const char *po_id, const char *provider_id,
                            const struct schedule_index_entry *entries, size_t n);
    /* Atomically claims up to `limit` index rows that are due (due_us <= now_us, past any
     * not-before), ordered by due time, and that are unclaimed or whose lease ran out; rows
     * of providers that exist and are inactive or paused are never claimed. Claimed rows get
     * state "claimed", owner and lease_until_us. Runs in its own transaction. */
    int (*schedule_claim)(struct store *s, const char *owner, int64_t now_us,
                          int64_t lease_until_us, size_t limit, struct schedule_claim **out,
                          size_t *n);
    /* After deciding on its claims, the owner moves `sending` rows to state "sending" with a
     * new lease, and puts `released` rows back to pending, not claimable before
     * not_before_us. Only rows still owned by `owner` change; a `sending` row that is not
     * ours any more gets lost = 1. Own transaction; durable before any request is sent. */
    int (*schedule_settle)(struct store *s, const char *owner, struct schedule_claim *sending,
                           size_t nsending, int64_t sending_lease_until_us,
                           const struct schedule_claim *released, size_t nreleased,
                           int64_t not_before_us);
    /* The backlog: every index row, and the smallest due time (STORE_NO_TIME if none). */
    int (*schedule_backlog)(struct store *s, int64_t *count, int64_t *next_due_us);
    /* Due index rows held back because their provider is inactive or paused. */
    int (*schedule_deferred)(struct store *s, int64_t now_us, int64_t *count);

    /* Fixed-window rate limit per provider: takes up to `want` of the `limit` requests of the
     * minute starting at window_start_us, returns how many were granted in *granted. */
    int (*rate_take)(struct store *s, const char *provider_id, int limit, int64_t window_start_us,
                     int want, int *granted);

    int (*timeline_insert)(struct store *s, const struct timeline_event *ev);
    int (*run_insert)(struct store *s, const struct run_record *run);
    /* Most recent runs of a type, newest first. *out is an array of n rows; free each with
     * run_row_release and the array with free(). */
    int (*run_list)(struct store *s, const char *run_type, size_t limit, struct run_row **out,
                    size_t *n);

    /* ---- Catalog (spec-api-ui §4.1-4.11; adapters/store/{sqlite,pg}_catalog.c) ----
     * Rows are JSON objects keyed by column name; JSON columns hold parsed values or null;
     * timestamp columns are integer microseconds (UTC) or null, under the column's name. */

    /* Every provider ordered by name, then id; each row carries "services" (its service rows
     * ordered by created_at, then id) and "balance" (its balance row or null). *rows is a new
     * array. */
    int (*providers_list)(struct store *s, json_t **rows);
    /* One provider row in the same shape; ERR_NOT_FOUND. */
    int (*provider_row)(struct store *s, const char *id, json_t **row);
    /* Inserts a provider from a row object (column -> value; absent columns take their
     * defaults); ERR_CONFLICT when the id exists. */
    int (*provider_insert)(struct store *s, const json_t *row, int64_t now_us);
    /* Sets the columns present in changes and updated_at; ERR_NOT_FOUND. */
    int (*provider_update)(struct store *s, const char *id, const json_t *changes, int64_t now_us);
    /* Deletes a provider with its services and balance; ERR_NOT_FOUND. */
    int (*provider_delete)(struct store *s, const char *id);
    /* A service of a provider; ERR_NOT_FOUND. */
    int (*service_row)(struct store *s, const char *provider_id, const char *id, json_t **row);
    /* ERR_CONFLICT when the id exists under any provider. */
    int (*service_insert)(struct store *s, const json_t *row, int64_t now_us);
    int (*service_update)(struct store *s, const char *provider_id, const char *id,
                          const json_t *changes, int64_t now_us);
    int (*service_delete)(struct store *s, const char *provider_id, const char *id);
    /* Upserts the provider's single balance row (balance_amount, currency, payload). */
    int (*balance_upsert)(struct store *s, const char *provider_id, const json_t *row,
                          int64_t retrieved_us);
    /* Up to limit cached platform contexts of a provider, newest last_seen_at first. */
    int (*platform_contexts)(struct store *s, const char *provider_id, size_t limit, json_t **rows);

    /* ---- Orders (spec-api-ui §4.12-4.15, 4.22, DECISIONS "Beyond";
     * adapters/store/{sqlite,pg}_orders.c), rows as above ---- */

    /* A provider's provider-order rows, newest created_at first, at most limit. */
    int (*provider_orders_list)(struct store *s, const char *provider_id, size_t limit,
                                json_t **rows);
    /* Provider-order rows of an order (any provider), newest first, at most limit. */
    int (*provider_orders_for_order)(struct store *s, const char *order_id, size_t limit,
                                     json_t **rows);
    /* Inserts a provider order row (id generated when absent); returns it in *row (new). */
    int (*provider_order_insert)(struct store *s, const json_t *row, int64_t now_us, json_t **out);
    /* Placement claims, one per (order item, service) (docs/STORAGE.md).
     * placement_claim inserts c in state "sending" unless a claim for its key exists:
     * *claimed is 1 when this call took it, 0 when someone else holds it (or placed it). Runs
     * in its own transaction when none is open, so the claim is durable before the caller
     * sends anything. */
    int (*placement_claim)(struct store *s, const struct placement_claim *c, int *claimed);
    /* Records a claim's outcome in one transaction: inserts the provider order row `row` and
     * moves the claim from "sending" under `owner` to `state` ("placed" or "unknown") with
     * the new row's id and finished time. ERR_CONFLICT, and nothing written, when the claim
     * is not "sending" under owner. *out is the stored row (new). */
    int (*placement_finish)(struct store *s, const char *order_item_id, const char *service_id,
                            const char *owner, const char *state, const json_t *row, int64_t now_us,
                            json_t **out);
    /* Claims still "sending" whose lease ended before now_us, of order_id or of every order
     * when it is NULL, oldest lease first, at most limit. *rows is a new array of objects
     * order_id, order_item_id, service_id, owner, claimed_us, lease_until_us, planned_row. */
    int (*placement_stale)(struct store *s, const char *order_id, int64_t now_us, size_t limit,
                           json_t **rows);
    /* An orders row with "items": its order_items rows; ERR_NOT_FOUND. */
    int (*order_row)(struct store *s, const char *order_id, json_t **row);
    /* Up to limit orders rows, each with "items" as order_row has them, newest first
     * (created_at desc, then id desc), that match every field set in f. *rows is new. */
    int (*orders_list)(struct store *s, const struct order_filter *f, size_t limit, json_t **rows);
    /* Inserts an order and its "items"; returns the stored row (with items) in *out. */
    int (*order_insert)(struct store *s, const json_t *order, int64_t now_us, json_t **out);
    /* Sets an order's status (and updated_at); ERR_NOT_FOUND. */
    int (*order_set_status)(struct store *s, const char *order_id, const char *status,
                            int64_t now_us);
    /* Timeline events of an order, newest first. */
    int (*timeline_list)(struct store *s, const char *order_id, json_t **rows);

    /* The embedded status store (table provider_automation_status): key -> JSON text. */
    int (*status_put)(struct store *s, const char *key, const char *value);
    /* 0 with *value owned (NULL when absent). */
    int (*status_get)(struct store *s, const char *key, char **value);
};

struct store {
    const struct store_ops *ops;
};

void provider_rec_release(struct provider_rec *r);
void provider_order_rec_release(struct provider_order_rec *r);
void schedule_claims_free(struct schedule_claim *c, size_t n);
void run_row_release(struct run_row *r);
void store_strv_free(char **v, size_t n);

#endif
