"""The guardrail follow-up API (spec-alerts §11, §7.1, §8.4, §3.3) on SQLite and PostgreSQL:
POST records a manual follow-up, upserts the provider's guardrail status and posts the Slack
message with the telemetry block (webhook sink); GET pages a provider's follow-ups newest first
by a createdAt cursor. Validation answers pydantic's 422 shape, extra keys are ignored, the API
token applies, a dead webhook never fails the POST, and the alert worker's auto pause shows up
in the listing with the same entry shape."""

import http.client
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from harness import db_exec, db_query
from replay_seed import q

F = "/api/v1/reporting/guardrails/followups"
FRONTEND = "https://app.smplat.local"
ENTRY_KEYS = ["id", "providerId", "providerName", "action", "notes", "platformContext",
              "attachments", "createdAt", "conversionCursor", "conversionHref"]
STATUS_KEYS = ["providerId", "providerName", "isPaused", "lastAction", "updatedAt", "lastFollowUpId"]
TELEMETRY_KEYS = ["totalOrders", "replays", "guardrails", "guardrailHitsByService",
                  "ruleOverridesByService"]
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def call(svc, method, path, body=None, raw=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = dict(headers or {})
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=hdrs)
    r = c.getresponse()
    payload = r.read()
    c.close()
    return r.status, (json.loads(payload) if payload else None)


def provider_orders_sql(pid, payloads, service_id="svc-a", amount=100):
    """One order and item with a provider order of pid per payload, newest first."""
    sql = ""
    for i, payload in enumerate(payloads):
        oid, iid = str(uuid.uuid4()), str(uuid.uuid4())
        when = (NOW - timedelta(seconds=10 + i)).isoformat()
        sql += (
            f"INSERT INTO orders (id, created_at, updated_at) VALUES ({q(oid)}, {q(when)}, {q(when)});\n"
            "INSERT INTO order_items (id, order_id, total_price, created_at, updated_at) "
            f"VALUES ({q(iid)}, {q(oid)}, 100, {q(when)}, {q(when)});\n"
            "INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, "
            "provider_name, service_id, service_action, amount, currency, payload, created_at, "
            f"updated_at) VALUES ({q(str(uuid.uuid4()))}, {q(oid)}, {q(iid)}, {q(pid)}, 'P', "
            f"{q(service_id)}, 'act', {q(amount)}, 'USD', {q(payload)}, {q(when)}, {q(when)});\n"
        )
    return sql


def slack_env(webhook_sink, **extra):
    env = {
        "PROVIDER_ALLOW_PRIVATE_NETWORKS": "true",
        "FRONTEND_URL": FRONTEND,
        "PROVIDER_AUTOMATION_ALERT_SLACK_WEBHOOK_URL": webhook_sink.url_for("/hooks/T000/secret"),
        "PROVIDER_AUTOMATION_ALERT_SLACK_CHANNEL": "#ops",
    }
    env.update(extra)
    return env


def assert_422(status, body, loc):
    assert status == 422, body
    locs = [d["loc"] for d in body["detail"]]
    assert loc in locs, body
    for d in body["detail"]:
        assert set(d) >= {"type", "loc", "msg", "input", "url"}


@pytest.fixture
def served(service, run_cli, db):
    def start(env=None, sql=None):
        run_cli(["smplat", "migrate"], db_url=db).check(0)
        if sql:
            db_exec(db, sql)
        return service(["smplat", "serve"], db_url=db, env=env)
    return start


