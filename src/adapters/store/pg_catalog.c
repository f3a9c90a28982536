/*
 * Catalog queries of the pg backend (core/store.h). Not implemented yet.
 */
#include "adapters/store/pg_internal.h"

#include "base/error.h"

int pg_providers_list(struct store *s, json_t **rows)
{
    (void)s;
    (void)rows;
    return ERR_INVALID;
}

int pg_provider_row(struct store *s, const char *id, json_t **row)
{
    (void)s;
    (void)id;
    (void)row;
    return ERR_INVALID;
}

int pg_provider_insert(struct store *s, const json_t *row, int64_t now_us)
{
    (void)s;
    (void)row;
    (void)now_us;
    return ERR_INVALID;
}

int pg_provider_update(struct store *s, const char *id, const json_t *changes, int64_t now_us)
{
    (void)s;
    (void)id;
    (void)changes;
    (void)now_us;
    return ERR_INVALID;
}

int pg_provider_delete(struct store *s, const char *id)
{
    (void)s;
    (void)id;
    return ERR_INVALID;
}

int pg_service_row(struct store *s, const char *provider_id, const char *id, json_t **row)
{
    (void)s;
    (void)provider_id;
    (void)id;
    (void)row;
    return ERR_INVALID;
}

int pg_service_insert(struct store *s, const json_t *row, int64_t now_us)
{
    (void)s;
    (void)row;
    (void)now_us;
    return ERR_INVALID;
}

int pg_service_update(struct store *s, const char *provider_id, const char *id,
                      const json_t *changes, int64_t now_us)
{
    (void)s;
    (void)provider_id;
    (void)id;
    (void)changes;
    (void)now_us;
    return ERR_INVALID;
}

int pg_service_delete(struct store *s, const char *provider_id, const char *id)
{
    (void)s;
    (void)provider_id;
    (void)id;
    return ERR_INVALID;
}

int pg_balance_upsert(struct store *s, const char *provider_id, const json_t *row,
                      int64_t retrieved_us)
{
    (void)s;
    (void)provider_id;
    (void)row;
    (void)retrieved_us;
    return ERR_INVALID;
}

int pg_platform_contexts(struct store *s, const char *provider_id, size_t limit, json_t **rows)
{
    (void)s;
    (void)provider_id;
    (void)limit;
    (void)rows;
    return ERR_INVALID;
}
