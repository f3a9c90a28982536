/*
 * Placement claims of the SQLite backend (core/store.h, docs/STORAGE.md
 * "provider_order_placements"): one row per (order item, service) whose provider order a
 * process set out to place. A claim is one INSERT ... ON CONFLICT DO NOTHING in an immediate
 * transaction of its own, so it is committed (and every other connection sees it) before the
 * caller sends anything; finishing inserts the provider order row and moves the claim on in
 * one transaction. Like the other order queries, these run a few times per request and are
 * prepared per call.
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/store/sqlite_internal.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/uuid.h"

int sq_placement_claim(struct store *base, const struct placement_claim *c, int *claimed)
{
    struct sq_store *s = sq_of(base);
    char order[UUID_STRLEN + 1], item[UUID_STRLEN + 1];
    sqlite3_stmt *st = NULL;
    char *row = NULL;
    int own, rc, r;

    *claimed = 0;
    if (!c->order_id || uuid_parse(c->order_id, order) != 0 || !c->order_item_id ||
        uuid_parse(c->order_item_id, item) != 0 || !c->service_id || !c->owner ||
        !(row = store_json_dump(c->row))) {
        sq_fail(s, SQLITE_MISMATCH, "placement_claim: incomplete claim");
        return ERR_INVALID;
    }
    rc = sq_enter(s, &own);
    if (rc != 0)
        goto out;
    r = sqlite3_prepare_v2(sq_db(base),
                           "INSERT INTO provider_order_placements (order_item_id, service_id, "
                           "order_id, state, owner, claimed_us, lease_until_us, planned_row) "
                           "VALUES (?1, ?2, ?3, 'sending', ?4, ?5, ?6, ?7) "
                           "ON CONFLICT (order_item_id, service_id) DO NOTHING",
                           -1, &st, NULL);
    if (r != SQLITE_OK) {
        rc = sq_fail(s, r, "placement_claim");
    } else {
        sq_bind_text(st, 1, item);
        sq_bind_text(st, 2, c->service_id);
        sq_bind_text(st, 3, order);
        sq_bind_text(st, 4, c->owner);
        sqlite3_bind_int64(st, 5, c->claimed_us);
        sqlite3_bind_int64(st, 6, c->lease_until_us);
        sq_bind_text(st, 7, row);
        rc = sq_run(s, st, "placement_claim");
        if (rc == 0)
            *claimed = sqlite3_changes(sq_db(base)) == 1;
    }
    sqlite3_finalize(st);
    rc = sq_leave(s, own, rc);
    if (rc != 0)
        *claimed = 0;
out:
    free(row);
    return rc;
}

int sq_placement_finish(struct store *base, const char *order_item_id, const char *service_id,
                        const char *owner, const char *state, const json_t *row, int64_t now_us,
                        json_t **out)
{
    struct sq_store *s = sq_of(base);
    char item[UUID_STRLEN + 1];
    sqlite3_stmt *st = NULL;
    json_t *stored = NULL;
    int own, rc, r;

    *out = NULL;
    if (!order_item_id || uuid_parse(order_item_id, item) != 0 || !service_id || !owner || !state) {
        sq_fail(s, SQLITE_MISMATCH, "placement_finish: incomplete arguments");
        return ERR_INVALID;
    }
    rc = sq_enter(s, &own);
    if (rc != 0)
        return rc;
    rc = sq_provider_order_insert(base, row, now_us, &stored);
    if (rc != 0)
        goto leave;
    r = sqlite3_prepare_v2(sq_db(base),
                           "UPDATE provider_order_placements SET state = ?1, "
                           "provider_order_row_id = ?2, finished_us = ?3 "
                           "WHERE order_item_id = ?4 AND service_id = ?5 AND state = 'sending' "
                           "AND owner = ?6",
                           -1, &st, NULL);
    if (r != SQLITE_OK) {
        rc = sq_fail(s, r, "placement_finish");
        goto leave;
    }
    sq_bind_text(st, 1, state);
    sq_bind_text(st, 2, json_string_value(json_object_get(stored, "id")));
    sqlite3_bind_int64(st, 3, now_us);
    sq_bind_text(st, 4, item);
    sq_bind_text(st, 5, service_id);
    sq_bind_text(st, 6, owner);
    rc = sq_run(s, st, "placement_finish");
    if (rc == 0 && sqlite3_changes(sq_db(base)) != 1) {
        /* Someone else settled the claim (a sweep after our lease ran out): the row they
         * recorded stands, ours is rolled back. */
        sq_fail(s, SQLITE_CONSTRAINT,
                "placement_finish: the claim is not sending under this owner");
        rc = ERR_CONFLICT;
    }
leave:
    sqlite3_finalize(st);
    rc = sq_leave(s, own, rc);
    if (rc != 0)
        json_decref(stored);
    else
        *out = stored;
    return rc;
}

int sq_placement_stale(struct store *base, const char *order_id, int64_t now_us, size_t limit,
                       json_t **rows)
{
    struct sq_store *s = sq_of(base);
    char order[UUID_STRLEN + 1];
    sqlite3_stmt *st = NULL;
    int r, rc = 0;

    *rows = NULL;
    if (order_id && uuid_parse(order_id, order) != 0) {
        *rows = json_array(); /* no claim can belong to an id that is not a UUID */
        return 0;
    }
    r = sqlite3_prepare_v2(sq_db(base),
                           "SELECT order_id, order_item_id, service_id, owner, claimed_us, "
                           "lease_until_us, planned_row FROM provider_order_placements "
                           "WHERE state = 'sending' AND lease_until_us < ?1 "
                           "AND (?2 IS NULL OR order_id = ?2) "
                           "ORDER BY lease_until_us, order_item_id, service_id LIMIT ?3",
                           -1, &st, NULL);
    if (r != SQLITE_OK)
        return sq_fail(s, r, "placement_stale");
    sqlite3_bind_int64(st, 1, now_us);
    sq_bind_text(st, 2, order_id ? order : NULL);
    sqlite3_bind_int64(st, 3, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    json_t *out = json_array();
    static const char *const text_cols[] = {"order_id", "order_item_id", "service_id", "owner"};
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < 4; i++) {
            char *t = sq_col_text(st, i);
            json_object_set_new(o, text_cols[i], t ? json_string(t) : json_null());
            free(t);
        }
        json_object_set_new(o, "claimed_us", json_integer(sqlite3_column_int64(st, 4)));
        json_object_set_new(o, "lease_until_us", json_integer(sqlite3_column_int64(st, 5)));
        json_t *planned = sq_col_json(st, 6);
        json_object_set_new(o, "planned_row", planned ? planned : json_null());
        json_array_append_new(out, o);
    }
    if (r != SQLITE_DONE) {
        rc = sq_fail(s, r, "placement_stale");
        json_decref(out);
        out = NULL;
    }
    sqlite3_finalize(st);
    *rows = out;
    return rc;
}
