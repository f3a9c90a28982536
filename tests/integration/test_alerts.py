"""The alert worker end to end (spec-alerts §5-§9, DECISIONS 16): provider-alerts against real
Slack (webhook sink) and SMTP (SMTP sink) receivers, retries, cooldown, auto pause and resume
with the replay worker deferring a paused provider, the in-process loop and "Run now", and
GET /api/v1/reporting/blueprint-metrics on seeded data, on SQLite and PostgreSQL."""

import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from harness import Status, db_exec, db_query, db_scalar
from replay_seed import q

NOW = datetime.now(timezone.utc).replace(microsecond=0)
FRONTEND = "https://admin.example.com"


def ts(days_ago=0.0, seconds=0):
    return (NOW - timedelta(days=days_ago, seconds=seconds)).isoformat()


def provider_sql(pid, name=None, status="active", url="http://127.0.0.1:9/order"):
    metadata = {"automation": {"endpoints": {"order": {"method": "POST", "url": url}}}}
    return (
        "INSERT INTO fulfillment_providers (id, name, metadata_json, status) "
        f"VALUES ({q(pid)}, {q(name or 'Provider ' + pid)}, {q(metadata)}, {q(status)});\n"
    )


def order_sql(created, selected=None, provider_orders=()):
    """An order with one item (selected_options) and its provider orders, each a dict with
    provider_id, service_id, amount, payload, created (defaults: the order's time)."""
    oid, iid = str(uuid.uuid4()), str(uuid.uuid4())
    sql = (
        f"INSERT INTO orders (id, created_at, updated_at) VALUES ({q(oid)}, {q(created)}, {q(created)});\n"
        "INSERT INTO order_items (id, order_id, selected_options, total_price, created_at, updated_at) "
        f"VALUES ({q(iid)}, {q(oid)}, {q(selected)}, 100, {q(created)}, {q(created)});\n"
    )
    for po in provider_orders:
        pid = po["provider_id"]
        when = po.get("created", created)
        sql += (
            "INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, "
            "provider_name, service_id, service_action, amount, currency, payload, created_at, "
            f"updated_at) VALUES ({q(str(uuid.uuid4()))}, {q(oid)}, {q(iid)}, {q(pid)}, "
            f"{q('Provider ' + pid)}, {q(po.get('service_id', 'svc-' + pid))}, "
            f"{q(po.get('service_action', 'qa_support'))}, {q(po.get('amount', 50))}, 'USD', "
            f"{q(po.get('payload', {}))}, {q(when)}, {q(when)});\n"
        )
    return sql


def failing_orders_sql(pid, n=3, seconds_ago=100, extra_payload=None):
    """n provider orders whose replays failed: a replay-failure alert at the default
    threshold (3), and an auto pause."""
    sql = ""
    for i in range(n):
        payload = {"replays": [{"status": "failed"}]}
        if extra_payload and i == 0:
            payload.update(extra_payload)
        sql += order_sql(ts(seconds=seconds_ago + i), None, [{"provider_id": pid, "payload": payload}])
    return sql


def channels_env(webhook_sink, smtp_sink, **extra):
    env = {
        "PROVIDER_ALLOW_PRIVATE_NETWORKS": "true",
        "FRONTEND_URL": FRONTEND,
        "PROVIDER_AUTOMATION_ALERT_SLACK_WEBHOOK_URL": webhook_sink.url_for("/hooks/T000/secret-token"),
        "PROVIDER_AUTOMATION_ALERT_SLACK_CHANNEL": "#ops",
        "PROVIDER_AUTOMATION_ALERT_EMAIL_RECIPIENTS": "ops@example.com, cto@example.com",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "SMTP_USE_TLS": "false",
        "SMTP_SENDER_EMAIL": "alerts@example.com",
    }
    env.update(extra)
    return env