def test_post_records_upserts_status_and_notifies(served, db, webhook_sink):
    sql = provider_orders_sql("prov-a", [
        {"replays": [{"status": "executed"}, {"status": "Failed"}], "scheduledReplays": [{"status": "scheduled"}],
         "guardrails": {"minimumMarginPercent": 20, "warningMarginPercent": 40}, "providerCostAmount": 75,
         "serviceRules": [{"id": "r1", "label": "Rush"}]},
        {"guardrails": {"minimum_margin_absolute": 30}, "providerCostAmount": "90"},
    ])
    svc = served(slack_env(webhook_sink), sql)
    body = {
        "providerId": "prov-a", "providerName": "Provider A", "action": "escalate_to_ops",
        "notes": "  Margin slipping  ", "platformContext": {"id": "ig", "label": "Instagram", "handle": "@brand"},
        "conversionCursor": "2025-01-01T00:00:00Z",
        "attachments": [{"id": "a1", "fileName": "shot.png", "assetUrl": "https://cdn.example/shot.png",
                         "storageKey": "k/shot.png", "size": "2048", "uploadedAt": "2025-01-02T03:04:05+02:00"}],
        "unknownKey": {"ignored": True},
    }
    status, out = call(svc, "POST", F, body)
    assert status == 201, out
    assert list(out) == ["entry", "status", "providerTelemetry"]
    entry = out["entry"]
    assert list(entry) == ENTRY_KEYS
    uuid.UUID(entry["id"])
    assert entry["providerId"] == "prov-a" and entry["action"] == "escalate_to_ops"
    assert entry["notes"] == "  Margin slipping  "
    assert entry["platformContext"] == {"id": "ig", "label": "Instagram", "handle": "@brand", "platformType": None}
    assert entry["attachments"] == [{"id": "a1", "fileName": "shot.png", "assetUrl": "https://cdn.example/shot.png",
                                     "storageKey": "k/shot.png", "size": 2048, "contentType": None,
                                     "uploadedAt": "2025-01-02T01:04:05Z"}]
    assert entry["conversionHref"] is None and entry["createdAt"].endswith("Z")
    st = out["status"]
    assert list(st) == STATUS_KEYS
    assert st == {"providerId": "prov-a", "providerName": "Provider A", "isPaused": False,
                  "lastAction": "escalate_to_ops", "updatedAt": st["updatedAt"], "lastFollowUpId": entry["id"]}
    tel = out["providerTelemetry"]
    assert list(tel) == TELEMETRY_KEYS
    assert tel["totalOrders"] == 2
    assert tel["replays"] == {"total": 2, "executed": 1, "failed": 1, "scheduled": 1}
    assert tel["guardrails"] == {"evaluated": 2, "pass": 0, "warn": 1, "fail": 1}

    rows = db_query(db, "SELECT action, platform_context, attachments, conversion_cursor "
                        "FROM provider_guardrail_followup")
    assert len(rows) == 1 and rows[0]["action"] == "escalate_to_ops"
    assert rows[0]["attachments"][0]["uploadedAt"] == "2025-01-02T01:04:05Z"
    assert rows[0]["platform_context"]["label"] == "Instagram"
    assert rows[0]["conversion_cursor"] == "2025-01-01T00:00:00Z"
    srow = db_query(db, "SELECT last_source, last_action FROM provider_guardrail_status WHERE provider_id = 'prov-a'")
    assert srow == [{"last_source": "manual", "last_action": "escalate_to_ops"}]

    webhook_sink.wait_for(1)
    bodies = webhook_sink.json_bodies()
    assert len(bodies) == 1 and bodies[0]["channel"] == "#ops"
    assert bodies[0]["text"] == (
        ":warning: Guardrail follow-up recorded for *Provider A* (`prov-a`)\n"
        "• Action: *Escalate To Ops*\n"
        "• Notes: Margin slipping\n"
        "• Attachments: <https://cdn.example/shot.png|shot.png>\n"
        "• Status: *Active*\n"
        "• Context: Instagram (@brand)\n"
        f"<{FRONTEND}/admin/fulfillment/providers/prov-a?tab=automation|Open dashboard>\n"
        ":bar_chart: Provider automation telemetry\n"
        "• Routed orders: 2\n"
        "• Replays executed 1/2 · Failed 1 · Scheduled 1\n"
        "• Guardrail checks 2: pass 0 · warn 1 · fail 1\n"
        "• Services under watch: svc-a (warn 1, fail 1)\n"
        "• Rule overrides triggered: svc-a (1)\n"
        f"• Historical conversion slice: <{FRONTEND}/admin/reports?conversionCursor=2025-01-01T00%3A00%3A00Z"
        "#experiment-analytics|Open conversions> (cursor 2025-01-01T00:00:00Z)")


