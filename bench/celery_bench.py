"""Celery worker benchmark driver (bench/celery_bench.sh starts it): our `smplat worker` against
Python Celery 5 workers (solo pool, then prefork with 2 processes) on the same Redis in the same
run. For each worker and task (`smplat.ping`, a no-op registered on both sides, and
`provider_automation.run_replay_batch` on an empty backlog; the Python side's is a stub that
returns an empty summary):

* throughput: N messages are queued first, then the worker drains them; tasks/s from the first
  to the last result's date_done;
* latency: 1000 messages published at a steady 400/s to a running worker; p50/p99 of
  date_done - publish time (the tasks take microseconds, so done ~ started).

Prints one line per measurement and the ratios ours/python. Never fails: errors are printed."""
import base64
import datetime
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import redis

BIN, TMP, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
N = int(os.environ.get("CELERY_BENCH_TASKS", "20000"))
PHASE_CAP = float(os.environ.get("CELERY_BENCH_PHASE_SECONDS", "45"))
URL = f"redis://127.0.0.1:{PORT}/0"
Q = "bench"
r = redis.Redis(port=PORT)

APP = '''
import os
from celery import Celery
app = Celery("benchapp", broker=os.environ["B"], backend=os.environ["B"])
app.conf.worker_prefetch_multiplier = 4
@app.task(name="smplat.ping")
def ping():
    return "pong"
@app.task(name="provider_automation.run_replay_batch")
def run_replay_batch(limit=None):
    return {"processed": 0, "succeeded": 0, "failed": 0, "scheduledBacklog": 0}
'''


def envelope(task, kwargs):
    tid = str(uuid.uuid4())
    body = base64.b64encode(json.dumps([[], kwargs, {"callbacks": None, "errbacks": None, "chain": None,
                                                     "chord": None}]).encode()).decode()
    env = {"body": body, "content-encoding": "utf-8", "content-type": "application/json",
           "headers": {"lang": "py", "task": task, "id": tid, "shadow": None, "eta": None, "expires": None,
                       "group": None, "group_index": None, "retries": 0, "timelimit": [None, None],
                       "root_id": tid, "parent_id": None, "argsrepr": "()", "kwargsrepr": repr(kwargs),
                       "origin": "bench", "ignore_result": False},
           "properties": {"correlation_id": tid, "reply_to": "", "delivery_mode": 2,
                          "delivery_info": {"exchange": "", "routing_key": Q}, "priority": 0,
                          "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())}}
    return tid, json.dumps(env)


def done_times(ids):
    out = {}
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        for tid, v in zip(chunk, r.mget([f"celery-task-meta-{t}" for t in chunk])):
            if v:
                d = json.loads(v).get("date_done")
                if d:
                    t = datetime.datetime.fromisoformat(d)
                    if t.tzinfo is None:
                        t = t.replace(tzinfo=datetime.timezone.utc)
                    out[tid] = t.timestamp()
    return out


def wait_all(ids, cap):
    deadline = time.time() + cap
    while time.time() < deadline:
        if r.llen(Q) == 0 and r.hlen("unacked") == 0:
            got = done_times(ids)
            if len(got) >= len(ids):
                return got
        time.sleep(0.2)
    return done_times(ids)


def start(kind):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": TMP}
    log = open(os.path.join(TMP, f"{kind}.log"), "ab")
    if kind.startswith("smplat"):
        conc = kind.split("-c")[1]
        env.update({"CELERY_BROKER_URL": URL, "CELERY_RESULT_BACKEND": URL,
                    "DATABASE_URL": f"sqlite:///{TMP}/bench.db", "PROVIDER_REPLAY_WORKER_ENABLED": "true",
                    "SMPLAT_LOG_LEVEL": "warning", "SMPLAT_WORKER_PREFETCH_MULTIPLIER": "4"})
        argv = [os.path.join(BIN, "smplat"), "worker", "-Q", Q, "--concurrency", conc]
    else:
        env.update({"B": URL, "PYTHONPATH": TMP, "C_FORCE_ROOT": "1"})
        pool = ["--pool=solo"] if kind == "python-solo" else ["--pool=prefork", "-c", "2"]
        argv = ["/usr/bin/python3", "-m", "celery", "-A", "benchapp", "worker", "-Q", Q, *pool,
                "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"]
    p = subprocess.Popen(argv, env=env, cwd=TMP, stdout=log, stderr=log, start_new_session=True)
    # Ready when a probe message is answered.
    tid, env_text = envelope("smplat.ping", {})
    r.lpush(Q, env_text)
    wait_all([tid], 30)
    return p


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=20)
    except Exception:  # noqa: BLE001
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except Exception:  # noqa: BLE001
            pass


def throughput(kind, task, kwargs):
    ids, msgs = [], []
    for _ in range(N):
        tid, e = envelope(task, kwargs)
        ids.append(tid)
        msgs.append(e)
    pipe = r.pipeline(transaction=False)
    for i in range(0, N, 1000):
        pipe.lpush(Q, *msgs[i:i + 1000])
    pipe.execute()
    t0 = time.time()
    got = wait_all(ids, PHASE_CAP)
    if len(got) < 2:
        return 0.0, len(got)
    span = max(got.values()) - min(min(got.values()), t0)
    r.delete(Q)
    return len(got) / span if span > 0 else 0.0, len(got)


def latency(task, kwargs, n=1000, rate=400.0):
    pub, ids = {}, []
    start_t = time.time()
    for i in range(n):
        target = start_t + i / rate
        now = time.time()
        if target > now:
            time.sleep(target - now)
        tid, e = envelope(task, kwargs)
        pub[tid] = time.time()
        r.lpush(Q, e)
        ids.append(tid)
    got = wait_all(ids, PHASE_CAP)
    d = sorted(max(0.0, got[t] - pub[t]) * 1000 for t in got)
    if not d:
        return float("nan"), float("nan")
    return d[len(d) // 2], d[min(len(d) - 1, int(len(d) * 0.99))]


def main():
    with open(os.path.join(TMP, "benchapp.py"), "w") as f:
        f.write(APP)
    results = {}
    tasks = [("smplat.ping", {}), ("provider_automation.run_replay_batch", {"limit": 50})]
    for kind in ["smplat-c1", "python-solo", "smplat-c2", "python-prefork2"]:
        try:
            p = start(kind)
        except Exception as e:  # noqa: BLE001
            print(f"{kind}: cannot start ({e})")
            continue
        try:
            for task, kwargs in tasks:
                r.flushdb()
                rate, n = throughput(kind, task, kwargs)
                r.flushdb()
                p50, p99 = latency(task, kwargs)
                results[(kind, task)] = rate
                print(f"{kind:16s} {task:38s} {rate:9.0f} tasks/s ({n}/{N} done)  "
                      f"publish->done p50 {p50:7.2f} ms  p99 {p99:8.2f} ms", flush=True)
        except Exception as e:  # noqa: BLE001
            print(f"{kind}: error {e}")
        finally:
            stop(p)
    print()
    for ours, theirs in [("smplat-c1", "python-solo"), ("smplat-c2", "python-prefork2")]:
        for task, _ in tasks:
            a, b = results.get((ours, task)), results.get((theirs, task))
            if a and b:
                print(f"ratio {ours}/{theirs} {task}: {a / b:.2f}x")
    print("(python's run_replay_batch is a stub; ours runs a real pass on an empty SQLite backlog)")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print(f"celery bench: error {e}")
