/*
 * The route handlers of the HTTP API, one group per file:
 *   api_automation.c  snapshot, status, history, replay/alerts "run now"
 *   api_catalog.c     providers and services CRUD, balance refresh, platform contexts
 *   api_orders.c      provider orders, refill, replay, order intake, the order queue, state events
 *   api_followups.c   guardrail follow-ups (record, list)
 * Every handler has the signature of struct route's handle; ctx is the struct api.
 */
#ifndef SMPLAT_APP_API_ROUTES_H
#define SMPLAT_APP_API_ROUTES_H

#include <jansson.h>

#include "adapters/http_server/router.h"
#include "app/api.h"

#define API_HANDLER(name)                                                                          \
    void name(void *ctx, const struct http_req *req, const struct route_params *p,                 \
              struct http_reply *rep)

/* api_automation.c */
API_HANDLER(automation_snapshot);
API_HANDLER(automation_status);
API_HANDLER(automation_history);
API_HANDLER(automation_replay_run);
API_HANDLER(automation_alerts_run);

/* api_reporting.c */
API_HANDLER(reporting_blueprint_metrics);

/* api_followups.c */
API_HANDLER(followups_record);
API_HANDLER(followups_list);

/* api_catalog.c */
API_HANDLER(catalog_list_providers);
API_HANDLER(catalog_platform_contexts);
API_HANDLER(catalog_get_provider);
API_HANDLER(catalog_refresh_balance);
API_HANDLER(catalog_create_provider);
API_HANDLER(catalog_update_provider);
API_HANDLER(catalog_delete_provider);
API_HANDLER(catalog_create_service);
API_HANDLER(catalog_get_service);
API_HANDLER(catalog_update_service);
API_HANDLER(catalog_delete_service);

/* api_orders.c */
API_HANDLER(orders_list_for_provider);
API_HANDLER(orders_by_order);
API_HANDLER(orders_refill);
API_HANDLER(orders_replay);
API_HANDLER(orders_state_events);
API_HANDLER(orders_create);
API_HANDLER(orders_get);
API_HANDLER(orders_list);
API_HANDLER(orders_update);

/* Shared by the handlers (api_automation.c). */
/* A typed datetime field: ISO-8601 with "Z" (spec-api-ui §1.3). New reference. */
json_t *api_time(int64_t us);

#endif