def slack_texts(webhook_sink, prefix=None):
    texts = [b["text"] for b in webhook_sink.json_bodies() if b]
    return [t for t in texts if prefix is None or t.startswith(prefix)]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_pass_notifies_both_channels_and_records(db, run_cli, webhook_sink, smtp_sink):
    run_cli(["smplat", "migrate"], db_url=db).check(0)
    db_exec(db, provider_sql("prov-a", "Provider A") + failing_orders_sql("prov-a"))
    env = channels_env(webhook_sink, smtp_sink, SMTP_USERNAME="mailer", SMTP_PASSWORD="hunter2-secret")
    r = run_cli(["provider-alerts"], db_url=db, env=env)
    r.check(0)
    s = r.json
    assert s["alerts"] == 1 and s["alertsSent"] == 1
    assert s["autoPaused"] == 1 and s["autoResumed"] == 0
    digest = s["alertsDigest"][0]
    assert digest["providerId"] == "prov-a"
    assert digest["reasons"] == ["3/3 replay failures"]
    paused = s["autoPausedProviders"][0]
    assert paused["action"] == "pause" and paused["followUpId"]
    assert list(s.keys())[:5] == ["alerts", "alertsSent", "alertsDigest", "loadAlerts", "loadAlertsDigest"]

    # Slack: the follow-up message of the pause, then the alert message.
    webhook_sink.wait_for(2)
    bodies = webhook_sink.json_bodies()
    assert all(b["channel"] == "#ops" for b in bodies)
    followup = slack_texts(webhook_sink, ":warning: Guardrail follow-up")
    assert len(followup) == 1 and "• Action: *Pause*" in followup[0]
    alert = slack_texts(webhook_sink, ":warning: Provider automation alerts detected")
    assert len(alert) == 1
    assert "• Provider A (prov-a) — 3/3 replay failures" in alert[0]
    assert f"<{FRONTEND}/admin/fulfillment/providers/prov-a?tab=automation|Open automation tab>" in alert[0]

    # Email: one message per recipient, authenticated.
    msgs = smtp_sink.wait_for(2)
    assert sorted(m.rcpt_to[0] for m in msgs) == ["cto@example.com", "ops@example.com"]
    for m in msgs:
        assert m.subject == "Provider automation alerts"
        assert m.mail_from == "alerts@example.com"
        assert m.auth == ("mailer", "hunter2-secret")
        body = m.body_text()
        assert "- Provider A (prov-a): 3/3 replay failures" in body
        assert f"  Dashboard: {FRONTEND}/admin/fulfillment/providers/prov-a?tab=automation" in body
        assert body.rstrip().endswith("Investigate these providers before rerunning automated fulfillments.")
    # Secrets never logged.
    assert "secret-token" not in r.stderr and "hunter2" not in r.stderr

    st = db_query(db, "SELECT is_paused, last_source, last_action FROM provider_guardrail_status WHERE provider_id = 'prov-a'")
    assert st[0]["is_paused"] in (1, True) and st[0]["last_source"] == "automation" and st[0]["last_action"] == "pause"
    runs = db_query(db, "SELECT status, alerts_sent, metadata_json, summary FROM provider_automation_runs WHERE run_type = 'alert'")
    assert len(runs) == 1
    assert runs[0]["alerts_sent"] == 1 and runs[0]["status"] == "success"
    meta = runs[0]["metadata_json"]
    assert set(meta) == {"alertsDigest", "loadAlertsDigest", "autoPausedProviders", "autoResumedProviders"}
    assert meta["autoPausedProviders"][0]["providerId"] == "prov-a"
    blob = json.loads(db_scalar(db, "SELECT value FROM provider_automation_status WHERE key = 'provider_automation:status:alerts'"))
    assert blob["summary"]["alertsDigest"] == s["alertsDigest"] and blob["ranAt"].endswith("+00:00")

    # The same alert again within the cooldown: nothing is re-sent, nothing counted.
    n_hooks, n_mails = len(webhook_sink.received), len(smtp_sink.messages)
    r2 = run_cli(["provider-alerts"], db_url=db, env=env)
    r2.check(0)
    assert r2.json["alerts"] == 1 and r2.json["alertsSent"] == 0 and r2.json["autoPaused"] == 0
    time.sleep(0.2)
    assert len(webhook_sink.received) == n_hooks and len(smtp_sink.messages) == n_mails
    # With a cooldown of 0 it goes out again.
    r3 = run_cli(["provider-alerts"], db_url=db, env=dict(env, PROVIDER_AUTOMATION_ALERT_COOLDOWN_SECONDS="0"))
    r3.check(0)
    assert r3.json["alertsSent"] == 1
    smtp_sink.wait_for(n_mails + 2)