def test_pause_resume_set_is_paused_and_nulls_are_kept(served, db):
    svc = served()
    status, out = call(svc, "POST", F, {"providerId": "p1", "action": "pause"})
    assert status == 201, out
    assert out["status"]["isPaused"] is True and out["status"]["providerName"] is None
    assert out["providerTelemetry"] is None
    assert out["entry"]["notes"] is None and out["entry"]["attachments"] is None
    assert out["entry"]["platformContext"] is None
    status, out = call(svc, "POST", F, {"providerId": "p1", "providerName": "P One", "action": "note", "notes": "x"})
    assert status == 201 and out["status"]["isPaused"] is True and out["status"]["lastAction"] == "note"
    status, out = call(svc, "POST", F, {"providerId": "p1", "action": "resume"})
    assert status == 201 and out["status"]["isPaused"] is False
    assert out["status"]["providerName"] == "P One"  # kept when the new name is null


@pytest.mark.parametrize("body,loc", [
    ({"action": "pause"}, ["body", "providerId"]),
    ({"providerId": "p", "action": ""}, ["body", "action"]),
    ({"providerId": "p", "action": "x" * 65}, ["body", "action"]),
    ({"providerId": "p", "action": "note", "notes": "n" * 501}, ["body", "notes"]),
    ({"providerId": "p", "action": "note", "platformContext": {"id": "ig"}}, ["body", "platformContext", "label"]),
    ({"providerId": "p", "action": "note", "platformContext": "ig"}, ["body", "platformContext"]),
    ({"providerId": "p", "action": "note", "attachments": [{"id": "a", "fileName": "f", "assetUrl": "u"}]},
     ["body", "attachments", 0, "storageKey"]),
    ({"providerId": "p", "action": "note", "attachments": [{"id": "a", "fileName": "f", "assetUrl": "u",
                                                            "storageKey": "k", "uploadedAt": "yesterday"}]},
     ["body", "attachments", 0, "uploadedAt"]),
    ({"providerId": "p", "action": "note", "attachments": {"id": "a"}}, ["body", "attachments"]),
    ({"providerId": 7, "action": "note"}, ["body", "providerId"]),
    # the columns' lengths: a 422 on both backends, never a database error
    ({"providerId": "p" * 129, "action": "note"}, ["body", "providerId"]),
    ({"providerId": "p", "providerName": "n" * 256, "action": "note"}, ["body", "providerName"]),
    ({"providerId": "p", "action": "note", "conversionCursor": "c" * 256}, ["body", "conversionCursor"]),
])
def test_post_rejects_bad_bodies(served, db, body, loc):
    svc = served()
    status, out = call(svc, "POST", F, body)
    assert_422(status, out, loc)
    assert db_query(db, "SELECT count(*) AS n FROM provider_guardrail_followup")[0]["n"] == 0
    assert db_query(db, "SELECT count(*) AS n FROM provider_guardrail_status")[0]["n"] == 0


def test_post_malformed_json_is_422(served):
    svc = served()
    status, out = call(svc, "POST", F, raw=b"{not json")
    assert status == 422 and out["detail"][0]["type"] == "json_invalid"


def test_get_pages_with_cursor(served, db):
    svc = served()
    ids = []
    for i in range(5):
        status, out = call(svc, "POST", F, {"providerId": "pg", "action": f"step_{i}"})
        assert status == 201
        ids.append(out["entry"]["id"])
    call(svc, "POST", F, {"providerId": "other", "action": "pause"})
    status, page = call(svc, "GET", F + "?providerId=pg&limit=2")
    assert status == 200
    assert list(page) == ["entries", "nextCursor", "status", "providerTelemetry"]
    assert [e["id"] for e in page["entries"]] == ids[::-1][:2]
    assert all(list(e) == ENTRY_KEYS for e in page["entries"])
    assert page["nextCursor"] == page["entries"][-1]["createdAt"]
    assert page["status"]["lastFollowUpId"] == ids[-1] and page["providerTelemetry"] is None
    seen = [e["id"] for e in page["entries"]]
    cursor = page["nextCursor"]
    while cursor:
        status, page = call(svc, "GET", F + "?providerId=pg&limit=2&cursor=" + cursor.replace("+", "%2B"))
        assert status == 200
        seen += [e["id"] for e in page["entries"]]
        cursor = page["nextCursor"]
    assert seen == ids[::-1]
    status, page = call(svc, "GET", F + "?providerId=pg")
    assert len(page["entries"]) == 5 and page["nextCursor"] is None
    status, page = call(svc, "GET", F + "?providerId=nobody")
    assert status == 200 and page == {"entries": [], "nextCursor": None, "status": None, "providerTelemetry": None}


