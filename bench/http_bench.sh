#!/usr/bin/env bash
# HTTP benchmark: `bench/http_bench.sh BUILD_DIR` (default build).
#
# Seeds an embedded SQLite database with 10,000 automation runs and 200,000 orders (one item
# each, with a preset), starts `smplat serve` on it
# and its own nginx (Debian nginx-light) serving the very same response bytes as static
# files, both on free loopback ports in a temporary directory, then measures with wrk
# (64 connections, --latency):
#   GET /api/v1/fulfillment/providers/automation/status
#   GET /api/v1/fulfillment/providers/automation/status/history?limit=50
#   GET /api/v1/orders?limit=50                  (the admin order queue, newest 50 of 200,000)
# and prints requests/s and p99 latency of each next to nginx's, measured in the same run, and
# next to the targets. Then it holds 1,000 idle connections open (a small Python script) and
# prints the server's VmRSS. It never fails (exit status 0), bounds its own runtime (about a
# minute and a half, hard limit 3 minutes), and stops and removes everything it started.
#
# BENCH_HTTP_SECONDS (default 8) is the wrk duration of each of the six measurements.
set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
DURATION=${BENCH_HTTP_SECONDS:-8}
CONNS=64
IDLE=1000
API=/api/v1/fulfillment/providers/automation
START=$(date +%s)
HARD_LIMIT=170 # seconds; the script stops measuring past this

TMP=""
SERVE_PID=""
NGINX_PID=""
HOLDER_PID=""

stop_pid() { # pid signal: signal, wait up to 5 s, then SIGKILL
    local pid=$1 sig=$2
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

cleanup() {
    trap - EXIT INT TERM
    stop_pid "$HOLDER_PID" TERM
    stop_pid "$SERVE_PID" TERM
    stop_pid "$NGINX_PID" QUIT
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit 0
}
trap cleanup EXIT
trap 'echo "http-bench: interrupted"; cleanup' INT TERM

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

time_left() { echo $((HARD_LIMIT - ($(date +%s) - START))); }

wait_http() { # url pid: until the URL answers 200 (10 s)
    for _ in $(seq 100); do
        if "$PY" - "$1" <<'EOF' 2>/dev/null; then return 0; fi
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200 else 1)
EOF
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

echo "== HTTP benchmark (build: $BUILD) =="
BIN="$BUILD/bin/smplat"
WRK=$(command -v wrk || true)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$BIN" ]; then
    echo "http-bench: $BIN not found; build first (make build). Nothing measured."
    exit 0
fi
if [ -z "$WRK" ]; then
    echo "http-bench: wrk not installed. Nothing measured."
    exit 0
fi
if [ ! -x "$NGINX" ]; then
    echo "http-bench: nginx not installed (Debian nginx-light). Nothing measured."
    exit 0
fi
# 1,000 idle connections need more descriptors than the usual soft limit of 1024.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true

TMP=$(mktemp -d /tmp/smplat-http-bench.XXXXXX)
chmod 755 "$TMP"
# A private copy of the binary: a rebuild of the tree during the run must not swap it under us.
cp "$(readlink -f "$BIN")" "$TMP/smplat"
DB_URL="sqlite:///$TMP/bench.db"

# --- database: 10,000 runs, 200,000 orders ---------------------------------------------------------------------
if ! (cd "$TMP" && DATABASE_URL=$DB_URL timeout 30 ./smplat migrate >"$TMP/migrate.log" 2>&1); then
    echo "http-bench: smplat migrate failed:"; tail -5 "$TMP/migrate.log"
    exit 0
fi
if ! timeout 90 "$PY" - "$TMP/bench.db" <<'EOF'; then
import datetime, json, sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1])
t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
rows = []
for i in range(10000):
    at = t0 + datetime.timedelta(minutes=5 * i)
    nxt = (at + datetime.timedelta(minutes=5)).isoformat()
    if i % 10 < 7:
        summary = {"processed": i % 7, "succeeded": i % 5, "failed": i % 7 - i % 5 if i % 7 >= i % 5 else 0,
                   "scheduledBacklog": i % 13, "nextScheduledAt": nxt, "retrying": i % 2, "deferred": 0}
        rows.append((str(uuid.uuid4()), "replay", "success", json.dumps(summary), None, i % 13, nxt,
                     None, at.isoformat()))
    else:
        digest = [{"providerId": f"prov-{k}", "providerName": f"Provider {k}",
                   "reasons": ["2 guardrail fails", "1/4 replay failures"], "guardrailFailures": 2,
                   "guardrailWarnings": 0, "replayFailures": 1, "replayTotal": 4,
                   "guardrailHotspots": {"svc-1": {"fail": 2, "warn": 0, "pass": 3, "evaluated": 5}},
                   "ruleOverrides": {"svc-1": [{"id": "rule-a", "label": "Rule A", "count": 2}]}}
                  for k in range(2)]
        summary = {"alertsSent": 2, "alertsDigest": digest, "loadAlertsDigest": [], "autoPaused": 0,
                   "autoResumed": 0}
        rows.append((str(uuid.uuid4()), "alert", "success", json.dumps(summary), None, None, None, 2,
                     at.isoformat()))