def test_webhook_429_then_200_is_delivered_once(sqlite_db, run_cli, webhook_sink):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    # Paused by hand: no auto pause, so the alert is the only Slack message.
    db_exec(
        sqlite_db,
        provider_sql("prov-a") + failing_orders_sql("prov-a")
        + "INSERT INTO provider_guardrail_status (provider_id, is_paused, last_source) VALUES ('prov-a', 1, 'manual');",
    )
    webhook_sink.respond_with([Status(429, retry_after=1), 200])
    env = {
        "PROVIDER_ALLOW_PRIVATE_NETWORKS": "true",
        "PROVIDER_AUTOMATION_ALERT_SLACK_WEBHOOK_URL": webhook_sink.url_for("/hook"),
    }
    started = time.time()
    r = run_cli(["provider-alerts"], db_url=sqlite_db, env=env)
    r.check(0)
    assert r.json["alertsSent"] == 1 and r.json["autoPaused"] == 0
    reqs = webhook_sink.received
    assert len(reqs) == 2
    assert reqs[1].time - reqs[0].time >= 0.9  # Retry-After honored
    assert len(set(b["text"] for b in webhook_sink.json_bodies())) == 1
    assert time.time() - started < 15


@pytest.mark.slow
def test_receiver_down_does_not_stop_the_other_channel(sqlite_db, run_cli, smtp_sink):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    db_exec(sqlite_db, provider_sql("prov-a") + failing_orders_sql("prov-a"))
    env = {
        "PROVIDER_ALLOW_PRIVATE_NETWORKS": "true",
        "PROVIDER_AUTOMATION_ALERT_SLACK_WEBHOOK_URL": f"http://127.0.0.1:{closed_port()}/hook",
        "PROVIDER_AUTOMATION_ALERT_EMAIL_RECIPIENTS": "ops@example.com",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "SMTP_USE_TLS": "false",
        "SMTP_SENDER_EMAIL": "alerts@example.com",
    }
    r = run_cli(["provider-alerts"], db_url=sqlite_db, env=env)
    r.check(0)
    assert r.json["alertsSent"] == 1
    assert len(smtp_sink.wait_for(1)) == 1
    assert db_scalar(sqlite_db, "SELECT status FROM provider_automation_runs WHERE run_type = 'alert'") == "partial"
    # The webhook's secret path is not logged.
    assert "/hook" not in r.stderr


def test_webhook_refused_by_outbound_policy(sqlite_db, run_cli, webhook_sink):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    db_exec(sqlite_db, provider_sql("prov-a") + failing_orders_sql("prov-a"))
    r = run_cli(["provider-alerts"], db_url=sqlite_db,
                env={"PROVIDER_AUTOMATION_ALERT_SLACK_WEBHOOK_URL": webhook_sink.url_for("/hook")})
    r.check(0)
    assert r.json["alertsSent"] == 0
    assert webhook_sink.received == []


