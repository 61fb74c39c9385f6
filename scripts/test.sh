#!/usr/bin/env bash
# The whole test suite: unit tests, service tests over loopback HTTP, and real previews.
# Each *.test.ts file runs in its own process under Node's built-in test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find test services/*/test -name '*.test.ts' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
