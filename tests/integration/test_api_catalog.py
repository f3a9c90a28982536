"""The catalog routes of the HTTP API (spec-api-ui §3 rows 1-4 and 14-20, §4.1-4.11, §5.1-5.3):
providers and services CRUD, the balance refresh through a provider's balance endpoint, and
the platform context cache. Every contract is checked on SQLite and PostgreSQL: status codes,
the full key set of each object, error details, 422 shapes, and that a rejected request
changes nothing."""

import http.client
import json

import pytest

from harness import Json, Status, db_exec, db_query

P = "/api/v1/fulfillment/providers"

PROVIDER_KEYS = {"id", "name", "description", "baseUrl", "status", "healthStatus",
                 "allowedRegions", "rateLimitPerMinute", "metadata", "credentials",
                 "lastHealthCheckAt", "healthPayload", "createdAt", "updatedAt", "services",
                 "balanceSnapshot"}
SERVICE_KEYS = {"id", "providerId", "name", "action", "category", "defaultCurrency", "status",
                "healthStatus", "allowedRegions", "rateLimitPerMinute", "metadata", "credentials",
                "lastHealthCheckAt", "healthPayload", "createdAt", "updatedAt"}
METADATA_KEYS = {"version", "costModel", "cadence", "configuration", "guardrails",
                 "payloadTemplates", "defaultInputs", "legacy"}
BALANCE_KEYS = {"amount", "currency", "retrievedAt", "payload"}
PRIVATE = {"PROVIDER_ALLOW_PRIVATE_NETWORKS": "true"}


def call(svc, method, path, body=None, raw=None, headers=None):
    """(status, parsed JSON or None, response headers). body is JSON-encoded; raw is sent as
    is."""
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=15)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = dict(headers or {})
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=hdrs)
    r = c.getresponse()
    payload = r.read()
    hdr = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    parsed = json.loads(payload) if payload else None
    return r.status, parsed, hdr


def listing(svc):
    status, body, _ = call(svc, "GET", P + "/")
    assert status == 200
    return body


def assert_422(status, body, loc):
    assert status == 422, body
    assert isinstance(body["detail"], list) and body["detail"], body
    assert body["detail"][0]["loc"][:len(loc)] == loc, body


def is_z_time(v):
    return isinstance(v, str) and v.endswith("Z") and "T" in v


@pytest.fixture
def api(service, db):
    return service(["smplat", "serve"], db_url=db, env=PRIVATE)


# ---- providers -----------------------------------------------------------------------------