def test_auto_pause_defers_replays_and_auto_resume(db, run_cli, mock_provider):
    run_cli(["smplat", "migrate"], db_url=db).check(0)
    due = {"id": "e-1", "status": "scheduled", "scheduledFor": ts(days_ago=1), "requestedAmount": 10}
    db_exec(
        db,
        provider_sql("prov-p", url=mock_provider.url_for("/order"))
        + failing_orders_sql("prov-p", extra_payload={"scheduledReplays": [due]}),
    )
    env = {"PROVIDER_ALLOW_PRIVATE_NETWORKS": "true", "PROVIDER_AUTOMATION_ALERT_SNAPSHOT_LIMIT": "3"}
    r1 = run_cli(["provider-alerts"], db_url=db, env=env)
    r1.check(0)
    assert r1.json["autoPaused"] == 1
    pause_id = r1.json["autoPausedProviders"][0]["followUpId"]

    rr = run_cli(["provider-replay", "scheduled", "--limit", "5"], db_url=db, env=env)
    rr.check(0)
    assert rr.json["processed"] == 0 and rr.json["deferred"] == 1
    assert mock_provider.count("/order") == 0

    # Three newer clean orders push the failures out of the snapshot: resumed.
    db_exec(db, "".join(order_sql(ts(seconds=10 - i), None, [{"provider_id": "prov-p"}]) for i in range(3)))
    r2 = run_cli(["provider-alerts"], db_url=db, env=env)
    r2.check(0)
    assert r2.json["alerts"] == 0 and r2.json["autoResumed"] == 1
    resumed = r2.json["autoResumedProviders"][0]
    assert resumed["providerId"] == "prov-p" and resumed["previousFollowUpId"] == pause_id
    assert resumed["notes"] == "Automation worker resumed provider after guardrails cleared"
    st = db_query(db, "SELECT is_paused, last_action FROM provider_guardrail_status WHERE provider_id = 'prov-p'")
    assert st[0]["is_paused"] in (0, False) and st[0]["last_action"] == "resume"
    actions = [row["action"] for row in db_query(
        db, "SELECT action FROM provider_guardrail_followup WHERE provider_id = 'prov-p' ORDER BY created_at")]
    assert actions == ["pause", "resume"]
    history = db_query(db, "SELECT metadata_json FROM provider_automation_runs WHERE run_type = 'alert' ORDER BY created_at")
    assert [len(h["metadata_json"]["autoResumedProviders"]) for h in history] == [0, 1]

    # A manual pause is never auto-resumed.
    db_exec(db, "UPDATE provider_guardrail_status SET is_paused = TRUE, last_source = 'manual' WHERE provider_id = 'prov-p'")
    r3 = run_cli(["provider-alerts"], db_url=db, env=env)
    r3.check(0)
    assert r3.json["autoResumed"] == 0


def seed_blueprint(db):
    growth = {"presetId": "preset-growth", "presetLabel": "Growth Sprint",
              "options": [{"groupId": "g1", "groupName": "Speed", "optionId": "fast", "label": "Fast", "priceDelta": 5}],
              "addOns": [{"id": "boost", "label": "Boost", "pricingMode": "flat", "serviceProviderName": "B", "priceDelta": 2.5}]}
    nolabel = {"preset_id": 42}
    sql = provider_sql("prov-b") + provider_sql("prov-c")
    sql += order_sql(ts(1), growth, [{"provider_id": "prov-b", "amount": 250}])
    sql += order_sql(ts(2), growth, [{"provider_id": "prov-b", "amount": 100}])
    sql += order_sql(ts(20), growth, [{"provider_id": "prov-c", "amount": 150}])
    sql += order_sql(ts(60), growth, [{"provider_id": "prov-c", "amount": 150}, {"provider_id": "prov-b", "amount": 10}])
    sql += order_sql(ts(120), growth, [{"provider_id": "prov-c", "amount": 999}])
    sql += order_sql(ts(3), nolabel, [{"provider_id": "prov-c", "amount": 5}])
    sql += order_sql(ts(3), None, [{"provider_id": "prov-c", "amount": 7}])
    sql += order_sql(ts(4), {"presetId": ""}, [{"provider_id": "prov-c", "amount": 7}])
    db_exec(db, sql)


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


