/*
 * Placement claims of the PostgreSQL backend (core/store.h, docs/STORAGE.md
 * "provider_order_placements"): one row per (order item, service) whose provider order a
 * process set out to place. A claim is one INSERT ... ON CONFLICT DO NOTHING, which
 * autocommits outside a transaction, so it is durable before the caller sends anything; of
 * two concurrent inserts of the same key, the second waits for the first to commit and then
 * does nothing. Finishing inserts the provider order row and moves the claim on in one
 * transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "adapters/store/pg_internal.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/num.h"
#include "base/uuid.h"

int pg_placement_claim(struct store *base, const struct placement_claim *c, int *claimed)
{
    struct pg_store *s = pg_of(base);
    char order[UUID_STRLEN + 1], item[UUID_STRLEN + 1];
    char claimed_at[PG_I64_BUFSZ], lease[PG_I64_BUFSZ];
    PGresult *res = NULL;
    char *row = NULL;

    *claimed = 0;
    if (!c->order_id || uuid_parse(c->order_id, order) != 0 || !c->order_item_id ||
        uuid_parse(c->order_item_id, item) != 0 || !c->service_id || !c->owner ||
        !(row = store_json_dump(c->row))) {
        pg_set_err(s, "placement_claim", "incomplete claim");
        return ERR_INVALID;
    }
    const char *p[7] = {item,
                        c->service_id,
                        order,
                        c->owner,
                        i64_text(c->claimed_us, claimed_at),
                        i64_text(c->lease_until_us, lease),
                        row};
    int rc = pg_query(s, "placement_claim",
                      "INSERT INTO provider_order_placements (order_item_id, service_id, order_id, "
                      "state, owner, claimed_us, lease_until_us, planned_row) "
                      "VALUES ($1::uuid, $2::text, $3::uuid, 'sending', $4::text, $5::bigint, "
                      "$6::bigint, $7::json) "
                      "ON CONFLICT (order_item_id, service_id) DO NOTHING",
                      7, p, &res);
    if (rc == 0) {
        *claimed = strcmp(PQcmdTuples(res), "1") == 0;
        PQclear(res);
    }
    free(row);
    return rc;
}

int pg_placement_finish(struct store *base, const char *order_item_id, const char *service_id,
                        const char *owner, const char *state, const json_t *row, int64_t now_us,
                        json_t **out)
{
    struct pg_store *s = pg_of(base);
    char item[UUID_STRLEN + 1], now[PG_I64_BUFSZ];
    json_t *stored = NULL;
    PGresult *res = NULL;
    int own, rc;

    *out = NULL;
    if (!order_item_id || uuid_parse(order_item_id, item) != 0 || !service_id || !owner || !state) {
        pg_set_err(s, "placement_finish", "incomplete arguments");
        return ERR_INVALID;
    }
    rc = pg_enter(s, &own);
    if (rc != 0)
        return rc;
    rc = pg_provider_order_insert(base, row, now_us, &stored);
    if (rc == 0) {
        const char *p[6] = {state,
                            json_string_value(json_object_get(stored, "id")),
                            i64_text(now_us, now),
                            item,
                            service_id,
                            owner};
        rc = pg_query(s, "placement_finish",
                      "UPDATE provider_order_placements SET state = $1::text, "
                      "provider_order_row_id = $2::uuid, finished_us = $3::bigint "
                      "WHERE order_item_id = $4::uuid AND service_id = $5::text "
                      "AND state = 'sending' AND owner = $6::text",
                      6, p, &res);
    }
    if (rc == 0) {
        if (strcmp(PQcmdTuples(res), "1") != 0) {
            /* Someone else settled the claim (a sweep after our lease ran out): the row they
             * recorded stands, ours is rolled back. */
            pg_set_err(s, "placement_finish", "the claim is not sending under this owner");
            rc = ERR_CONFLICT;
        }
        PQclear(res);
    }
    rc = pg_leave(s, own, rc);
    if (rc != 0)
        json_decref(stored);
    else
        *out = stored;
    return rc;
}

int pg_placement_stale(struct store *base, const char *order_id, int64_t now_us, size_t limit,
                       json_t **rows)
{
    static const char *const text_cols[] = {"order_id", "order_item_id", "service_id", "owner"};
    struct pg_store *s = pg_of(base);
    char order[UUID_STRLEN + 1], now[PG_I64_BUFSZ], lim[PG_I64_BUFSZ];
    PGresult *res = NULL;

    *rows = NULL;
    if (order_id && uuid_parse(order_id, order) != 0) {
        *rows = json_array(); /* no claim can belong to an id that is not a UUID */
        return 0;
    }
    const char *p[3] = {i64_text(now_us, now), order_id ? order : NULL,
                        i64_text(limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit, lim)};
    int rc = pg_query(s, "placement_stale",
                      "SELECT order_id::text, order_item_id::text, service_id, owner, claimed_us, "
                      "lease_until_us, planned_row::text FROM provider_order_placements "
                      "WHERE state = 'sending' AND lease_until_us < $1::bigint "
                      "AND ($2::uuid IS NULL OR order_id = $2::uuid) "
                      "ORDER BY lease_until_us, order_item_id, service_id LIMIT $3::bigint",
                      3, p, &res);
    if (rc != 0)
        return rc;
    json_t *out = json_array();
    for (int r = 0; r < PQntuples(res); r++) {
        json_t *o = json_object();
        for (int i = 0; i < 4; i++)
            json_object_set_new(
                o, text_cols[i],
                json_stringn(PQgetvalue(res, r, i), (size_t)PQgetlength(res, r, i)));
        int64_t claimed_at = 0, lease = 0;
        num_parse_i64(PQgetvalue(res, r, 4), &claimed_at);
        num_parse_i64(PQgetvalue(res, r, 5), &lease);
        json_object_set_new(o, "claimed_us", json_integer(claimed_at));
        json_object_set_new(o, "lease_until_us", json_integer(lease));
        json_t *planned = pg_json(res, r, 6);
        json_object_set_new(o, "planned_row", planned ? planned : json_null());
        json_array_append_new(out, o);
    }
    PQclear(res);
    *rows = out;
    return 0;
}
