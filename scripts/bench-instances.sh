#!/usr/bin/env bash
# `npm run bench:instances [-- --rounds R] [--sizes 1,4,8] [--json FILE]`: the instances
# benchmark (scripts/bench-instances/main.ts) with the Pulumi CLI the wrappers use on PATH and the
# pinned plugins checked (tools/offline/toolchain.sh; exit status 3 naming any that is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund >&2
# Assigned first so that a failure stops here (a failing eval "$(...)" would not).
toolchain_env="$(bash tools/offline/toolchain.sh --env)"
eval "$toolchain_env"
exec node --import tsx scripts/bench-instances/main.ts "$@"