def test_blueprint_metrics_windows(db, run_cli, service):
    run_cli(["smplat", "migrate"], db_url=db).check(0)
    seed_blueprint(db)
    svc = service(["smplat", "serve"], db_url=db, env={"PROVIDER_LOAD_ALERT_MIN_ENGAGEMENTS": "2"})
    status, m = get_json(svc.url + "/api/v1/reporting/blueprint-metrics")
    assert status == 200
    assert list(m.keys()) == ["window", "orders", "options", "addOns", "providerEngagements", "presets",
                              "presetProviderEngagements", "providerLoadAlerts"]
    assert m["window"]["days"] == 30
    assert m["orders"] == {"total": 6, "items": 6, "itemRevenue": 600.0}
    assert m["options"] == [{"groupId": "g1", "groupName": "Speed", "optionId": "fast", "label": "Fast",
                             "selections": 3, "priceDeltaTotal": 15.0}]
    assert m["addOns"][0]["addOnId"] == "boost" and m["addOns"][0]["priceDeltaTotal"] == 7.5
    assert {p["presetId"]: p["selections"] for p in m["presets"]} == {"preset-growth": 3, "42": 1}
    windows = m["presetProviderEngagements"]["windows"]
    assert list(windows.keys()) == ["7", "30", "90"]

    def entries(days):
        return {(e["presetId"], e["providerId"]): e for e in windows[days]["entries"]}

    w7, w30, w90 = entries("7"), entries("30"), entries("90")
    assert set(w7) == {("preset-growth", "prov-b"), ("42", "prov-c")}
    assert w7[("preset-growth", "prov-b")]["engagements"] == 2
    assert w7[("preset-growth", "prov-b")]["engagementShare"] == 1.0
    assert w7[("preset-growth", "prov-b")]["amountTotal"] == 350.0
    assert w7[("42", "prov-c")]["presetLabel"] is None
    assert abs(w30[("preset-growth", "prov-b")]["engagementShare"] - 2 / 3) < 1e-12
    assert w90[("preset-growth", "prov-b")]["engagements"] == 3
    assert w90[("preset-growth", "prov-c")]["engagementShare"] == 0.4
    assert w90[("preset-growth", "prov-b")]["currency"] == "USD"
    # prov-b holds 100% of preset-growth over 7 days against 60% over 90: +40pp.
    alerts = m["providerLoadAlerts"]
    assert len(alerts) == 1
    a = alerts[0]
    assert (a["providerId"], a["presetId"], a["shortWindowDays"], a["longWindowDays"]) == ("prov-b", "preset-growth", 7, 90)
    assert a["shortShare"] == 1.0 and a["longShare"] == 0.6 and a["shareDelta"] == 0.4
    assert a["links"]["orders"] == "/admin/orders?presetId=preset-growth&providerId=prov-b"

    # Per-window cut: provider_limit 1 keeps one entry per window; the alert stands
    # (computed before the cut, DECISIONS 16).
    status, m1 = get_json(svc.url + "/api/v1/reporting/blueprint-metrics?provider_limit=1&window_days=365")
    assert all(len(w["entries"]) == 1 for w in m1["presetProviderEngagements"]["windows"].values())
    assert len(m1["providerLoadAlerts"]) == 1
    assert m1["orders"]["total"] == 8

    with pytest.raises(urllib.error.HTTPError) as e:
        get_json(svc.url + "/api/v1/reporting/blueprint-metrics?window_days=0")
    assert e.value.code == 422
    assert json.loads(e.value.read())["detail"][0]["loc"] == ["query", "window_days"]


def test_blueprint_honors_load_alert_settings(sqlite_db, run_cli, service):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    seed_blueprint(sqlite_db)
    svc = service(["smplat", "serve"], db_url=sqlite_db, env={
        "PROVIDER_LOAD_ALERT_MIN_ENGAGEMENTS": "2", "PROVIDER_LOAD_ALERT_SHORT_WINDOW_DAYS": "14",
        "PROVIDER_LOAD_ALERT_LONG_WINDOW_DAYS": "60"})
    _, m = get_json(svc.url + "/api/v1/reporting/blueprint-metrics")
    assert list(m["presetProviderEngagements"]["windows"].keys()) == ["7", "14", "30", "60", "90"]
    assert [(a["shortWindowDays"], a["longWindowDays"]) for a in m["providerLoadAlerts"]] == [(14, 60)]
    svc.stop()
    svc = service(["smplat", "serve"], db_url=sqlite_db, env={"PROVIDER_LOAD_ALERT_ENABLED": "false",
                                                              "PROVIDER_LOAD_ALERT_MIN_ENGAGEMENTS": "1"})
    _, m = get_json(svc.url + "/api/v1/reporting/blueprint-metrics")
    assert m["providerLoadAlerts"] == []


