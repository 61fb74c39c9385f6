#!/usr/bin/env bash
# `npm run lint`: ESLint and Prettier (check only; `npx prettier --write .` fixes) on the
# TypeScript, shellcheck on the shell scripts, actionlint on the workflows, zero warnings
# allowed. Installs shellcheck from Debian's packages when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund >&2
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "lint: installing shellcheck (Debian package)" >&2
    apt-get install -y -qq shellcheck >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq shellcheck; } >&2
  else
    echo "lint: shellcheck is not installed (Debian: apt-get install shellcheck)" >&2
    exit 1
  fi
fi
npx eslint --max-warnings 0 .
npx prettier --check --log-level warn "**/*.ts"
shellcheck -x scripts/*.sh scripts/lib/*.sh scripts/cluster/*.sh tools/offline/*.sh .ci/run
# The workflows, their `run:` blocks through shellcheck too.
actionlint="$(bash tools/offline/actionlint.sh)"
"$actionlint" -shellcheck "$(command -v shellcheck)" .github/workflows/*.yml
echo "lint: clean" >&2
