"""Order placement exactly once, on SQLite and PostgreSQL: two `smplat serve` processes on one
database moving the same orders to processing at once place each (item, service) once, and a
server killed while its placement request is in flight leaves an "outcome unknown" provider
order (recorded by the next server's sweep), never a second request. The mock provider counts
what reached it."""

import collections
import http.client
import signal
import threading
import time

from harness import Delay, Json, Status, db_exec, db_query
from test_api_orders import Api, endpoint, intake_body, po_sql, provider_sql, service_sql

ENV = {"PROVIDER_ALLOW_PRIVATE_NETWORKS": "true"}
P = "/api/v1/fulfillment/providers"
UNKNOWN = "outcome unknown: the process placing this order stopped"


def place_endpoint(mock_provider, **extra):
    return endpoint(mock_provider.url_for("/place"),
                    payload={"service": "{{serviceId}}", "order": "{{orderId}}",
                             "item": "{{orderItemId}}"}, **extra)


def claims_of(db, order_id):
    return db_query(db, "SELECT order_item_id, service_id, state, provider_order_row_id "
                        "FROM provider_order_placements WHERE order_id = ? ORDER BY service_id",
                    [order_id])


def rows_of(api, order_id):
    status, rows = api.get(f"{P}/orders/by-order/{order_id}")
    assert status == 200, rows
    return rows


def patch_processing(api, order_id):
    return api.call("PATCH", f"/api/v1/orders/{order_id}", {"status": "processing"})[0]


