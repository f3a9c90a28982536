#!/usr/bin/env bash
# Installs the Debian packages the build, the service and the tests need, when missing.
# Uses sudo when not root. Quiet when everything is already there.
set -eu
pkgs=(
  build-essential meson ninja-build pkg-config clang-format
  libsqlite3-dev libpq-dev libcurl4-openssl-dev libjansson-dev libhiredis-dev libmicrohttpd-dev
  libcmocka-dev
  postgresql redis-server nginx-light wrk
  python3 python3-pytest python3-redis python3-celery
  chromium nodejs
)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# The browser tests (tests/ui) need npm; some nodejs builds ship it, Debian's does not.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian starts the services it installs; the project starts its own on private ports.
for svc in redis-server nginx postgresql; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
