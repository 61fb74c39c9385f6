#!/usr/bin/env bash
# Previews a stack (default dev) with the policy pack, as CI does on every pull request: bootstrap,
# select or create the stack, `pulumi preview`. Usage: scripts/preview.sh [stack] [extra flags]
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift || true
bash scripts/bootstrap.sh
source scripts/lib/pulumi-env.sh
# shellcheck disable=SC2119 # called without arguments on purpose: the plugins are required here
pulumi_env
pulumi stack select --create "$stack" --non-interactive >&2
mapfile -t policy < <(bash scripts/lib/policy-flags.sh "$stack")
exec pulumi preview --stack "$stack" --non-interactive "${policy[@]}" "$@"
