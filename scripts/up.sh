#!/usr/bin/env bash
# Deploys a stack from a fresh clone: `npm run up -- [STACK] [PULUMI UP FLAGS...]` (STACK: default
# dev; flags start with -, a value as --flag=value; anything else is refused, exit status 2).
# In order: the Pulumi CLI and the pinned plugins (a missing plugin stops here, exit status 3,
# before anything is touched), the stack in the user's backend (created on first use), its Docker
# engine (scripts/lib/engine-env.sh), bootstrap (npm dependencies, bundles, a Docker engine, the
# base image), then `pulumi up --stack STACK` with the policy pack, refreshing first only when the
# engine shows the stack's containers missing or stopped. See scripts/lib/pulumi-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pulumi-env.sh
wrapper_args up "$@"
pulumi_env
engine_env_for_stack "$STACK" --create
bash scripts/bootstrap.sh

# Refreshes only when a container or the network of the stack is missing or stopped.
mapfile -t refresh < <(bash scripts/lib/refresh-flag.sh "$STACK")
# The policy pack (see policy/) runs in up's preview, over every resource before anything changes:
# with --skip-preview a violation would stop the update only at the offending resource, after the
# ones before it were created.
mapfile -t policy < <(bash scripts/lib/policy-flags.sh "$STACK")
run_last pulumi up --stack "$STACK" --yes --non-interactive "${refresh[@]}" "${policy[@]}" "${FLAGS[@]}"
