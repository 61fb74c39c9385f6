#!/usr/bin/env bash
# `npm run -s instance -- <command> ...`: instances for a control plane, one stack each, in the
# instances' own backend (see docs/instances.md). Finds the Pulumi CLI as the other wrappers do
# (tools/offline/toolchain.sh: the user's on PATH when it is at least the pinned version, else the
# cached offline build, else that build made from Go modules), then runs instances/cli.ts. The service bundles must exist (`npm run bootstrap` once): building them here
# would race between parallel creates.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund >&2
# Assigned first so that a failure stops here (a failing eval "$(...)" would not). The plugins are
# checked by the engine when a create needs them, naming any that is missing.
toolchain_env="$(bash tools/offline/toolchain.sh --skip-plugins --env)"
eval "$toolchain_env"
exec node --import tsx instances/cli.ts "$@"
