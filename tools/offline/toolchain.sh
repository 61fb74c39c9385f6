#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317 # single-quoted node/awk programs; helpers called indirectly
# Makes the Pulumi toolchain needed by this project available, without
# get.pulumi.com if need be: the `pulumi` CLI and the Node.js language host;
# and checks that the resource plugins pinned in package.json are installed.
#
# The user's own installation comes first: a `pulumi` on PATH at least the
# pinned version, with `pulumi-language-nodejs` beside it or on PATH. Then a
# finished build in the cache. Only where neither exists are the CLI and host
# built from Go modules into that cache (announced; needs Go). Plugins are
# never built here: the CLI is asked to install a missing one from its
# registry, and whatever stays missing is named with its install command
# (exit status 3). The user's PULUMI_HOME is used as it is (unset: the CLI's
# default, ~/.pulumi). Prints the directory holding the CLI on stdout;
# everything else goes to stderr. See tools/offline/README.md.
set -euo pipefail

RECIPE=2 # bump when the way binaries are built changes

usage() {
  cat >&2 <<'EOF'
usage: tools/offline/toolchain.sh [--skip-plugins] [--env] [--force]

  --skip-plugins  provide only the CLI and the Node.js language host; do not
                  require the resource plugins
  --env           print shell `export` lines (PATH, PULUMI_SKIP_UPDATE_CHECK)
                  instead of the bare bin directory
  --force         build the CLI from Go modules even if one is installed

environment:
  INFERENCE_RUNTIME_CACHE       cache root (default /var/cache/inference-runtime)
  PULUMI_HOME                   the CLI's own (plugins, credentials); used as
                                it is, unset means the CLI's default ~/.pulumi
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION
                                true: do not ask the registry for a missing
                                plugin
  INFERENCE_RUNTIME_BUILD_JOBS  parallel Go build jobs (default 2)
  INFERENCE_RUNTIME_NICE        niceness of builds (default 10)
EOF
}

SKIP_PLUGINS=0
PRINT_ENV=0
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-plugins) SKIP_PLUGINS=1 ;;
    --env) PRINT_ENV=1 ;;
    --force) FORCE=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "toolchain.sh: unknown argument: $1" >&2; usage; exit 2 ;;
  esac
  shift
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${INFERENCE_RUNTIME_CACHE:-/var/cache/inference-runtime}
export PULUMI_SKIP_UPDATE_CHECK=true
JOBS=${INFERENCE_RUNTIME_BUILD_JOBS:-2}
NICENESS=${INFERENCE_RUNTIME_NICE:-10}

T0=$EPOCHREALTIME
log() { printf '[toolchain %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  printf '[toolchain] ERROR: %s\n' "$*" >&2
  exit 1
}
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }
# step LABEL CMD...: runs CMD, logging its duration.
step() {
  local label=$1 t=$EPOCHREALTIME rc=0
  shift
  log "$label ..."
  "$@" || rc=$?
  if [ $rc -eq 0 ]; then log "$label: done in $(elapsed "$t")"; else log "$label: FAILED after $(elapsed "$t")"; fi
  return "$rc"
}

