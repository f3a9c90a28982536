"""The native Celery worker and beat (`smplat worker`, `smplat beat`) against Debian's Python
Celery 5 and kombu on a real Redis: Python clients, workers and beats on the same database work
with ours in both directions (INTERFACE.md §6, docs/CELERY.md)."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

from harness import Delay, Json, db_query
from harness.procs import ManagedProcess
from replay_seed import PAST, entry, provider_order_sql, provider_sql

celery = pytest.importorskip("celery", reason="python3-celery is needed (scripts/deps.sh)")
redis_py = pytest.importorskip("redis")

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
KILL_TRIALS = int(os.environ.get("SMPLAT_CELERY_KILL_TRIALS", "100"))

TESTAPP = '''
import json, os
from celery import Celery
url = os.environ["TEST_BROKER"]
app = Celery("testapp", broker=url, backend=url)
app.conf.task_routes = {"provider_automation.run_replay_batch": {"queue": "provider-replay"},
                        "provider_automation.evaluate_alerts": {"queue": "provider-alerts"}}
app.conf.worker_prefetch_multiplier = 1

def record(name, request, **kw):
    with open(os.environ["TEST_RECORD"], "a") as f:
        f.write(json.dumps({"task": name, "id": request.id, **kw}) + "\\n")

@app.task(name="provider_automation.run_replay_batch", bind=True)
def run_replay_batch(self, limit=None):
    record("run_replay_batch", self.request, limit=limit)
    return {"processed": 0, "succeeded": 0, "failed": 0, "by": "python"}

@app.task(name="provider_automation.evaluate_alerts", bind=True)
def evaluate_alerts(self):
    record("evaluate_alerts", self.request)
    return {"alertsSent": 0, "by": "python"}

@app.task(name="smplat.ping", bind=True)
def ping(self):
    record("smplat.ping", self.request)
    return "pong"
'''


def client(url):
    app = celery.Celery("client", broker=url, backend=url)
    app.conf.result_expires = 86400
    # Results this client leaves behind are released by the garbage collector, which may run
    # in any thread of the test process, long after this test's Redis has stopped. Without a
    # bound, each release would retry the dead Redis 20 times, a second apart, inside whatever
    # thread the collector interrupted (a mock server's handler thread, say).
    app.conf.result_backend_transport_options = {"retry_policy": {"max_retries": 1,
                                                                   "interval_max": 0.1}}
    app.conf.broker_connection_max_retries = 1
    return app


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def base_env(redis_url, **extra):
    env = {"REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url, "CELERY_RESULT_BACKEND": redis_url,
           "PROVIDER_ALLOW_PRIVATE_NETWORKS": "true", "PROVIDER_REPLAY_RETRY_BACKOFF_SECONDS": "0"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def db(run_cli, sqlite_db):
    run_cli(["smplat", "migrate"], db_url=sqlite_db).check(0)
    return sqlite_db


def start_worker(service, db, redis_url, args=(), **env):
    svc = service(["smplat", "worker", *args], env=base_env(redis_url, **env), db_url=db, ready_path=None)
    wait_for(lambda: "Celery worker ready" in svc.output(), 20, "worker ready")
    return svc


def python_worker(tmp_path, redis_url, queues="provider-replay,provider-alerts", name="pyworker"):
    (tmp_path / "celery_testapp.py").write_text(TESTAPP)
    record = tmp_path / f"{name}.jsonl"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(tmp_path),
           "TEST_BROKER": redis_url, "TEST_RECORD": str(record), "C_FORCE_ROOT": "1"}
    log = tmp_path / f"{name}.log"
    proc = ManagedProcess([PY, "-m", "celery", "-A", "celery_testapp", "worker", "-Q", queues, "--pool=solo",
                           "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"{name}@%h",
                           "-l", "info"], env=env, cwd=str(tmp_path), stdout=str(log), name=name)
    wait_for(lambda: log.exists() and "ready." in log.read_text(), 30, "python worker ready")
    return proc, record


def records(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_python_send_task_to_our_worker(service, db, redis_server):
    svc = start_worker(service, db, redis_server.url, PROVIDER_REPLAY_WORKER_ENABLED="true")
    app = client(redis_server.url)
    r = app.send_task("provider_automation.run_replay_batch", kwargs={"limit": 5}, queue="provider-replay")
    summary = r.get(timeout=15)
    assert summary["processed"] == 0 and summary["succeeded"] == 0 and "skipped" not in summary
    assert r.state == "SUCCESS"
    rc = redis_server.client()
    meta = json.loads(rc.get(f"celery-task-meta-{r.id}"))
    assert list(meta) == ["status", "result", "traceback", "children", "date_done", "task_id"]
    assert 86000 < rc.ttl(f"celery-task-meta-{r.id}") <= 86400
    # The pass was recorded like any other (status blob and run history).
    status = json.loads(rc.get("provider_automation:status:replay"))
    assert status["summary"]["processed"] == 0
    assert db_query(db, "SELECT count(*) AS n FROM provider_automation_runs")[0]["n"] >= 1
    # Positional limit, unknown task, bad argument: answered as Celery does.
    assert app.send_task("provider_automation.run_replay_batch", args=[3], queue="provider-replay").get(timeout=10)
    with pytest.raises(celery.exceptions.NotRegistered):
        app.send_task("provider_automation.does_not_exist", queue="provider-replay").get(timeout=10)
    with pytest.raises(ValueError):
        app.send_task("provider_automation.run_replay_batch", kwargs={"limit": "x"},
                      queue="provider-replay").get(timeout=10)
    with pytest.raises(TypeError):
        app.send_task("provider_automation.run_replay_batch", kwargs={"nope": 1},
                      queue="provider-replay").get(timeout=10)
    # Priority bucket, countdown and expiry.
    assert app.send_task("smplat.ping", queue="provider-alerts", priority=9).get(timeout=10) == "pong"
    t0 = time.time()
    assert app.send_task("smplat.ping", queue="provider-replay", countdown=1).get(timeout=10) == "pong"
    assert time.time() - t0 >= 0.9
    with pytest.raises(celery.exceptions.TaskRevokedError):
        app.send_task("smplat.ping", queue="provider-replay", countdown=1, expires=0.2).get(timeout=10)
    assert rc.hlen("unacked") == 0 and rc.zcard("unacked_index") == 0
    assert svc.stop() == 0


def test_skipped_results_when_disabled(service, db, redis_server):
    svc = start_worker(service, db, redis_server.url)
    app = client(redis_server.url)
    assert app.send_task("provider_automation.run_replay_batch", kwargs={"limit": 50},
                         queue="provider-replay").get(timeout=10) == \
        {"processed": 0, "succeeded": 0, "failed": 0, "skipped": True}
    assert app.send_task("provider_automation.evaluate_alerts", queue="provider-alerts").get(timeout=10) == \
        {"alertsSent": 0, "skipped": True}
    assert redis_server.client().get("provider_automation:status:replay") is None
    assert "Provider replay worker disabled; skipping Celery task." in svc.output()
    assert svc.stop() == 0


def test_pickle_message_rejected(service, db, redis_server):
    svc = start_worker(service, db, redis_server.url)
    rc = redis_server.client()
    tid, tag = str(uuid.uuid4()), str(uuid.uuid4())
    env = {"body": "bm90LXJlYWxseS1waWNrbGU=", "content-encoding": "binary",
           "content-type": "application/x-python-serialize",
           "headers": {"lang": "py", "task": "smplat.ping", "id": tid, "retries": 0},
           "properties": {"correlation_id": tid, "reply_to": "", "delivery_mode": 2,
                          "delivery_info": {"exchange": "", "routing_key": "provider-replay"},
                          "priority": 0, "body_encoding": "base64", "delivery_tag": tag}}
    rc.lpush("provider-replay", json.dumps(env))
    # A JSON message behind it still runs.
    assert client(redis_server.url).send_task("smplat.ping", queue="provider-replay").get(timeout=10) == "pong"
    wait_for(lambda: "Refusing to deserialize untrusted content" in svc.output(), 5, "refusal logged")
    assert rc.get(f"celery-task-meta-{tid}") is None
    assert rc.hlen("unacked") == 0 and rc.llen("provider-replay") == 0
    assert "Task succeeded" in svc.output() and tid not in svc.output().split("Refusing")[0]
    assert svc.stop() == 0


def test_our_beat_to_python_worker(service, db, redis_server, tmp_path):
    proc, record = python_worker(tmp_path, redis_server.url)
    beat = service(["smplat", "beat"], env=base_env(redis_server.url, SMPLAT_BEAT_REPLAY_SCHEDULE="* * * * * *",
                                                    SMPLAT_BEAT_ALERTS_SCHEDULE="*/2 * * * * *"),
                   db_url=db, ready_path=None)
    wait_for(lambda: len([r for r in records(record) if r["task"] == "run_replay_batch"]) >= 2
             and any(r["task"] == "evaluate_alerts" for r in records(record)), 20, "python worker ran beat tasks")
    assert beat.stop() == 0
    proc.stop()
    runs = [r for r in records(record) if r["task"] == "run_replay_batch"]
    assert all(r["limit"] == 50 for r in runs)
    assert len({r["id"] for r in records(record)}) == len(records(record))


def test_python_and_our_worker_share_a_queue(service, db, redis_server, tmp_path):
    proc, record = python_worker(tmp_path, redis_server.url, queues="provider-replay")
    svc = start_worker(service, db, redis_server.url, ["-Q", "provider-replay", "--concurrency", "2"])
    app = client(redis_server.url)
    results = [app.send_task("smplat.ping", queue="provider-replay") for _ in range(200)]
    assert [r.get(timeout=30) for r in results] == ["pong"] * 200
    ours = re.findall(r'Task succeeded \{"task":"smplat.ping","task_id":"([0-9a-f-]+)"', svc.output())
    theirs = [r["id"] for r in records(record)]
    ids = {r.id for r in results}
    assert len(ours) == len(set(ours)) and len(theirs) == len(set(theirs)), "a task ran twice"
    assert not set(ours) & set(theirs), "a task ran on both workers"
    assert set(ours) | set(theirs) == ids, "a task was lost"
    assert ours and theirs, f"both workers should take part ({len(ours)} ours, {len(theirs)} python)"
    assert svc.stop() == 0
    proc.stop()


def test_our_beat_publishes_each_slot_once_with_two_beats(service, db, redis_server):
    env = base_env(redis_server.url, SMPLAT_BEAT_REPLAY_SCHEDULE="* * * * * *",
                   SMPLAT_BEAT_ALERTS_SCHEDULE="0 0 1 1 *")
    worker = start_worker(service, db, redis_server.url)  # answers fast: replay disabled
    beats = [service(["smplat", "beat"], env=env, db_url=db, ready_path=None) for _ in range(2)]
    time.sleep(5)
    for b in beats:
        assert b.stop() == 0
    slots = []
    for b in beats:
        slots += re.findall(r'Beat published task \{"entry":"provider-replay".*?"slot":"([^"]+)"', b.output())
    assert len(slots) >= 3, slots
    assert len(slots) == len(set(slots)), f"a slot was published twice: {slots}"
    assert worker.stop() == 0


def test_beat_catches_up_once_after_downtime(service, db, redis_server):
    rc = redis_server.client()
    rc.set("smplat:beat:provider-replay:last", int(time.time()) - 3600)
    env = base_env(redis_server.url, SMPLAT_BEAT_REPLAY_SCHEDULE="*/10 * * * *",
                   SMPLAT_BEAT_ALERTS_SCHEDULE="0 0 1 1 *")
    beat = service(["smplat", "beat"], env=env, db_url=db, ready_path=None)
    wait_for(lambda: rc.llen("provider-replay") >= 1, 10, "catch-up publication")
    time.sleep(1)
    assert beat.stop() == 0
    assert rc.llen("provider-replay") == 1, "missed slots are published once, not one by one"
    msg = json.loads(rc.lindex("provider-replay", 0))
    assert msg["headers"]["task"] == "provider_automation.run_replay_batch"
    assert msg["headers"]["expires"] is not None
    # No stacking: the published task has no result yet, so a second start skips the slot.
    rc.set("smplat:beat:provider-replay:last", int(time.time()) - 3600)
    beat = service(["smplat", "beat"], env=env, db_url=db, ready_path=None)
    wait_for(lambda: "Previous run not finished" in beat.output(), 10, "slot skipped")
    assert beat.stop() == 0
    assert rc.llen("provider-replay") == 1


def test_sigterm_restores_held_messages(service, db, redis_server):
    svc = start_worker(service, db, redis_server.url)
    app = client(redis_server.url)
    r = app.send_task("smplat.ping", queue="provider-replay", countdown=60)
    rc = redis_server.client()
    wait_for(lambda: rc.llen("provider-replay") == 0 and rc.hlen("unacked") == 1, 10, "eta message held")
    assert svc.stop() == 0
    assert rc.hlen("unacked") == 0 and rc.llen("provider-replay") == 1
    msg = json.loads(rc.lindex("provider-replay", 0))
    assert msg["headers"]["id"] == r.id and msg["headers"]["redelivered"] is True


def test_crash_restore_and_dead_letter(service, db, redis_server):
    """A message whose worker died is restored after the visibility timeout; one that keeps
    coming back is dead-lettered after SMPLAT_WORKER_MAX_DELIVERIES."""
    rc = redis_server.client()
    app = client(redis_server.url)
    r = app.send_task("smplat.ping", queue="provider-replay")
    # Pretend a worker took it and died long ago (kombu's own layout).
    raw = rc.rpop("provider-replay")
    tag = json.loads(raw)["properties"]["delivery_tag"]
    rc.hset("unacked", tag, json.dumps([json.loads(raw), "", "provider-replay"]))
    rc.zadd("unacked_index", {tag: time.time() - 100})
    rc.set(f"smplat.deliveries.{tag}", 3)
    svc = start_worker(service, db, redis_server.url, SMPLAT_WORKER_VISIBILITY_TIMEOUT=5,
                       SMPLAT_WORKER_MAX_DELIVERIES=3)
    with pytest.raises(RuntimeError, match="dead-lettered after 4 deliveries"):
        r.get(timeout=10)
    assert rc.llen("smplat.dead-letter") == 1
    assert json.loads(rc.lindex("smplat.dead-letter", 0))["headers"]["redelivered"] is True
    # A message restored once simply runs.
    r2 = app.send_task("smplat.ping", queue="provider-replay")
    assert r2.get(timeout=10) == "pong"
    assert svc.stop() == 0


@pytest.mark.slow
def test_kill9_loses_nothing_and_never_replays_twice(service, db, redis_server, mock_provider):
    mock_provider.on("/order", Delay(0.05, then=Json({"order": "ok"})))
    sql = provider_sql("p1", mock_provider.url_for("/order"))
    orders = []
    for i in range(40):
        s, po, _ = provider_order_sql("p1", [entry(PAST, amount=i + 1)], link=f"https://x/{i}", remote=f"R-{i}")
        sql += s
        orders.append(po)
    from harness import db_exec
    db_exec(db, sql)
    app = client(redis_server.url)
    env = dict(PROVIDER_REPLAY_WORKER_ENABLED="true", SMPLAT_WORKER_VISIBILITY_TIMEOUT=1,
               PROVIDER_REPLAY_LEASE_SECONDS=2, SMPLAT_WORKER_MAX_DELIVERIES=1000)
    rng = random.Random(int(os.environ.get("SMPLAT_CELERY_KILL_SEED", "7")))
    sent = []
    for trial in range(KILL_TRIALS):
        sent += [app.send_task("provider_automation.run_replay_batch", kwargs={"limit": 2},
                               queue="provider-replay") for _ in range(2)]
        svc = start_worker(service, db, redis_server.url, ["--concurrency", "2"], **env)
        time.sleep(rng.uniform(0.0, 0.6))
        svc.stop(signal.SIGKILL)
    svc = start_worker(service, db, redis_server.url, ["--concurrency", "2"], **env)
    rc = redis_server.client()
    deadline = time.time() + 60
    while time.time() < deadline and any(rc.get(f"celery-task-meta-{r.id}") is None for r in sent):
        time.sleep(0.2)
    missing = [r.id for r in sent if rc.get(f"celery-task-meta-{r.id}") is None]
    assert not missing, f"{len(missing)} tasks lost"
    assert all(json.loads(rc.get(f"celery-task-meta-{r.id}"))["status"] == "SUCCESS" for r in sent)
    bodies = [req.json()["order"] for req in mock_provider.requests_for("/order")]
    assert len(bodies) == len(set(bodies)), "the provider saw a replay twice"
    assert svc.stop() == 0


@pytest.mark.slow
def test_redis_restart_under_load(service, db, redis_server):
    svc = start_worker(service, db, redis_server.url, ["--concurrency", "2"])
    app = client(redis_server.url)
    assert all(r.get(timeout=10) == "pong"
               for r in [app.send_task("smplat.ping", queue="provider-replay") for _ in range(50)])
    redis_server.restart(down_seconds=1)
    up = time.time()
    app = client(redis_server.url)
    r = app.send_task("smplat.ping", queue="provider-replay")
    assert r.get(timeout=30) == "pong"
    # The worker retries the broker at most 1 s apart (docs/CELERY.md); how long it took is
    # reported, not asserted: timing belongs in bench/, not in a test.
    print(f"worker resumed {time.time() - up:.2f} s after Redis came back")
    results = [app.send_task("smplat.ping", queue="provider-replay") for _ in range(50)]
    assert all(r.get(timeout=10) == "pong" for r in results)
    assert "Cannot reach the broker" in svc.output()
    assert svc.stop() == 0


@pytest.mark.slow
def test_bullmq_example(run_cli, db, redis_server, tmp_path, bins):
    """examples/bullmq/ with the pinned BullMQ from the npm registry, against a real Redis: its
    worker runs provider-replay scheduled and provider-alerts for each job."""
    import shutil
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        pytest.skip("npm/node not installed: cannot run the BullMQ example")
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "bullmq")
    work = tmp_path / "bullmq"
    shutil.copytree(example, work, ignore=shutil.ignore_patterns("node_modules"))
    inst = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work,
                          capture_output=True, text=True, timeout=240)
    if inst.returncode != 0:
        pytest.skip(f"npm install failed (registry unreachable?): {inst.stderr[-500:]}")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "REDIS_URL": redis_server.url,
           "SMPLAT_BIN_DIR": bins.dir, "DATABASE_URL": db, "PROVIDER_ALLOW_PRIVATE_NETWORKS": "true"}
    log = tmp_path / "bullmq-worker.log"
    proc = ManagedProcess([node, "worker.js"], env=env, cwd=str(work), stdout=str(log), name="bullmq-worker")
    for what in (["replay", "7"], ["alerts"]):
        subprocess.run([node, "enqueue.js", *what], cwd=work, env=env, check=True, timeout=30,
                       capture_output=True)
    wait_for(lambda: log.exists() and log.read_text().count('"result"') + log.read_text().count('"error"') >= 2,
             60, "both jobs finished")
    proc.stop()
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    replay = [x for x in lines if x.get("queue") == "provider-replay"]
    assert replay and replay[0]["result"]["processed"] == 0, log.read_text()
    alerts = [x for x in lines if x.get("queue") == "provider-alerts"]
    assert alerts, log.read_text()
    rc = redis_server.client()
    assert rc.hget("bull:provider-replay:1", "returnvalue") is not None
