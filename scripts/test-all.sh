#!/usr/bin/env bash
# The whole test suite from a fresh clone: bootstrap (dependencies, Docker engine, images, the
# Pulumi toolchain), type-check, then every test under Node's own runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
eval "$(bash scripts/toolchain/ensure.sh --env)"
npm run --silent typecheck
exec bash scripts/test.sh