def test_two_servers_place_each_item_and_service_once(migrated_db, service, mock_provider):
    mock_provider.on("/place", Delay(0.2, then=Json({"id": "C-1"})))
    db_exec(migrated_db, provider_sql("pa", "Provider A", {"order": place_endpoint(mock_provider)})
            + service_sql("svc-a", "pa") + service_sql("svc-b", "pa", action="likes"))
    a = Api(service(["smplat", "serve"], db_url=migrated_db, env=ENV), migrated_db)
    b = Api(service(["smplat", "serve"], db_url=migrated_db, env=ENV), migrated_db)
    orders = []
    for _ in range(4):
        status, order = a.post("/api/v1/orders", intake_body(["svc-a", "svc-b"]))
        assert status == 201, order
        orders.append(order)

    # Every order is moved by six requests at once, three on each server.
    results, start = [], threading.Barrier(len(orders) * 6)

    def move(api, order_id):
        start.wait()
        results.append(patch_processing(api, order_id))

    threads = [threading.Thread(target=move, args=(api, o["id"]))
               for o in orders for api in (a, b, a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * len(threads)

    sent = collections.Counter((r.json()["order"], r.json()["item"], r.json()["service"])
                               for r in mock_provider.requests_for("/place"))
    want = {(o["id"], o["items"][0]["id"], sid) for o in orders for sid in ("svc-a", "svc-b")}
    assert set(sent) == want and set(sent.values()) == {1}, sent
    for o in orders:
        rows = rows_of(a, o["id"])
        assert sorted(r["serviceId"] for r in rows) == ["svc-a", "svc-b"], rows
        assert {r["providerOrderId"] for r in rows} == {"C-1"}
        claims = claims_of(migrated_db, o["id"])
        assert [c["state"] for c in claims] == ["placed", "placed"], claims
        assert {c["provider_order_row_id"] for c in claims} == {r["id"] for r in rows}

    # Moving them again, on either server, places nothing.
    for o in orders:
        assert patch_processing(a, o["id"]) == 200 and patch_processing(b, o["id"]) == 200
    assert mock_provider.count("/place") == len(want)


def crash_while_placing(migrated_db, service, mock_provider):
    """A server (lease 1 s, request timeout 2 s) killed with SIGKILL while the provider still
    holds its placement request. Returns the order."""
    mock_provider.on("/place", Delay(60, then=Json({"id": "LATE"})))
    db_exec(migrated_db, provider_sql("pa", "Provider A",
                                      {"order": place_endpoint(mock_provider, timeoutSeconds=2)})
            + service_sql("svc-a", "pa"))
    env = dict(ENV, PROVIDER_PLACEMENT_LEASE_SECONDS="1")
    doomed = service(["smplat", "serve"], db_url=migrated_db, env=env)
    api = Api(doomed, migrated_db)
    status, order = api.post("/api/v1/orders", intake_body(["svc-a"]))
    assert status == 201, order

    def move():
        try:
            patch_processing(api, order["id"])
        except (OSError, http.client.HTTPException):
            pass  # the server dies under it

    mover = threading.Thread(target=move)
    mover.start()
    mock_provider.wait_for_requests(1, "/place", timeout=10)
    doomed.stop(signal.SIGKILL)
    mover.join()
    [claim] = claims_of(migrated_db, order["id"])
    assert claim["state"] == "sending" and claim["provider_order_row_id"] is None
    assert rows_of_db(migrated_db, order["id"]) == []
    return order


def rows_of_db(db, order_id):
    return db_query(db, "SELECT id FROM fulfillment_provider_orders WHERE order_id = ?", [order_id])


def assert_outcome_unknown(api, db, mock_provider, order_id):
    [row] = rows_of(api, order_id)
    answer = row["payload"]["providerResponse"]
    assert answer["error"].startswith(UNKNOWN), answer
    assert "check with the provider" in answer["error"]
    assert answer["owner"] and answer["claimedAt"].endswith("+00:00")
    assert row["providerOrderId"] is None and row["serviceId"] == "svc-a"
    # The payload is the one the placer meant to record, with the answer it never got.
    assert row["payload"]["service"]["id"] == "svc-a" and row["payload"]["orderId"] == order_id
    assert row["payload"]["addOnId"] == "addon-svc-a" and row["amount"] == 150
    [claim] = claims_of(db, order_id)
    assert claim["state"] == "unknown" and claim["provider_order_row_id"] == row["id"]
    assert mock_provider.count("/place") == 1
    return row


def test_killed_placer_is_recorded_by_the_next_move(migrated_db, service, mock_provider):
    order = crash_while_placing(migrated_db, service, mock_provider)
    # The new server's own sweep runs once a minute (default lease); the move sweeps the order.
    api = Api(service(["smplat", "serve"], db_url=migrated_db, env=ENV), migrated_db)
    # Within the lease (request timeout 2 s + 1 s) the claim still counts as in flight.
    assert patch_processing(api, order["id"]) == 200
    assert mock_provider.count("/place") == 1
    time.sleep(3.2)
    assert patch_processing(api, order["id"]) == 200
    row = assert_outcome_unknown(api, migrated_db, mock_provider, order["id"])
    # Moving it again places nothing more; the row stays as it is.
    assert patch_processing(api, order["id"]) == 200
    assert mock_provider.count("/place") == 1
    assert rows_of(api, order["id"]) == [row]
    # An operator who checked with the provider replays it by hand.
    mock_provider.on("/place", Json({"id": "BY-HAND"}))
    status, entry = api.post(f"{P}/pa/orders/{row['id']}/replay", {})
    assert status == 200 and entry["status"] == "executed", entry


def test_killed_placer_is_recorded_by_the_serve_sweep(migrated_db, service, mock_provider):
    order = crash_while_placing(migrated_db, service, mock_provider)
    env = dict(ENV, PROVIDER_PLACEMENT_LEASE_SECONDS="1")
    svc = service(["smplat", "serve"], db_url=migrated_db, env=env)
    api = Api(svc, migrated_db)
    deadline = time.monotonic() + 20
    while not rows_of_db(migrated_db, order["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert_outcome_unknown(api, migrated_db, mock_provider, order["id"])
    assert "Provider order placement outcome unknown" in svc.output()
    assert patch_processing(api, order["id"]) == 200
    assert mock_provider.count("/place") == 1
    assert len(rows_of(api, order["id"])) == 1


def test_failures_and_existing_rows_are_placed_once(migrated_db, service, mock_provider):
    mock_provider.on("/broken", Status(500))
    db_exec(migrated_db,
            provider_sql("pb", "Provider B", {"order": endpoint(mock_provider.url_for("/broken"))})
            + service_sql("svc-b", "pb") + service_sql("svc-old", "pb"))
    api = Api(service(["smplat", "serve"], db_url=migrated_db, env=ENV), migrated_db)
    status, order = api.post("/api/v1/orders", intake_body(["svc-b", "svc-unknown", "svc-old"]))
    assert status == 201, order
    item_id = order["items"][0]["id"]
    # A provider order written before the claims existed (or by another program).
    sql, old_id = po_sql("pb", order["id"], item_id, {"orderId": order["id"]},
                         service_id="svc-old")
    db_exec(migrated_db, sql)

    assert patch_processing(api, order["id"]) == 200
    assert mock_provider.count("/broken") == 1
    by_service = {r["serviceId"]: r for r in rows_of(api, order["id"])}
    assert set(by_service) == {"svc-b", "svc-old"} and by_service["svc-old"]["id"] == old_id
    assert "500 Internal Server Error" in by_service["svc-b"]["payload"]["providerResponse"]["error"]
    # The failed placement is settled (its row says why); the unknown service and the
    # existing row were never claimed.
    claims = claims_of(migrated_db, order["id"])
    assert [(c["service_id"], c["state"]) for c in claims] == [("svc-b", "placed")], claims

    assert patch_processing(api, order["id"]) == 200
    assert mock_provider.count("/broken") == 1
    assert len(rows_of(api, order["id"])) == 2