def test_provider_create_get_patch_list_delete(api, db):
    status, prov, _ = call(api, "POST", P + "/", {
        "id": "acme", "name": "Acme Panel", "description": "d", "base_url": "https://acme.test",
        "allowed_regions": ["eu", "us"], "rate_limit_per_minute": 30,
        "metadata": {"automation": {"apiKey": "k"}}, "credentials": {"token": "t"},
        "status": "inactive", "health_status": "healthy"})
    assert status == 201, prov
    assert set(prov) == PROVIDER_KEYS
    assert prov["id"] == "acme" and prov["name"] == "Acme Panel" and prov["description"] == "d"
    assert prov["baseUrl"] == "https://acme.test" and prov["allowedRegions"] == ["eu", "us"]
    assert prov["rateLimitPerMinute"] == 30 and prov["status"] == "inactive"
    assert prov["healthStatus"] == "healthy" and prov["metadata"] == {"automation": {"apiKey": "k"}}
    assert prov["credentials"] == {"token": "t"} and prov["healthPayload"] == {}
    assert prov["lastHealthCheckAt"] is None and prov["services"] == []
    assert prov["balanceSnapshot"] is None
    assert is_z_time(prov["createdAt"]) and is_z_time(prov["updatedAt"])

    # defaults: status active, health unknown, regions [], metadata {}
    status, b, _ = call(api, "POST", P, {"id": "bolt", "name": "Bolt"})
    assert status in (201, 307), b
    if status == 307:
        status, b, _ = call(api, "POST", P + "/", {"id": "bolt", "name": "Bolt"})
    assert status == 201 and b["status"] == "active" and b["healthStatus"] == "unknown"
    assert b["allowedRegions"] == [] and b["metadata"] == {} and b["credentials"] is None

    status, got, _ = call(api, "GET", P + "/acme")
    assert status == 200 and got == prov

    status, body, _ = call(api, "POST", P + "/", {"id": "acme", "name": "Again"})
    assert status == 409 and body == {"detail": "Provider already exists"}

    status, upd, _ = call(api, "PATCH", P + "/acme", {"name": "Acme 2", "status": "active",
                                                      "rate_limit_per_minute": 0})
    assert status == 200 and upd["name"] == "Acme 2" and upd["status"] == "active"
    assert upd["rateLimitPerMinute"] == 0
    assert upd["description"] == "d" and upd["allowedRegions"] == ["eu", "us"]  # untouched

    names = [p["name"] for p in listing(api)]
    assert names == sorted(names) and {"Acme 2", "Bolt", "XYZ Growth Network"} <= set(names)
    for p in listing(api):
        assert set(p) == PROVIDER_KEYS

    status, body, hdr = call(api, "DELETE", P + "/acme")
    assert status == 204 and body is None
    status, body, _ = call(api, "GET", P + "/acme")
    assert status == 404 and body == {"detail": "Provider not found"}
    status, body, _ = call(api, "DELETE", P + "/acme")
    assert status == 404 and body == {"detail": "Provider not found"}
    status, body, _ = call(api, "PATCH", P + "/acme", {"name": "x"})
    assert status == 404 and body == {"detail": "Provider not found"}


def test_provider_patch_null_semantics(api, db):
    status, _, _ = call(api, "POST", P + "/", {
        "id": "p1", "name": "P", "description": "d", "base_url": "https://p.test",
        "allowed_regions": ["eu"], "metadata": {"a": 1}, "credentials": {"c": 1},
        "health_payload": {"ok": True}, "last_health_check_at": "2025-01-10T03:00:00+02:00"})
    assert status == 201
    status, p, _ = call(api, "GET", P + "/p1")
    assert p["healthPayload"] == {"ok": True}
    assert p["lastHealthCheckAt"] == "2025-01-10T01:00:00Z"

    # an empty body is valid and changes nothing
    status, same, _ = call(api, "PATCH", P + "/p1", {})
    assert status == 200 and same == p

    status, p2, _ = call(api, "PATCH", P + "/p1", {
        "allowed_regions": None, "metadata": None, "health_payload": None, "credentials": None,
        "description": None, "base_url": None, "last_health_check_at": None,
        "rate_limit_per_minute": None})
    assert status == 200, p2
    assert p2["allowedRegions"] == [] and p2["metadata"] == {} and p2["healthPayload"] == {}
    assert p2["credentials"] is None and p2["description"] is None and p2["baseUrl"] is None
    assert p2["lastHealthCheckAt"] is None and p2["rateLimitPerMinute"] is None
    rows = db_query(db, "SELECT allowed_regions, metadata_json FROM fulfillment_providers "
                        "WHERE id = 'p1'")
    assert rows[0]["allowed_regions"] == [] and rows[0]["metadata_json"] is None

    status, p3, _ = call(api, "PATCH", P + "/p1", {"health_status": "degraded",
                                                   "last_health_check_at": "2025-02-01T00:00:00",
                                                   "health_payload": {"x": 1}})
    assert status == 200 and p3["healthStatus"] == "degraded"
    assert p3["lastHealthCheckAt"] == "2025-02-01T00:00:00Z" and p3["healthPayload"] == {"x": 1}


