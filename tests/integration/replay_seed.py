"""Seeding helpers for the replay integration tests: providers, orders and provider orders
written with plain SQL that both SQLite and PostgreSQL accept, the way another program would
write them."""

import json
import uuid


def q(value):
    """SQL literal of a Python value (None, str, number, dict/list as JSON text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


def order_endpoint(url, **extra):
    endpoint = {
        "method": "POST",
        "url": url,
        "headers": {"X-Api-Key": "{{apiKey}}"},
        "payload": {
            "order": "{{providerOrderId}}",
            "link": "{{link}}",
            "amount": "{{requestedAmount}}",
            "service": "{{serviceId}}",
        },
        "timeoutSeconds": 2,
    }
    endpoint.update(extra)
    return endpoint


def provider_sql(pid, url, status="active", rate_limit=None, **endpoint_extra):
    metadata = {
        "automation": {"apiKey": "k-" + pid, "endpoints": {"order": order_endpoint(url, **endpoint_extra)}}
    }
    return (
        "INSERT INTO fulfillment_providers (id, name, metadata_json, status, rate_limit_per_minute) "
        f"VALUES ({q(pid)}, {q('Provider ' + pid)}, {q(metadata)}, {q(status)}, {q(rate_limit)});\n"
    )


def provider_order_sql(provider_id, entries, link, amount=12.5, remote="R-1", extra_payload=None):
    """An order, its item and one provider order whose payload carries `entries` as
    scheduledReplays. Returns (sql, provider_order_id, order_id)."""
    order_id, item_id, po_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    payload = {
        "orderId": order_id,
        "link": link,
        "providerOrderId": remote,
        "serviceRules": [{"id": "rule-a", "label": "Rule A", "priority": 2}],
        "scheduledReplays": entries,
    }
    if extra_payload:
        payload.update(extra_payload)
    sql = (
        f"INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, total) "
        f"VALUES ({q(order_id)}, {q('N-' + order_id[:12])}, 'processing', 'checkout', 'EUR', 10, 0, 10);\n"
        f"INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, total_price) "
        f"VALUES ({q(item_id)}, {q(order_id)}, 'Product', 1, 10, 10);\n"
        "INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, "
        "provider_name, service_id, service_action, amount, currency, payload) VALUES ("
        f"{q(po_id)}, {q(order_id)}, {q(item_id)}, {q(provider_id)}, {q('Provider ' + provider_id)}, "
        f"'svc-1', 'followers', {q(amount)}, 'EUR', {q(payload)});\n"
    )
    return sql, po_id, order_id


def entry(when, amount=None, entry_id=None, status="scheduled"):
    e = {"requestedAmount": amount, "currency": "EUR", "scheduledFor": when, "status": status}
    if entry_id is not False:
        e["id"] = entry_id or str(uuid.uuid4())
    return e


PAST = "2020-01-01T00:00:00+00:00"
FUTURE = "2099-01-01T00:00:00+00:00"
