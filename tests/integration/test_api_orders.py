"""The orders part of the HTTP API, black box, on SQLite and PostgreSQL: provider-order
listings, replay now and later, refill, the order timeline, order intake with provider-order
placement, and the automation snapshot. `smplat serve` runs against a migrated database seeded
with plain SQL; a mock provider plays the provider's endpoints."""

import http.client
import json
import urllib.parse
import uuid

import pytest

from harness import Delay, Json, Status, db_exec, db_query
from replay_seed import FUTURE, PAST, q

ENV = {"PROVIDER_ALLOW_PRIVATE_NETWORKS": "true"}
P = "/api/v1/fulfillment/providers"

PO_KEYS = {"id", "providerId", "providerName", "serviceId", "serviceAction", "orderId",
           "orderItemId", "amount", "currency", "providerOrderId", "payload", "createdAt",
           "updatedAt", "refills", "replays", "scheduledReplays"}
REPLAY_KEYS = {"id", "requestedAmount", "currency", "performedAt", "scheduledFor", "status",
               "response", "ruleIds", "ruleMetadata"}
REFILL_KEYS = {"id", "amount", "currency", "performedAt", "response"}
EVENT_KEYS = {"id", "eventType", "actorType", "actorId", "actorLabel", "fromStatus", "toStatus",
              "notes", "metadata", "createdAt"}


class Api:
    def __init__(self, svc, db):
        self.svc, self.db = svc, db
        self.host, self.port = "127.0.0.1", svc.port

    def call(self, method, path, body=None, raw=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {}
        data = raw
        if body is not None:
            data = json.dumps(body)
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            return r.status, json.loads(text) if text else None
        except ValueError:
            return r.status, text

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None, raw=None):
        return self.call("POST", path, body, raw)


def endpoint(url, payload=None, **extra):
    e = {"method": "POST", "url": url, "headers": {"X-Api-Key": "{{apiKey}}"},
         "payload": payload or {"order": "{{providerOrderId}}", "amount": "{{requestedAmount}}"},
         "timeoutSeconds": 5}
    e.update(extra)
    return e


def provider_sql(pid, name, endpoints, status="active"):
    meta = {"automation": {"apiKey": "k-" + pid, "endpoints": endpoints}}
    return (f"INSERT INTO fulfillment_providers (id, name, metadata_json, status) "
            f"VALUES ({q(pid)}, {q(name)}, {q(meta)}, {q(status)});\n")


def service_sql(sid, pid, action="followers", metadata=None):
    return (f"INSERT INTO fulfillment_services (id, provider_id, name, action, metadata_json) "
            f"VALUES ({q(sid)}, {q(pid)}, {q('Service ' + sid)}, {q(action)}, "
            f"{q(metadata or {})});\n")


def order_sql(order_id=None, status="processing"):
    order_id = order_id or str(uuid.uuid4())
    item_id = str(uuid.uuid4())
    sql = (f"INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, total) "
           f"VALUES ({q(order_id)}, {q('N-' + order_id[:12])}, {q(status)}, 'checkout', 'EUR', 10, 0, 10);\n"
           f"INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, total_price) "
           f"VALUES ({q(item_id)}, {q(order_id)}, 'Product', 1, 10, 10);\n")
    return sql, order_id, item_id


def po_sql(provider_id, order_id, item_id, payload, amount=12.5, created="2025-01-01T00:00:00+00:00",
           service_id="svc-1", po_id=None):
    po_id = po_id or str(uuid.uuid4())
    sql = ("INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, "
           "provider_name, service_id, service_action, amount, currency, payload, created_at, "
           f"updated_at) VALUES ({q(po_id)}, {q(order_id)}, {q(item_id)}, {q(provider_id)}, "
           f"{q('Provider ' + provider_id)}, {q(service_id)}, 'followers', {q(amount)}, 'EUR', "
           f"{q(payload)}, {q(created)}, {q(created)});\n")
    return sql, po_id


def payload_of(db, po_id):
    p = db_query(db, "SELECT payload FROM fulfillment_provider_orders WHERE id = ?", [po_id])[0]["payload"]
    return json.loads(p) if isinstance(p, str) else p


def events_of(db, order_id):
    return db_query(db, "SELECT event_type, actor_type, actor_id, actor_label, notes, metadata "
                        "FROM order_state_events WHERE order_id = ? ORDER BY created_at", [order_id])


@pytest.fixture
def api(migrated_db, service):
    svc = service(["smplat", "serve"], db_url=migrated_db, env=ENV)
    return Api(svc, migrated_db)


def seed_one(api, mock_provider, payload=None, endpoints=None, pid="p1"):
    """A provider with order and refill endpoints on the mock, an order and one provider order."""
    mock_provider.on("/order", Json({"order": "NEW-1", "status": "ok"}))
    mock_provider.on("/refill", Json({"refill": "RF-1"}))
    eps = endpoints if endpoints is not None else {
        "order": endpoint(mock_provider.url_for("/order")),
        "refill": endpoint(mock_provider.url_for("/refill"),
                           payload={"order": "{{providerOrderId}}", "amount": "{{amount}}"}),
    }
    osql, order_id, item_id = order_sql()
    if payload is None:
        payload = {"orderId": order_id, "providerOrderId": "R-1",
                   "serviceRules": [{"id": "rule-a", "label": "Rule A"}]}
    psql, po_id = po_sql(pid, order_id, item_id, payload)
    db_exec(api.db, provider_sql(pid, "Provider " + pid, eps) + osql + psql)
    return po_id, order_id


