#!/usr/bin/env bash
# Celery worker benchmark: `bench/celery_bench.sh [BUILD_DIR]` (default build).
#
# Starts its own redis-server on a free loopback port in a temporary directory and runs
# bench/celery_bench.py: 20,000 tasks (CELERY_BENCH_TASKS) through our `smplat worker` and
# through Python Celery workers (solo, then prefork -c 2) on the same Redis, for the no-op
# `smplat.ping` and for run_replay_batch on an empty backlog; prints tasks/s, the ratios and
# p50/p99 publish-to-done delays. Bounded (each phase at most CELERY_BENCH_PHASE_SECONDS=45,
# the whole run at most 450 s), cleans up, and always exits 0.
set -u
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
TMP=$(mktemp -d /tmp/smplat-celery-bench.XXXXXX)
REDIS_PID=""
DRIVER_PID=""
cleanup() {
    trap - EXIT INT TERM
    [ -n "$DRIVER_PID" ] && kill -TERM -- -"$DRIVER_PID" 2>/dev/null
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
echo "== celery worker benchmark"
if [ ! -x "$BUILD/bin/smplat" ] || ! /usr/bin/python3 -c 'import celery, redis' 2>/dev/null \
    || ! command -v redis-server >/dev/null; then
    echo "skipped: needs $BUILD/bin/smplat, redis-server and python3-celery/python3-redis"
    exit 0
fi
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
    --loglevel warning >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
setsid /usr/bin/python3 "$HERE/celery_bench.py" "$BUILD/bin" "$TMP" "$PORT" &
DRIVER_PID=$!
( sleep "${CELERY_BENCH_BUDGET_SECONDS:-450}"; kill -TERM -- -"$DRIVER_PID" 2>/dev/null ) &
WATCHDOG=$!
wait "$DRIVER_PID" 2>/dev/null
kill "$WATCHDOG" 2>/dev/null
exit 0
