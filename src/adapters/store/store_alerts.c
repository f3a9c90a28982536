/*
 * Which implementation of the alert worker's store port (core/alert_store.h) serves a store:
 * the one of its backend, chosen by the backend's name so that neither backend's main file
 * needs to know about it.
 */
#include "adapters/store/store_alerts.h"

#include <string.h>

const struct alert_store_ops *store_alert_ops(const struct store *s)
{
    if (s == NULL || s->ops == NULL || s->ops->name == NULL)
        return NULL;
    if (strcmp(s->ops->name, "sqlite") == 0)
        return &store_sqlite_alert_ops;
    if (strcmp(s->ops->name, "postgresql") == 0)
        return &store_pg_alert_ops;
    return NULL;
}
