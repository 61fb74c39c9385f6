#!/usr/bin/env bash
# Runs the project's pinned Pulumi CLI (built offline when absent, see scripts/toolchain/) with a
# local file backend, so no Pulumi Cloud account is needed: `npm run pulumi -- <args>`.
#
# Environment (each optional):
#   PULUMI_BACKEND_URL        state backend (default file://$HOME/.inference-runtime/state)
#   PULUMI_CONFIG_PASSPHRASE  passphrase of the stacks' secrets (default: empty, fit only for
#                             throwaway local stacks; set your own for anything that matters)
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund >&2
# Assigned first so that a failure stops the script (a failing eval "$(...)" would not).
# Plugins are not required here, so `plugin install` and `stack` commands work without them;
# commands that need a missing plugin get the engine's own error naming it.
toolchain_env="$(bash scripts/toolchain/ensure.sh --skip-plugins --env)"
eval "$toolchain_env"

state_dir="${HOME}/.inference-runtime/state"
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p "$state_dir"
  export PULUMI_BACKEND_URL="file://${state_dir}"
fi
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE=""
fi
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
exec pulumi "$@"
