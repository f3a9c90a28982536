"""provider-replay end to end, on SQLite and on PostgreSQL: the real binary, a real mock
provider on loopback, rows written with plain SQL as another program would."""

import json
import os
import signal
import subprocess
import time

import pytest

from harness import Close, Delay, ErrorJson, Html, InvalidJson, Json, Redirect, Status, db_exec, db_query
from harness.cli import clean_env
from replay_seed import FUTURE, PAST, entry, provider_order_sql, provider_sql

ENV = {"PROVIDER_ALLOW_PRIVATE_NETWORKS": "true", "PROVIDER_REPLAY_RETRY_BACKOFF_SECONDS": "0"}


def payload_of(url, po_id):
    rows = db_query(url, "SELECT payload FROM fulfillment_provider_orders WHERE id = ?", [po_id])
    p = rows[0]["payload"]
    return json.loads(p) if isinstance(p, str) else p


def scheduled(run_cli, url, limit=50, env=None):
    res = run_cli(["provider-replay", "scheduled", "--limit", str(limit)], db_url=url,
                  env={**ENV, **(env or {})})
    res.check(0)
    assert isinstance(res.json, dict), res.describe()
    return res.json


def seed(url, sql):
    db_exec(url, sql)


def test_due_entries_run_and_are_recorded(migrated_db, run_cli, mock_provider):
    url = migrated_db
    mock_provider.on("/order", Json({"order": "NEW-77", "status": "ok"}))
    due, later = entry(PAST, amount=20), entry(FUTURE)
    sql, po, order_id = provider_order_sql("p1", [due, later], link="https://x/1")
    seed(url, provider_sql("p1", mock_provider.url_for("/order"), response={"providerOrderIdPath": "order"}) + sql)

    summary = scheduled(run_cli, url)
    assert summary["processed"] == 1 and summary["succeeded"] == 1 and summary["failed"] == 0
    assert summary["scheduledBacklog"] == 1
    assert summary["nextScheduledAt"] == "2099-01-01T00:00:00+00:00"

    [req] = mock_provider.requests_for("/order")
    assert req.header("X-Api-Key") == "k-p1"
    body = req.json()
    # The Python way: amounts are str(float), whole placeholders of scalars become strings.
    assert body == {"order": "R-1", "link": "https://x/1", "amount": "20.0", "service": "svc-1"}

    p = payload_of(url, po)
    sched = {e["id"]: e for e in p["scheduledReplays"]}
    assert sched[due["id"]]["status"] == "executed"
    assert sched[due["id"]]["response"]["status"] == "executed"
    assert sched[due["id"]]["response"]["response"] == {"order": "NEW-77", "status": "ok"}
    assert sched[due["id"]]["ruleMetadata"]["rule-a"]["label"] == "Rule A"
    assert sched[later["id"]]["status"] == "scheduled"
    [replay] = p["replays"]
    assert replay["status"] == "executed" and replay["requestedAmount"] == 20.0
    assert replay["ruleIds"] == ["rule-a"]
    assert p["providerResponse"] == {"order": "NEW-77", "status": "ok"}
    assert p["providerOrderId"] == "NEW-77"  # DECISIONS 10

    events = db_query(url, "SELECT event_type, actor_type, notes, metadata FROM order_state_events "
                           "WHERE order_id = ?", [order_id])
    assert len(events) == 1
    ev = events[0]
    assert ev["event_type"] == "replay_executed" and ev["actor_type"] == "automation"
    assert ev["notes"] == "Automation replay executed from schedule"
    meta = ev["metadata"] if isinstance(ev["metadata"], dict) else json.loads(ev["metadata"])
    assert meta["scheduleId"] == due["id"] and meta["trigger"] == "scheduled_replay"

    runs = db_query(url, "SELECT run_type, status, backlog_total FROM provider_automation_runs")
    assert runs == [{"run_type": "replay", "status": "success", "backlog_total": 1}]
    status = db_query(url, "SELECT value FROM provider_automation_status WHERE key = ?",
                      ["provider_automation:status:replay"])
    blob = status[0]["value"]
    blob = blob if isinstance(blob, dict) else json.loads(blob)
    assert blob["summary"] == summary and blob["ranAt"].endswith("+00:00")

    # A second pass has nothing due and sends nothing.
    again = scheduled(run_cli, url)
    assert again["processed"] == 0 and mock_provider.count("/order") == 1


