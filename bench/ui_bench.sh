#!/usr/bin/env bash
# Admin UI benchmark: `bench/ui_bench.sh BUILD_DIR` (default build).
#
# Time to a fully rendered /admin/fulfillment/providers (the first frame painted after
# body[data-ready]: every section has its data) in headless Debian Chromium with a cold HTTP
# cache (a new browser context per load; bench/ui_bench.mjs says how it is measured), and the
# bytes transferred, for
#   1. the demo data (`smplat demo`),                 targets: < 500 ms, < 300 KB
#   2. 200 providers and 20,000 provider orders (bench/ui_seed.py on SQLite).
# Each figure is the median of BENCH_UI_RUNS (default 5) page loads, printed next to the time
# the page's API calls take alone from node in the same run (the ratio is what the browser,
# the modules and rendering add). It starts its servers on free loopback ports in a temporary
# directory, stops and removes everything it started, bounds its runtime (hard limit about
# 4 minutes) and never fails (exit status 0).
set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
CHROMIUM=${SMPLAT_CHROMIUM:-/usr/bin/chromium}
RUNS=${BENCH_UI_RUNS:-5}
LIMIT=100 # seconds per measurement

TMP=""
SERVE_PID=""

stop_server() {
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVE_PID" 2>/dev/null
        wait "$SERVE_PID" 2>/dev/null
    fi
    SERVE_PID=""
}
cleanup() {
    trap - EXIT INT TERM
    stop_server
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit 0
}
trap cleanup EXIT
trap 'echo "bench: interrupted"; cleanup' INT TERM

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() { # port
    for _ in $(seq 100); do
        "$PY" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$1/healthz', timeout=1)" 2>/dev/null && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

measure() { # label url [static]
    local out
    out=$(cd "$ROOT" && timeout -k 5 "$LIMIT" node "$HERE/ui_bench.mjs" "$2" "$RUNS" "$CHROMIUM" ${3:-} 2>"$TMP/driver.err")
    if [ -z "$out" ]; then
        echo "$1: no figure (driver failed or ran out of time):"; tail -5 "$TMP/driver.err"
        return
    fi
    "$PY" - "$1" "$out" <<'PYEOF'
import json, sys
label, d = sys.argv[1], json.loads(sys.argv[2])
kb = d["bytes"] / 1024
line = (f"{label}: {d['medianMs']} ms median (min {d['minMs']} ms) to rendered in the page "
        f"({d['wallMs']} ms wall in the driver), {kb:.0f} KB in {d['requests']} requests")
if "apiOnlyMs" in d:
    line += f"; API calls alone {d['apiOnlyMs']} ms (page/API ratio {d['ratio']})"
print(line)
PYEOF
}

echo "== admin UI benchmark (build: $BUILD) =="
if [ ! -x "$BUILD/bin/smplat" ]; then
    echo "bench: $BUILD/bin/smplat not found; build first (make build). Nothing measured."
    exit 0
fi
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null; then
    echo "bench: $CHROMIUM or node missing (scripts/deps.sh installs them). Nothing measured."
    exit 0
fi
if [ ! -f "$ROOT/tests/ui/node_modules/playwright-core/package.json" ]; then
    (cd "$ROOT/tests/ui" && timeout 300 npm ci --no-audit --no-fund >/dev/null 2>&1) ||
        { echo "bench: npm ci in tests/ui failed. Nothing measured."; exit 0; }
fi
TMP=$(mktemp -d /tmp/smplat-uibench.XXXXXX)
mkdir -p "$TMP/bin" "$TMP/demo" "$TMP/big"
cp "$(readlink -f "$BUILD/bin/smplat")" "$TMP/bin/smplat"
echo "machine: $(nproc) CPUs; $(uname -sr); $("$CHROMIUM" --version 2>/dev/null | head -1); load average: $(cut -d" " -f1-3 /proc/loadavg)"

# 0. the floor: a static page (the same stylesheet, one module that marks it ready) served by
#    Python's http.server, measured the same way: what any page costs in this browser here.
mkdir -p "$TMP/static/admin/assets" "$TMP/static/healthz"
cp "$ROOT/web/admin/admin.css" "$TMP/static/admin/assets/admin.css"
echo "<p>ok</p>" >"$TMP/static/healthz/index.html"
echo "document.body.dataset.ready = 'true';" >"$TMP/static/admin/assets/ready.js"
printf '%s\n' '<!doctype html><html lang="en"><head><meta charset="utf-8">' \
    '<link rel="stylesheet" href="/admin/assets/admin.css">' \
    '<script type="module" src="/admin/assets/ready.js"></script></head>' \
    '<body><main><h1>Static page</h1><p>The floor of this measurement.</p></main></body></html>' \
    >"$TMP/static/page.html"
PORT=$(free_port)
(cd "$TMP/static" && exec "$PY" -m http.server "$PORT" --bind 127.0.0.1 >"$TMP/static.log" 2>&1) &
SERVE_PID=$!
if wait_ready "$PORT"; then
    measure "static page (the floor)" "http://127.0.0.1:$PORT/page.html" static
else
    echo "bench: the static page server did not start"
fi
stop_server

# 1. demo data
PORT=$(free_port)
(cd "$TMP/demo" && DATABASE_URL="sqlite:///$TMP/demo/demo.db" exec "$TMP/bin/smplat" demo --port "$PORT" >"$TMP/demo/log" 2>&1) &
SERVE_PID=$!
if wait_ready "$PORT"; then
    measure "demo data (target < 500 ms, < 300 KB)" "http://127.0.0.1:$PORT/admin/fulfillment/providers"
else
    echo "bench: smplat demo did not start:"; tail -5 "$TMP/demo/log"
fi
stop_server

# 2. 200 providers, 20,000 provider orders
DB="$TMP/big/big.db"
if DATABASE_URL="sqlite:///$DB" "$TMP/bin/smplat" migrate >"$TMP/big/log" 2>&1 &&
    timeout 120 "$PY" "$HERE/ui_seed.py" "$DB" 200 20000 2>>"$TMP/big/log"; then
    PORT=$(free_port)
    (cd "$TMP/big" && DATABASE_URL="sqlite:///$DB" exec "$TMP/bin/smplat" serve --host 127.0.0.1 --port "$PORT" >>"$TMP/big/log" 2>&1) &
    SERVE_PID=$!
    if wait_ready "$PORT"; then
        measure "200 providers, 20,000 provider orders" "http://127.0.0.1:$PORT/admin/fulfillment/providers"
    else
        echo "bench: smplat serve did not start:"; tail -5 "$TMP/big/log"
    fi
    stop_server
else
    echo "bench: seeding failed:"; tail -5 "$TMP/big/log"
fi
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
exit 0