# ---------------------------------------------------------------- pins ----
command -v node >/dev/null || die "node is required (to read the pins from package.json)"
PINS=$(node -e '
  const deps = require(process.argv[1]).dependencies || {};
  const out = [];
  for (const [pkg, key] of [["@pulumi/pulumi", "PULUMI"], ["@pulumi/docker", "DOCKER"], ["@pulumi/command", "COMMAND"]]) {
    const v = deps[pkg];
    if (!v) { console.error(`package.json has no dependency on ${pkg}`); process.exit(1); }
    if (!/^\d+\.\d+\.\d+$/.test(v)) { console.error(`${pkg} must be pinned to an exact version, found "${v}"`); process.exit(1); }
    out.push(`${key}_PIN=${v}`);
  }
  console.log(out.join("\n"));
' "$ROOT/package.json") || die "could not read the pins from $ROOT/package.json"
eval "$PINS"

# Plugins the program needs: name and version (the npm package version; each
# @pulumi/<name> package asks the engine for the plugin of its own version).
PLUGINS=("docker $DOCKER_PIN" "command $COMMAND_PIN")

PIN_HASH=$(printf 'recipe=%s\npulumi=%s\ndocker=%s\ncommand=%s\n' \
  "$RECIPE" "$PULUMI_PIN" "$DOCKER_PIN" "$COMMAND_PIN" | sha256sum | cut -c1-12)
TC_DIR=$CACHE/toolchain/$PIN_HASH
BIN=$TC_DIR/bin
SRC=$CACHE/src

# ------------------------------------------------------------- sources ----
# Where each binary comes from. Go module versions must be exact: the module
# proxy reachable here refuses version lists and commit-hash queries for many
# modules, so tags or full pseudo-versions are listed explicitly.

PULUMI_PKG_MOD=github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK_MOD=github.com/pulumi/pulumi/sdk/v3
PULUMI_CLI_PKG=$PULUMI_PKG_MOD/cmd/pulumi
PULUMI_VERSION_VAR=$PULUMI_SDK_MOD/go/common/version.Version

# The Node.js language host has had its own Go module since pulumi 3.69.0,
# without tags of its own: it is addressed by the pseudo-version of the
# pulumi release commit.
nodejs_host_pseudo_version() {
  case "$1" in
    3.248.0) echo v3.0.0-20260624120734-a88168d865b7 ;;
    *) return 1 ;;
  esac
}
NODEJS_HOST_MOD=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
# Fallback: sdk/v3 v3.68.0 is the last release whose module still contains
# the language host package. It speaks the same (backward compatible)
# protocol and runs programs through the SDK's own `@pulumi/pulumi/cmd/run`.
NODEJS_HOST_FALLBACK_SDK=v3.68.0
NODEJS_HOST_FALLBACK_PKG=$PULUMI_SDK_MOD/nodejs/cmd/pulumi-language-nodejs