@pytest.mark.parametrize("body,loc", [
    (None, ["body"]),
    ({"name": "x"}, ["body", "id"]),
    ({"id": "x"}, ["body", "name"]),
    ({"id": "", "name": "x"}, ["body", "id"]),
    ({"id": "x" * 65, "name": "x"}, ["body", "id"]),
    ({"id": "x", "name": "x", "rate_limit_per_minute": -1}, ["body", "rate_limit_per_minute"]),
    ({"id": "x", "name": "x", "rate_limit_per_minute": "many"}, ["body", "rate_limit_per_minute"]),
    ({"id": "x", "name": "x", "allowed_regions": "eu"}, ["body", "allowed_regions"]),
    ({"id": "x", "name": "x", "metadata": [1]}, ["body", "metadata"]),
    ({"id": "x", "name": "x", "status": "paused"}, ["body", "status"]),
    ({"id": "x", "name": "x", "health_status": "sick"}, ["body", "health_status"]),
    ({"id": "x", "name": "x", "baseUrl": "https://x"}, ["body", "baseUrl"]),
    ({"id": 5, "name": "x"}, ["body", "id"]),
    ({"id": "x", "name": "x", "last_health_check_at": "yesterday"}, ["body", "last_health_check_at"]),
])
def test_provider_create_rejects_bad_bodies(api, body, loc):
    before = listing(api)
    status, resp, _ = call(api, "POST", P + "/", body)
    assert_422(status, resp, loc)
    assert listing(api) == before


def test_provider_create_malformed_json_and_non_object(api):
    before = listing(api)
    status, resp, _ = call(api, "POST", P + "/", raw=b'{"id": "x", ')
    assert_422(status, resp, ["body"])
    status, resp, _ = call(api, "POST", P + "/", raw=b'[1, 2]')
    assert_422(status, resp, ["body"])
    assert listing(api) == before


@pytest.mark.parametrize("body,loc", [
    ({"name": None}, ["body", "name"]),
    ({"status": None}, ["body", "status"]),
    ({"health_status": None}, ["body", "health_status"]),
    ({"name": ""}, ["body", "name"]),
    ({"id": "other"}, ["body", "id"]),
    ({"unknown": 1}, ["body", "unknown"]),
    ({"base_url": "x" * 513}, ["body", "base_url"]),
    ({"health_payload": "ok"}, ["body", "health_payload"]),
])
def test_provider_patch_rejects_bad_bodies(api, body, loc):
    before = call(api, "GET", P + "/xyz")[1]
    status, resp, _ = call(api, "PATCH", P + "/xyz", body)
    assert_422(status, resp, loc)
    assert call(api, "GET", P + "/xyz")[1] == before


def test_patch_without_body_is_422(api):
    status, resp, _ = call(api, "PATCH", P + "/xyz")
    assert_422(status, resp, ["body"])


def test_routing_slash_404_405(api):
    status, body, hdr = call(api, "GET", P)
    if status == 307:
        assert hdr["location"].endswith(P + "/")
    else:
        assert status == 200 and isinstance(body, list)
    status, body, _ = call(api, "GET", P + "/xyz/")
    assert status in (200, 307)
    status, body, _ = call(api, "PUT", P + "/xyz")
    assert status == 405 and body == {"detail": "Method Not Allowed"}
    status, body, _ = call(api, "DELETE", P + "/")
    assert status == 405 and body == {"detail": "Method Not Allowed"}
    status, body, _ = call(api, "GET", P + "/xyz/services")
    assert status == 405 and body == {"detail": "Method Not Allowed"}
    status, body, _ = call(api, "GET", P + "/xyz/services/321/extra")
    assert status == 404 and body == {"detail": "Not Found"}
    status, body, _ = call(api, "GET", P + "/nope")
    assert status == 404 and body == {"detail": "Provider not found"}


# ---- services ------------------------------------------------------------------------------


