#!/usr/bin/env bash
# Destroys a stack (default dev): its containers, network, volumes and built images, except what
# the stack keeps (the `keptOnDestroy` output). Usage: scripts/down.sh [stack]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pulumi-env.sh
# shellcheck disable=SC2119 # called without arguments on purpose: the plugins are required here
pulumi_env
exec pulumi destroy --stack "${1:-dev}" --yes --skip-preview --non-interactive
