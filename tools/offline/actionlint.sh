#!/usr/bin/env bash
# Provides actionlint, the checker of GitHub Actions workflows that `npm run lint` runs on
# .github/workflows/. Uses the pinned release when it is on PATH; otherwise builds it from its Go
# module into a cache outside the checkout (once). Prints the binary's path on stdout; progress
# goes to stderr.
set -euo pipefail

VERSION=v1.7.12
MODULE=github.com/rhysd/actionlint/cmd/actionlint
CACHE=${INFERENCE_RUNTIME_CACHE:-/var/cache/inference-runtime}/actionlint/$VERSION
say() { echo "actionlint: $*" >&2; }

if found=$(command -v actionlint 2>/dev/null) && [ "$("$found" -version 2>/dev/null | head -n1)" = "${VERSION#v}" ]; then
  echo "$found"
  exit 0
fi
if [ ! -x "$CACHE/actionlint" ]; then
  command -v go >/dev/null || { say "ERROR: actionlint $VERSION is not installed and go is not there to build it"; exit 1; }
  say "building actionlint $VERSION from Go modules into $CACHE (a minute or two, once)"
  mkdir -p "$CACHE"
  # The version is stamped as `go install` of a tagged module does it; -ldflags keeps it small.
  GOBIN="$CACHE/bin" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false nice -n 10 \
    go install -trimpath -ldflags "-s -w" "$MODULE@$VERSION" >&2
  mv "$CACHE/bin/actionlint" "$CACHE/actionlint.tmp"
  mv "$CACHE/actionlint.tmp" "$CACHE/actionlint"
  rmdir "$CACHE/bin" 2>/dev/null || true
fi
echo "$CACHE/actionlint"