def test_service_create_get_patch_delete(api, db):
    assert call(api, "POST", P + "/", {"id": "p1", "name": "P"})[0] == 201
    assert call(api, "POST", P + "/", {"id": "p2", "name": "Q"})[0] == 201
    status, svc, _ = call(api, "POST", P + "/p1/services", {
        "id": "s1", "name": "Followers", "action": "followers", "category": "growth",
        "default_currency": "EUR", "allowed_regions": ["eu"], "rate_limit_per_minute": 5,
        "metadata": {"cost_model": {"kind": "flat", "amount": 1, "currency": "USD"},
                     "guardrails": {"minimumMarginPercent": 10}, "custom": "kept",
                     "payloadTemplates": [{"operation": "order", "path": "/api"}]},
        "credentials": {"k": "v"}, "health_status": "healthy",
        "health_payload": {"probe": 1}, "last_health_check_at": "2025-01-01T00:00:00.5Z"})
    assert status == 201, svc
    assert set(svc) == SERVICE_KEYS
    assert svc["providerId"] == "p1" and svc["healthStatus"] == "healthy"
    assert svc["status"] == "active" and svc["defaultCurrency"] == "EUR"
    assert svc["healthPayload"] == {"probe": 1}
    assert svc["lastHealthCheckAt"] == "2025-01-01T00:00:00.5Z"
    md = svc["metadata"]
    assert METADATA_KEYS <= set(md) and md["custom"] == "kept"
    assert md["version"] == 1 and md["legacy"] is None and md["cadence"] is None
    assert md["costModel"] == {"kind": "flat", "amount": 1.0, "currency": "USD", "unit": None,
                               "unitAmount": None, "minimumUnits": None, "tiers": None}
    assert md["guardrails"] == {"minimumMarginPercent": 10.0, "warningMarginPercent": None,
                                "minimumMarginAbsolute": None, "currency": None, "notes": None}
    assert md["payloadTemplates"] == [{"operation": "order", "method": "POST", "path": "/api",
                                       "headers": None, "bodyTemplate": None,
                                       "successCodes": None, "responseMappings": None}]
    # stored normalised: camelCase, nulls dropped, extra keys kept
    stored = db_query(db, "SELECT metadata_json FROM fulfillment_services WHERE id = 's1'")
    assert stored[0]["metadata_json"]["costModel"] == {"kind": "flat", "amount": 1.0,
                                                       "currency": "USD"}
    assert "cost_model" not in stored[0]["metadata_json"]

    status, got, _ = call(api, "GET", P + "/p1/services/s1")
    assert status == 200 and got == svc
    prov = call(api, "GET", P + "/p1")[1]
    assert [s["id"] for s in prov["services"]] == ["s1"] and prov["services"][0] == svc

    # duplicates: same provider, and (DECISIONS 14) another provider
    status, body, _ = call(api, "POST", P + "/p1/services", {"id": "s1", "name": "x", "action": "y"})
    assert status == 409 and body == {"detail": "Service already exists for provider"}
    status, body, _ = call(api, "POST", P + "/p2/services", {"id": "s1", "name": "x", "action": "y"})
    assert status == 409 and body == {"detail": "Service already exists for provider"}
    status, body, _ = call(api, "POST", P + "/nope/services", {"id": "s9", "name": "x",
                                                                 "action": "y"})
    assert status == 404 and body == {"detail": "Provider not found"}

    # patch semantics
    status, up, _ = call(api, "PATCH", P + "/p1/services/s1", {
        "name": "Likes", "allowed_regions": None, "metadata": None, "credentials": None,
        "category": None, "status": "inactive"})
    assert status == 200, up
    assert up["name"] == "Likes" and up["allowedRegions"] == [] and up["credentials"] is None
    assert up["category"] is None and up["status"] == "inactive" and up["action"] == "followers"
    assert up["metadata"]["version"] == 1 and up["metadata"]["costModel"] is None
    status, same, _ = call(api, "PATCH", P + "/p1/services/s1", {})
    assert status == 200 and same == up

    # the service is not reachable under another provider
    status, body, _ = call(api, "GET", P + "/p2/services/s1")
    assert status == 404 and body == {"detail": "Service not found"}
    status, body, _ = call(api, "PATCH", P + "/p2/services/s1", {"name": "z"})
    assert status == 404 and body == {"detail": "Service not found"}
    status, body, _ = call(api, "DELETE", P + "/p2/services/s1")
    assert status == 404 and body == {"detail": "Service not found"}
    status, body, _ = call(api, "GET", P + "/nope/services/s1")
    assert status == 404 and body == {"detail": "Provider not found"}
    status, body, _ = call(api, "DELETE", P + "/nope/services/s1")
    assert status == 404 and body == {"detail": "Provider not found"}

    status, body, _ = call(api, "DELETE", P + "/p1/services/s1")
    assert status == 204 and body is None
    status, body, _ = call(api, "GET", P + "/p1/services/s1")
    assert status == 404 and body == {"detail": "Service not found"}