@pytest.mark.parametrize("query,loc", [
    ("", ["query", "providerId"]),
    ("providerId=p&limit=0", ["query", "limit"]),
    ("providerId=p&limit=101", ["query", "limit"]),
    ("providerId=p&limit=x", ["query", "limit"]),
    ("providerId=p&cursor=not-a-date", ["query", "cursor"]),
])
def test_get_rejects_bad_queries(served, query, loc):
    svc = served()
    status, out = call(svc, "GET", F + "?" + query)
    assert_422(status, out, loc)


def test_get_limit_bounds_accepted(served):
    svc = served()
    for limit in (1, 100):
        status, out = call(svc, "GET", F + f"?providerId=p&limit={limit}")
        assert status == 200 and out["entries"] == []


def test_api_token_applies(service, run_cli, sqlite_db):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    svc = service(["smplat", "serve"], db_url=sqlite_db, env={"SMPLAT_API_TOKEN": "s3cret"})
    status, out = call(svc, "GET", F + "?providerId=p")
    assert status == 401 and out == {"detail": "Invalid API key"}
    status, out = call(svc, "POST", F, {"providerId": "p", "action": "pause"})
    assert status == 401
    status, _ = call(svc, "POST", F, {"providerId": "p", "action": "pause"},
                     headers={"Authorization": "Bearer s3cret"})
    assert status == 201
    status, out = call(svc, "GET", F + "?providerId=p", headers={"X-API-Key": "s3cret"})
    assert status == 200 and len(out["entries"]) == 1


def test_failing_webhook_does_not_fail_the_post(served, db, webhook_sink):
    webhook_sink.respond_with([500])
    svc = served(slack_env(webhook_sink))
    status, out = call(svc, "POST", F, {"providerId": "p", "action": "pause", "notes": "n"})
    assert status == 201, out
    assert len(webhook_sink.json_bodies()) >= 1
    assert db_query(db, "SELECT count(*) AS n FROM provider_guardrail_followup")[0]["n"] == 1
    assert "Failed to send guardrail follow-up Slack notification" in svc.output()
    assert "secret" not in svc.output()


def test_worker_auto_pause_is_listed(served, db, run_cli):
    sql = ("INSERT INTO fulfillment_providers (id, name, status) VALUES ('prov-auto', 'Automation Provider', 'active');\n"
           + provider_orders_sql("prov-auto", [{"replays": [{"status": "failed"}]}] * 3))
    svc = served(None, sql)
    r = run_cli(["provider-alerts"], db_url=db)
    r.check(0)
    assert r.json["autoPaused"] == 1
    status, page = call(svc, "GET", F + "?providerId=prov-auto")
    assert status == 200
    [entry] = page["entries"]
    assert list(entry) == ENTRY_KEYS
    assert entry["action"] == "pause" and entry["providerName"] == "Automation Provider"
    assert entry["notes"] == "Auto pause triggered by provider automation alerts worker"
    assert entry["platformContext"] is None and entry["attachments"] is None
    assert entry["id"] == r.json["autoPausedProviders"][0]["followUpId"]
    assert page["status"]["isPaused"] is True and page["status"]["lastFollowUpId"] == entry["id"]
    assert page["providerTelemetry"]["replays"]["failed"] == 3
    # A manual follow-up after it takes the provider out of auto resume (last_source manual).
    status, _ = call(svc, "POST", F, {"providerId": "prov-auto", "action": "escalate_to_ops"})
    assert status == 201
    rows = db_query(db, "SELECT last_source, is_paused FROM provider_guardrail_status WHERE provider_id = 'prov-auto'")
    assert rows[0]["last_source"] == "manual" and rows[0]["is_paused"] in (True, 1)
