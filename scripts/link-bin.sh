#!/usr/bin/env bash
# Puts the executables where the README promises them: <build>/bin/smplat, and
# provider-replay / provider-alerts as links to it (dispatched by program name).
set -eu
b=${1:-build}
mkdir -p "$b/bin"
ln -sf ../src/cmd/smplat "$b/bin/smplat"
ln -sf smplat "$b/bin/provider-replay"
ln -sf smplat "$b/bin/provider-alerts"
