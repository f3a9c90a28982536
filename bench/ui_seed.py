#!/usr/bin/python3
"""Seeds a migrated SQLite database for bench/ui_bench.sh: N providers (each with a service and
an order endpoint on an unroutable test host) and M provider orders spread over them, each
with its order and order item, a preset in the item's selected options and a few replay
entries in the payload. Usage: ui_seed.py DB_PATH PROVIDERS ORDERS"""
import json
import sqlite3
import sys
import uuid


def main():
    path, nprov, norders = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    con = sqlite3.connect(path)
    provs = []
    for i in range(nprov):
        pid = f"bench-{i:04d}"
        meta = {"automation": {"apiKey": f"k-{i}", "endpoints": {"order": {
            "method": "POST", "url": "https://provider.invalid/api/v2",
            "payload": {"service": "{{serviceId}}", "amount": "{{requestedAmount}}"}}}}}
        provs.append((pid, f"Bench Provider {i:04d}", "bench", json.dumps(meta), "active", "healthy", '["eu"]'))
    con.executemany("INSERT INTO fulfillment_providers (id, name, description, metadata_json, status, "
                    "health_status, allowed_regions) VALUES (?,?,?,?,?,?,?)", provs)
    con.executemany("INSERT INTO fulfillment_services (id, provider_id, name, action, category, "
                    "default_currency, status, health_status) VALUES (?,?,?,?,?,?,?,?)",
                    [(p[0] + "-svc", p[0], "Followers", "followers", "followers", "EUR", "active", "healthy")
                     for p in provs])
    orders, items, pos = [], [], []
    for n in range(norders):
        pid = provs[n % nprov][0]
        oid, iid, poid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        preset = f"preset-{n % 12}"
        orders.append((oid, f"B-{n:06d}", "processing", "checkout", "EUR", 12, 0, 12))
        items.append((iid, oid, "Growth", 1, 12, 12, json.dumps({"presetId": preset, "presetLabel": preset.title()})))
        payload = {"orderId": oid, "providerOrderId": f"R-{n}",
                   "serviceRules": [{"id": "rule-eu", "label": "EU audience", "priority": 1}],
                   "replays": [{"id": str(uuid.uuid4()), "status": "executed", "requestedAmount": 12.0,
                                "currency": "EUR", "performedAt": "2026-01-01T00:00:00+00:00",
                                "response": {"order": n}}],
                   "scheduledReplays": [{"id": str(uuid.uuid4()), "status": "scheduled", "requestedAmount": 12.0,
                                         "currency": "EUR", "scheduledFor": "2099-01-01T00:00:00+00:00"}],
                   "guardrails": {"minimumMarginPercent": 10, "warningMarginPercent": 40},
                   "providerCostAmount": 8.0}
        pos.append((poid, oid, iid, pid, provs[n % nprov][1], pid + "-svc", "followers", 12.0, "EUR", json.dumps(payload)))
    con.executemany("INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, total) "
                    "VALUES (?,?,?,?,?,?,?,?)", orders)
    con.executemany("INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, total_price, "
                    "selected_options) VALUES (?,?,?,?,?,?,?)", items)
    con.executemany("INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, "
                    "provider_name, service_id, service_action, amount, currency, payload) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)", pos)
    con.commit()
    con.close()


if __name__ == "__main__":
    main()