# ------------------------------------------------------------- helpers ----
version_ge() { # version_ge HAVE WANT: true if HAVE >= WANT (semver, no "v")
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

cli_version() { # prints the version of the pulumi binary $1 without the "v"
  local v
  v=$("$1" version 2>/dev/null | head -n1) || return 1
  v=${v#v}
  [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || return 1
  echo "$v"
}

# cli_unfit DIR: prints why DIR/pulumi does not fit (nothing, status 1, when it fits): it must be
# at least the pinned version, with the Node.js language host beside it or on PATH (where the CLI
# looks for it).
cli_unfit() {
  local dir=$1 v
  # A finished build of this pin: checked when it was made (saves a `pulumi version`, ~0.2 s).
  if [ "$dir" = "$BIN" ] && [ -e "$BIN/.complete" ] && [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-language-nodejs" ]; then
    return 1
  fi
  [ -x "$dir/pulumi" ] || { echo "no $dir/pulumi"; return 0; }
  v=$(cli_version "$dir/pulumi") || { echo "$dir/pulumi does not report its version"; return 0; }
  version_ge "$v" "$PULUMI_PIN" || { echo "$dir/pulumi is $v, older than $PULUMI_PIN"; return 0; }
  if [ ! -x "$dir/pulumi-language-nodejs" ] && ! command -v pulumi-language-nodejs >/dev/null 2>&1; then
    echo "$dir/pulumi has no Node.js language host (pulumi-language-nodejs) beside it or on PATH"
    return 0
  fi
  return 1
}
cli_dir_fits() { ! cli_unfit "$1" >/dev/null; }

# missing_plugins: prints "NAME VERSION" for each pinned plugin that `pulumi plugin ls` does not list.
# Read with awk, not node (a tenth of a second on every wrapper run): one record per JSON object
# (its fields are flat strings and numbers).
missing_plugins() {
  local json listed p
  json=$("$CLI_DIR/pulumi" plugin ls --json 2>&1) || die "\`pulumi plugin ls --json\` failed: $json"
  listed=$(awk 'BEGIN { RS = "}" }
    {
      delete f
      while (match($0, /"(name|kind|version)"[ \t\n]*:[ \t\n]*"[^"]*"/)) {
        split(substr($0, RSTART, RLENGTH), kv, "\"")
        f[kv[2]] = kv[4]
        $0 = substr($0, RSTART + RLENGTH)
      }
      if (f["kind"] == "resource") print f["name"] " " f["version"]
    }' <<<"$json")
  for p in "${PLUGINS[@]}"; do
    grep -qxF "$p" <<<"$listed" || echo "$p"
  done
}

# ------------------------------------------------------------- building ----
# prepare_build: Go, the cache directories and the build lock, or a message saying how to get a CLI.
prepare_build() {
  if ! command -v go >/dev/null; then
    cat >&2 <<EOF
[toolchain] ERROR: no Pulumi CLI >= $PULUMI_PIN on PATH${PATH_NOTE:+ ($PATH_NOTE)}, no finished build
[toolchain] in $BIN, and no Go to build one from Go modules. Install the Pulumi CLI, e.g.
[toolchain]   curl -fsSL https://get.pulumi.com | sh -s -- --version $PULUMI_PIN
[toolchain] (see https://www.pulumi.com/docs/iac/download-install/), put it on PATH, and run this again.
[toolchain] Without access to get.pulumi.com: install Go (https://go.dev/dl/), and this script builds
[toolchain] the CLI from Go modules into $BIN (about 15 minutes, once).
EOF
    exit 1
  fi
  mkdir -p "$TC_DIR" "$SRC" 2>/dev/null ||
    die "cannot create $TC_DIR (set INFERENCE_RUNTIME_CACHE to a writable directory)"
  exec 9>"$CACHE/toolchain/.lock"
  if ! flock -n 9; then
    log "waiting for another build of the toolchain to finish ..."
    flock 9
  fi
  export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
  export GOMAXPROCS=${GOMAXPROCS:-$JOBS}
  log "go: $(go version | cut -d' ' -f3-); pins: pulumi $PULUMI_PIN, docker $DOCKER_PIN, command $COMMAND_PIN; cache $TC_DIR"
}

# mod_download MODULE@VERSION FIELD: downloads a module, prints FIELD of
# `go mod download -json` (e.g. Dir, GoMod). On failure prints the error to
# stderr and returns 1.
mod_download() {
  local json
  json=$(cd "$SRC" && go mod download -json "$1" 2>/dev/null) || true
  node -e '
    let j; try { j = JSON.parse(process.argv[1]); } catch (e) { console.error("go mod download printed no result"); process.exit(1); }
    if (j.Error) { console.error(j.Error); process.exit(1); }
    console.log(j[process.argv[2]]);
  ' "$json" "$2"
}

# remote_replaces GOMOD: prints the replace directives of a go.mod that do
# not point at local directories (those apply only inside that repository).
remote_replaces() {
  awk '
    /^replace[ \t]*\($/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    inblock { line = $0 } 
    !inblock && /^replace[ \t]/ { line = $0; sub(/^replace[ \t]+/, "", line) }
    line != "" {
      split(line, parts, "=>"); target = parts[2]; gsub(/^[ \t]+/, "", target)
      if (target !~ /^(\.\/|\.\.\/|\/)/) { gsub(/^[ \t]+/, "", line); print "replace " line }
      line = ""
    }
  ' "$1"
}

go_directive() { awk '$1 == "go" { print $2; exit }' "$1"; }

# build_binary NAME OUT GO_DIRECTIVE REPLACES PKG LDFLAGS TAGS MODULE@VERSION...
# Builds package PKG from a generated wrapper module requiring the given
# module versions; writes the binary to OUT atomically.
build_binary() {
  local name=$1 out=$2 godir=$3 replaces=$4 pkg=$5 ldflags=$6 tags=$7
  shift 7
  local dir=$SRC/$name
  rm -rf "$dir"
  mkdir -p "$dir"
  {
    printf 'module inference-runtime.toolchain/%s\n\ngo %s\n' "$name" "$godir"
    [ -z "$replaces" ] || printf '\n%s\n' "$replaces"
  } >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$dir/tools.go"
  (
    cd "$dir"
    step "$name: resolve modules" logged "$dir/get.log" nice -n "$NICENESS" go get "$@" || exit 1
    step "$name: compile" logged "$dir/build.log" nice -n "$NICENESS" \
      go build -p "$JOBS" -trimpath ${tags:+-tags "$tags"} -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg" ||
      exit 1
    mv -f "$out.tmp" "$out"
  )
}

# logged LOGFILE CMD...: runs CMD with its output in LOGFILE, shown on failure.
logged() {
  local logfile=$1 rc=0
  shift
  "$@" >"$logfile" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || tail -n 40 "$logfile" >&2
  return "$rc"
}

# write_policy_launcher OUT: what runs a Node.js policy pack, as Pulumi's own distribution has it:
# started in the pack's directory with the engine address and the pack, it runs node on the pack's
# own @pulumi/pulumi/cmd/run-policy-pack.
write_policy_launcher() {
  cat >"$1.tmp" <<'LAUNCHER'
#!/bin/sh
# pulumi-analyzer-policy, written by inference-runtime's tools/offline/toolchain.sh: runs the
# Node.js policy pack in the working directory with the pack's own Pulumi SDK.
if [ ! -f node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js ]; then
  echo "pulumi-analyzer-policy: the policy pack's dependencies are not installed: run npm ci in $(pwd)" >&2
  exit 1
fi
exec node ./node_modules/@pulumi/pulumi/cmd/run-policy-pack "$@"
LAUNCHER
  chmod 0755 "$1.tmp"
  mv -f "$1.tmp" "$1"
}

# build_host_front OUT SDK_GOMOD: builds tools/offline/nodejs-host-front against the pinned sdk/v3.
build_host_front() {
  local out=$1 sdk_gomod=$2 dir=$SRC/nodejs-host-front
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$ROOT/tools/offline/nodejs-host-front/main.go" "$dir/"
  {
    printf 'module inference-runtime.toolchain/nodejs-host-front\n\ngo %s\n' "$(go_directive "$sdk_gomod")"
    local replaces
    replaces=$(remote_replaces "$sdk_gomod")
    [ -z "$replaces" ] || printf '\n%s\n' "$replaces"
  } >"$dir/go.mod"
  (
    cd "$dir"
    step "pulumi-language-nodejs front: resolve modules" logged "$dir/get.log" nice -n "$NICENESS" go get "$PULUMI_SDK_MOD@v$PULUMI_PIN" || exit 1
    step "pulumi-language-nodejs front: compile" logged "$dir/build.log" nice -n "$NICENESS" \
      go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$out.tmp" . || exit 1
    mv -f "$out.tmp" "$out"
  )
}

build_cli_and_host() {
  local pkg_gomod sdk_dir godir replaces host_pseudo host_desc
  mkdir -p "$BIN"
  rm -f "$BIN/.complete"

  pkg_gomod=$(mod_download "$PULUMI_PKG_MOD@v$PULUMI_PIN" GoMod) ||
    die "pulumi CLI: module $PULUMI_PKG_MOD@v$PULUMI_PIN is not available from the Go module proxy"
  sdk_dir=$(mod_download "$PULUMI_SDK_MOD@v$PULUMI_PIN" Dir) ||
    die "pulumi CLI: module $PULUMI_SDK_MOD@v$PULUMI_PIN is not available from the Go module proxy"
  godir=$(go_directive "$pkg_gomod")
  replaces=$(remote_replaces "$pkg_gomod")

  build_binary pulumi "$BIN/pulumi" "$godir" "$replaces" "$PULUMI_CLI_PKG" \
    "-X $PULUMI_VERSION_VAR=v$PULUMI_PIN" osusergo,grpcnotrace \
    "$PULUMI_CLI_PKG@v$PULUMI_PIN" "$PULUMI_SDK_MOD@v$PULUMI_PIN" ||
    die "pulumi CLI: build failed (log: $SRC/pulumi)"

  # Node.js language host: the one of the same release if the proxy serves
  # it, else the last one released inside the sdk/v3 module.
  host_desc=
  if host_pseudo=$(nodejs_host_pseudo_version "$PULUMI_PIN") &&
    host_gomod=$(mod_download "$NODEJS_HOST_MOD@$host_pseudo" GoMod 2>/dev/null); then
    if build_binary pulumi-language-nodejs "$BIN/pulumi-language-nodejs" "$(go_directive "$host_gomod")" \
      "$(remote_replaces "$host_gomod")" "$NODEJS_HOST_MOD" "-X $PULUMI_VERSION_VAR=v$PULUMI_PIN" "" \
      "$NODEJS_HOST_MOD@$host_pseudo" "$PULUMI_PKG_MOD@v$PULUMI_PIN" "$PULUMI_SDK_MOD@v$PULUMI_PIN"; then
      host_desc="$NODEJS_HOST_MOD@$host_pseudo"
    fi
  else
    log "pulumi-language-nodejs: $NODEJS_HOST_MOD of release $PULUMI_PIN is not served by the Go module proxy;" \
      "using the host from $PULUMI_SDK_MOD@$NODEJS_HOST_FALLBACK_SDK"
  fi
  if [ -z "$host_desc" ]; then
    local fb_gomod
    fb_gomod=$(mod_download "$PULUMI_SDK_MOD@$NODEJS_HOST_FALLBACK_SDK" GoMod) ||
      die "pulumi-language-nodejs: module $PULUMI_SDK_MOD@$NODEJS_HOST_FALLBACK_SDK is not available"
    build_binary pulumi-language-nodejs "$BIN/pulumi-language-nodejs" "$(go_directive "$fb_gomod")" \
      "$(remote_replaces "$fb_gomod")" "$NODEJS_HOST_FALLBACK_PKG" \
      "-X $PULUMI_VERSION_VAR=$NODEJS_HOST_FALLBACK_SDK" "" \
      "$NODEJS_HOST_FALLBACK_PKG@$NODEJS_HOST_FALLBACK_SDK" ||
      die "pulumi-language-nodejs: build failed (log: $SRC/pulumi-language-nodejs)"
    host_desc="$NODEJS_HOST_FALLBACK_PKG@$NODEJS_HOST_FALLBACK_SDK"
  fi

  # Dynamic providers (pulumi.dynamic.Resource) run through this small
  # launcher, shipped with the Node.js SDK sources of the same release.
  install -m 0755 "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"

  write_policy_launcher "$BIN/pulumi-analyzer-policy"
  # The CLI runs a Node.js policy pack through the language host's RunPlugin; the fallback host
  # predates that call, so a front answers it and forwards everything else (see its source).
  if [ "$host_desc" = "$NODEJS_HOST_FALLBACK_PKG@$NODEJS_HOST_FALLBACK_SDK" ]; then
    mv -f "$BIN/pulumi-language-nodejs" "$BIN/pulumi-language-nodejs-base"
    build_host_front "$BIN/pulumi-language-nodejs" "$(mod_download "$PULUMI_SDK_MOD@v$PULUMI_PIN" GoMod)" ||
      die "pulumi-language-nodejs front: build failed (log: $SRC/nodejs-host-front)"
    host_desc="$host_desc behind tools/offline/nodejs-host-front"
  fi

  cli_dir_fits "$BIN" || die "the built pulumi CLI does not report version >= $PULUMI_PIN"
  {
    echo "pulumi=$PULUMI_CLI_PKG@v$PULUMI_PIN"
    echo "pulumi-language-nodejs=$host_desc"
    echo "go=$(go version | cut -d' ' -f3)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$BIN/.complete"
  log "pulumi $("$BIN/pulumi" version) with language host $host_desc"
}

# ------------------------------------------------------------- the CLI ----
# The user's CLI on PATH first, then a finished build in the cache, then a build.
CLI_DIR=
ON_PATH=0
PATH_NOTE=
if [ "$FORCE" = 0 ]; then
  if p=$(command -v pulumi 2>/dev/null); then
    # The CLI looks for its language host beside its own (resolved) executable, and on PATH.
    d=$(dirname "$(readlink -f "$p")")
    if PATH_NOTE=$(cli_unfit "$d"); then
      PATH_NOTE="the pulumi on PATH does not fit: $PATH_NOTE"
    else
      CLI_DIR=$d ON_PATH=1 PATH_NOTE=
    fi
  fi
  if [ -z "$CLI_DIR" ] && [ -e "$BIN/.complete" ] && cli_dir_fits "$BIN"; then
    CLI_DIR=$BIN
  fi
fi
if [ -z "$CLI_DIR" ]; then
  prepare_build
  if [ "$FORCE" = 0 ] && [ -e "$BIN/.complete" ] && cli_dir_fits "$BIN"; then
    CLI_DIR=$BIN # built by a concurrent run while this one waited for the lock
  else
    if [ "$FORCE" = 1 ]; then
      log "--force: building the Pulumi CLI $PULUMI_PIN from Go modules into $BIN"
    else
      log "no Pulumi CLI >= $PULUMI_PIN on PATH${PATH_NOTE:+ ($PATH_NOTE)}: building it from Go modules into $BIN, about 15 minutes once"
    fi
    step "build pulumi $PULUMI_PIN and the Node.js language host" build_cli_and_host
    CLI_DIR=$BIN
  fi
fi

# ------------------------------------------------------------- plugins ----
# Resource plugins are not built here. A missing one is first asked of the CLI, which installs it
# from its registry where one is reachable (unless the user turned that off); what is still
# missing then stops the caller, before it touches anything, naming each with its install command.
if [ "$SKIP_PLUGINS" = 0 ]; then
  # Assigned first so that a failing `plugin ls` stops here (a process substitution would not).
  listed_missing=$(missing_plugins)
  mapfile -t missing < <(printf '%s' "$listed_missing" | sed '/^$/d')
  still=()
  installing=()
  for p in "${missing[@]}"; do
    read -r name ver <<<"$p"
    if amb=$(command -v "pulumi-resource-$name" 2>/dev/null); then
      log "using pulumi-resource-$name from PATH ($amb); its version cannot be checked (wanted $ver)"
    elif [[ ${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-} =~ ^(1|[Tt]rue|TRUE)$ ]]; then
      still+=("$p")
    else
      # At once: without a registry, each attempt takes about 10 s of the CLI's retries.
      log "resource plugin $name $ver is not installed: pulumi plugin install resource $name $ver"
      "$CLI_DIR/pulumi" plugin install resource "$name" "$ver" --non-interactive >&2 &
      installing+=("$!:$p")
    fi
  done
  for job in "${installing[@]}"; do
    if wait "${job%%:*}"; then log "resource plugin ${job#*:}: installed"; else still+=("${job#*:}"); fi
  done
  if [ ${#still[@]} -gt 0 ]; then
    home=${PULUMI_HOME:-"the CLI's default, ~/.pulumi"}
    for p in "${still[@]}"; do
      read -r name ver <<<"$p"
      printf '[toolchain] ERROR: resource plugin %s %s (pinned by @pulumi/%s in package.json) is not installed (PULUMI_HOME: %s). Install it with\n' \
        "$name" "$ver" "$name" "$home" >&2
      printf '[toolchain]   pulumi plugin install resource %s %s\n' "$name" "$ver" >&2
      printf '[toolchain] or, from a binary of exactly that release:\n' >&2
      printf '[toolchain]   pulumi plugin install resource %s %s --file ./pulumi-resource-%s\n' "$name" "$ver" "$name" >&2
    done
    printf '[toolchain] (`npm run pulumi -- plugin install ...` runs the same CLI.) Then run the command again.\n' >&2
    exit 3
  fi
fi

log "toolchain ready in $(elapsed "$T0"): $CLI_DIR"
if [ "$PRINT_ENV" = 1 ]; then
  [ "$ON_PATH" = 1 ] || printf 'export PATH=%q:"$PATH"\n' "$CLI_DIR"
  echo 'export PULUMI_SKIP_UPDATE_CHECK=true'
else
  echo "$CLI_DIR"
fi
