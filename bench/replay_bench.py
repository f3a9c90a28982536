#!/usr/bin/python3
"""Replay benchmark driver (called by bench/run.sh, which owns nginx and PostgreSQL).

For each backend (SQLite, then PostgreSQL when --pg-admin-url is given) it
  1. seeds 10,000 due scheduled replays over 5 providers pointing at the local nginx and times
     ONE `provider-replay scheduled --limit 10000` (PROVIDER_REPLAY_PROVIDER_CONCURRENCY=16),
     with its peak RSS (GNU time, else /proc VmHWM) and the requests nginx logged;
  2. runs wrk against the same nginx as the reference and prints replays/s / wrk req/s;
  3. times 1,000-entry passes alternately on two databases, one of them holding 1,000,000 idle
     provider orders (nothing due), and prints the ratio of the medians;
  and finally repeats 1 with concurrency 4 when the time budget allows.
Everything is printed; nothing here fails the build (run.sh exits 0 whatever happens).
"""

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

N_PROVIDERS = 5
N_MAIN = 10_000
N_SMALL = 1_000
N_IDLE = 1_000_000
N_IDLE_WITH_EXECUTED = 2_000  # idle rows whose payload has a scheduledReplays entry, executed
SMALL_ROUNDS_MIN = 3
SMALL_ROUNDS_MAX = 5
RUN_TIMEOUT = 150  # seconds, per provider-replay process
PAST = "2020-01-01T00:00:00+00:00"

TARGET_RATE = {"sqlite": 5000.0, "postgresql": 3000.0}
TARGET_WRK_RATIO = 0.25
TARGET_RSS_MB = 64.0

DEADLINE = None  # monotonic time after which optional work is skipped


def remaining():
    return DEADLINE - time.monotonic()


def log(msg=""):
    print(msg, flush=True)