def test_provider_delete_cascades_services_and_balance(api, db):
    assert call(api, "POST", P + "/", {"id": "p1", "name": "P"})[0] == 201
    assert call(api, "POST", P + "/p1/services", {"id": "s1", "name": "S", "action": "a"})[0] == 201
    db_exec(db, "INSERT INTO fulfillment_provider_balances (id, provider_id, balance_amount, "
                "currency) VALUES (?, ?, ?, ?)",
            ("6f9619ff-8b86-4d11-b42d-00c04fc964ff", "p1", 5, "USD"))
    assert call(api, "GET", P + "/p1")[1]["balanceSnapshot"]["amount"] == 5.0
    assert call(api, "DELETE", P + "/p1")[0] == 204
    assert db_query(db, "SELECT id FROM fulfillment_services WHERE provider_id = 'p1'") == []
    assert db_query(db, "SELECT id FROM fulfillment_provider_balances "
                        "WHERE provider_id = 'p1'") == []


def test_service_metadata_that_does_not_validate_is_legacy(api, db):
    assert call(api, "POST", P + "/", {"id": "p1", "name": "P"})[0] == 201
    # a create body with such metadata is accepted (dict branch) and stored verbatim
    status, svc, _ = call(api, "POST", P + "/p1/services", {
        "id": "s1", "name": "S", "action": "a", "metadata": {"costModel": {"kind": "weird"}}})
    assert status == 201
    md = svc["metadata"]
    assert md["legacy"] == {"costModel": {"kind": "weird"}} and md["costModel"] is None
    assert md["version"] == 1 and md["payloadTemplates"] == [] and set(md) == METADATA_KEYS
    stored = db_query(db, "SELECT metadata_json FROM fulfillment_services WHERE id = 's1'")
    assert stored[0]["metadata_json"] == {"costModel": {"kind": "weird"}}
    # rows written by other programs read the same way
    db_exec(db, "INSERT INTO fulfillment_services (id, provider_id, name, action, metadata_json, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("s2", "p1", "S2", "a", {"version": 0}, "2030-01-01T00:00:00+00:00",
             "2030-01-01T00:00:00+00:00"))
    s2 = call(api, "GET", P + "/p1/services/s2")[1]
    assert s2["metadata"]["legacy"] == {"version": 0} and s2["metadata"]["version"] == 1
    assert s2["allowedRegions"] == [] and s2["healthPayload"] == {}
    assert s2["createdAt"] == "2030-01-01T00:00:00Z"
    # services are listed in created_at order
    assert [s["id"] for s in call(api, "GET", P + "/p1")[1]["services"]] == ["s1", "s2"]


@pytest.mark.parametrize("body,loc", [
    (None, ["body"]),
    ({"id": "s", "name": "n"}, ["body", "action"]),
    ({"id": "s", "name": "n", "action": "a", "default_currency": "EURO"},
     ["body", "default_currency"]),
    ({"id": "s", "name": "n", "action": "a", "providerId": "p1"}, ["body", "providerId"]),
    ({"id": "s", "name": "n", "action": "a", "metadata": "x"}, ["body", "metadata"]),
    ({"id": "s", "name": "n", "action": "a", "status": None}, ["body", "status"]),
])
def test_service_create_rejects_bad_bodies(api, db, body, loc):
    before = db_query(db, "SELECT id FROM fulfillment_services ORDER BY id")
    status, resp, _ = call(api, "POST", P + "/xyz/services", body)
    assert_422(status, resp, loc)
    assert db_query(db, "SELECT id FROM fulfillment_services ORDER BY id") == before


