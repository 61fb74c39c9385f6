#!/usr/bin/env bash
# Prints the smoke test's result of stack $1 as Markdown (CI appends it to the job summary): the
# stack's `smokeTestResult` output, or why there is none. Usage: scripts/smoke-summary.sh STACK
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:?usage: smoke-summary.sh STACK}"
source scripts/lib/pulumi-env.sh
pulumi_env --skip-plugins 2>/dev/null
fence='```'
echo "### Smoke test of stack \`$stack\`"
echo
if result="$(pulumi stack output smokeTestResult --stack "$stack" --non-interactive 2>&1)" && [ -n "$result" ]; then
  printf '%s\n%s\n%s\n' "$fence" "$result" "$fence"
else
  printf 'No result: the deploy did not reach the smoke test.\n\n%s\n%s\n%s\n' "$fence" "$result" "$fence"
fi
