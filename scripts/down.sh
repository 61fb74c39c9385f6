#!/usr/bin/env bash
# Destroys one stack: `npm run down -- [STACK] [PULUMI DESTROY FLAGS...]` (STACK: default dev; flags
# start with -, a value as --flag=value; anything else is refused, exit status 2). Removes its
# containers, network, volumes and built images, except what the stack keeps (the `keptOnDestroy`
# output), on the stack's own Docker engine (scripts/lib/engine-env.sh), and never touches another
# stack: `pulumi destroy --stack STACK --yes --skip-preview --non-interactive [FLAGS]`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pulumi-env.sh
wrapper_args down "$@"
pulumi_env
engine_env_for_stack "$STACK"
run_last pulumi destroy --stack "$STACK" --yes --skip-preview --non-interactive "${FLAGS[@]}"
