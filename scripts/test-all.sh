#!/usr/bin/env bash
# The whole test suite from a fresh clone: bootstrap (dependencies, bundles, Docker engine, base
# image), lint, type-check, then every test under Node's own runner (scripts/test.sh also
# provides the Pulumi CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The Kubernetes tests' plugin, built from its Go module when missing (once); where it cannot be
# had, those tests say so and are counted as skipped.
bash tools/offline/kubernetes-provider.sh >/dev/null || echo "test-all: no kubernetes plugin: the Kubernetes tests will be skipped" >&2
# And the local cluster's binaries (once), so no test waits for their build.
bash tools/offline/kubernetes-binaries.sh >/dev/null || echo "test-all: no Kubernetes binaries: the local cluster's tests will be skipped" >&2
bash scripts/lint.sh
npm run --silent typecheck
exec bash scripts/test.sh