def q(value):
    """SQL literal of a Python value (as tests/integration/replay_seed.py does)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# Databases


class SqliteDB:
    kind = "sqlite"

    def __init__(self, workdir, name):
        self.path = os.path.join(workdir, name + ".db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.unlink(self.path + suffix)
        self.url = "sqlite:///" + self.path

    def _conn(self):
        c = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        c.execute("PRAGMA foreign_keys=ON")
        return c

    def script(self, sql):
        c = self._conn()
        try:
            c.executescript("BEGIN;\n" + sql + "\nCOMMIT;")
        finally:
            c.close()

    def value(self, sql):
        c = self._conn()
        try:
            row = c.execute(sql).fetchone()
            return None if row is None else row[0]
        finally:
            c.close()

    def seed_idle(self, n, n_executed, order_id, item_id, payload_plain, payload_executed):
        # A bulk load, as an import tool would do it: no WAL, no fsync, a big page cache, no
        # foreign-key checks (the parents exist). The trigger still marks what it must.
        c = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            c.execute("PRAGMA journal_mode=MEMORY")
            c.execute("PRAGMA synchronous=OFF")
            c.execute("PRAGMA cache_size=-400000")
            c.execute("BEGIN")
            sql = ("INSERT INTO fulfillment_provider_orders (order_id, order_item_id, provider_id, "
                   "provider_name, service_id, service_action, amount, currency, payload) "
                   "VALUES (?, ?, ?, ?, 'svc-1', 'followers', 12.5, 'EUR', ?)")
            pids = ["bench-p%d" % (i + 1) for i in range(N_PROVIDERS)]
            names = ["Provider " + p for p in pids]
            rows = ((order_id, item_id, pids[i % N_PROVIDERS], names[i % N_PROVIDERS],
                     payload_executed if i < n_executed else payload_plain) for i in range(n))
            c.executemany(sql, rows)
            c.execute("COMMIT")
            c.execute("PRAGMA journal_mode=WAL")  # what the application uses (it sets it too)
        finally:
            c.close()

    def maintenance(self):
        pass  # SQLite has no autovacuum/autoanalyze; nothing a deployment would run either

    def drop(self):
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except OSError:
                pass


class PgDB:
    kind = "postgresql"

    def __init__(self, admin_url, workdir, name):
        self.admin_url = admin_url
        self.workdir = workdir
        self.name = name
        psql(admin_url, "DROP DATABASE IF EXISTS %s" % name)
        psql(admin_url, "CREATE DATABASE %s" % name)
        self.url = admin_url.rsplit("/", 1)[0] + "/" + name

    def script(self, sql):
        fd, path = tempfile.mkstemp(suffix=".sql", dir=self.workdir)
        with os.fdopen(fd, "w") as f:
            f.write(sql)
        try:
            psql_file(self.url, path)
        finally:
            os.unlink(path)

    def value(self, sql):
        out = psql(self.url, sql).strip()
        return out.splitlines()[0] if out else None

    def seed_idle(self, n, n_executed, order_id, item_id, payload_plain, payload_executed):
        sql = ("INSERT INTO fulfillment_provider_orders (order_id, order_item_id, provider_id, "
               "provider_name, service_id, service_action, amount, currency, payload) "
               "SELECT %s, %s, 'bench-p' || (g %% %d + 1), 'Provider bench-p' || (g %% %d + 1), "
               "'svc-1', 'followers', 12.5, 'EUR', "
               "CASE WHEN g <= %d THEN %s::json ELSE %s::json END "
               "FROM generate_series(1, %d) AS g;"
               % (q(order_id), q(item_id), N_PROVIDERS, N_PROVIDERS, n_executed,
                  q(payload_executed), q(payload_plain), n))
        self.script(sql)

    def maintenance(self):
        # What autovacuum does shortly after a bulk load; done now so that it does not run in
        # the middle of a timed pass.
        psql(self.url, "VACUUM ANALYZE")

    def drop(self):
        try:
            psql(self.admin_url, "DROP DATABASE IF EXISTS %s" % self.name)
        except Exception as e:  # noqa: BLE001
            log("  (could not drop %s: %s)" % (self.name, e))


def psql(url, sql):
    r = subprocess.run(["/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-d", url, "-c", sql], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("psql failed (%s): %s" % (sql[:80], r.stderr.strip()))
    return r.stdout


def psql_file(url, path):
    r = subprocess.run(["/usr/bin/psql", "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", url,
                        "-f", path], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("psql -f failed: %s" % r.stderr.strip()[:500])


# ---------------------------------------------------------------------------------------------
# Seeding (the SQL shapes of tests/integration/replay_seed.py, multi-row VALUES)


def provider_ids():
    return ["bench-p%d" % (i + 1) for i in range(N_PROVIDERS)]


def seed_providers(db, order_url):
    rows = []
    for pid in provider_ids():
        endpoint = {
            "method": "POST",
            "url": order_url,
            "headers": {"X-Api-Key": "{{apiKey}}"},
            "payload": {"order": "{{providerOrderId}}", "link": "{{link}}",
                        "amount": "{{requestedAmount}}", "service": "{{serviceId}}"},
            "timeoutSeconds": 10,
            "response": {"providerOrderIdPath": "order"},
        }
        metadata = {"automation": {"apiKey": "k-" + pid, "endpoints": {"order": endpoint}}}
        rows.append("(%s, %s, %s, 'active', NULL)" % (q(pid), q("Provider " + pid), q(metadata)))
    db.script("INSERT INTO fulfillment_providers (id, name, metadata_json, status, "
              "rate_limit_per_minute) VALUES\n" + ",\n".join(rows) + ";")


def seed_due(db, n, batch=500):
    """n provider orders (each with its order and order item), each payload holding one
    scheduledReplays entry due in the past; round-robin over the providers."""
    pids = provider_ids()
    parts = []
    for start in range(0, n, batch):
        orders, items, pos = [], [], []
        for i in range(start, min(n, start + batch)):
            order_id, item_id, po_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
            pid = pids[i % N_PROVIDERS]
            payload = {
                "orderId": order_id,
                "link": "https://example.com/p/%d" % i,
                "providerOrderId": "R-%d" % i,
                "serviceRules": [{"id": "rule-a", "label": "Rule A", "priority": 2}],
                "scheduledReplays": [{"requestedAmount": 20, "currency": "EUR",
                                      "scheduledFor": PAST, "status": "scheduled",
                                      "id": str(uuid.uuid4())}],
            }
            orders.append("(%s, %s, 'processing', 'checkout', 'EUR', 10, 0, 10)"
                          % (q(order_id), q("B" + order_id.replace("-", "")[:24])))
            items.append("(%s, %s, 'Product', 1, 10, 10)" % (q(item_id), q(order_id)))
            pos.append("(%s, %s, %s, %s, %s, 'svc-1', 'followers', 12.5, 'EUR', %s)"
                       % (q(po_id), q(order_id), q(item_id), q(pid), q("Provider " + pid),
                          q(payload)))
        parts.append("INSERT INTO orders (id, order_number, status, source, currency, subtotal, "
                     "tax, total) VALUES\n" + ",\n".join(orders) + ";")
        parts.append("INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, "
                     "total_price) VALUES\n" + ",\n".join(items) + ";")
        parts.append("INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, "
                     "provider_id, provider_name, service_id, service_action, amount, currency, "
                     "payload) VALUES\n" + ",\n".join(pos) + ";")
    db.script("\n".join(parts))


def seed_idle(db, n=N_IDLE, n_executed=N_IDLE_WITH_EXECUTED):
    """n provider orders with nothing due, all pointing at one shared order and order item.
    Most payloads do not mention scheduledReplays (the dirty trigger ignores them); the first
    n_executed carry one scheduledReplays entry that already executed."""
    order_id, item_id = str(uuid.uuid4()), str(uuid.uuid4())
    db.script("INSERT INTO orders (id, order_number, status, source, currency, subtotal, tax, "
              "total) VALUES (%s, 'IDLE-1', 'completed', 'checkout', 'EUR', 10, 0, 10);\n"
              "INSERT INTO order_items (id, order_id, product_title, quantity, unit_price, "
              "total_price) VALUES (%s, %s, 'Product', 1, 10, 10);" % (q(order_id), q(item_id),
                                                                        q(order_id)))
    executed = {"id": "00000000-0000-4000-8000-000000000001", "status": "executed",
                "requestedAmount": 20.0, "currency": "EUR", "performedAt": PAST,
                "response": {"order": "1", "status": "ok"}}
    plain = {"orderId": order_id, "link": "https://example.com/idle", "providerOrderId": "R-idle",
             "serviceRules": [{"id": "rule-a", "label": "Rule A", "priority": 2}],
             "replays": [executed]}
    with_sched = dict(plain)
    with_sched["scheduledReplays"] = [dict(executed, scheduledFor=PAST, executedAt=PAST)]
    db.seed_idle(n, n_executed, order_id, item_id, json.dumps(plain), json.dumps(with_sched))


# ---------------------------------------------------------------------------------------------
# Running provider-replay


class RunResult:
    def __init__(self):
        self.rc = None
        self.seconds = None
        self.maxrss_kb = None
        self.summary = None
        self.stdout = ""
        self.stderr_tail = ""
        self.stderr_path = None
        self.timed_out = False
        self.nginx_requests = None
        self.problems = []


def clean_env(db_url, concurrency):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ") if k in os.environ}
    env.update({
        "DATABASE_URL": db_url,
        "PROVIDER_ALLOW_PRIVATE_NETWORKS": "true",
        "PROVIDER_REPLAY_PROVIDER_CONCURRENCY": str(concurrency),
    })
    return env


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return None


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def vmhwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def run_replay(args, db, limit, concurrency, label):
    """Runs `provider-replay scheduled --limit N` once; wall time, peak RSS, the JSON summary
    and how many requests nginx logged meanwhile.

    Peak RSS comes from GNU time (`/usr/bin/time -f %M`, the child's ru_maxrss as seen by a
    small parent) or, when it is missing, from polling /proc/PID/status VmHWM (a high-water
    mark, so polling every 10 ms misses at most the last 10 ms). Not from this script's own
    wait4(): a child's ru_maxrss starts at the RSS of the process that forked it, and this
    Python process can be hundreds of MB after seeding."""
    res = RunResult()
    out_path = os.path.join(args.workdir, "replay-%s.out" % label)
    err_path = os.path.join(args.workdir, "replay-%s.err" % label)
    rss_path = os.path.join(args.workdir, "replay-%s.rss" % label)
    res.stderr_path = err_path
    before = count_lines(args.nginx_log)
    cmd = [os.path.join(args.bin, "provider-replay"), "scheduled", "--limit", str(limit)]
    if GNU_TIME:
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_path] + cmd
    hwm = [None]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             env=clean_env(db.url, concurrency), cwd=args.workdir,
                             start_new_session=True)
        done = threading.Event()

        def watch():
            deadline = time.monotonic() + RUN_TIMEOUT
            while not done.wait(0.01):
                if not GNU_TIME:
                    v = vmhwm_kb(p.pid)
                    if v is not None:
                        hwm[0] = v
                if time.monotonic() > deadline:
                    res.timed_out = True
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        p.wait()
        res.seconds = time.monotonic() - t0
        done.set()
        watcher.join()
    res.rc = p.returncode
    if GNU_TIME:
        try:
            with open(rss_path) as f:
                res.maxrss_kb = int(f.read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            res.maxrss_kb = None
    else:
        res.maxrss_kb = hwm[0]
    with open(out_path, "r", errors="replace") as f:
        res.stdout = f.read()
    with open(err_path, "r", errors="replace") as f:
        lines = f.read().splitlines()
    res.stderr_tail = "\n".join(lines[-5:])
    try:
        res.summary = json.loads(res.stdout)
    except ValueError:
        res.summary = None
    time.sleep(0.4)  # nginx access log buffer flushes every 100 ms
    after = count_lines(args.nginx_log)
    if before is not None and after is not None:
        res.nginx_requests = after - before
    # Problems worth a warning
    if res.timed_out:
        res.problems.append("killed after %ds" % RUN_TIMEOUT)
    if res.rc != 0:
        res.problems.append("exit code %s" % res.rc)
    s = res.summary
    if not isinstance(s, dict):
        res.problems.append("stdout is not a JSON summary: %r" % res.stdout[:200])
    else:
        if s.get("succeeded") != limit:
            res.problems.append("succeeded=%s, expected %d" % (s.get("succeeded"), limit))
        if s.get("failed"):
            res.problems.append("failed=%s" % s.get("failed"))
    if res.nginx_requests is not None and res.nginx_requests != limit:
        res.problems.append("nginx logged %d requests, expected %d" % (res.nginx_requests, limit))
    errs = [ln for ln in lines if re.search(r"\b(error|warning|ERROR|WARN)", ln)]
    if errs:
        res.problems.append("%d error/warning lines on stderr, first: %s" % (len(errs), errs[0][:300]))
    return res


def fmt_mb(kb):
    return "%.1f MB" % (kb / 1024.0) if kb is not None else "n/a"


def verdict(ok):
    return "OK" if ok else "MISSED"


def print_run(res, limit, target_rate):
    rate = limit / res.seconds if res.seconds else 0.0
    log("    time %.3f s, %.0f replays/s (target >= %.0f/s: %s)"
        % (res.seconds, rate, target_rate, verdict(rate >= target_rate)))
    rss_mb = res.maxrss_kb / 1024.0 if res.maxrss_kb else None
    log("    peak RSS %s (target < %.0f MB: %s)"
        % (fmt_mb(res.maxrss_kb), TARGET_RSS_MB,
           verdict(rss_mb is not None and rss_mb < TARGET_RSS_MB)))
    log("    summary %s" % (json.dumps(res.summary) if res.summary is not None
                            else res.stdout.strip()[:300]))
    if res.nginx_requests is not None:
        log("    nginx received %d POSTs" % res.nginx_requests)
    for p in res.problems:
        log("    WARNING: %s" % p)
    if res.problems:
        log("    (stderr of the run: %s; last lines:)" % res.stderr_path)
        for ln in res.stderr_tail.splitlines():
            log("      | " + ln[:300])
    return rate


# ---------------------------------------------------------------------------------------------
# wrk reference


WRK_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "k-bench-p1"
wrk.body = '{"order": "R-1234", "link": "https://example.com/p/1234", "amount": "20.0", "service": "svc-1"}'
"""


