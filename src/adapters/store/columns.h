/*
 * The columns of the catalog and order tables as both backends read and write them (the
 * schema of migrations 0001; spec-api-ui §5, spec-replay §1): rows travel between the store
 * and the API as JSON objects keyed by column name, and one description per table says how each
 * column is stored, so that selecting, inserting and updating share it. The SQL each kind
 * becomes is the backend's business (sqlite_catalog.c, sqlite_orders.c, pg_catalog.c,
 * pg_orders.c). Each table ends with a {NULL} sentinel.
 */
#ifndef SMPLAT_ADAPTERS_STORE_COLUMNS_H
#define SMPLAT_ADAPTERS_STORE_COLUMNS_H

#include <jansson.h>

enum col_kind {
    COL_TEXT, /* text or an enum's value */
    COL_UUID, /* uuid; lowercase hyphenated text on SQLite */
    COL_JSON, /* JSON; text on SQLite */
    COL_INT,  /* integer */
    COL_NUM,  /* NUMERIC; a JSON number */
    COL_TIME, /* timestamptz; ISO-8601 text on SQLite */
};

struct col {
    const char *name;
    enum col_kind kind;
};

extern const struct col provider_cols[]; /* fulfillment_providers */
extern const struct col service_cols[];  /* fulfillment_services */
extern const struct col balance_cols[];  /* fulfillment_provider_balances */
extern const struct col context_cols[];  /* provider_platform_context_cache (read columns) */
extern const struct col po_cols[];       /* fulfillment_provider_orders */
extern const struct col order_cols[];    /* orders */
extern const struct col item_cols[];     /* order_items */
extern const struct col event_cols[];    /* order_state_events */

/* Gives each provider row its "services" (the service rows with its provider_id, in their
 * order) and its "balance" (its balance row or null). */
void catalog_attach(json_t *providers, json_t *services, json_t *balances);

/* The column named name in cols, or NULL. */
const struct col *col_find(const struct col *cols, const char *name);

#endif
