"""smplat as a user meets it: the demo that `make run` starts, migrate, configuration files, and
the store conformance program against a real PostgreSQL."""

import json
import os
import pathlib
import subprocess
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def test_demo_serves_and_replays_within_a_minute(service, sqlite_db, tmp_path):
    port = __import__("harness").free_port()
    svc = service(["smplat", "demo", "--host", "127.0.0.1", "--port", str(port)], db_url=sqlite_db,
                  port=port, env={"PROVIDER_REPLAY_WORKER_INTERVAL_SECONDS": "2"})
    deadline = time.monotonic() + 60
    replay = None
    while time.monotonic() < deadline:
        status, body = get_json(f"{svc.url}/api/v1/fulfillment/providers/automation/status")
        assert status == 200 and set(body) == {"replay", "alerts"}
        replay = body["replay"]
        if replay and replay["summary"]["processed"] > 0:
            break
        time.sleep(0.5)
    assert replay and replay["summary"]["processed"] > 0, replay
    assert replay["ranAt"].endswith("Z")
    status, hist = get_json(f"{svc.url}/api/v1/fulfillment/providers/automation/status/history?limit=5")
    assert status == 200 and hist["replay"] and hist["alerts"] == []
    # Restarting the demo does not seed twice.
    assert svc.stop() == 0, svc.output()[-3000:]
    svc2 = service(["smplat", "demo", "--host", "127.0.0.1", "--port", str(port)], db_url=sqlite_db,
                   port=port)
    from harness import db_query
    n = db_query(sqlite_db, "SELECT COUNT(*) AS n FROM fulfillment_providers WHERE id LIKE 'demo-%'")
    assert n[0]["n"] == 2
    assert svc2.stop() == 0


def test_status_routes_validate_and_authenticate(service, sqlite_db):
    svc = service(["smplat", "serve"], db_url=sqlite_db, env={"SMPLAT_API_TOKEN": "s3cret"})
    base = f"{svc.url}/api/v1/fulfillment/providers/automation"
    with pytest.raises(urllib.error.HTTPError) as e:
        get_json(f"{base}/status")
    assert e.value.code == 401 and json.loads(e.value.read()) == {"detail": "Invalid API key"}
    req = urllib.request.Request(f"{base}/status/history?limit=101",
                                 headers={"Authorization": "Bearer s3cret"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 422
    assert json.loads(e.value.read())["detail"][0]["loc"] == ["query", "limit"]
    req = urllib.request.Request(f"{base}/status", headers={"X-API-Key": "s3cret"})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert json.loads(r.read()) == {"replay": None, "alerts": None}
    status, body = get_json(f"{svc.url}/healthz")
    assert status == 200


def test_serve_refuses_public_address_without_token(run_cli, sqlite_db):
    res = run_cli(["smplat", "serve", "--host", "0.0.0.0", "--port", "1"], db_url=sqlite_db)
    assert res.returncode == 2 and "SMPLAT_API_TOKEN" in res.stderr


def test_migrate_is_idempotent(run_cli, db):
    run_cli(["smplat", "migrate"], db_url=db).check(0)
    run_cli(["smplat", "migrate"], db_url=db).check(0)
    from harness import db_query
    names = {r["id"] for r in db_query(db, "SELECT id FROM fulfillment_providers")}
    assert "xyz" in names  # the original's seed row


def test_unreachable_database_exits_1(run_cli):
    res = run_cli(["smplat", "migrate"], db_url="postgresql://nobody@127.0.0.1:9/none")
    assert res.returncode == 1 and "DATABASE_URL" in res.stderr


def test_env_example_lists_every_variable(run_cli):
    res = run_cli(["smplat", "config-example"]).check(0)
    assert (REPO / ".env.example").read_text() == res.stdout, \
        "regenerate with: build/bin/smplat config-example > .env.example"


def test_store_conformance_on_postgresql(postgres, bins):
    exe = pathlib.Path(bins.dir).parent / "tests" / "store" / "store_conformance"
    if not exe.exists():
        pytest.fail(f"missing {exe}", pytrace=False)
    url = postgres.new_database()
    try:
        r = subprocess.run([str(exe), url], capture_output=True, timeout=300)
        assert r.returncode == 0, (r.stdout + r.stderr).decode()[-4000:]
    finally:
        postgres.drop_database(url)