def test_load_alerts_in_the_pass(sqlite_db, run_cli, webhook_sink):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    seed_blueprint(sqlite_db)
    env = {"PROVIDER_ALLOW_PRIVATE_NETWORKS": "true", "FRONTEND_URL": FRONTEND + "/",
           "PROVIDER_LOAD_ALERT_MIN_ENGAGEMENTS": "2",
           "PROVIDER_AUTOMATION_ALERT_SLACK_WEBHOOK_URL": webhook_sink.url_for("/hook")}
    r = run_cli(["provider-alerts"], db_url=sqlite_db, env=env)
    r.check(0)
    assert r.json["loadAlerts"] == 1 and r.json["alerts"] == 0 and r.json["alertsSent"] == 1
    d = r.json["loadAlertsDigest"][0]
    assert d["links"] == {
        "merchandising": f"{FRONTEND}/admin/merchandising?presetId=preset-growth",
        "fulfillment": f"{FRONTEND}/admin/fulfillment/providers?providerId=prov-b",
        "orders": f"{FRONTEND}/admin/orders?presetId=preset-growth&providerId=prov-b",
    }
    text = slack_texts(webhook_sink)[0]
    assert text.startswith(":bar_chart: Provider cohort pressure detected\n• Provider prov-b / Growth Sprint 100% vs 60% baseline")
    assert f"<{FRONTEND}/admin/orders?presetId=preset-growth&providerId=prov-b|Orders>" in text


def test_run_now_and_status(sqlite_db, run_cli, service):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    db_exec(sqlite_db, provider_sql("prov-a") + failing_orders_sql("prov-a"))
    svc = service(["smplat", "serve"], db_url=sqlite_db)
    req = urllib.request.Request(svc.url + "/api/v1/fulfillment/providers/automation/alerts/run", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = json.loads(resp.read())
    assert body["summary"]["alerts"] == 1 and body["summary"]["autoPaused"] == 1
    assert body["metadata"] is None and body["ranAt"].endswith("Z")
    _, st = get_json(svc.url + "/api/v1/fulfillment/providers/automation/status")
    assert st["alerts"]["summary"]["alertsDigest"][0]["providerId"] == "prov-a"
    _, hist = get_json(svc.url + "/api/v1/fulfillment/providers/automation/status/history")
    assert len(hist["alerts"]) == 1 and hist["alerts"][0]["metadata"]["autoPausedProviders"]


def test_serve_runs_the_alert_loop(sqlite_db, run_cli, service):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    svc = service(["smplat", "serve"], db_url=sqlite_db,
                  env={"PROVIDER_AUTOMATION_ALERT_WORKER_ENABLED": "true"})
    deadline = time.time() + 10
    while time.time() < deadline:
        if db_scalar(sqlite_db, "SELECT COUNT(*) FROM provider_automation_runs WHERE run_type = 'alert'"):
            break
        time.sleep(0.1)
    assert db_scalar(sqlite_db, "SELECT COUNT(*) FROM provider_automation_runs WHERE run_type = 'alert'") >= 1
    assert svc.stop() == 0


def test_cli_usage(run_cli, sqlite_db):
    r = run_cli(["provider-alerts", "-h"], db_url=sqlite_db)
    r.check(0)
    assert "usage: provider-alerts" in r.stdout
    run_cli(["provider-alerts", "--bogus"], db_url=sqlite_db).check(2)
