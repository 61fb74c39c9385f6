#!/usr/bin/env bash
# Everything a fresh clone needs before it can test or deploy: npm dependencies, a Docker engine,
# the local base image, and the service bundles and images. Idempotent; a warm run takes seconds.
#
# Usage: scripts/bootstrap.sh [--no-images]
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '[bootstrap] %s\n' "$*" >&2; }

# npm ci only when the lockfile changed since the last install (or nothing is installed yet).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
fi

# build-services.sh bundles the services and, with --images, also ensures the Docker engine and the
# base image before building the images: one call does it all.
if [ "${1:-}" = "--no-images" ]; then
  step "bundling services"
  bash scripts/build-services.sh >&2
else
  step "bundling services; ensuring a Docker engine, the base image and the service images"
  bash scripts/build-services.sh --images >&2
fi