# ---- listings ----

def test_provider_orders_listing(api):
    osql, order_id, item_id = order_sql()
    good_refill = {"id": "rf1", "amount": 5, "currency": "EUR", "performedAt": "2025-01-02T00:00:00+00:00",
                   "response": {"ok": 1}}
    payload = {
        "providerOrderId": "R-9",
        "refills": [good_refill, {"id": "rf2"}, "junk", {"performedAt": "2025-01-02T00:00:00Z"}],
        "replays": [{"id": "r1", "requestedAmount": "7.5", "performedAt": "2025-01-02T01:00:00.500000+00:00",
                     "response": {}},
                    {"id": "r2", "status": "weird"}, {"status": "failed"}, 3],
        "scheduled_replays": [{"id": "s1", "status": "scheduled", "scheduledFor": "2025-02-01T10:00:00+02:00"}],
    }
    older, po_old = po_sql("p1", order_id, item_id, payload, created="2025-01-01T00:00:00+00:00")
    newer, po_new = po_sql("p1", order_id, item_id, None, amount=None, created="2025-01-03T00:00:00+00:00")
    other, _ = po_sql("p2", order_id, item_id, {}, created="2025-01-04T00:00:00+00:00")
    db_exec(api.db, provider_sql("p1", "Provider 1", {}) + osql + older + newer + other)

    status, body = api.get(f"{P}/p1/orders")
    assert status == 200
    assert [o["id"] for o in body] == [po_new, po_old]
    for o in body:
        assert set(o) == PO_KEYS
    new, old = body
    assert new["amount"] is None and new["payload"] is None and new["providerOrderId"] is None
    assert new["refills"] == [] and new["replays"] == [] and new["scheduledReplays"] == []
    assert old["amount"] == 12.5 and old["providerOrderId"] == "R-9"
    assert old["createdAt"] == "2025-01-01T00:00:00Z"
    assert old["orderId"] == order_id and old["orderItemId"] == item_id
    assert old["providerName"] == "Provider p1" and old["serviceAction"] == "followers"
    assert old["refills"] == [{"id": "rf1", "amount": 5.0, "currency": "EUR",
                               "performedAt": "2025-01-02T00:00:00Z", "response": {"ok": 1}}]
    [replay] = old["replays"]  # malformed entries are skipped (DECISIONS 14)
    assert set(replay) == REPLAY_KEYS
    assert replay["status"] == "executed" and replay["requestedAmount"] == 7.5
    assert replay["performedAt"] == "2025-01-02T01:00:00.5Z" and replay["scheduledFor"] is None
    [sched] = old["scheduledReplays"]
    assert sched["status"] == "scheduled" and sched["scheduledFor"] == "2025-02-01T10:00:00+02:00"
    assert old["payload"]["refills"][1] == {"id": "rf2"}  # the payload itself is untouched

    assert [o["id"] for o in api.get(f"{P}/p1/orders?limit=1")[1]] == [po_new]
    assert api.get(f"{P}/p1/orders/")[0] == 200
    for bad in ("0", "251", "x"):
        status, body = api.get(f"{P}/p1/orders?limit={bad}")
        assert status == 422 and body["detail"][0]["loc"] == ["query", "limit"]
    assert api.get(f"{P}/nope/orders") == (404, {"detail": "Provider not found"})
    assert api.post(f"{P}/p1/orders", {}) == (405, {"detail": "Method Not Allowed"})


def test_provider_orders_by_order(api):
    osql, order_id, item_id = order_sql()
    a, po_a = po_sql("p1", order_id, item_id, {}, created="2025-01-01T00:00:00+00:00")
    b, po_b = po_sql("p2", order_id, item_id, {}, created="2025-01-02T00:00:00+00:00")
    db_exec(api.db, osql + a + b)
    status, body = api.get(f"{P}/orders/by-order/{order_id}")
    assert status == 200 and [o["id"] for o in body] == [po_b, po_a]
    assert {o["providerId"] for o in body} == {"p1", "p2"}
    # The comparison ignores case and dashes.
    assert len(api.get(f"{P}/orders/by-order/{order_id.upper().replace('-', '')}")[1]) == 2
    assert len(api.get(f"{P}/orders/by-order/{order_id}?limit=1")[1]) == 1
    assert api.get(f"{P}/orders/by-order/{uuid.uuid4()}") == (200, [])
    status, body = api.get(f"{P}/orders/by-order/not-a-uuid")
    assert status == 422 and body["detail"][0]["loc"] == ["path", "order_id"]
    status, body = api.get(f"{P}/orders/by-order/{order_id}?limit=501")
    assert status == 422 and body["detail"][0]["loc"] == ["query", "limit"]


# ---- replay ----

