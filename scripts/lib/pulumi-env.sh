# shellcheck shell=bash
# Sourced, from the repository root, by the scripts that run Pulumi (up.sh, preview.sh, down.sh,
# pulumi.sh, smoke-summary.sh). They fill gaps in the user's setup and say so; they do not replace
# it:
#
#   CLI          tools/offline/toolchain.sh: the `pulumi` on PATH when it is at least the version
#                package.json pins, else the cached offline build, else that build made from Go
#                modules (announced; without Go, an error saying how to install the CLI)
#   PULUMI_HOME  the user's, as it is (unset: the CLI's default, ~/.pulumi); never set here
#   backend      PULUMI_BACKEND_URL when set, else what the user is logged in to (`pulumi whoami`);
#                only when there is none, file://~ (where `pulumi login --local` keeps stacks) for
#                this process, said once on stderr
#   PULUMI_CONFIG_PASSPHRASE  empty when neither it nor PULUMI_CONFIG_PASSPHRASE_FILE is set (the
#                committed stack files are salted for that; fit only for throwaway local stacks:
#                see the README to set your own), with a notice
#   plugins      `pulumi_env` requires the docker and command plugins package.json pins: a missing
#                one is asked of the CLI (`pulumi plugin install`), and what is still missing stops
#                here with exit status 3, naming each with its install command, before anything is
#                touched; `pulumi_env --skip-plugins` does not require them
#
# Also: `wrapper_args` (the arguments of up, preview and down) and, from scripts/lib/engine-env.sh,
# the Docker engine of a stack (`engine_env_for_stack`, `engine_env`) and `run_last`.

# shellcheck source=scripts/lib/engine-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/engine-env.sh"

say() { printf '%s\n' "${WRAPPER_NAME:-inference-runtime}: $*" >&2; }

# wrapper_args COMMAND ARGS...: `npm run COMMAND -- [STACK] [PULUMI FLAGS...]` into STACK (the first
# argument unless it starts with -, default dev) and FLAGS. Everything after the stack must be a
# flag, a value given as --flag=value; the stack is given only as that first argument. Anything
# else stops here with the usage line and exit status 2, before anything runs.
wrapper_args() {
  local cmd=$1 arg
  shift
  WRAPPER_NAME="npm run $cmd"
  STACK=dev
  FLAGS=()
  if [ $# -gt 0 ] && [[ $1 != -* ]]; then
    STACK=$1
    shift
    [ -n "$STACK" ] || wrapper_usage "$cmd" "the stack name is empty"
  fi
  for arg in "$@"; do
    case "$arg" in
      -s | -s* | --stack | --stack=*) wrapper_usage "$cmd" "the stack is the first argument, not $arg" ;;
      -?*) FLAGS+=("$arg") ;;
      *) wrapper_usage "$cmd" "unexpected argument \"$arg\"" ;;
    esac
  done
}

wrapper_usage() {
  say "$2"
  printf 'usage: npm run %s -- [STACK] [PULUMI FLAGS...]   (STACK: default dev; flags start with -, a value as --flag=value)\n' "$1" >&2
  exit 2
}

# shellcheck disable=SC2120 # scripts/pulumi.sh passes --skip-plugins
pulumi_env() {
  # Assigned first so that a failure stops the caller (a failing eval "$(...)" would not). Without
  # --skip-plugins this stops with exit status 3, naming each missing plugin and how to add it.
  local toolchain_env
  toolchain_env="$(bash tools/offline/toolchain.sh --env "$@")"
  eval "$toolchain_env"
  [ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund >&2
  pulumi_backend
  if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    export PULUMI_CONFIG_PASSPHRASE=""
    say "PULUMI_CONFIG_PASSPHRASE is not set: using the empty passphrase the committed stack files are salted for (fit for throwaway local stacks only; README, Secrets)"
  fi
}

# The user's backend; file://~ for this process only when they have none.
pulumi_backend() {
  local out home
  [ -z "${PULUMI_BACKEND_URL:-}" ] || return 0
  # The login `pulumi whoami` would find, read without starting the CLI: PULUMI_HOME's
  # credentials.json (the CLI's default home is ~/.pulumi of the user's passwd entry, whatever $HOME).
  home=${PULUMI_HOME:-$(getent passwd "$(id -u)" 2>/dev/null | cut -d: -f6)}
  home=${PULUMI_HOME:-${home:-$HOME}/.pulumi}
  if grep -Eq '"current"[[:space:]]*:[[:space:]]*"[^"]' "$home/credentials.json" 2>/dev/null; then return 0; fi
  if out=$(pulumi whoami --non-interactive 2>&1); then return 0; fi
  # Logged in to Pulumi Cloud by a token, or a backend that does not answer: the CLI's own error
  # says more than a local backend would.
  if [ -n "${PULUMI_ACCESS_TOKEN:-}" ] || ! [[ $out == *"must be set for login"* || $out == *"not logged in"* ]]; then
    say "warning: \`pulumi whoami\` failed: ${out%%$'\n'*}"
    return 0
  fi
  export PULUMI_BACKEND_URL="file://~"
  say "not logged in to a Pulumi backend: using the local one, file://~ (where \`pulumi login --local\` keeps stacks); run \`pulumi login --local\` so that plain pulumi sees the same stacks"
  if [ -d "$HOME/.inference-runtime/state/.pulumi" ]; then
    say "stacks made by earlier versions of these scripts are in file://$HOME/.inference-runtime/state: set PULUMI_BACKEND_URL to that to use them"
  fi
}