db.executemany("INSERT INTO provider_automation_runs (id, run_type, status, summary, metadata_json, "
               "backlog_total, next_scheduled_at, alerts_sent, created_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)
# The status blobs a recent pass would have left (the status route then needs no backfill).
last = {"replay": rows[-4], "alerts": rows[-1]}
for key, row in last.items():
    blob = {"ranAt": row[8], "summary": json.loads(row[3])}
    db.execute("INSERT OR REPLACE INTO provider_automation_status (key, value) VALUES (?, ?)",
               (f"provider_automation:status:{key}", json.dumps(blob)))
# 200,000 orders a minute apart, each with one item whose selected_options name a preset.
db.executescript("""
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199999)
INSERT INTO orders (order_number, status, currency, subtotal, total, created_at, updated_at)
SELECT 'B' || i, CASE i % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'processing' WHEN 2 THEN 'active'
       ELSE 'completed' END, 'EUR', 10, 10,
       strftime('%Y-%m-%dT%H:%M:%S+00:00', 1735689600 + i * 60, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S+00:00', 1735689600 + i * 60, 'unixepoch') FROM n;
INSERT INTO order_items (order_id, product_title, quantity, unit_price, total_price,
                         selected_options, created_at, updated_at)
SELECT id, 'Followers', 1, 10, 10, json_object('presetId', 'preset-' || (rowid % 20)),
       created_at, created_at FROM orders;
""")
db.commit()
EOF
    echo "http-bench: seeding the database failed. Nothing measured."
    exit 0
fi

# --- smplat serve ------------------------------------------------------------------------------
SERVE_PORT=$(free_port)
(cd "$TMP" && exec env DATABASE_URL="$DB_URL" SMPLAT_LOG_LEVEL=warning \
    ./smplat serve --host 127.0.0.1 --port "$SERVE_PORT") >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
if ! wait_http "http://127.0.0.1:$SERVE_PORT/healthz" "$SERVE_PID"; then
    echo "http-bench: smplat serve did not start:"; tail -5 "$TMP/serve.log"
    exit 0
fi
SMPLAT="http://127.0.0.1:$SERVE_PORT"

# --- nginx with the same bytes -----------------------------------------------------------------
mkdir -p "$TMP/nginx/www"
if ! "$PY" - "$SMPLAT" "$TMP/nginx/www" <<EOF; then
import sys, urllib.request
base, www = sys.argv[1], sys.argv[2]
for name, path in (("status.json", "$API/status"), ("history.json", "$API/status/history?limit=50"),
                   ("orders.json", "/api/v1/orders?limit=50")):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        assert r.status == 200
        open(f"{www}/{name}", "wb").write(r.read())
EOF
    echo "http-bench: could not fetch the responses to copy. Nothing measured."
    exit 0
fi
NGINX_PORT=$(free_port)
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        default_type application/json;
        location = $API/status { alias $TMP/nginx/www/status.json; }
        location = $API/status/history { alias $TMP/nginx/www/history.json; }
        location = /api/v1/orders { alias $TMP/nginx/www/orders.json; }
    }
}
EOF
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" \
    >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
if ! wait_http "http://127.0.0.1:$NGINX_PORT$API/status" "$NGINX_PID"; then
    echo "http-bench: nginx did not start:"; cat "$TMP/nginx/stdout.log" "$TMP/nginx/error.log" 2>/dev/null
    exit 0
fi
NGINX_URL="http://127.0.0.1:$NGINX_PORT"

echo "smplat serve on 127.0.0.1:$SERVE_PORT (SQLite, 10,000 runs, 200,000 orders; 4 pool threads)"
echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$NGINX_PORT (worker_processes auto, static copies of the same bytes)"
echo "status response $(stat -c %s "$TMP/nginx/www/status.json") bytes, history response $(stat -c %s "$TMP/nginx/www/history.json") bytes, orders response $(stat -c %s "$TMP/nginx/www/orders.json") bytes"
echo "machine: $(nproc) CPUs; $(uname -sr); wrk -t2 -c$CONNS -d${DURATION}s --latency (client on the same machine)"
echo

# --- wrk ---------------------------------------------------------------------------------------
# Prints "RPS P99MS" for a URL (after a 1 s warm-up), or "- -" when wrk failed or time is up.
measure() {
    local url=$1 out
    if [ "$(time_left)" -lt $((DURATION + 10)) ]; then echo "- -"; return; fi
    timeout 10 "$WRK" -t2 -c$CONNS -d1s "$url" >/dev/null 2>&1
    out=$(timeout $((DURATION + 20)) "$WRK" -t2 -c$CONNS -d"${DURATION}s" --latency "$url" 2>&1) || {
        echo "- -"; return; }
    echo "$out" >>"$TMP/wrk.log"
    echo "$out" | awk '
        /^Requests\/sec:/ { rps = $2 }
        /^ +99%/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                   ms = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v }
        / Non-2xx or 3xx responses:/ { bad = $NF }
        END { if (rps == "" || bad > 0) print "- -"; else printf "%.0f %.3f\n", rps, ms }'
}