def test_replay_now(api, mock_provider):
    po_id, order_id = seed_one(api, mock_provider)
    status, entry = api.post(f"{P}/p1/orders/{po_id}/replay", {"amount": 20})
    assert status == 200, entry
    assert set(entry) == REPLAY_KEYS
    assert entry["status"] == "executed" and entry["requestedAmount"] == 20
    assert entry["response"] == {"order": "NEW-1", "status": "ok"}
    assert entry["performedAt"].endswith("Z") and entry["scheduledFor"] is None
    assert entry["ruleIds"] == ["rule-a"] and entry["ruleMetadata"]["rule-a"]["label"] == "Rule A"
    [req] = mock_provider.requests_for("/order")
    assert req.header("X-Api-Key") == "k-p1"
    assert req.json() == {"order": "R-1", "amount": "20"}
    p = payload_of(api.db, po_id)
    assert [r["id"] for r in p["replays"]] == [entry["id"]]
    assert p["providerResponse"] == {"order": "NEW-1", "status": "ok"}
    [ev] = events_of(api.db, order_id)
    assert ev["event_type"] == "replay_executed" and ev["actor_type"] == "operator"
    assert ev["actor_id"] == po_id and ev["notes"] is None
    meta = ev["metadata"]
    assert meta["trigger"] == "admin_replay" and meta["providerId"] == "p1"
    assert meta["timelineEntryId"] == entry["id"]
    # The listing shows it.
    [listed] = api.get(f"{P}/p1/orders")[1]
    assert [r["id"] for r in listed["replays"]] == [entry["id"]]


def test_replay_schedule_then_the_worker_runs_it(api, mock_provider, run_cli):
    po_id, order_id = seed_one(api, mock_provider)
    # A future runAt schedules; a naive one is UTC (DECISIONS 14).
    status, later = api.post(f"{P}/p1/orders/{po_id}/replay", {"runAt": "2099-01-01T00:00:00"})
    assert status == 200, later
    assert later["status"] == "scheduled" and later["scheduledFor"] == "2099-01-01T00:00:00Z"
    assert later["requestedAmount"] is None and later["performedAt"] is None
    # A past runAt with scheduleOnly schedules too, and is due at once.
    status, due = api.post(f"{P}/p1/orders/{po_id}/replay",
                           {"runAt": "2020-01-01T00:00:00+02:00", "scheduleOnly": True, "amount": 3})
    assert status == 200 and due["status"] == "scheduled", due
    assert due["scheduledFor"] == "2020-01-01T00:00:00+02:00"
    assert mock_provider.count("/order") == 0

    p = payload_of(api.db, po_id)
    stored = {e["id"]: e for e in p["scheduledReplays"]}
    assert stored[later["id"]]["scheduledFor"] == "2099-01-01T00:00:00+00:00"
    assert stored[due["id"]]["requestedAmount"] == 3 and stored[due["id"]]["currency"] == "EUR"
    # The index is in sync already: both rows exist, no dirty mark left behind.
    rows = db_query(api.db, "SELECT entry_id FROM provider_replay_schedule WHERE provider_order_id = ?",
                    [po_id])
    assert {r["entry_id"] for r in rows} == {later["id"], due["id"]}
    assert db_query(api.db, "SELECT provider_order_id FROM provider_replay_dirty") == []

    evs = events_of(api.db, order_id)
    assert [e["event_type"] for e in evs] == ["replay_scheduled", "replay_scheduled"]
    assert evs[0]["notes"] == "Replay scheduled for 2099-01-01T00:00:00+00:00"
    assert evs[0]["metadata"]["trigger"] == "admin_replay" and evs[0]["actor_type"] == "operator"

    res = run_cli(["provider-replay", "scheduled", "--limit", "10"], db_url=api.db, env=ENV)
    res.check(0)
    assert res.json["processed"] == 1 and res.json["succeeded"] == 1, res.describe()
    assert res.json["scheduledBacklog"] == 1
    [req] = mock_provider.requests_for("/order")
    assert req.json()["amount"] == "3.0"
    stored = {e["id"]: e for e in payload_of(api.db, po_id)["scheduledReplays"]}
    assert stored[due["id"]]["status"] == "executed"
    assert stored[later["id"]]["status"] == "scheduled"


def test_replay_past_run_at_executes_now(api, mock_provider):
    po_id, _ = seed_one(api, mock_provider)
    status, entry = api.post(f"{P}/p1/orders/{po_id}/replay", {"runAt": PAST})
    assert status == 200 and entry["status"] == "executed"
    status, entry = api.post(f"{P}/p1/orders/{po_id}/replay", {"runAt": "2020-01-01T00:00:00"})
    assert status == 200 and entry["status"] == "executed"  # naive and past: not a 500
    assert mock_provider.count("/order") == 2


def test_replay_errors_change_nothing(api, mock_provider):
    po_id, order_id = seed_one(api, mock_provider)
    before = payload_of(api.db, po_id)
    base = f"{P}/p1/orders/{po_id}/replay"
    assert api.post(f"{P}/nope/orders/{po_id}/replay", {}) == (404, {"detail": "Provider not found"})
    assert api.post(f"{P}/p1/orders/{uuid.uuid4()}/replay", {}) == \
        (404, {"detail": "Provider order not found"})
    db_exec(api.db, provider_sql("p2", "Provider 2", {}))
    assert api.post(f"{P}/p2/orders/{po_id}/replay", {}) == (404, {"detail": "Provider order not found"})
    status, body = api.post(f"{P}/p1/orders/nope/replay", {})
    assert status == 422 and body["detail"][0]["loc"] == ["path", "provider_order_id"]
    status, body = api.post(base)
    assert status == 422 and body["detail"][0]["loc"] == ["body"]
    for bad, loc in (({"amount": -1}, "amount"), ({"runAt": "soon"}, "runAt"),
                     ({"scheduleOnly": "maybe"}, "scheduleOnly")):
        status, body = api.post(base, bad)
        assert status == 422 and body["detail"][0]["loc"] == ["body", loc], body
    status, body = api.post(base, raw="{nope")
    assert status == 422
    mock_provider.on("/order", Status(500))
    status, body = api.post(base, {})
    assert status == 400 and "Server error '500 Internal Server Error'" in body["detail"]
    db_exec(api.db, f"UPDATE fulfillment_providers SET metadata_json = {q({'automation': {}})} "
                    "WHERE id = 'p1'")
    assert api.post(base, {}) == (400, {"detail": "Order endpoint is not configured for provider"})
    assert payload_of(api.db, po_id) == before
    assert events_of(api.db, order_id) == []