def test_entry_appended_by_another_program_is_run(migrated_db, run_cli, mock_provider):
    url = migrated_db
    sql, po, _ = provider_order_sql("p1", [], link="https://x/2")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    assert scheduled(run_cli, url)["processed"] == 0
    # Another writer appends an entry without an id (DECISIONS 3) straight into the payload.
    p = payload_of(url, po)
    p["scheduledReplays"].append({"requestedAmount": 5, "scheduledFor": "2020-01-01T00:00:00",
                                  "status": "scheduled"})
    db_exec(url, "UPDATE fulfillment_provider_orders SET payload = ? WHERE id = ?",
            [json.dumps(p), po])
    summary = scheduled(run_cli, url)
    assert summary["processed"] == 1 and summary["succeeded"] == 1
    assert mock_provider.count("/order") == 1
    [e] = payload_of(url, po)["scheduledReplays"]
    assert e["status"] == "executed" and len(e["id"]) == 36


def test_invalid_scheduled_for_fails_instead_of_running(migrated_db, run_cli, mock_provider):
    url = migrated_db
    bad = entry("not a time")
    missing = entry(PAST)
    del missing["scheduledFor"]
    sql, po, _ = provider_order_sql("p1", [bad, missing], link="https://x/3")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    summary = scheduled(run_cli, url)
    assert summary["failed"] == 2 and summary["succeeded"] == 0
    assert mock_provider.count() == 0
    for e in payload_of(url, po)["scheduledReplays"]:
        assert e["status"] == "failed" and e["response"] == {"error": "invalid scheduledFor"}


FAILURES = [
    ("server_error", Status(500), "Server error '500 Internal Server Error' for url", True),
    ("rate_limited", Status(429, retry_after=1), "Client error '429 Too Many Requests' for url", True),
    ("client_error", Status(404), "Client error '404 Not Found' for url", False),
    ("redirect", Redirect("/elsewhere"), "Redirect response '302 Found' for url", False),
    ("error_body", ErrorJson("Not enough funds"), "Provider returned an error: Not enough funds", False),
    ("timeout", Delay(5), "outcome unknown: provider timed out", False),
]


@pytest.mark.parametrize("name,behaviour,message,retryable", FAILURES, ids=[f[0] for f in FAILURES])
def test_provider_failures(migrated_db, run_cli, mock_provider, name, behaviour, message, retryable):
    url = migrated_db
    mock_provider.on("/order", behaviour)
    e = entry(PAST, amount=3)
    sql, po, order_id = provider_order_sql("p1", [e], link="https://x/f")
    seed(url, provider_sql("p1", mock_provider.url_for("/order"), errorPath="error",
                           timeoutSeconds=1) + sql)
    env = {"PROVIDER_REPLAY_MAX_ATTEMPTS": "2"}
    summary = scheduled(run_cli, url, env=env)
    assert summary["processed"] == 1 and summary["failed"] == 1 and summary["succeeded"] == 0
    assert mock_provider.count("/order") == 1
    p = payload_of(url, po)
    [sched] = p["scheduledReplays"]
    [failed] = p["replays"]
    assert failed["status"] == "failed" and message in failed["response"]["error"]
    assert "providerResponse" not in p
    if retryable:
        assert summary["retrying"] == 1 and sched["status"] == "scheduled"
        assert sched["attempts"] == 1 and message in sched["lastError"]
        if name == "rate_limited":
            time.sleep(1.1)  # Retry-After: 1 is honored
        summary = scheduled(run_cli, url, env=env)
        assert mock_provider.count("/order") == 2
        sched = payload_of(url, po)["scheduledReplays"][0]
        assert sched["status"] == "failed" and sched["attempts"] == 2
        assert summary["retrying"] == 0 and summary["failed"] == 1
    else:
        assert summary["retrying"] == 0
        assert sched["status"] == "failed" and message in sched["response"]["error"]
        scheduled(run_cli, url, env=env)
        assert mock_provider.count("/order") == 1, "a terminal failure is never sent again"
    runs = sorted(r["status"] for r in db_query(url, "SELECT status FROM provider_automation_runs"))
    assert runs == (["failed", "failed"] if retryable else ["failed", "success"])


@pytest.mark.parametrize("behaviour,parsed", [
    (Html("<html>maintenance</html>"), {"text": "<html>maintenance</html>"}),
    (InvalidJson(), {"text": '{"order": "1", "status": '}),
], ids=["html", "invalid_json"])
def test_non_json_success_is_kept_as_text(migrated_db, run_cli, mock_provider, behaviour, parsed):
    url = migrated_db
    mock_provider.on("/order", behaviour)
    sql, po, _ = provider_order_sql("p1", [entry(PAST)], link="https://x/h")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    summary = scheduled(run_cli, url)
    assert summary["succeeded"] == 1
    assert payload_of(url, po)["providerResponse"] == parsed


