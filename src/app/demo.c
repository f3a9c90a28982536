/*
 * Demo data for `smplat demo` (what `make run` starts): two providers whose
 * order endpoints point at the built-in demo provider of this same server (an
 * SMM "API v2" style panel with form encoding, and a JSON API), services,
 * orders with presets, and provider orders with scheduled replays spread over
 * the next minutes, so a newcomer sees replays, history and status move within
 * a minute. Seeding happens once: it is skipped when the demo providers exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/store/store_open.h"
#include "app/api.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "base/uuid.h"

static void sql_provider(struct sb *sql, const char *id, const char *name, int port, int form)
{
    sb_printf(sql,
              "INSERT INTO fulfillment_providers (id, name, description, base_url, "
              "allowed_regions, metadata_json, rate_limit_per_minute, status, "
              "health_status) "
              "VALUES ('%s', '%s', 'Built-in demo provider served by smplat demo', "
              "'http://127.0.0.1:%d/demo-provider', '[\"eu\", \"us\"]', "
              "'{\"automation\": "
              "{\"apiKey\": \"demo-key\", \"endpoints\": {\"order\": {\"method\": "
              "\"POST\", "
              "\"url\": \"http://127.0.0.1:%d/demo-provider/api/v2\", %s\"payload\": "
              "{\"key\": "
              "\"{{apiKey}}\", \"action\": \"add\", \"service\": "
              "\"{{serviceAction}}\", \"link\": "
              "\"{{link}}\", \"quantity\": \"{{quantity}}\", \"amount\": "
              "\"{{requestedAmount}}\"}, \"errorPath\": \"error\", \"timeoutSeconds\": "
              "5, "
              "\"response\": {\"providerOrderIdPath\": \"order\"}}}}}', 120, 'active', "
              "'healthy');\n",
              id, name, port, port, form ? "\"encoding\": \"form\", " : "");
    sb_printf(sql,
              "INSERT INTO fulfillment_services (id, provider_id, name, action, "
              "category, "
              "default_currency, status, health_status) VALUES ('%s-followers', '%s', "
              "'Followers (demo)', 'followers_demo', 'followers', 'EUR', 'active', "
              "'healthy');\n",
              id, id);
}

static void iso_in(int64_t now, int64_t offset_s, char out[ISO_BUFSZ])
{
    iso_format_utc(now + offset_s * 1000000LL, out);
}

int demo_seed(struct store *s, int port, char **error)
{
    char *exists = NULL;
    if (store_query_value(s, "SELECT id FROM fulfillment_providers WHERE id = 'demo-panel'",
                          &exists) != 0) {
        *error = xstrdup(s->ops->last_error(s));
        return ERR_DB;
    }
    if (exists) {
        free(exists);
        return 0;
    }
    struct sb sql = SB_INIT;
    sql_provider(&sql, "demo-panel", "Demo SMM Panel", port, 1);
    sql_provider(&sql, "demo-growth", "Demo Growth API", port, 0);
    int64_t now = time_now_us();
    static const char *const links[] = {"https://instagram.com/demo.brand",
                                        "https://tiktok.com/@demo.creator",
                                        "https://youtube.com/@demo.channel"};
    /* Scheduled replays due now, within the first minute, and later. */
    static const int offsets[][3] = {{-60, 30, 600}, {-5, 45, 1800}, {10, 240, 3600}};
    for (int i = 0; i < 3; i++) {
        char order[UUID_STRLEN + 1], item[UUID_STRLEN + 1], po[UUID_STRLEN + 1];
        uuid4(order);
        uuid4(item);
        uuid4(po);
        const char *provider = i == 1 ? "demo-growth" : "demo-panel";
        sb_printf(&sql,
                  "INSERT INTO orders (id, order_number, status, source, currency, "
                  "subtotal, "
                  "tax, total) VALUES ('%s', 'DEMO-%04d', 'processing', "
                  "'checkout', 'EUR', 49.0, "
                  "0, 49.0);\n",
                  order, 1001 + i);
        sb_printf(&sql,
                  "INSERT INTO order_items (id, order_id, product_title, quantity, "
                  "unit_price, "
                  "total_price, selected_options) VALUES ('%s', '%s', 'Growth "
                  "Starter', 1, 49.0, "
                  "49.0, '{\"presetId\": \"preset-starter\", \"presetLabel\": "
                  "\"Starter\", "
                  "\"addOns\": [{\"id\": \"addon-followers\", \"pricingMode\": "
                  "\"serviceOverride\", \"serviceId\": \"%s-followers\", "
                  "\"pricingAmount\": "
                  "12.5}]}');\n",
                  item, order, provider);
        char a[ISO_BUFSZ], b[ISO_BUFSZ], c[ISO_BUFSZ];
        iso_in(now, offsets[i][0], a);
        iso_in(now, offsets[i][1], b);
        iso_in(now, offsets[i][2], c);
        char s1[UUID_STRLEN + 1], s2[UUID_STRLEN + 1], s3[UUID_STRLEN + 1];
        uuid4(s1);
        uuid4(s2);
        uuid4(s3);
        sb_printf(&sql,
                  "INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, "
                  "provider_id, provider_name, service_id, service_action, amount, "
                  "currency, "
                  "payload) VALUES ('%s', '%s', '%s', '%s', '%s', '%s-followers', "
                  "'followers_demo', 12.5, 'EUR', '{\"orderId\": \"%s\", "
                  "\"orderItemId\": "
                  "\"%s\", \"link\": \"%s\", \"quantity\": %d, \"requestedAmount\": "
                  "12.5, "
                  "\"providerOrderId\": \"%d\", \"serviceRules\": [{\"id\": \"rule-eu\", "
                  "\"label\": \"EU audience\", \"priority\": 1}], \"scheduledReplays\": ["
                  "{\"id\": \"%s\", \"requestedAmount\": 12.5, \"currency\": \"EUR\", "
                  "\"scheduledFor\": \"%s\", \"status\": \"scheduled\"}, "
                  "{\"id\": \"%s\", \"requestedAmount\": 10.0, \"currency\": \"EUR\", "
                  "\"scheduledFor\": \"%s\", \"status\": \"scheduled\"}, "
                  "{\"id\": \"%s\", \"requestedAmount\": null, \"currency\": \"EUR\", "
                  "\"scheduledFor\": \"%s\", \"status\": \"scheduled\"}]}');\n",
                  po, order, item, provider, i == 1 ? "Demo Growth API" : "Demo SMM Panel",
                  provider, order, item, links[i], 500 * (i + 1), 90000 + i, s1, a, s2, b, s3, c);
    }
    int rc = s->ops->begin(s);
    if (rc == 0)
        rc = store_exec_sql(s, sb_str(&sql));
    if (rc == 0)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    sb_release(&sql);
    if (rc != 0) {
        *error = xstrdup(s->ops->last_error(s));
        return ERR_DB;
    }
    return 0;
}
