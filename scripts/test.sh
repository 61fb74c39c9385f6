#!/usr/bin/env bash
# The whole test suite: unit tests, service tests over loopback HTTP, the images and real
# previews (two files at a time), then the end-to-end lifecycle tests one file at a time, since
# each compares the whole Docker engine before and after. Ends with one line for both phases:
# `N passed, N failed, N skipped`. Usage: scripts/test.sh [--unit] (--unit: no Docker, no Pulumi, no fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."

unit_only=0
[ "${1:-}" = "--unit" ] && unit_only=1

if [ "$unit_only" = 0 ]; then
  # The real-CLI tests need the pinned Pulumi CLI and language host (built once, then cached).
  # The resource plugins are not required here: tests that need them say so when missing.
  # Assigned first so that a failure stops the script (a failing eval "$(...)" would not).
  toolchain_env="$(bash tools/offline/toolchain.sh --skip-plugins --env)"
  eval "$toolchain_env"
  mapfile -t fast < <(find test services/*/test -name '*.test.ts' -not -path 'test/e2e/*' 2>/dev/null | sort)
  mapfile -t e2e < <(find test/e2e -name '*.test.ts' 2>/dev/null | sort)
else
  # The edit-test loop: everything but the seeded fuzz runs, which the whole suite still has.
  mapfile -t fast < <(find test/unit services/*/test -name '*.test.ts' -not -name 'fuzz.test.ts' 2>/dev/null | sort)
  e2e=()
fi
if [ "${#fast[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi

tap_dir="$(mktemp -d)"
trap 'rm -rf "$tap_dir"' EXIT
# run_phase NAME CONCURRENCY FILES...: spec output on stdout, TAP kept for the closing line.
run_phase() {
  local name=$1 concurrency=$2
  shift 2
  node --import tsx --test --test-concurrency="$concurrency" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap_dir/$name.tap" "$@"
}

rc=0
# Many unit and service tests mostly wait (timeouts, child processes), so the unit loop runs
# more files than cores; the whole suite keeps two, beside the real CLI and engine.
fast_concurrency=2
[ "$unit_only" = 1 ] && fast_concurrency=4
run_phase fast "$fast_concurrency" "${fast[@]}" || rc=$?
if [ "${#e2e[@]}" -gt 0 ]; then run_phase e2e 1 "${e2e[@]}" || rc=$?; fi

# Node's closing counts of each phase (`# pass N` ...), added up; cancelled tests count as failed.
awk '/^# pass /{p+=$3} /^# fail /{f+=$3} /^# cancelled /{f+=$3} /^# skipped /{s+=$3}
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$tap_dir"/*.tap
exit "$rc"