def test_connection_refused_is_retried(migrated_db, run_cli):
    url = migrated_db
    sql, po, _ = provider_order_sql("p1", [entry(PAST)], link="https://x/c")
    seed(url, provider_sql("p1", "http://127.0.0.1:9/order") + sql)
    summary = scheduled(run_cli, url)
    assert summary["failed"] == 1 and summary["retrying"] == 1
    [sched] = payload_of(url, po)["scheduledReplays"]
    assert sched["status"] == "scheduled" and sched["attempts"] == 1


def test_private_network_refused_by_default(migrated_db, run_cli, mock_provider):
    url = migrated_db
    sql, po, _ = provider_order_sql("p1", [entry(PAST)], link="https://x/p")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    res = run_cli(["provider-replay", "scheduled"], db_url=url,
                  env={"PROVIDER_ALLOW_PRIVATE_NETWORKS": "false"}).check(0)
    assert res.json["failed"] == 1 and mock_provider.count() == 0
    [sched] = payload_of(url, po)["scheduledReplays"]
    assert sched["status"] == "failed" and "blocked" in sched["response"]["error"]


def test_paused_and_inactive_providers_are_deferred(migrated_db, run_cli, mock_provider):
    url = migrated_db
    s1, po1, _ = provider_order_sql("paused", [entry(PAST)], link="https://x/a")
    s2, po2, _ = provider_order_sql("off", [entry(PAST)], link="https://x/b")
    seed(url, provider_sql("paused", mock_provider.url_for("/order"))
         + provider_sql("off", mock_provider.url_for("/order"), status="inactive") + s1 + s2
         + "INSERT INTO provider_guardrail_status (provider_id, provider_name, last_action, is_paused, "
           "last_source) VALUES ('paused', 'Provider paused', 'pause', TRUE, 'manual');\n")
    summary = scheduled(run_cli, url)
    assert summary["processed"] == 0 and summary["deferred"] == 2
    assert summary["scheduledBacklog"] == 2 and mock_provider.count() == 0
    db_exec(url, "UPDATE provider_guardrail_status SET is_paused = FALSE")
    db_exec(url, "UPDATE fulfillment_providers SET status = 'active'")
    summary = scheduled(run_cli, url)
    assert summary["succeeded"] == 2 and mock_provider.count() == 2


def test_rate_limit_per_minute(migrated_db, run_cli, mock_provider):
    url = migrated_db
    sql = provider_sql("slow", mock_provider.url_for("/order"), rate_limit=3)
    for i in range(5):
        s, _, _ = provider_order_sql("slow", [entry(PAST)], link=f"https://x/r{i}")
        sql += s
    seed(url, sql)
    summary = scheduled(run_cli, url)
    assert summary["succeeded"] == 3 and summary["deferred"] == 2
    assert summary["scheduledBacklog"] == 2
    summary = scheduled(run_cli, url)
    assert summary["processed"] == 0 and mock_provider.count() == 3


def test_replay_single_order(migrated_db, run_cli, mock_provider):
    url = migrated_db
    mock_provider.on("/order", Json({"order": "X1"}))
    sql, po, order_id = provider_order_sql("p1", [], link="https://x/s", amount=150)
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    res = run_cli(["provider-replay", "replay", "--provider-id", "p1", f"--provider-order-id={po}"],
                  db_url=url, env=ENV).check(0)
    entry_out = res.json
    assert entry_out["status"] == "executed" and entry_out["requestedAmount"] == 150.0
    assert entry_out["response"] == {"order": "X1"}
    assert mock_provider.last("/order").json()["amount"] == "150.0"
    res = run_cli(["provider-replay", "replay", "--provider-id", "p1", "--provider-order-id", po,
                   "--amount", "12.5"], db_url=url, env=ENV).check(0)
    assert mock_provider.last("/order").json()["amount"] == "12.5"
    p = payload_of(url, po)
    assert [r["requestedAmount"] for r in p["replays"]] == [150.0, 12.5]
    notes = [r["notes"] for r in db_query(url, "SELECT notes FROM order_state_events WHERE order_id = ?",
                                          [order_id])]
    assert notes == ["Automation replay executed via CLI"] * 2


