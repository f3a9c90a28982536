/*
 * Orders routes of the HTTP API (see api_routes.h). Not implemented yet: each answers 501.
 */
#include "app/api_routes.h"
#include "app/validate.h"

API_HANDLER(orders_list_for_provider)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(orders_by_order)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(orders_refill)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(orders_replay)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(orders_state_events)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(orders_create)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(orders_get)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(orders_update)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}