# ---- refill ----

def test_refill(api, mock_provider):
    po_id, order_id = seed_one(api, mock_provider)
    status, entry = api.post(f"{P}/p1/orders/{po_id}/refill",
                             {"amount": 5, "note": "customer asked", "actorLabel": "ops@x"})
    assert status == 200, entry
    assert set(entry) == REFILL_KEYS
    assert entry["amount"] == 5 and entry["currency"] == "EUR"
    assert entry["response"] == {"refill": "RF-1"} and entry["performedAt"].endswith("Z")
    [req] = mock_provider.requests_for("/refill")
    assert req.json() == {"order": "R-1", "amount": "5"} and req.header("X-Api-Key") == "k-p1"
    # Without an amount the row's amount is asked for.
    status, entry2 = api.post(f"{P}/p1/orders/{po_id}/refill", {})
    assert status == 200 and entry2["amount"] == 12.5
    assert mock_provider.last("/refill").json()["amount"] == "12.5"
    p = payload_of(api.db, po_id)
    assert [r["id"] for r in p["refills"]] == [entry["id"], entry2["id"]]
    assert "providerResponse" not in p
    evs = events_of(api.db, order_id)
    assert [e["event_type"] for e in evs] == ["refill_completed"] * 2
    assert evs[0]["actor_type"] == "operator" and evs[0]["actor_label"] == "ops@x"
    assert evs[0]["notes"] == "customer asked" and evs[0]["actor_id"] == po_id
    assert evs[0]["metadata"]["providerId"] == "p1" and evs[0]["metadata"]["amount"] == 5
    status, listed = api.get(f"{P}/p1/orders")
    assert [r["id"] for r in listed[0]["refills"]] == [entry["id"], entry2["id"]]


def test_refill_errors(api, mock_provider):
    # DECISIONS 10: the internal orderId is never sent as the provider's order id.
    po_id, order_id = seed_one(api, mock_provider, payload={"orderId": str(uuid.uuid4())})
    before = payload_of(api.db, po_id)
    base = f"{P}/p1/orders/{po_id}/refill"
    assert api.post(base, {}) == \
        (400, {"detail": "Provider order identifier is missing; cannot trigger refill"})
    assert mock_provider.count("/refill") == 0
    status, body = api.post(base, {"note": "x" * 501})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "note"]
    status, body = api.post(base, {"amount": -0.5})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "amount"]
    status, body = api.post(base)
    assert status == 422 and body["detail"][0]["loc"] == ["body"]
    assert api.post(f"{P}/nope/orders/{po_id}/refill", {}) == (404, {"detail": "Provider not found"})
    assert api.post(f"{P}/p1/orders/{uuid.uuid4()}/refill", {}) == \
        (404, {"detail": "Provider order not found"})
    po2, _ = seed_one(api, mock_provider, pid="p2", endpoints={"order": endpoint("http://x/")})
    assert api.post(f"{P}/p2/orders/{po2}/refill", {}) == \
        (400, {"detail": "Refill endpoint is not configured for provider"})
    po3, _ = seed_one(api, mock_provider, pid="p3")
    mock_provider.on("/refill", Status(404))
    status, body = api.post(f"{P}/p3/orders/{po3}/refill", {})
    assert status == 400 and "Client error '404 Not Found'" in body["detail"]
    assert payload_of(api.db, po_id) == before
    assert events_of(api.db, order_id) == []


# ---- the timeline ----

def test_state_events(api, mock_provider):
    po_id, order_id = seed_one(api, mock_provider)
    assert api.get(f"/api/v1/orders/{order_id}/state-events") == (200, [])
    api.post(f"{P}/p1/orders/{po_id}/replay", {"runAt": FUTURE})
    api.post(f"{P}/p1/orders/{po_id}/refill", {"actorLabel": "me"})
    api.post(f"{P}/p1/orders/{po_id}/replay", {})
    status, events = api.get(f"/api/v1/orders/{order_id}/state-events")
    assert status == 200
    assert [e["eventType"] for e in events] == ["replay_executed", "refill_completed", "replay_scheduled"]
    for e in events:
        assert set(e) == EVENT_KEYS and e["createdAt"].endswith("Z") and e["actorType"] == "operator"
    assert events[1]["actorLabel"] == "me" and events[0]["fromStatus"] is None
    assert isinstance(events[2]["metadata"], dict)
    assert api.get(f"/api/v1/orders/{uuid.uuid4()}/state-events") == (404, {"detail": "Order not found"})
    status, body = api.get("/api/v1/orders/nope/state-events")
    assert status == 422 and body["detail"][0]["loc"] == ["path", "order_id"]


