#!/usr/bin/env bash
# Everything a fresh clone needs before it can test or deploy: npm dependencies, the service
# bundles, a Docker engine and the local base image. The service images are the Pulumi program's
# to build (and to remove on destroy). Idempotent; a warm run takes seconds.
#
# Usage: scripts/bootstrap.sh [--no-engine]
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '[bootstrap] %s\n' "$*" >&2; }

# npm ci only when the lockfile changed since the last install (or nothing is installed yet).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
fi

# The policy pack has its own dependencies (its Pulumi SDK runs it): installed the same way.
if [ ! -f policy/node_modules/.package-lock.json ] || [ policy/package-lock.json -nt policy/node_modules/.package-lock.json ]; then
  step "installing the policy pack's npm dependencies (npm ci in policy/)"
  npm ci --prefix policy --no-audit --no-fund >&2
fi

step "bundling services"
bash scripts/build-services.sh >&2
if [ "${1:-}" != "--no-engine" ]; then
  step "ensuring a Docker engine and the base image"
  bash tools/offline/docker-engine.sh >&2
  bash deploy/base-image.sh >&2
fi
