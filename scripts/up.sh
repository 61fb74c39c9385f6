#!/usr/bin/env bash
# Deploys a stack (default dev) from a fresh clone: bootstrap, select or create the stack on the
# local backend, `pulumi up`. Usage: scripts/up.sh [stack] [extra pulumi up flags]
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift || true
source scripts/lib/pulumi-env.sh
pulumi_stack "$stack"

# Refreshes only when a container or the network of the stack is missing or stopped.
mapfile -t refresh < <(bash scripts/lib/refresh-flag.sh "$stack")
# The policy pack (see policy/) runs in up's preview, over every resource before anything changes:
# with --skip-preview a violation would stop the update only at the offending resource, after the
# ones before it were created.
mapfile -t policy < <(bash scripts/lib/policy-flags.sh "$stack")
exec pulumi up --stack "$stack" --yes --non-interactive "${refresh[@]}" "${policy[@]}" "$@"
