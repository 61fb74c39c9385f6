#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317 # single-quoted node/awk programs; helpers called indirectly
# Makes the Pulumi toolchain needed by this project available without
# get.pulumi.com: the `pulumi` CLI and the Node.js language host next to it;
# and checks that the resource plugins pinned in package.json are installed.
#
# An existing installation is used when it fits (a cached build, or `pulumi`
# on PATH); otherwise the CLI and host are built from Go modules into a cache
# outside the checkout. Plugins are never built here. Prints the directory holding the binaries on stdout;
# everything else goes to stderr. See tools/offline/README.md.
set -euo pipefail

RECIPE=2 # bump when the way binaries are built changes

usage() {
  cat >&2 <<'EOF'
usage: tools/offline/toolchain.sh [--skip-plugins] [--env] [--force]

  --skip-plugins  provide only the CLI and the Node.js language host; do not
                  require the resource plugins
  --env           print shell `export` lines (PATH, PULUMI_HOME, ...) instead
                  of the bare bin directory
  --force         rebuild the cached binaries even if they are present

environment:
  INFERENCE_RUNTIME_CACHE       cache root (default /var/cache/inference-runtime)
  PULUMI_HOME                   plugin cache and state home
                                (default $INFERENCE_RUNTIME_CACHE/pulumi-home)
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
export PULUMI_HOME=${PULUMI_HOME:-$CACHE/pulumi-home}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
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

cli_dir_fits() { # cli_dir_fits DIR: pulumi >= pin with the Node.js host next to it
  local dir=$1 v
  [ -x "$dir/pulumi" ] && [ -x "$dir/pulumi-language-nodejs" ] || return 1
  v=$(cli_version "$dir/pulumi") || return 1
  version_ge "$v" "$PULUMI_PIN"
}

plugin_dir() { echo "$PULUMI_HOME/plugins/resource-$1-v$2"; }

plugin_present() { # plugin_present NAME VERSION [quiet]
  local name=$1 ver=$2 dir amb
  dir=$(plugin_dir "$name" "$ver")
  if [ -x "$dir/pulumi-resource-$name" ] && [ ! -e "$dir.partial" ]; then
    return 0
  fi
  if amb=$(command -v "pulumi-resource-$name" 2>/dev/null); then
    [ "${3:-}" = quiet ] || log "using pulumi-resource-$name from PATH ($amb); its version cannot be checked (wanted $ver)"
    return 0
  fi
  return 1
}

all_plugins_present() {
  local p
  [ "$SKIP_PLUGINS" = 1 ] && return 0
  for p in "${PLUGINS[@]}"; do
    # shellcheck disable=SC2086
    plugin_present $p quiet || return 1
  done
}

finish() { # finish BINDIR
  local dir=$1
  log "toolchain ready in $(elapsed "$T0"): $dir (PULUMI_HOME=$PULUMI_HOME)"
  if [ "$PRINT_ENV" = 1 ]; then
    printf 'export PATH=%q:"$PATH"\n' "$dir"
    printf 'export PULUMI_HOME=%q\n' "$PULUMI_HOME"
    echo 'export PULUMI_SKIP_UPDATE_CHECK=true'
    echo 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true'
  else
    echo "$dir"
  fi
  exit 0
}

# ---------------------------------------------------- existing install ----
CLI_DIR=
if [ "$FORCE" = 0 ]; then
  if [ -e "$BIN/.complete" ] && cli_dir_fits "$BIN"; then
    CLI_DIR=$BIN
  elif p=$(command -v pulumi 2>/dev/null) && cli_dir_fits "$(dirname "$p")"; then
    CLI_DIR=$(dirname "$p")
    log "using the pulumi CLI found on PATH: $CLI_DIR ($(cli_version "$CLI_DIR/pulumi"))"
  fi
  if [ -n "$CLI_DIR" ] && all_plugins_present; then
    finish "$CLI_DIR"
  fi
fi

# ------------------------------------------------------------- building ----
command -v go >/dev/null || die "go is required to build the Pulumi toolchain"
mkdir -p "$TC_DIR" "$SRC" "$PULUMI_HOME" 2>/dev/null ||
  die "cannot create $TC_DIR (set INFERENCE_RUNTIME_CACHE to a writable directory)"
exec 9>"$CACHE/toolchain/.lock"
if ! flock -n 9; then
  log "waiting for another build of the toolchain to finish ..."
  flock 9
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
export GOMAXPROCS=${GOMAXPROCS:-$JOBS}
log "go: $(go version | cut -d' ' -f3-); pins: pulumi $PULUMI_PIN, docker $DOCKER_PIN, command $COMMAND_PIN; cache $TC_DIR"

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

if [ -z "$CLI_DIR" ]; then
  if [ "$FORCE" = 0 ] && [ -e "$BIN/.complete" ] && cli_dir_fits "$BIN"; then
    CLI_DIR=$BIN # built by a concurrent run while this one waited for the lock
  else
    step "build pulumi $PULUMI_PIN and the Node.js language host" build_cli_and_host
    CLI_DIR=$BIN
  fi
fi

# Resource plugins are not built here: they come from a registry (`pulumi plugin install`) or
# are installed by hand from a binary of exactly the pinned release.
if [ "$SKIP_PLUGINS" = 0 ]; then
  missing=()
  for p in "${PLUGINS[@]}"; do
    read -r name ver <<<"$p"
    plugin_present "$name" "$ver" || missing+=("$name $ver")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    for p in "${missing[@]}"; do
      read -r name ver <<<"$p"
      printf '[toolchain] ERROR: resource plugin %s %s (pinned by @pulumi/%s in package.json) is not installed in %s\n' \
        "$name" "$ver" "$name" "$PULUMI_HOME" >&2
    done
    cat >&2 <<EOF
[toolchain] The pulumi CLI and the Node.js language host are ready in $CLI_DIR.
[toolchain] Install each missing plugin once, with registry access:
[toolchain]   npm run pulumi -- plugin install resource NAME VERSION
[toolchain] or, from a binary of exactly that release:
[toolchain]   npm run pulumi -- plugin install resource NAME VERSION --file ./pulumi-resource-NAME
[toolchain] then run the command again. (--skip-plugins provides the CLI and the language host alone.)
EOF
    exit 3
  fi
fi

finish "$CLI_DIR"
