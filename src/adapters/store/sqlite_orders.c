/*
 * Orders queries of the sqlite backend (core/store.h). Not implemented yet.
 */
#include "adapters/store/sqlite_internal.h"

#include "base/error.h"

int sq_provider_orders_list(struct store *s, const char *provider_id, size_t limit, json_t **rows)
{
    (void)s;
    (void)provider_id;
    (void)limit;
    (void)rows;
    return ERR_INVALID;
}

int sq_provider_orders_for_order(struct store *s, const char *order_id, size_t limit, json_t **rows)
{
    (void)s;
    (void)order_id;
    (void)limit;
    (void)rows;
    return ERR_INVALID;
}

int sq_provider_order_insert(struct store *s, const json_t *row, int64_t now_us, json_t **out)
{
    (void)s;
    (void)row;
    (void)now_us;
    (void)out;
    return ERR_INVALID;
}

int sq_order_row(struct store *s, const char *order_id, json_t **row)
{
    (void)s;
    (void)order_id;
    (void)row;
    return ERR_INVALID;
}

int sq_order_insert(struct store *s, const json_t *order, int64_t now_us, json_t **out)
{
    (void)s;
    (void)order;
    (void)now_us;
    (void)out;
    return ERR_INVALID;
}

int sq_order_set_status(struct store *s, const char *order_id, const char *status, int64_t now_us)
{
    (void)s;
    (void)order_id;
    (void)status;
    (void)now_us;
    return ERR_INVALID;
}

int sq_timeline_list(struct store *s, const char *order_id, json_t **rows)
{
    (void)s;
    (void)order_id;
    (void)rows;
    return ERR_INVALID;
}
