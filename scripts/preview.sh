#!/usr/bin/env bash
# Previews a stack with the policy pack, as CI does on every pull request:
# `npm run preview -- [STACK] [PULUMI PREVIEW FLAGS...]` (STACK: default dev; flags start with -, a
# value as --flag=value; anything else is refused, exit status 2). As up.sh: the CLI and the pinned
# plugins (exit status 3 naming what is missing, before anything is touched), the stack (created on
# first use), its Docker engine, bootstrap, then `pulumi preview --stack STACK`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pulumi-env.sh
wrapper_args preview "$@"
pulumi_env
engine_env_for_stack "$STACK" --create
bash scripts/bootstrap.sh
mapfile -t policy < <(bash scripts/lib/policy-flags.sh "$STACK")
run_last pulumi preview --stack "$STACK" --non-interactive "${policy[@]}" "${FLAGS[@]}"