def test_replay_single_errors(migrated_db, run_cli, mock_provider):
    url = migrated_db
    mock_provider.on("/order", Status(500))
    sql, po, _ = provider_order_sql("p1", [], link="https://x/e")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    before = payload_of(url, po)
    res = run_cli(["provider-replay", "replay", "--provider-id", "p1", "--provider-order-id", po],
                  db_url=url, env=ENV)
    assert res.returncode == 1 and "Server error '500 Internal Server Error'" in res.stderr
    assert payload_of(url, po) == before, "a failed immediate replay changes nothing"
    res = run_cli(["provider-replay", "replay", "--provider-id", "other", "--provider-order-id", po],
                  db_url=url, env=ENV)
    assert res.returncode == 1 and "Provider order not found" in res.stderr


@pytest.mark.parametrize("args,needle", [
    ([], "required"),
    (["bogus"], "invalid choice"),
    (["scheduled", "--limit", "ten"], "--limit"),
    (["scheduled", "--nope"], "--nope"),
    (["replay", "--provider-id", "p"], "--provider-order-id"),
    (["replay", "--provider-id", "p", "--provider-order-id", "not-a-uuid"], "--provider-order-id"),
    (["replay", "--provider-id", "p", "--provider-order-id",
      "6f1c3b52-2a5e-4c1a-9a61-1b7d4c3e2f10", "--amount", "abc"], "--amount"),
])
def test_bad_arguments_exit_2(run_cli, sqlite_db, args, needle):
    res = run_cli(["provider-replay", *args], db_url=sqlite_db)
    assert res.returncode == 2, res.describe()
    assert needle in res.stderr


@pytest.mark.parametrize("var,value", [
    ("PROVIDER_REPLAY_WORKER_LIMIT", "lots"),
    ("PROVIDER_REPLAY_WORKER_ENABLED", "maybe"),
    ("PROVIDER_LOAD_ALERT_SHARE_THRESHOLD", "high"),
    ("DATABASE_URL", "mysql://x"),
    ("REDIS_URL", "http://nope"),
])
def test_bad_environment_exits_2(run_cli, sqlite_db, var, value):
    res = run_cli(["provider-replay", "scheduled"], db_url=sqlite_db, env={var: value})
    assert res.returncode == 2, res.describe()
    assert var in res.stderr


def test_dotenv_is_read_and_environment_wins(run_cli, tmp_path, sqlite_db):
    (tmp_path / ".env").write_text("PROVIDER_REPLAY_WORKER_LIMIT=oops\n")
    res = run_cli(["provider-replay", "scheduled"], db_url=sqlite_db)
    assert res.returncode == 2 and "PROVIDER_REPLAY_WORKER_LIMIT" in res.stderr
    res = run_cli(["provider-replay", "scheduled"], db_url=sqlite_db,
                  env={"PROVIDER_REPLAY_WORKER_LIMIT": "5"})
    assert res.returncode == 0, res.describe()


def test_status_in_redis_under_the_original_key(migrated_db, run_cli, mock_provider, redis_server):
    url = migrated_db
    sql, _, _ = provider_order_sql("p1", [entry(PAST)], link="https://x/redis")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    summary = scheduled(run_cli, url, env={"REDIS_URL": redis_server.url})
    raw = redis_server.client().get("provider_automation:status:replay")
    blob = json.loads(raw)
    assert blob["summary"] == summary
    assert set(blob) == {"ranAt", "summary"}
    assert ", " in (raw.decode() if isinstance(raw, bytes) else raw), "Python json.dumps separators"


