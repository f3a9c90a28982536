#!/usr/bin/env bash
# Alert benchmark: `bench/alerts_bench.sh BUILD_DIR` (default build).
#
# Seeds 500,000 orders with one item each (selected_options with a preset, an option and an
# add-on) and 1,000,000 provider orders (two per item, 20 providers, spread over 120 days) into
# a SQLite database and into a PostgreSQL server of its own, then measures on each backend:
#   - one alert pass (`provider-alerts`: snapshot, guardrail and load alerts, records),
#   - one GET /api/v1/reporting/blueprint-metrics request against `smplat serve`,
#   - the bare aggregate SQL: the preset/provider/service GROUP BY over the 90-day window,
# and prints each time with its ratio to the bare query (target <= 2x). Every step has a
# timeout, the total stays under 8 minutes, temporary files and servers are removed, and the
# exit status is always 0.
set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/bin"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
PG_BIN=/usr/lib/postgresql/15/bin
ORDERS=${ALERTS_BENCH_ORDERS:-500000}
END=$((SECONDS + ${ALERTS_BENCH_BUDGET_SECONDS:-450}))   # the whole run stays under 8 minutes

TMP=""
PGDIR=""
PG_STARTED=""
SERVE_PID=""

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    trap - EXIT INT TERM
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null
        wait "$SERVE_PID" 2>/dev/null
    fi
    if [ -n "$PG_STARTED" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
    fi
    [ -n "$PGDIR" ] && rm -rf "$PGDIR"
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit 0
}
trap cleanup EXIT
trap 'echo "alerts bench: interrupted"; cleanup' INT TERM

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A step's timeout: want seconds, or what is left of the budget (at least 1).
cap() {
    local left=$((END - SECONDS))
    [ "$left" -lt 1 ] && left=1
    [ "$1" -lt "$left" ] && echo "$1" || echo "$left"
}

now_s() { "$PY" -c 'import time; print(f"{time.time():.6f}")'; }
elapsed() { "$PY" -c "print(f'{$2 - $1:.3f}')"; }
ratio() { "$PY" -c "print(f'{$1 / $2:.2f}' if $2 > 0 else 'n/a')"; }

echo "== alerts benchmark (build: $BUILD) =="
if [ ! -x "$BIN/smplat" ]; then
    echo "alerts bench: $BIN/smplat not found; build first (make build). Nothing measured."
    exit 0
fi
TMP=$(mktemp -d /tmp/smplat-alerts-bench.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/bin" "$TMP/work"
cp "$(readlink -f "$BIN/smplat")" "$TMP/bin/smplat"
ln -s smplat "$TMP/bin/provider-alerts"

# Seed SQL: portable enough for both backends through small differences.
SEED_SQLITE="
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;
BEGIN;
INSERT INTO fulfillment_providers (id, name, status)
  WITH RECURSIVE p(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM p WHERE i < 19)
  SELECT 'prov-' || i, 'Provider ' || i, 'active' FROM p;
CREATE TEMP TABLE n AS WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $ORDERS) SELECT i, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || ((i * 7919) % 10368000) || ' seconds') AS t FROM s;
INSERT INTO orders (id, order_number, created_at, updated_at)
  SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'B' || i, t, t FROM n;
INSERT INTO order_items (id, order_id, total_price, selected_options, created_at, updated_at)
  SELECT printf('%08x-0001-4000-8000-%012x', i, i), printf('%08x-0000-4000-8000-%012x', i, i), 100,
         '{\"presetId\": \"preset-' || (i % 50) || '\", \"presetLabel\": \"Preset ' || (i % 50) || '\", \"options\": [{\"groupId\": \"g\", \"groupName\": \"G\", \"optionId\": \"o' || (i % 5) || '\", \"label\": \"O\", \"priceDelta\": 5}], \"addOns\": [{\"id\": \"a' || (i % 3) || '\", \"label\": \"A\", \"priceDelta\": 1.5}]}',
         t, t FROM n;
INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, provider_name, service_id, service_action, amount, currency, payload, created_at, updated_at)
  SELECT printf('%08x-%04x-4000-8000-%012x', i, 2 + k, i), printf('%08x-0000-4000-8000-%012x', i, i), printf('%08x-0001-4000-8000-%012x', i, i),
         'prov-' || ((i * (k + 1)) % 20), 'Provider ' || ((i * (k + 1)) % 20), 'svc-' || k, 'qa_support', 50, 'USD', '{}', t, t
  FROM n, (SELECT 0 AS k UNION ALL SELECT 1);
COMMIT;
ANALYZE;
"
SEED_PG="
INSERT INTO fulfillment_providers (id, name, status)
  SELECT 'prov-' || i, 'Provider ' || i, 'active' FROM generate_series(0, 19) i;
CREATE TEMP TABLE n AS SELECT i, now() - ((i::bigint * 7919) % 10368000) * interval '1 second' AS t FROM generate_series(1, $ORDERS) i;
INSERT INTO orders (id, order_number, created_at, updated_at)
  SELECT (lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'B' || i, t, t FROM n;
INSERT INTO order_items (id, order_id, total_price, selected_options, created_at, updated_at)
  SELECT (lpad(to_hex(i), 8, '0') || '-0001-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
         (lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 100,
         ('{\"presetId\": \"preset-' || (i % 50) || '\", \"presetLabel\": \"Preset ' || (i % 50) || '\", \"options\": [{\"groupId\": \"g\", \"groupName\": \"G\", \"optionId\": \"o' || (i % 5) || '\", \"label\": \"O\", \"priceDelta\": 5}], \"addOns\": [{\"id\": \"a' || (i % 3) || '\", \"label\": \"A\", \"priceDelta\": 1.5}]}')::json,
         t, t FROM n;
INSERT INTO fulfillment_provider_orders (id, order_id, order_item_id, provider_id, provider_name, service_id, service_action, amount, currency, payload, created_at, updated_at)
  SELECT (lpad(to_hex(i), 8, '0') || '-' || lpad(to_hex(2 + k), 4, '0') || '-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
         (lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
         (lpad(to_hex(i), 8, '0') || '-0001-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
         'prov-' || ((i * (k + 1)) % 20), 'Provider ' || ((i * (k + 1)) % 20), 'svc-' || k, 'qa_support', 50, 'USD', '{}', t, t
  FROM n, generate_series(0, 1) k;
ANALYZE;
"
# The bare aggregate: what the load alerts need, one window, written by hand.
BARE_SQLITE="SELECT json_extract(oi.selected_options, '\$.presetId') AS p, f.provider_id, f.service_id, COUNT(*), TOTAL(f.amount) FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN fulfillment_provider_orders f ON f.order_item_id = oi.id WHERE o.created_at >= strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-90 days') GROUP BY p, f.provider_id, f.service_id"
BARE_PG="SELECT oi.selected_options->>'presetId' AS p, f.provider_id, f.service_id, COUNT(*), SUM(f.amount) FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN fulfillment_provider_orders f ON f.order_item_id = oi.id WHERE o.created_at >= now() - interval '90 days' GROUP BY p, f.provider_id, f.service_id"

# measure LABEL URL: seeds, then times the bare query, the pass and the request.
measure() {
    local label=$1 url=$2 t0 t1 bare pass req port
    echo "-- $label: seeding $ORDERS orders, $ORDERS items, $((ORDERS * 2)) provider orders"
    (cd "$TMP/work" && DATABASE_URL=$url timeout "$(cap 60)" "$TMP/bin/smplat" migrate >/dev/null 2>&1) ||
        { echo "   migrate failed; skipped"; return; }
    t0=$(now_s)
    if [ "$label" = sqlite ]; then
        timeout "$(cap 240)" "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2])' \
            "${url#sqlite:///}" "$SEED_SQLITE" || { echo "   seeding failed or timed out; skipped"; return; }
    else
        timeout "$(cap 200)" psql -q -v ON_ERROR_STOP=1 "$url" -c "$SEED_PG" >/dev/null ||
            { echo "   seeding failed or timed out; skipped"; return; }
    fi
    echo "   seeded in $(elapsed "$t0" "$(now_s)") s"
    # Bare query, first: it also warms the cache for the measurements after it.
    bare=""
    for _ in 1; do
        t0=$(now_s)
        if [ "$label" = sqlite ]; then
            timeout "$(cap 150)" "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]).fetchall()' \
                "${url#sqlite:///}" "$BARE_SQLITE" || { echo "   bare query failed"; return; }
        else
            timeout "$(cap 150)" psql -q "$url" -c "$BARE_PG" >/dev/null || { echo "   bare query failed"; return; }
        fi
        t1=$(elapsed "$t0" "$(now_s)")
        if [ -z "$bare" ] || "$PY" -c "import sys; sys.exit(0 if $t1 < $bare else 1)"; then bare=$t1; fi
    done
    t0=$(now_s)
    (cd "$TMP/work" && DATABASE_URL=$url PROVIDER_LOAD_ALERT_ENABLED=true timeout "$(cap 120)" \
        "$TMP/bin/provider-alerts" >"$TMP/pass.json" 2>"$TMP/pass.log") ||
        { echo "   provider-alerts failed:"; tail -3 "$TMP/pass.log"; return; }
    pass=$(elapsed "$t0" "$(now_s)")
    port=$(free_port)
    (cd "$TMP/work" && DATABASE_URL=$url exec "$TMP/bin/smplat" serve --port "$port" >"$TMP/serve.log" 2>&1) &
    SERVE_PID=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    t0=$(now_s)
    if curl -fs -m "$(cap 120)" -o "$TMP/bp.json" "http://127.0.0.1:$port/api/v1/reporting/blueprint-metrics?window_days=90"; then
        req=$(elapsed "$t0" "$(now_s)")
    else
        req=""
    fi
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
    SERVE_PID=""
    printf '   bare aggregate SQL (90-day window)  %8.3f s\n' "$bare"
    printf '   alert pass (provider-alerts)        %8.3f s   ratio %s x (target <= 2)\n' "$pass" "$(ratio "$pass" "$bare")"
    if [ -n "$req" ]; then
        printf '   blueprint-metrics request           %8.3f s   ratio %s x (target <= 2)\n' "$req" "$(ratio "$req" "$bare")"
    else
        echo "   blueprint-metrics request failed or timed out"
    fi
    "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print("   pass: alerts %d, load alerts %d" % (s["alerts"], s["loadAlerts"]))' "$TMP/pass.json" 2>/dev/null
}

measure sqlite "sqlite:///$TMP/work/bench.db"
rm -f "$TMP/work/bench.db"*

if [ -x "$PG_BIN/initdb" ] && command -v psql >/dev/null; then
    PGDIR=$(mktemp -d /tmp/smplat-alerts-bench-pg.XXXXXX)
    chmod 755 "$PGDIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
    PG_PORT=$(free_port)
    if as_postgres "$PG_BIN/initdb" -D "$PGDIR/data" -A trust -U postgres >"$PGDIR/initdb.log" 2>&1 &&
        as_postgres "$PG_BIN/pg_ctl" -D "$PGDIR/data" \
            -o "-p $PG_PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            -l "$PGDIR/log" -w -t 60 start >/dev/null 2>&1; then
        PG_STARTED=1
        measure postgresql "postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
    else
        echo "alerts bench: PostgreSQL did not start; PostgreSQL figures skipped"
    fi
else
    echo "alerts bench: PostgreSQL 15 server or psql missing; PostgreSQL figures skipped"
fi
echo "machine: $(nproc) CPUs; load average: $(cut -d" " -f1-3 /proc/loadavg)"