# ---- order intake ----

def intake_body(service_ids, pricing=150):
    return {
        "currency": "EUR", "source": "checkout", "subtotal": 150, "total": 150, "notes": "n",
        "items": [{
            "product_title": "Instagram followers", "quantity": 1, "unit_price": 150,
            "total_price": 150, "attributes": {"productSlug": "ig-followers"},
            "selected_options": {
                "presetId": "preset-1", "presetLabel": "Starter",
                "addOns": [{"id": "addon-" + sid, "label": "Boost", "pricingMode": "serviceOverride",
                            "serviceId": sid, "pricingAmount": pricing, "providerCostAmount": 90,
                            "dripPerDay": 50, "serviceRules": [{"id": "r1", "label": "R1"}]}
                           for sid in service_ids] + [{"id": "plain", "pricingMode": "flat"}],
            },
        }],
    }


def test_order_intake_places_provider_orders_once(api, mock_provider):
    mock_provider.on("/place", Json({"data": {"order_id": 4242}}))
    mock_provider.on("/broken", Status(500))
    ep = endpoint(mock_provider.url_for("/place"),
                  payload={"service": "{{serviceId}}", "amount": "{{requestedAmount}}",
                           "order": "{{orderId}}", "drip": "{{dripPerDay}}", "slug": "{{productSlug}}"},
                  response={"providerOrderIdPath": "data.order_id"})
    db_exec(api.db, provider_sql("pa", "Provider A", {"order": ep}) + service_sql("svc-a", "pa")
            + provider_sql("pb", "Provider B", {"order": endpoint(mock_provider.url_for("/broken"))})
            + service_sql("svc-b", "pb", action="likes"))

    status, order = api.post("/api/v1/orders", intake_body(["svc-a", "svc-b", "svc-unknown"]))
    assert status == 201, order
    assert order["status"] == "pending" and order["currency"] == "EUR" and order["total"] == 150
    assert order["orderNumber"] and order["createdAt"].endswith("Z")
    [item] = order["items"]
    assert item["productTitle"] == "Instagram followers" and item["orderId"] == order["id"]
    assert item["selectedOptions"]["presetId"] == "preset-1"
    assert api.get(f"/api/v1/orders/{order['id']}") == (200, order)
    assert mock_provider.count() == 0
    assert api.get(f"{P}/orders/by-order/{order['id']}") == (200, [])

    status, updated = api.call("PATCH", f"/api/v1/orders/{order['id']}", {"status": "processing"})
    assert status == 200 and updated["status"] == "processing", updated
    [req] = mock_provider.requests_for("/place")
    assert req.header("X-Api-Key") == "k-pa"  # GAP 12: automation primitives on first placement
    assert req.json() == {"service": "svc-a", "amount": "150.0", "order": order["id"], "drip": "50",
                          "slug": "ig-followers"}
    assert mock_provider.count("/broken") == 1

    status, pos = api.get(f"{P}/orders/by-order/{order['id']}")
    by_service = {o["serviceId"]: o for o in pos}
    assert set(by_service) == {"svc-a", "svc-b"}
    a, b = by_service["svc-a"], by_service["svc-b"]
    assert a["providerId"] == "pa" and a["providerName"] == "Provider A" and a["amount"] == 150
    assert a["serviceAction"] == "followers" and a["currency"] == "EUR"
    assert a["orderItemId"] == item["id"] and a["providerOrderId"] == "4242"
    assert a["payload"]["providerResponse"] == {"data": {"order_id": 4242}}
    assert a["payload"]["addOnId"] == "addon-svc-a" and a["payload"]["requestedAmount"] == 150.0
    assert a["payload"]["service"]["id"] == "svc-a" and a["payload"]["service"]["providerId"] == "pa"
    assert a["payload"]["serviceRules"] == [{"id": "r1", "label": "R1"}]
    assert b["providerOrderId"] is None
    assert "500 Internal Server Error" in b["payload"]["providerResponse"]["error"]
    assert b["payload"]["providerResponse"]["url"] == mock_provider.url_for("/broken")

    [ev] = api.get(f"/api/v1/orders/{order['id']}/state-events")[1]
    assert ev["eventType"] == "state_change" and ev["fromStatus"] == "pending"
    assert ev["toStatus"] == "processing"

    # Idempotent: a second PATCH places nothing new.
    status, _ = api.call("PATCH", f"/api/v1/orders/{order['id']}", {"status": "processing"})
    assert status == 200
    assert mock_provider.count("/place") == 1 and mock_provider.count("/broken") == 1
    assert len(api.get(f"{P}/orders/by-order/{order['id']}")[1]) == 2
    assert len(api.get(f"/api/v1/orders/{order['id']}/state-events")[1]) == 1
    # The placed order replays like any other.
    status, entry = api.post(f"{P}/pa/orders/{a['id']}/replay", {})
    assert status == 200 and entry["status"] == "executed"


def test_concurrent_moves_to_processing_place_once(api, mock_provider):
    import threading
    mock_provider.on("/place", Delay(0.3, then=Json({"order": "C-1"})))
    db_exec(api.db, provider_sql("pa", "Provider A", {"order": endpoint(mock_provider.url_for("/place"))})
            + service_sql("svc-a", "pa"))
    status, order = api.post("/api/v1/orders", intake_body(["svc-a"]))
    assert status == 201
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        api.call("PATCH", f"/api/v1/orders/{order['id']}", {"status": "processing"})[0]))
        for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert mock_provider.count("/place") == 1
    assert len(api.get(f"{P}/orders/by-order/{order['id']}")[1]) == 1


