#!/usr/bin/env bash
# The whole test suite from a fresh clone: bootstrap (dependencies, bundles, Docker engine, base
# image), lint, type-check, then every test under Node's own runner (scripts/test.sh also
# provides the Pulumi CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/lint.sh
npm run --silent typecheck
exec bash scripts/test.sh
