#!/usr/bin/env bash
# Replay benchmark: `bench/run.sh BUILD_DIR` (what `make bench` runs as `bench/run.sh build`).
#
# Starts its own nginx (the "provider") and PostgreSQL server on free loopback ports in a
# temporary directory, runs bench/replay_bench.py against SQLite and then PostgreSQL, prints the
# figures next to their targets, stops what it started and removes its temporary directories.
# It never fails the build: the exit status is always 0. See bench/README.md.
set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/bin"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
PG_BIN=/usr/lib/postgresql/15/bin
TOTAL_BUDGET=${BENCH_BUDGET_SECONDS:-540}   # seconds for the measurements (driver's budget)

TMP=""
PGDIR=""
NGINX_PID=""
PG_STARTED=""
DRIVER_PID=""

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    trap - EXIT INT TERM
    if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
        kill -TERM "$DRIVER_PID" 2>/dev/null
        wait "$DRIVER_PID" 2>/dev/null
    fi
    if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    fi
    if [ -n "$PG_STARTED" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
    fi
    [ -n "$PGDIR" ] && rm -rf "$PGDIR"
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit 0
}
trap cleanup EXIT
trap 'echo "bench: interrupted"; cleanup' INT TERM

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

echo "== replay benchmark (build: $BUILD) =="
if [ ! -x "$BIN/provider-replay" ] || [ ! -x "$BIN/smplat" ]; then
    echo "bench: $BIN/provider-replay not found; build first (make build). Nothing measured."
    exit 0
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
    echo "bench: nginx not installed (Debian nginx-light). Nothing measured."
    exit 0
fi

TMP=$(mktemp -d /tmp/smplat-bench.XXXXXX)
chmod 755 "$TMP"
# A private copy of the binary: a rebuild of the tree during the run must not swap it under us.
mkdir -p "$TMP/bin"
cp "$(readlink -f "$BIN/smplat")" "$TMP/bin/smplat"
ln -s smplat "$TMP/bin/provider-replay"

# --- nginx: the provider -------------------------------------------------------------------
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    log_format tiny '\$request_method \$status';
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        access_log $TMP/nginx/access.log tiny buffer=64k flush=100ms;
        location / {
            default_type application/json;
            return 200 '{"order":"1","status":"ok"}';
        }
    }
}
EOF
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" \
    >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
ok=""
for _ in $(seq 50); do
    if "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', $NGINX_PORT), 0.2)" 2>/dev/null; then
        ok=1; break
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$ok" ]; then
    echo "bench: nginx did not start:"; cat "$TMP/nginx/stdout.log" "$TMP/nginx/error.log" 2>/dev/null
    exit 0
fi
echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$NGINX_PORT (1 worker, keepalive_requests 1000000)"

# --- PostgreSQL ------------------------------------------------------------------------------
PG_ADMIN_URL=""
if [ -x "$PG_BIN/initdb" ] && [ -x /usr/bin/psql ]; then
    PGDIR=$(mktemp -d /tmp/smplat-bench-pg.XXXXXX)
    chmod 755 "$PGDIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
    PG_PORT=$(free_port)
    if as_postgres "$PG_BIN/initdb" -D "$PGDIR/data" -A trust -U postgres >"$PGDIR/initdb.log" 2>&1 &&
        as_postgres "$PG_BIN/pg_ctl" -D "$PGDIR/data" \
            -o "-p $PG_PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            -l "$PGDIR/log" -w -t 60 start >/dev/null 2>&1; then
        PG_STARTED=1
        PG_ADMIN_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
        echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (fsync=off, synchronous_commit=off)"
    else
        echo "bench: PostgreSQL did not start (PostgreSQL figures skipped):"
        tail -5 "$PGDIR/initdb.log" "$PGDIR/log" 2>/dev/null
    fi
else
    echo "bench: PostgreSQL 15 server or psql missing: PostgreSQL figures skipped"
fi
echo "machine: $(nproc) CPUs; $(uname -sr); load average before: $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

# --- measurements ----------------------------------------------------------------------------
args=(--bin "$TMP/bin" --workdir "$TMP" --order-url "http://127.0.0.1:$NGINX_PORT/order"
      --nginx-log "$TMP/nginx/access.log" --budget "$TOTAL_BUDGET")
[ -n "$PG_ADMIN_URL" ] && args+=(--pg-admin-url "$PG_ADMIN_URL")
# Hard bound on top of the driver's own budget; timeout signals the driver's process group.
timeout -k 10 $((TOTAL_BUDGET + 60)) "$PY" "$HERE/replay_bench.py" "${args[@]}" &
DRIVER_PID=$!
wait "$DRIVER_PID"
rc=$?
DRIVER_PID=""
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "bench: the driver ran out of time and was stopped (figures above are partial)"
elif [ "$rc" != 0 ]; then
    echo "bench: the driver exited with status $rc (figures above may be partial)"
fi
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
if [ -s "$TMP/nginx/error.log" ] && grep -qv '\[notice\]' "$TMP/nginx/error.log"; then
    echo "nginx error log:"; grep -v '\[notice\]' "$TMP/nginx/error.log" | tail -5
fi
echo
"$HERE/http_bench.sh" "$BUILD"
echo
"$HERE/ui_bench.sh" "$BUILD"
echo
"$HERE/celery_bench.sh" "$BUILD"
echo
"$HERE/alerts_bench.sh" "$BUILD"
exit 0
