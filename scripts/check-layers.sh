#!/usr/bin/env bash
# Checks the layer rule of docs/ARCHITECTURE.md by reading the #include lines under src/:
#
#   base < core < codec < adapters < app < cmd
#
# A file may include project headers of its own layer and of the layers below it, and only the
# third-party headers its layer is allowed to see:
#
#   base      base only; no jansson, curl, sqlite3, libpq, hiredis, microhttpd
#   core      base, core; jansson allowed; no curl, sqlite3, libpq, hiredis, microhttpd
#   codec     base, core, codec; jansson allowed; no curl, sqlite3, libpq, hiredis, microhttpd
#   adapters  everything but app and cmd
#   app       everything but cmd
#   cmd       everything
#
# Project headers are named from src/ ("base/sb.h"); a name without a directory, or a relative
# one ("../core/x.h"), is resolved against the including file's directory.
# Usage: scripts/check-layers.sh [SRC_DIR]   (default: src next to this script's parent)
# Prints one line per violation and exits 1 when there is any, 0 otherwise.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-$root/src}
if [ ! -d "$src" ]; then
    echo "check-layers: no source directory $src" >&2
    exit 2
fi
src=$(cd "$src" && pwd)

layers="base core codec adapters app cmd"

# rank LAYER -> 0..5, or empty for a name that is not a layer
rank() {
    local i=0 l
    for l in $layers; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
}

# Third-party header patterns (extended regex on the name inside <>) a layer may not include.
io_libs='^(curl/.*|sqlite3\.h|libpq-fe\.h|libpq/.*|hiredis/.*|microhttpd\.h)$'
forbidden_system() {
    case $1 in
    base) echo "^(jansson\.h|jansson_config\.h)\$|$io_libs" ;;
    core | codec) echo "$io_libs" ;;
    *) echo '^$' ;;
    esac
}

# '#include "name"' or '#include <name>'; group 1 is the opening delimiter, group 2 the name.
include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*(["<])([^">]+)[">]'

violations=0
report() {
    echo "layer violation: $1" >&2
    violations=$((violations + 1))
}

while IFS= read -r -d '' file; do
    rel=${file#"$src"/}
    layer=${rel%%/*}
    own=$(rank "$layer")
    [ -n "$own" ] || continue # a file directly under src/ or in an unknown directory
    bad_sys=$(forbidden_system "$layer")
    dir=$(dirname "$file")
    lineno=0
    while IFS= read -r line; do
        lineno=$((lineno + 1))
        # Only preprocessor include lines; tolerate spaces around '#'.
        [[ $line =~ $include_re ]] || continue
        kind=${BASH_REMATCH[1]}
        name=${BASH_REMATCH[2]}
        if [ "$kind" = "<" ]; then
            if [[ $name =~ $bad_sys ]]; then
                report "$rel:$lineno: $layer may not include <$name>"
            fi
            continue
        fi
        # A quoted include: find the layer of the header it names.
        first=${name%%/*}
        if [ "$first" != "$name" ] && [ -n "$(rank "$first")" ]; then
            target=$first
        else
            resolved=$(realpath -m "$dir/$name")
            case $resolved in
            "$src"/*)
                trel=${resolved#"$src"/}
                target=${trel%%/*}
                ;;
            *) target= ;;
            esac
        fi
        [ -n "$target" ] || continue
        trank=$(rank "$target")
        [ -n "$trank" ] || continue
        if [ "$trank" -gt "$own" ]; then
            report "$rel:$lineno: $layer may not include \"$name\" (layer $target)"
        fi
        # Headers of jansson & co. reached through a quoted name are not expected; not checked.
    done <"$file"
done < <(find "$src" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

if [ "$violations" -gt 0 ]; then
    echo "check-layers: $violations violation(s)" >&2
    exit 1
fi
echo "check-layers: ok"
exit 0
