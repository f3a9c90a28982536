#!/usr/bin/env bash
# Runs every test suite against a test build and ends with the line `N passed, M failed`.
#
#   scripts/test.sh BUILD_DIR [PYTEST_ARGS...]
#
# In order: the format check (one test), the layer check (one test), the Meson unit suite
# (one test per Meson test), the integration suite (pytest, one per test case). A suite that
# fails does not stop the others. Exit status 0 only when nothing failed.
#
# Environment: PY (default /usr/bin/python3), SMPLAT_MESON_SUITES (default "unit"; e.g.
# "unit fuzz"), SMPLAT_TEST_BACKENDS (see docs/TESTING.md). Extra arguments go to pytest
# (e.g. `-k selfcheck`, `-x`).
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [PYTEST_ARGS...]" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build=$1
shift
case $build in
/*) ;;
*) build=$root/$build ;;
esac
PY=${PY:-/usr/bin/python3}
suites=${SMPLAT_MESON_SUITES:-unit}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smplat-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM

passed=0
failed=0
failures=()

pass() { passed=$((passed + $1)); }
fail() {
    failed=$((failed + $1))
    failures+=("$2")
}
section() { printf '\n==== %s ====\n' "$1"; }

# --- (a) format ------------------------------------------------------------------------------
section "format (clang-format --dry-run --Werror)"
if command -v clang-format >/dev/null 2>&1; then
    mapfile -d '' files < <(find src tests bench -name '*.[ch]' -print0 2>/dev/null | sort -z)
    if [ ${#files[@]} -eq 0 ]; then
        echo "format: no C files"
        pass 1
    elif clang-format --dry-run --Werror "${files[@]}" >"$tmp/format.out" 2>&1; then
        echo "format: ok (${#files[@]} files)"
        pass 1
    else
        head -n 30 "$tmp/format.out"
        n=$(grep -c 'error:' "$tmp/format.out" || true)
        bad=$(grep -o '^[^: ]*:[0-9]*:[0-9]*: error' "$tmp/format.out" | cut -d: -f1 | sort -u | tr '\n' ' ')
        echo "format: FAILED ($n places in: $bad; run 'make format')"
        fail 1 "format"
    fi
else
    echo "format: skipped (clang-format not installed)"
fi

# --- (b) layers ------------------------------------------------------------------------------
section "layers (scripts/check-layers.sh)"
if bash scripts/check-layers.sh; then
    pass 1
else
    echo "layers: FAILED"
    fail 1 "layers"
fi

# --- (c) unit suite --------------------------------------------------------------------------
# meson's summary: "Ok: N", "Expected Fail: N", "Fail: N", "Unexpected Pass: N",
# "Skipped: N", "Timeout: N". No summary at all (no build dir, a failed rebuild) is one failure.
summary_field() { # FILE NAME
    sed -n "s/^$2:[[:space:]]*\([0-9][0-9]*\).*/\1/p" "$1" | tail -n 1
}
for suite in $suites; do
    section "meson test --suite $suite"
    if [ ! -f "$build/meson-private/build.dat" ]; then
        echo "$suite: FAILED: $build is not a Meson build directory (run 'make test' to create it)"
        fail 1 "meson suite $suite (no build directory)"
        continue
    fi
    meson test -C "$build" --suite "$suite" --print-errorlogs 2>&1 | tee "$tmp/meson-$suite.out"
    rc=${PIPESTATUS[0]}
    ok=$(summary_field "$tmp/meson-$suite.out" "Ok")
    if [ -z "$ok" ]; then
        if [ "$rc" -eq 0 ] && grep -q "No suitable tests defined" "$tmp/meson-$suite.out"; then
            echo "$suite: no tests defined (0 counted)"
        else
            echo "$suite: FAILED: meson test exited $rc without a summary"
            fail 1 "meson suite $suite (exit $rc, no summary)"
        fi
        continue
    fi
    xfail=$(summary_field "$tmp/meson-$suite.out" "Expected Fail")
    bad=$(summary_field "$tmp/meson-$suite.out" "Fail")
    upass=$(summary_field "$tmp/meson-$suite.out" "Unexpected Pass")
    tout=$(summary_field "$tmp/meson-$suite.out" "Timeout")
    skip=$(summary_field "$tmp/meson-$suite.out" "Skipped")
    p=$((ok + ${xfail:-0}))
    f=$((${bad:-0} + ${upass:-0} + ${tout:-0}))
    if [ "$f" -eq 0 ] && [ "$rc" -ne 0 ]; then
        f=1 # meson failed for a reason its summary does not show
    fi
    pass "$p"
    [ "$f" -gt 0 ] && fail "$f" "meson suite $suite ($f)"
    echo "$suite: $p passed, $f failed, ${skip:-0} skipped"
done

# --- (d) integration suite -------------------------------------------------------------------
section "integration (pytest tests/integration)"
export BUILD_DIR=$build
export SMPLAT_BIN_DIR=$build/bin
export PYTHONDONTWRITEBYTECODE=1
junit=$tmp/junit.xml
"$PY" -m pytest tests/integration -q -p no:cacheprovider --continue-on-collection-errors \
    --junitxml="$junit" "$@"
rc=$?
counts=$("$PY" - "$junit" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("none")
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0))
    f += int(su.get("failures", 0))
    e += int(su.get("errors", 0))
    s += int(su.get("skipped", 0))
print(max(t - f - e - s, 0), f, e, s)
EOF
)
if [ "$counts" = "none" ]; then
    if [ "$rc" -eq 5 ]; then
        echo "integration: no tests collected (0 counted)"
    else
        echo "integration: FAILED: pytest exited $rc without a report"
        fail 1 "integration (pytest exit $rc)"
    fi
else
    read -r p f e s <<<"$counts"
    n=$((f + e))
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ "$n" -eq 0 ]; then
        n=1 # interrupted, internal or usage error: pytest failed without failing a test
        failures+=("integration (pytest exit $rc)")
    fi
    pass "$p"
    failed=$((failed + n))
    [ $((f + e)) -gt 0 ] && failures+=("integration ($f failed, $e errors)")
    echo "integration: $p passed, $f failed, $e errors, $s skipped"
fi

# --- summary ---------------------------------------------------------------------------------
echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failing: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
