#!/usr/bin/env bash
# Provides Docker Compose v2 for the lifecycle benchmark (scripts/bench-lifecycle.ts), which runs
# the same containers with Compose as a baseline. Uses `docker compose` or `docker-compose` when
# installed; otherwise builds the pinned release from its Go module into a cache outside the
# checkout. Prints the command to run (one word per line) on stdout; progress goes to stderr.
set -euo pipefail

VERSION=v2.29.7
CACHE=${INFERENCE_RUNTIME_CACHE:-/var/cache/inference-runtime}/compose/$VERSION
say() { echo "compose: $*" >&2; }

if docker compose version >/dev/null 2>&1; then printf '%s\n' docker compose; exit 0; fi
if command -v docker-compose >/dev/null 2>&1 && docker-compose version 2>/dev/null | grep -q 'v2\.'; then
  echo docker-compose
  exit 0
fi
if [ ! -x "$CACHE/docker-compose" ]; then
  command -v go >/dev/null || { say "ERROR: Docker Compose v2 is not installed and go is not there to build it"; exit 1; }
  say "building Docker Compose $VERSION from Go modules into $CACHE (a few minutes, once)"
  mkdir -p "$CACHE"
  GOBIN="$CACHE/bin" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false nice -n 10 \
    go install -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$VERSION" \
    "github.com/docker/compose/v2/cmd@$VERSION" >&2
  mv "$CACHE/bin/cmd" "$CACHE/docker-compose"
fi
echo "$CACHE/docker-compose"