def run_wrk(args):
    lua = os.path.join(args.workdir, "post.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    wrk = shutil.which("wrk")
    if not wrk:
        log("    wrk not installed: reference skipped")
        return None
    try:
        r = subprocess.run([wrk, "-t2", "-c16", "-d5s", "-s", lua, args.order_url],
                           capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        log("    wrk timed out")
        return None
    m = re.search(r"Requests/sec:\s*([0-9.]+)", r.stdout)
    if not m:
        log("    wrk output not understood: %s %s" % (r.stdout[-300:], r.stderr[-300:]))
        return None
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    if errs:
        log("    WARNING: wrk saw %s non-2xx responses" % errs.group(1))
    sock = re.search(r"Socket errors:.*", r.stdout)
    if sock:
        log("    WARNING: wrk %s" % sock.group(0))
    return float(m.group(1))


# ---------------------------------------------------------------------------------------------
# Phases


def timed(what, fn):
    t0 = time.monotonic()
    fn()
    log("    (%s: %.1f s)" % (what, time.monotonic() - t0))


def phase_main(args, make_db, backend, concurrency, label):
    db = make_db("bench_main_c%d" % concurrency)
    try:
        migrate(args, db)
        seed_providers(db, args.order_url)
        timed("seeding %d due provider orders" % N_MAIN, lambda: seed_due(db, N_MAIN))
        due = db.value("SELECT count(*) FROM provider_replay_dirty")
        log("    dirty marks before the run: %s" % due)
        log("    provider-replay scheduled --limit %d, PROVIDER_REPLAY_PROVIDER_CONCURRENCY=%d:"
            % (N_MAIN, concurrency))
        res = run_replay(args, db, N_MAIN, concurrency, "%s-main-c%d" % (label, concurrency))
        rate = print_run(res, N_MAIN, TARGET_RATE[backend])
        events = db.value("SELECT count(*) FROM order_state_events WHERE event_type = "
                          "'replay_executed'")
        left = db.value("SELECT count(*) FROM provider_replay_schedule")
        log("    after: %s replay_executed events, %s index rows left" % (events, left))
        if str(events) != str(N_MAIN):
            log("    WARNING: expected %d replay_executed events" % N_MAIN)
        return rate, res
    finally:
        db.drop()


def migrate(args, db):
    subprocess.run([os.path.join(args.bin, "smplat"), "migrate"], check=True, capture_output=True,
                   env=clean_env(db.url, 16), cwd=args.workdir, timeout=120)


def phase_idle(args, make_db, backend, label, reserve):
    """Two databases with the same 5 providers, one of them with 1,000,000 idle provider
    orders; rounds alternate between them (each: seed 1,000 fresh due entries, one timed
    `--limit 1000` pass) so that a drift of the machine's load hits both alike."""
    base = make_db("bench_base")
    idle = make_db("bench_idle")
    try:
        for db in (base, idle):
            migrate(args, db)
            seed_providers(db, args.order_url)
        t0 = time.monotonic()
        seed_idle(idle)
        log("    seeded %d idle provider orders (%d with an executed scheduledReplays entry, the "
            "rest without scheduledReplays) in %.1f s" % (N_IDLE, N_IDLE_WITH_EXECUTED,
                                                         time.monotonic() - t0))
        t0 = time.monotonic()
        for db in (base, idle):
            db.maintenance()
        if idle.kind == "postgresql":
            log("    VACUUM ANALYZE of both databases: %.1f s" % (time.monotonic() - t0))
        total = idle.value("SELECT count(*) FROM fulfillment_provider_orders")
        dirty = idle.value("SELECT count(*) FROM provider_replay_dirty")
        log("    idle database: %s provider orders, %s dirty marks" % (total, dirty))
        # Untimed pass: syncs the marks of the idle rows that mention scheduledReplays (their
        # entries executed, so nothing is due and nothing is sent).
        res = run_replay(args, idle, 1, 16, "%s-idle-sync" % label)
        log("    untimed sync pass on it (--limit 1, nothing due): %.3f s, summary %s"
            % (res.seconds, json.dumps(res.summary)))
        if res.summary and res.summary.get("processed"):
            log("    WARNING: the sync pass processed %s entries; idle rows should have none due"
                % res.summary.get("processed"))
        if res.rc != 0:
            log("    WARNING: sync pass exit code %s (stderr %s)" % (res.rc, res.stderr_path))
        left = idle.value("SELECT count(*) FROM provider_replay_dirty")
        if str(left) != "0":
            log("    WARNING: %s dirty marks left after the sync pass" % left)

        def one(db, tag, i):
            seed_due(db, N_SMALL)
            r = run_replay(args, db, N_SMALL, 16, "%s-%s-%d" % (label, tag, i))
            extra = "" if not r.problems else "  WARNING: " + "; ".join(r.problems)
            return r.seconds, "%.3f s%s" % (r.seconds, extra), r.maxrss_kb

        times = {"base": [], "idle": []}
        rounds = SMALL_ROUNDS_MAX
        log("    rounds of `provider-replay scheduled --limit %d` (fresh %d due entries each), "
            "alternating:" % (N_SMALL, N_SMALL))
        for i in range(rounds):
            if i >= SMALL_ROUNDS_MIN and remaining() - reserve < 60:
                log("      (stopping after %d rounds: %.0f s left)" % (i, remaining()))
                break
            order = (("base", base), ("idle", idle)) if i % 2 == 0 else (("idle", idle), ("base", base))
            line = {}
            for tag, db in order:
                sec, text, rss = one(db, tag, i)
                times[tag].append(sec)
                line[tag] = text
            log("      round %d: without idle rows %s | with 1M idle rows %s"
                % (i + 1, line["base"], line["idle"]))
        mb, mi = statistics.median(times["base"]), statistics.median(times["idle"])
        ratio = mi / mb if mb else float("nan")
        log("    median without idle rows %.3f s (%.0f replays/s), with 1M idle rows %.3f s "
            "(%.0f replays/s): ratio %.2f (target about 1.0, i.e. <= 1.25: %s)"
            % (mb, N_SMALL / mb, mi, N_SMALL / mi, ratio, verdict(ratio <= 1.25)))
        return mb, mi, ratio
    finally:
        base.drop()
        idle.drop()


def run_backend(args, backend, make_db, label, results, reserve):
    """reserve: seconds to keep for what comes after this backend."""
    log("")
    log("=== %s ===" % ("SQLite" if backend == "sqlite" else "PostgreSQL"))
    r = {}
    results[backend] = r
    log("[1] 10,000 due scheduled replays, 5 providers, one pass")
    try:
        rate16, res16 = phase_main(args, make_db, backend, 16, label)
        r["rate16"], r["rss16"] = rate16, res16.maxrss_kb
    except Exception as e:  # noqa: BLE001
        log("    ERROR in phase 1: %s" % e)
    log("[2] reference: wrk -t2 -c16 -d5s -s post.lua %s" % args.order_url)
    wrk = run_wrk(args)
    r["wrk"] = wrk
    if wrk:
        log("    wrk %.0f requests/s" % wrk)
        if "rate16" in r:
            r["wrk_ratio16"] = r["rate16"] / wrk
            log("    replays/s / wrk req/s = %.3f (target >= %.2f: %s)"
                % (r["wrk_ratio16"], TARGET_WRK_RATIO, verdict(r["wrk_ratio16"] >= TARGET_WRK_RATIO)))
    log("[3] a 1,000-entry pass with and without 1,000,000 idle provider orders")
    if remaining() - reserve < 100:
        log("    skipped: only %.0f s left in the time budget" % (remaining() - reserve))
    else:
        try:
            r["idle"] = phase_idle(args, make_db, backend, label, reserve)
        except Exception as e:  # noqa: BLE001
            log("    ERROR in phase 3: %s" % e)
    log("[1b] the same 10,000 replays with PROVIDER_REPLAY_PROVIDER_CONCURRENCY=4")
    # about the time the concurrency-16 pass took, plus seeding
    need = (N_MAIN / r["rate16"] if r.get("rate16") else 60) * 1.5 + 15
    if remaining() - reserve < need:
        log("    skipped: %.0f s left, about %.0f s needed" % (remaining() - reserve, need))
    else:
        try:
            rate4, res4 = phase_main(args, make_db, backend, 4, label)
            r["rate4"], r["rss4"] = rate4, res4.maxrss_kb
            if wrk:
                log("    replays/s / wrk req/s = %.3f" % (rate4 / wrk))
        except Exception as e:  # noqa: BLE001
            log("    ERROR in phase 1b: %s" % e)


def summary_table(results):
    log("")
    log("=== summary (figure / target) ===")
    for backend, r in results.items():
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        parts = []
        if "rate16" in r:
            parts.append("replays/s c16 %.0f / >=%.0f %s" % (r["rate16"], TARGET_RATE[backend],
                                                            verdict(r["rate16"] >= TARGET_RATE[backend])))
        if "rate4" in r:
            parts.append("c4 %.0f" % r["rate4"])
        if r.get("rss16"):
            parts.append("peak RSS %s / <64 MB %s" % (fmt_mb(r["rss16"]),
                                                      verdict(r["rss16"] / 1024.0 < TARGET_RSS_MB)))
        if r.get("wrk"):
            parts.append("wrk %.0f req/s" % r["wrk"])
        if "wrk_ratio16" in r:
            parts.append("ratio %.3f / >=0.25 %s" % (r["wrk_ratio16"],
                                                     verdict(r["wrk_ratio16"] >= TARGET_WRK_RATIO)))
        if "idle" in r:
            mb, mi, ratio = r["idle"]
            parts.append("1M-idle %.3f s vs %.3f s ratio %.2f / ~1 %s" % (mi, mb, ratio,
                                                                         verdict(ratio <= 1.25)))
        log("%-10s %s" % (name, "; ".join(parts) if parts else "no figures"))


def main():
    global DEADLINE
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--order-url", required=True)
    ap.add_argument("--nginx-log", required=True)
    ap.add_argument("--pg-admin-url")
    ap.add_argument("--budget", type=float, default=540)
    args = ap.parse_args()
    DEADLINE = time.monotonic() + args.budget
    results = {}

    def make_sqlite(name):
        return SqliteDB(args.workdir, name)

    # keep about 4 minutes for PostgreSQL when it runs
    run_backend(args, "sqlite", make_sqlite, "sqlite", results, 240 if args.pg_admin_url else 0)

    if args.pg_admin_url:
        def make_pg(name):
            return PgDB(args.pg_admin_url, args.workdir, name)

        if remaining() < 90:
            log("\n=== PostgreSQL === skipped: only %.0f s left" % remaining())
        else:
            run_backend(args, "postgresql", make_pg, "pg", results, 0)
    else:
        log("\n=== PostgreSQL === skipped (server not started, see above)")
    summary_table(results)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
