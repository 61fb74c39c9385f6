#!/usr/bin/env bash
# Destroys a stack (default dev): every container, network and volume it created, except a model
# cache the stack keeps (cache.keepOnDestroy). Usage: scripts/down.sh [stack]
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/pulumi.sh destroy --stack "${1:-dev}" --yes