def test_order_intake_validation(api):
    status, body = api.post("/api/v1/orders", {"items": []})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "currency"]
    bad_item = intake_body([])
    del bad_item["items"][0]["product_title"]
    bad_item["items"][0]["quantity"] = 0
    status, body = api.post("/api/v1/orders", bad_item)
    assert status == 422
    locs = [e["loc"] for e in body["detail"]]
    assert ["body", "items", 0, "product_title"] in locs and ["body", "items", 0, "quantity"] in locs
    status, body = api.post("/api/v1/orders", {"currency": "EUR", "items": "x"})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "items"]
    status, body = api.post("/api/v1/orders", {"currency": "GBP", "items": []})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "currency"]
    status, body = api.post("/api/v1/orders")
    assert status == 422 and body["detail"][0]["loc"] == ["body"]
    assert db_query(api.db, "SELECT id FROM orders") == []

    status, order = api.post("/api/v1/orders", {"currency": "USD", "items": []})
    assert status == 201 and order["items"] == [] and order["status"] == "pending"
    oid = order["id"]
    status, body = api.call("PATCH", f"/api/v1/orders/{oid}", {"status": "lost"})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "status"]
    status, body = api.call("PATCH", f"/api/v1/orders/{oid}", {})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "status"]
    assert api.call("PATCH", f"/api/v1/orders/{uuid.uuid4()}", {"status": "active"}) == \
        (404, {"detail": "Order not found"})
    assert api.get(f"/api/v1/orders/{uuid.uuid4()}") == (404, {"detail": "Order not found"})
    status, body = api.get("/api/v1/orders/nope")
    assert status == 422 and body["detail"][0]["loc"] == ["path", "order_id"]
    assert api.call("DELETE", f"/api/v1/orders/{oid}") == (405, {"detail": "Method Not Allowed"})
    assert api.get(f"/api/v1/orders/{oid}")[1]["status"] == "pending"
    assert api.get(f"/api/v1/orders/{oid}/state-events") == (200, [])


# ---- snapshot ----

def test_automation_snapshot(api):
    osql, order_id, item_id = order_sql()
    guard = {"minimumMarginPercent": 20, "warningMarginPercent": 40}
    rows = [
        # pass: margin 50%
        po_sql("pa", order_id, item_id, {"guardrails": guard, "providerCostAmount": 5,
                                        "replays": [{"status": "executed"}, {"status": "failed"}, "x"],
                                        "scheduledReplays": [{"status": "scheduled"}, {"id": "no-status"}],
                                        "serviceRules": [{"id": " r1 ", "label": "First"}, {"id": ""}]},
               amount=10, service_id="svc-a")[0],
        # warn: margin 30%, guardrails from the service snapshot, cost as a string
        po_sql("pa", order_id, item_id, {"service": {"metadata": {"guardrails": guard}},
                                        "providerCostAmount": "7", "serviceRules": [{"id": "r1"}]},
               amount=10, service_id="svc-a")[0],
        # fail: margin 10%
        po_sql("pb", order_id, item_id, {"guardrails": guard, "providerCostAmount": 9,
                                        "serviceRules": [{"id": "r1", "label": "Other"}]},
               amount=10, service_id="svc-b")[0],
        # idle: price 0; no cost -> not evaluated
        po_sql("pb", order_id, item_id, {"guardrails": guard, "providerCostAmount": 1}, amount=0,
               service_id="svc-b")[0],
        po_sql("pb", order_id, item_id, {"guardrails": guard, "providerCostAmount": " "}, amount=5,
               service_id="svc-b")[0],
    ]
    db_exec(api.db, provider_sql("pb", "B provider", {}) + provider_sql("pa", "A provider", {})
            + osql + "".join(rows))
    status, snap = api.get(f"{P}/automation/snapshot")
    assert status == 200
    ids = [p["id"] for p in snap["providers"]]
    assert ids.index("pa") < ids.index("pb")  # by name
    by_id = {p["id"]: p for p in snap["providers"]}
    assert by_id["pa"]["name"] == "A provider"
    ta, tb = by_id["pa"]["telemetry"], by_id["pb"]["telemetry"]
    assert ta["totalOrders"] == 2 and tb["totalOrders"] == 3
    assert ta["replays"] == {"total": 2, "executed": 1, "failed": 1, "scheduled": 1}
    assert ta["guardrails"] == {"evaluated": 2, "pass": 1, "warn": 1, "fail": 0}
    assert tb["guardrails"] == {"evaluated": 2, "pass": 0, "warn": 0, "fail": 1}
    assert ta["guardrailHitsByService"] == {"svc-a": {"evaluated": 2, "pass": 1, "warn": 1, "fail": 0}}
    assert ta["ruleOverridesByService"] == {
        "svc-a": {"totalOverrides": 2, "rules": {"r1": {"id": "r1", "label": "First", "count": 2}}}}
    agg = snap["aggregated"]
    assert agg["totalOrders"] == 5
    assert agg["guardrails"] == {"evaluated": 4, "pass": 1, "warn": 1, "fail": 1}
    assert agg["ruleOverridesByService"]["svc-b"]["rules"]["r1"] == {"id": "r1", "label": "Other", "count": 1}
    assert set(agg) == {"totalOrders", "replays", "guardrails", "guardrailHitsByService",
                        "ruleOverridesByService"}
    status, small = api.get(f"{P}/automation/snapshot?limitPerProvider=1")
    assert status == 200 and small["aggregated"]["totalOrders"] == sum(
        1 for p in small["providers"] if p["id"] in ("pa", "pb")) + sum(
        p["telemetry"]["totalOrders"] for p in small["providers"] if p["id"] not in ("pa", "pb"))
    for bad in ("0", "251"):
        status, body = api.get(f"{P}/automation/snapshot?limitPerProvider={bad}")
        assert status == 422 and body["detail"][0]["loc"] == ["query", "limitPerProvider"]
    assert api.post(f"{P}/automation/snapshot") == (405, {"detail": "Method Not Allowed"})


