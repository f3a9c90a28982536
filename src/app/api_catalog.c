/*
 * Catalog routes of the HTTP API (see api_routes.h). Not implemented yet: each answers 501.
 */
#include "app/api_routes.h"
#include "app/validate.h"

API_HANDLER(catalog_list_providers)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_platform_contexts)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_get_provider)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_refresh_balance)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_create_provider)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_update_provider)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_delete_provider)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_create_service)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_get_service)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_update_service)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}

API_HANDLER(catalog_delete_service)
{
    (void)ctx;
    (void)req;
    (void)p;
    reply_detail(rep, 501, "Not implemented yet");
}
