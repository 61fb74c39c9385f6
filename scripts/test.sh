#!/usr/bin/env bash
# The whole test suite: unit tests, service tests over loopback HTTP, and real previews.
# Each *.test.ts file runs in its own process under Node's built-in test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
# The real-CLI tests need the pinned Pulumi CLI and language host (built once, then cached). The
# resource plugins are not required here: tests that need them say so when they are missing.
# Assigned first so that a failure stops the script (a failing eval "$(...)" would not).
toolchain_env="$(bash scripts/toolchain/ensure.sh --skip-plugins --env)"
eval "$toolchain_env"
mapfile -t files < <(find test services/*/test -name '*.test.ts' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