# ---- the order queue: GET /api/v1/orders ----

def list_orders(api, query="", headers=None):
    """GET /api/v1/orders with a query: (status, body, X-Next-Cursor header or None)."""
    conn = http.client.HTTPConnection(api.host, api.port, timeout=30)
    conn.request("GET", "/api/v1/orders" + query, headers=headers or {})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    return r.status, json.loads(text) if text else None, r.getheader("X-Next-Cursor")


def queue_order_sql(created, status="processing", options=(), providers=()):
    """An order created at `created` with one item per entry of options (its
    selected_options) and one provider order per provider id, on its first item."""
    order_id = str(uuid.uuid4())
    sql = (f"INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, total, "
           f"created_at, updated_at) VALUES ({q(order_id)}, {q('Q-' + order_id[:8])}, {q(status)}, "
           f"'checkout', 'EUR', 10, 0, 10, {q(created)}, {q(created)});\n")
    item_ids = []
    for i, so in enumerate(options or [None]):
        item_id = str(uuid.uuid4())
        item_ids.append(item_id)
        sql += (f"INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, "
                f"total_price, selected_options, created_at, updated_at) VALUES ({q(item_id)}, "
                f"{q(order_id)}, {q('Item ' + str(i))}, 1, 10, 10, {q(so)}, {q(created)}, {q(created)});\n")
    for pid in providers:
        sql += po_sql(pid, order_id, item_ids[0], {"orderId": order_id}, created=created)[0]
    return sql, order_id


@pytest.fixture
def queue(api):
    """Six orders (o1 oldest .. o6 newest, o3 and o4 created in the same second), with
    statuses, presets (under presetId and preset_id) and provider orders on p-a and p-b."""
    specs = {
        "o1": ("2025-01-01T00:00:01+00:00", "pending", [{"presetId": "growth"}], ["p-a"]),
        "o2": ("2025-01-01T00:00:02+00:00", "processing", [{"preset_id": "growth"}], ["p-b"]),
        "o3": ("2025-01-01T00:00:03+00:00", "processing", [{"presetId": "other"}], ["p-a"]),
        "o4": ("2025-01-01T00:00:03+00:00", "completed", [], []),
        "o5": ("2025-01-01T00:00:04.500000+00:00", "processing",
               [[1, 2], {"presetId": "growth", "addOns": []}], ["p-a", "p-b"]),
        "o6": ("2025-01-02T00:00:00+00:00", "canceled", [{"presetId": "growth"}], []),
    }
    sql, ids = "", {}
    for name, (created, status, options, providers) in specs.items():
        s, ids[name] = queue_order_sql(created, status, options, providers)
        sql += s
    db_exec(api.db, sql)
    tie = sorted([ids["o3"], ids["o4"]], reverse=True)
    ids["newest_first"] = [ids["o6"], ids["o5"], *tie, ids["o2"], ids["o1"]]
    return ids


def test_orders_list_newest_first_in_the_order_shape(api, queue):
    status, body, cursor = list_orders(api)
    assert status == 200 and cursor is None
    assert [o["id"] for o in body] == queue["newest_first"]
    for o in body:
        assert api.get(f"/api/v1/orders/{o['id']}") == (200, o)
    o5 = body[1]
    assert sorted(json.dumps(i["selectedOptions"]) for i in o5["items"]) == \
        ['[1, 2]', '{"presetId": "growth", "addOns": []}']
    assert o5["createdAt"].startswith("2025-01-01T00:00:04.5") and o5["status"] == "processing"


@pytest.mark.parametrize("query, names", [
    ("?status=processing", ["o5", "o3", "o2"]),
    ("?status=completed", ["o4"]),
    ("?status=on_hold", []),
    ("?presetId=growth", ["o6", "o5", "o2", "o1"]),
    ("?presetId=other", ["o3"]),
    ("?presetId=nothing", []),
    ("?providerId=p-a", ["o5", "o3", "o1"]),
    ("?providerId=p-b", ["o5", "o2"]),
    ("?providerId=p-c", []),
    ("?presetId=growth&providerId=p-b&status=processing", ["o5", "o2"]),
    ("?presetId=growth&providerId=p-a&status=pending", ["o1"]),
    ("?presetId=other&providerId=p-b", []),
    ("?presetId=growth&limit=2", ["o6", "o5"]),
    ("?presetId=&providerId=", ["o6", "o5", "o4|o3", "o3|o4", "o2", "o1"]),
])
def test_orders_list_filters(api, queue, query, names):
    status, body, _ = list_orders(api, query)
    assert status == 200, body
    if any("|" in n for n in names):  # no filter at all: the whole listing
        assert [o["id"] for o in body] == queue["newest_first"]
    else:
        assert [o["id"] for o in body] == [queue[n] for n in names]