def _spawn(bins, tmp_path, url, limit, env):
    return subprocess.Popen([bins.provider_replay, "scheduled", "--limit", str(limit)], cwd=tmp_path,
                            env=clean_env(tmp_path, {**ENV, **env}, url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_two_runners_run_each_entry_once(migrated_db, bins, tmp_path, mock_provider):
    url = migrated_db
    n = 500
    sql = provider_sql("p1", mock_provider.url_for("/order"))
    links = []
    for i in range(n):
        s, _, _ = provider_order_sql("p1", [entry(PAST)], link=f"https://x/{i}")
        sql += s
        links.append(f"https://x/{i}")
    seed(url, sql)
    procs = [_spawn(bins, tmp_path, url, n, {"PROVIDER_REPLAY_PROVIDER_CONCURRENCY": "8"})
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()[-3000:]
    summaries = [json.loads(o) for o, _ in outs]
    assert sum(s["succeeded"] for s in summaries) == n
    assert mock_provider.count("/order") == n
    seen = [r.json()["link"] for r in mock_provider.requests_for("/order")]
    assert sorted(seen) == sorted(links), "every entry exactly once"
    left = db_query(url, "SELECT COUNT(*) AS n FROM provider_replay_schedule")
    assert left[0]["n"] == 0


@pytest.mark.slow
def test_kill_9_mid_batch_loses_nothing_and_sends_nothing_twice(migrated_db, bins, tmp_path,
                                                                 mock_provider):
    url = migrated_db
    n = 60
    mock_provider.on("/order", Delay(0.4))
    sql = provider_sql("p1", mock_provider.url_for("/order"))
    pos = []
    for i in range(n):
        s, po, _ = provider_order_sql("p1", [entry(PAST)], link=f"https://x/k{i}")
        sql += s
        pos.append(po)
    seed(url, sql)
    env = {"PROVIDER_REPLAY_LEASE_SECONDS": "1", "PROVIDER_REPLAY_PROVIDER_CONCURRENCY": "4"}
    p = _spawn(bins, tmp_path, url, n, env)
    mock_provider.wait_for_requests(10, "/order", timeout=30)
    p.send_signal(signal.SIGKILL)
    p.wait()
    sent_before = mock_provider.count("/order")
    time.sleep(2.5)  # the dead runner's leases run out
    time.sleep(0.5)  # requests it had in flight finish at the mock
    out = subprocess.run([bins.provider_replay, "scheduled", "--limit", str(n)], cwd=tmp_path,
                         env=clean_env(tmp_path, {**ENV, **env}, url), capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    links = [r.json()["link"] for r in mock_provider.requests_for("/order")]
    assert len(links) == len(set(links)), "no entry was sent twice"
    assert len(links) >= sent_before
    unknown = executed = 0
    sent = set(links)
    for i, po in enumerate(pos):
        [sched] = payload_of(url, po)["scheduledReplays"]
        assert sched["status"] in ("executed", "failed"), sched
        if sched["status"] == "failed":
            assert sched["response"]["error"].startswith("outcome unknown"), sched
            unknown += 1
        else:
            executed += 1
            assert f"https://x/k{i}" in sent
    # Nothing lost: every entry ended. Only the wave in flight at the kill (at most the
    # per-provider concurrency) is left for an operator to check.
    assert executed + unknown == n
    assert unknown <= 4


def test_two_entries_of_one_order_retry_independently(migrated_db, run_cli, mock_provider):
    url = migrated_db
    mock_provider.on("/order", Status(503))
    sql, po, _ = provider_order_sql("p1", [entry(PAST), entry(PAST)], link="https://x/two")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    env = {"PROVIDER_REPLAY_MAX_ATTEMPTS": "2", "PROVIDER_REPLAY_LEASE_SECONDS": "1"}
    summary = scheduled(run_cli, url, env=env)
    assert summary["retrying"] == 2 and mock_provider.count("/order") == 2
    time.sleep(1.2)  # a claim that was not released would now look like a dead runner's
    summary = scheduled(run_cli, url, env=env)
    assert summary["failed"] == 2 and summary["retrying"] == 0
    assert mock_provider.count("/order") == 4
    for e in payload_of(url, po)["scheduledReplays"]:
        assert e["status"] == "failed" and e["attempts"] == 2
        assert "Server error '503 Service Unavailable'" in e["response"]["error"]


def test_run_now_metrics_count_outcomes(service, migrated_db, mock_provider):
    import urllib.request
    url = migrated_db
    sql, _, _ = provider_order_sql("p1", [entry(PAST)], link="https://x/m")
    seed(url, provider_sql("p1", mock_provider.url_for("/order")) + sql)
    svc = service(["smplat", "serve"], db_url=url, env=ENV)
    req = urllib.request.Request(f"{svc.url}/api/v1/fulfillment/providers/automation/replay/run",
                                 method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.loads(r.read())
    assert body["summary"]["succeeded"] == 1 and body["ranAt"].endswith("Z")
    with urllib.request.urlopen(f"{svc.url}/metrics", timeout=5) as r:
        text = r.read().decode()
    assert 'smplat_replay_outcomes_total{provider="p1",outcome="executed"} 1' in text
    assert 'smplat_run_duration_seconds_count{run_type="replay",status="success"} 1' in text
    assert "smplat_replay_backlog 0" in text
