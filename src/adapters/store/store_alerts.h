/*
 * The alert worker's store port (core/alert_store.h) of an open store: the implementation
 * that matches its backend (adapters/store/sqlite_alerts.c, pg_alerts.c).
 */
#ifndef SMPLAT_ADAPTERS_STORE_STORE_ALERTS_H
#define SMPLAT_ADAPTERS_STORE_STORE_ALERTS_H

#include "core/alert_store.h"

extern const struct alert_store_ops store_sqlite_alert_ops;
extern const struct alert_store_ops store_pg_alert_ops;

/* The alert ops for s (dispatch on s->ops->name); NULL for an unknown backend. Static. */
const struct alert_store_ops *store_alert_ops(const struct store *s);

#endif