def test_orders_list_filters_page_with_the_cursor(api, queue):
    status, page1, cursor = list_orders(api, "?presetId=growth&limit=3")
    assert status == 200 and [o["id"] for o in page1] == [queue["o6"], queue["o5"], queue["o2"]]
    assert cursor
    status, page2, cursor2 = list_orders(api, "?presetId=growth&limit=3&cursor=" + urllib.parse.quote(cursor))
    assert status == 200 and [o["id"] for o in page2] == [queue["o1"]] and cursor2 is None
    # The tie of o3 and o4 is broken by id, and a cursor between them splits it exactly.
    _, first, cursor = list_orders(api, "?limit=3")
    _, rest, end = list_orders(api, "?limit=3&cursor=" + urllib.parse.quote(cursor))
    assert [o["id"] for o in first + rest] == queue["newest_first"] and end is None


def test_orders_list_limits_and_cursor_cover_every_order_once(api):
    sql, ids = "", []
    for i in range(130):
        # Pairs share a second, so the id tie-break matters on every page boundary.
        s, oid = queue_order_sql(f"2025-03-01T00:{i // 2 // 60:02d}:{i // 2 % 60:02d}+00:00",
                                 status=("pending", "active")[i % 2])
        sql += s
        ids.append(oid)
    db_exec(api.db, sql)
    status, body, cursor = list_orders(api)
    assert status == 200 and len(body) == 50 and cursor
    status, body, cursor = list_orders(api, "?limit=100")
    assert status == 200 and len(body) == 100 and cursor
    status, body, cursor = list_orders(api, "?limit=1")
    assert status == 200 and len(body) == 1 and cursor

    for query, expected in (("?limit=7", ids), ("?limit=9&status=active", ids[1::2])):
        seen, cursor, pages = [], None, 0
        while True:
            q_ = query + ("&cursor=" + urllib.parse.quote(cursor) if cursor else "")
            status, body, cursor = list_orders(api, q_)
            assert status == 200, body
            seen += [o["id"] for o in body]
            pages += 1
            if not cursor:
                break
            assert pages < 100
        assert len(seen) == len(set(seen)) == len(expected)
        assert set(seen) == set(expected)
        created = [(o["createdAt"], o["id"]) for o in
                   (api.get(f"/api/v1/orders/{i}")[1] for i in seen)]
        assert created == sorted(created, reverse=True)


def test_orders_list_validation(api):
    status, body, _ = list_orders(api, "?limit=0")
    assert status == 422
    e = body["detail"][0]
    assert (e["type"], e["loc"], e["msg"], e["input"], e["ctx"]) == \
        ("greater_than_equal", ["query", "limit"], "Input should be greater than or equal to 1", "0", {"ge": 1})
    status, body, _ = list_orders(api, "?limit=101")
    e = body["detail"][0]
    assert status == 422 and (e["type"], e["loc"], e["msg"], e["ctx"]) == \
        ("less_than_equal", ["query", "limit"], "Input should be less than or equal to 100", {"le": 100})
    status, body, _ = list_orders(api, "?limit=many")
    assert status == 422 and body["detail"][0]["type"] == "int_parsing"
    status, body, _ = list_orders(api, "?status=lost")
    e = body["detail"][0]
    assert status == 422 and (e["type"], e["loc"], e["input"]) == ("enum", ["query", "status"], "lost")
    assert e["msg"] == ("Input should be 'pending', 'processing', 'active', 'completed', 'on_hold' "
                        "or 'canceled'")
    for bad in ("nope", "12_not-a-uuid", "x_" + str(uuid.uuid4()), "_" + str(uuid.uuid4())):
        status, body, _ = list_orders(api, "?cursor=" + urllib.parse.quote(bad))
        assert status == 422 and body["detail"][0]["loc"] == ["query", "cursor"], bad
    status, body, _ = list_orders(api, "?limit=0&status=lost")
    assert status == 422 and [e["loc"] for e in body["detail"]] == [["query", "limit"], ["query", "status"]]


def test_orders_list_empty_database(api):
    assert list_orders(api) == (200, [], None)
    assert list_orders(api, "?status=pending&presetId=x&providerId=y") == (200, [], None)
    assert api.call("DELETE", "/api/v1/orders") == (405, {"detail": "Method Not Allowed"})


def test_orders_list_needs_the_token_when_one_is_set(migrated_db, service):
    svc = service(["smplat", "serve"], db_url=migrated_db, env={**ENV, "SMPLAT_API_TOKEN": "s3cret"})
    api = Api(svc, migrated_db)
    db_exec(migrated_db, queue_order_sql("2025-01-01T00:00:00+00:00")[0])
    assert list_orders(api)[:2] == (401, {"detail": "Invalid API key"})
    assert list_orders(api, headers={"X-API-Key": "wrong"})[:2] == (401, {"detail": "Invalid API key"})
    status, body, _ = list_orders(api, headers={"X-API-Key": "s3cret"})
    assert status == 200 and len(body) == 1
    status, body, _ = list_orders(api, headers={"Authorization": "Bearer s3cret"})
    assert status == 200 and len(body) == 1
