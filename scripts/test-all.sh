#!/usr/bin/env bash
# The whole test suite from a fresh clone: bootstrap (dependencies, bundles, Docker engine, base
# image), lint, type-check, the unit and service tests on Node.js 24 LTS, then every test under
# Node's own runner on the machine's Node (scripts/test.sh also provides the Pulumi CLI).
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
# The unit and service tests once more on Node.js 24 LTS (scripts/lib/node-lts.sh, docs/nodejs.md),
# unless the machine's Node is a 24 already. Its closing line is prefixed `node24:`, so the whole
# suite's line below stays the last; a failure here fails the run, after the whole suite has run.
node24_rc=0
if [[ "$(node --version)" == v24.* ]]; then
  echo "test-all: node is $(node --version) already: no separate Node 24 phase" >&2
else
  node24_bin=$(bash scripts/lib/node-lts.sh)
  PATH="$(dirname "$node24_bin"):$PATH" bash scripts/test.sh --unit |
    sed -u -E 's/^([0-9]+ passed, [0-9]+ failed, [0-9]+ skipped)$/node24: \1/' || node24_rc=$?
fi
rc=0
bash scripts/test.sh || rc=$?
if [ "$node24_rc" != 0 ]; then
  echo "test-all: the unit and service tests failed on Node 24 (the node24: line above)" >&2
  [ "$rc" != 0 ] || rc=$node24_rc
fi
exit "$rc"
