#!/usr/bin/env bash
# Deploys a stack (default dev) from a fresh clone: bootstrap, select or create the stack on the
# local backend, `pulumi up`. Usage: scripts/up.sh [stack] [extra pulumi up flags]
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift || true
bash scripts/bootstrap.sh
# Stops here, before any stack is touched, naming each plugin that is missing and how to add it.
bash scripts/toolchain/ensure.sh >/dev/null
bash scripts/pulumi.sh stack select --create "$stack" >&2
# --refresh: a container removed or stopped outside Pulumi is noticed and restored (and the smoke
# test reruns); with nothing changed, the update still reports no changes.
exec bash scripts/pulumi.sh up --stack "$stack" --yes --skip-preview --refresh "$@"