@pytest.mark.parametrize("body,loc", [
    ({"name": None}, ["body", "name"]),
    ({"action": None}, ["body", "action"]),
    ({"status": None}, ["body", "status"]),
    ({"health_status": None}, ["body", "health_status"]),
    ({"default_currency": "E"}, ["body", "default_currency"]),
    ({"extra": True}, ["body", "extra"]),
])
def test_service_patch_rejects_bad_bodies(api, body, loc):
    before = call(api, "GET", P + "/xyz/services/321")[1]
    status, resp, _ = call(api, "PATCH", P + "/xyz/services/321", body)
    assert_422(status, resp, loc)
    assert call(api, "GET", P + "/xyz/services/321")[1] == before


# ---- platform contexts ---------------------------------------------------------------------


def test_platform_contexts(api, db):
    rows = [("p1", "ig-1", "Instagram @brand", "@brand", "instagram", "2025-01-01T00:00:01+00:00"),
            ("p1", "tt-1", "TikTok", None, None, "2025-01-03T00:00:00+00:00"),
            ("p1", "yt-1", "YouTube", "@yt", "youtube", "2025-01-02T00:00:00+00:00"),
            ("p1", "fb-1", "Facebook", None, "facebook", "2024-12-01T00:00:00+00:00"),
            ("p2", "x-1", "X", "@x", "x", "2025-01-01T00:00:00+00:00")]
    for r in rows:
        db_exec(db, "INSERT INTO provider_platform_context_cache (provider_id, platform_id, "
                    "label, handle, platform_type, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)", r)
    status, body, _ = call(api, "GET", P + "/platform-contexts?providerId=p1&providerId=nope"
                                           "&providerId=&providerId=p2&providerId=p1")
    assert status == 200, body
    assert [e["providerId"] for e in body] == ["p1", "nope", "p2", "p1"]
    assert [c["id"] for c in body[0]["contexts"]] == ["tt-1", "yt-1", "ig-1"]  # limit 3
    assert body[0]["contexts"][0] == {"id": "tt-1", "label": "TikTok", "handle": None,
                                      "platformType": None}
    assert body[1]["contexts"] == [] and body[3] == body[0]
    assert body[2]["contexts"] == [{"id": "x-1", "label": "X", "handle": "@x", "platformType": "x"}]
    status, body, _ = call(api, "GET", P + "/platform-contexts?providerId=p1&limit=10")
    assert status == 200 and len(body[0]["contexts"]) == 4
    status, body, _ = call(api, "GET", P + "/platform-contexts?providerId=p1&limit=1")
    assert [c["id"] for c in body[0]["contexts"]] == ["tt-1"]
    for q in ("", "?limit=2", "?providerId=p1&limit=0", "?providerId=p1&limit=11",
              "?providerId=p1&limit=x"):
        status, body, _ = call(api, "GET", P + "/platform-contexts" + q)
        assert status == 422, (q, body)
        assert isinstance(body["detail"], list) and body["detail"][0]["loc"][0] == "query"
    status, body, _ = call(api, "GET", P + "/platform-contexts")
    assert body["detail"][0]["loc"] == ["query", "providerId"]


# ---- balance refresh -----------------------------------------------------------------------


def balance_provider(api, pid, url, response=None, extra=None):
    endpoint = {"method": "GET", "url": url, "headers": {"X-Key": "{{apiKey}}"}}
    if response is not None:
        endpoint["response"] = response
    endpoint.update(extra or {})
    status, body, _ = call(api, "POST", P + "/", {
        "id": pid, "name": pid.upper(),
        "metadata": {"automation": {"apiKey": "secret-1", "endpoints": {"balance": endpoint}}}})
    assert status == 201, body