report() { # label target_rps target_p99 ours(rps p99) nginx(rps p99); target "-": none
    local label=$1 t_rps=$2 t_p99=$3 o_rps=$4 o_p99=$5 n_rps=$6 n_p99=$7
    if [ "$o_rps" = "-" ]; then
        printf '%-8s smplat: not measured (wrk failed or out of time)\n' "$label"
        return
    fi
    if [ "$t_rps" = "-" ]; then
        printf '%-8s smplat %9.0f req/s  p99 %7.3f ms\n' "$label" "$o_rps" "$o_p99"
    else
        local verdict
        verdict=$(awk -v r="$o_rps" -v p="$o_p99" -v tr="$t_rps" -v tp="$t_p99" \
            'BEGIN { print ((r >= tr && p < tp) ? "meets" : "misses") }')
        printf '%-8s smplat %9.0f req/s  p99 %7.3f ms   target >= %s req/s, p99 < %s ms: %s\n' \
            "$label" "$o_rps" "$o_p99" "$t_rps" "$t_p99" "$verdict"
    fi
    if [ "$n_rps" != "-" ]; then
        printf '%-8s nginx  %9.0f req/s  p99 %7.3f ms   smplat/nginx: %.2fx throughput, %.2fx p99\n' \
            "" "$n_rps" "$n_p99" "$(awk -v a="$o_rps" -v b="$n_rps" 'BEGIN { print a / b }')" \
            "$(awk -v a="$o_p99" -v b="$n_p99" 'BEGIN { print (b > 0 ? a / b : 0) }')"
    else
        printf '%-8s nginx  not measured\n' ""
    fi
}

read -r S_RPS S_P99 <<<"$(measure "$SMPLAT$API/status")"
read -r SN_RPS SN_P99 <<<"$(measure "$NGINX_URL$API/status")"
report status 30000 2 "$S_RPS" "$S_P99" "$SN_RPS" "$SN_P99"
read -r H_RPS H_P99 <<<"$(measure "$SMPLAT$API/status/history?limit=50")"
read -r HN_RPS HN_P99 <<<"$(measure "$NGINX_URL$API/status/history?limit=50")"
report history 5000 10 "$H_RPS" "$H_P99" "$HN_RPS" "$HN_P99"
read -r O_RPS O_P99 <<<"$(measure "$SMPLAT/api/v1/orders?limit=50")"
read -r ON_RPS ON_P99 <<<"$(measure "$NGINX_URL/api/v1/orders?limit=50")"
report orders - - "$O_RPS" "$O_P99" "$ON_RPS" "$ON_P99"

# --- memory with 1,000 idle connections ----------------------------------------------------------
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
RSS_BEFORE=$(rss_kb "$SERVE_PID")
mkfifo "$TMP/holder.ready"
timeout 60 "$PY" - "$SERVE_PORT" "$IDLE" "$TMP/holder.ready" <<'EOF' &
import resource, signal, socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
socks, failed = [], 0
for _ in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError:
        failed += 1
time.sleep(1.0)  # let the server accept and register every connection
with open(ready, "w") as f:
    f.write(f"{len(socks)} {failed}\n")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
time.sleep(50)
EOF
HOLDER_PID=$!
# Bounded: if the holder dies before opening the FIFO, a plain read would wait forever.
read -r HELD FAILED < <(timeout 40 cat "$TMP/holder.ready") || { HELD=0; FAILED=$IDLE; }
# The server still answers while they are held.
ALIVE=$("$PY" -c "import urllib.request; print(urllib.request.urlopen('$SMPLAT/healthz', timeout=5).status)" 2>/dev/null || echo no)
RSS_HELD=$(rss_kb "$SERVE_PID")
FDS=$(ls "/proc/$SERVE_PID/fd" 2>/dev/null | wc -l)
stop_pid "$HOLDER_PID" TERM
HOLDER_PID=""
if [ -n "$RSS_HELD" ]; then
    awk -v b="${RSS_BEFORE:-0}" -v h="$RSS_HELD" -v held="$HELD" -v fds="$FDS" -v ok="$ALIVE" 'BEGIN {
        printf "memory   smplat VmRSS %.1f MB with %d idle connections held (%.1f MB before; %d fds open; healthz while held: %s)   target < 64 MB: %s\n",
            h / 1024, held, b / 1024, fds, ok, (h / 1024 < 64 ? "meets" : "misses") }'
    [ "${FAILED:-0}" != 0 ] && echo "memory   note: $FAILED of $IDLE connections could not be opened"
else
    echo "memory   not measured (the server is gone)"
fi
if [ -s "$TMP/nginx/error.log" ] && grep -qv '\[notice\]' "$TMP/nginx/error.log"; then
    echo "nginx error log:"; grep -v '\[notice\]' "$TMP/nginx/error.log" | tail -5
fi
echo "($(($(date +%s) - START)) s)"
exit 0
