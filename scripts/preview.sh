#!/usr/bin/env bash
# Previews a stack (default dev) with the policy pack, as CI does on every pull request: bootstrap,
# select or create the stack, `pulumi preview`. Usage: scripts/preview.sh [stack] [extra flags]
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift || true
source scripts/lib/pulumi-env.sh
pulumi_stack "$stack"
mapfile -t policy < <(bash scripts/lib/policy-flags.sh "$stack")
exec pulumi preview --stack "$stack" --non-interactive "${policy[@]}" "$@"