def test_balance_refresh_extracts_amount_and_currency(api, db, mock_provider):
    mock_provider.on("/balance", Json({"data": {"funds": "12.5", "cur": "usd"}, "other": 1}))
    balance_provider(api, "b1", mock_provider.url_for("/balance"),
                     {"balancePath": "data.funds", "currencyPath": "data.cur"})
    status, prov, _ = call(api, "POST", P + "/b1/balance/refresh")
    assert status == 200, prov
    assert set(prov) == PROVIDER_KEYS
    snap = prov["balanceSnapshot"]
    assert set(snap) == BALANCE_KEYS
    assert snap["amount"] == 12.5 and snap["currency"] == "USD" and is_z_time(snap["retrievedAt"])
    assert snap["payload"] == {"data": {"funds": "12.5", "cur": "usd"}, "other": 1}
    req = mock_provider.last("/balance")
    assert req.method == "GET" and req.header("X-Key") == "secret-1"
    # the snapshot is stored and shows in detail and listing
    assert call(api, "GET", P + "/b1")[1]["balanceSnapshot"] == snap
    assert [p for p in listing(api) if p["id"] == "b1"][0]["balanceSnapshot"] == snap

    # a second refresh updates the single row; a top-level balance of 0 is 0 (DECISIONS 11)
    mock_provider.on("/balance", Json({"balance": 0, "amount": 99, "currency": "eur"}))
    status, prov, _ = call(api, "POST", P + "/b1/balance/refresh")
    assert status == 200
    assert prov["balanceSnapshot"]["amount"] == 0.0 and prov["balanceSnapshot"]["currency"] == "EUR"
    rows = db_query(db, "SELECT balance_amount, currency FROM fulfillment_provider_balances "
                        "WHERE provider_id = 'b1'")
    assert len(rows) == 1 and float(rows[0]["balance_amount"]) == 0 and rows[0]["currency"] == "EUR"


def test_balance_refresh_fallbacks(api, mock_provider):
    mock_provider.on("/b", Json({"amount": "7.25"}))
    balance_provider(api, "b2", mock_provider.url_for("/b"), {"balancePath": "missing.path"})
    status, prov, _ = call(api, "POST", P + "/b2/balance/refresh")
    assert status == 200
    assert prov["balanceSnapshot"]["amount"] == 7.25 and prov["balanceSnapshot"]["currency"] is None
    mock_provider.on("/b", Json({"note": "nothing"}))
    status, prov, _ = call(api, "POST", P + "/b2/balance/refresh")
    assert status == 200 and prov["balanceSnapshot"]["amount"] is None


def test_balance_refresh_errors(api, db, mock_provider):
    status, body, _ = call(api, "POST", P + "/nope/balance/refresh")
    assert status == 404 and body == {"detail": "Provider not found"}
    status, body, _ = call(api, "POST", P + "/xyz/balance/refresh")
    assert status == 400 and body == {"detail": "Balance endpoint is not configured for provider"}

    mock_provider.on("/down", Status(500))
    url = mock_provider.url_for("/down")
    balance_provider(api, "b3", url)
    status, body, _ = call(api, "POST", P + "/b3/balance/refresh")
    assert status == 400, body
    assert body["detail"].startswith(f"Server error '500 Internal Server Error' for url '{url}'")
    assert call(api, "GET", P + "/b3")[1]["balanceSnapshot"] is None
    assert db_query(db, "SELECT id FROM fulfillment_provider_balances "
                        "WHERE provider_id = 'b3'") == []

    status, _, _ = call(api, "POST", P + "/", {
        "id": "b4", "name": "B4", "metadata": {"automation": {"endpoints": {"balance": {}}}}})
    assert status == 201
    status, body, _ = call(api, "POST", P + "/b4/balance/refresh")
    assert status == 400 and body == {"detail": "Endpoint URL is not configured"}
    assert mock_provider.errors == []


def test_balance_refresh_honours_private_network_policy(service, sqlite_db, mock_provider):
    svc = service(["smplat", "serve"], db_url=sqlite_db)  # PROVIDER_ALLOW_PRIVATE_NETWORKS unset
    mock_provider.on("/balance", Json({"balance": 3}))
    balance_provider(svc, "b5", mock_provider.url_for("/balance"))
    status, body, _ = call(svc, "POST", P + "/b5/balance/refresh")
    assert status == 400 and body["detail"]
    assert mock_provider.count("/balance") == 0
