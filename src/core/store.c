/*
 * The release functions of the records that the store port (core/store.h) hands out. They
 * live in core, next to the declarations, so that core and its tests link without any
 * backend.
 */
#include "core/store.h"

#include <stdlib.h>
#include <string.h>

void provider_rec_release(struct provider_rec *r)
{
    if (r == NULL)
        return;
    free(r->id);
    free(r->name);
    free(r->status);
    free(r->health_status);
    json_decref(r->metadata);
    memset(r, 0, sizeof *r);
}

void provider_order_rec_release(struct provider_order_rec *r)
{
    if (r == NULL)
        return;
    free(r->id);
    free(r->order_id);
    free(r->order_item_id);
    free(r->provider_id);
    free(r->provider_name);
    free(r->service_id);
    free(r->service_action);
    free(r->currency);
    json_decref(r->payload);
    memset(r, 0, sizeof *r);
}

void schedule_claims_free(struct schedule_claim *c, size_t n)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(c[i].provider_order_id);
        free(c[i].entry_id);
        free(c[i].provider_id);
    }
    free(c);
}

void run_row_release(struct run_row *r)
{
    if (r == NULL)
        return;
    free(r->id);
    free(r->run_type);
    free(r->status);
    json_decref(r->summary);
    json_decref(r->metadata);
    memset(r, 0, sizeof *r);
}

void store_strv_free(char **v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
