# shellcheck shell=bash
# Sourced by the scripts that run Pulumi: puts the project's pinned CLI on PATH (built offline
# when absent, see tools/offline/) and selects a local file backend, so no Pulumi Cloud
# account is needed. Call `pulumi_env [--skip-plugins]` from the repository root, or
# `pulumi_stack STACK` to also bootstrap a fresh clone and select (or create) the stack.
#
# Environment (each optional):
#   PULUMI_BACKEND_URL        state backend (default file://$HOME/.inference-runtime/state, or
#                             Pulumi Cloud when PULUMI_ACCESS_TOKEN is set)
#   PULUMI_CONFIG_PASSPHRASE  passphrase of the stacks' secrets (default: empty, which the
#                             committed stack files are salted for; fit only for throwaway local
#                             stacks: see the README to set your own)
# shellcheck disable=SC2120 # scripts/pulumi.sh passes --skip-plugins
pulumi_env() {
  [ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund >&2
  # Assigned first so that a failure stops the caller (a failing eval "$(...)" would not). Without
  # --skip-plugins this stops with exit status 3, naming each missing plugin and how to add it.
  local toolchain_env
  toolchain_env="$(bash tools/offline/toolchain.sh --env "$@")"
  eval "$toolchain_env"
  # With a Pulumi Cloud access token and no backend named, the CLI's default (Pulumi Cloud) is meant.
  if [ -z "${PULUMI_BACKEND_URL:-}" ] && [ -z "${PULUMI_ACCESS_TOKEN:-}" ]; then
    mkdir -p "${HOME}/.inference-runtime/state"
    export PULUMI_BACKEND_URL="file://${HOME}/.inference-runtime/state"
  fi
  if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    export PULUMI_CONFIG_PASSPHRASE=""
  fi
  export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
}

# From a fresh clone to stack $1 selected (created on first use), with the plugins required:
# what `up` and `preview` do before running Pulumi.
pulumi_stack() {
  bash scripts/bootstrap.sh
  # Stops here, before any stack is touched, naming each plugin that is missing and how to add it.
  # shellcheck disable=SC2119 # called without arguments on purpose: the plugins are required here
  pulumi_env
  pulumi stack select --create "$1" --non-interactive >&2
}
