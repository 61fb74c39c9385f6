#!/usr/bin/env bash
# build-services.sh — bundle the Node services, and optionally build their images.
#
# What: bundles the scripts `pulumi up` runs (scripts/wait-healthy.ts, scripts/wait-rollout.ts and
# scripts/smoke-test.ts into dist/scripts/); for each service (mock-vllm, worker-agent) bundles
# services/<svc>/src/main.ts with esbuild into a single file
# services/<svc>/dist/main.js (platform node, target node20, all npm
# dependencies inlined), so an image needs nothing but `node` and that file.
# A service whose src/main.ts does not exist is skipped with a warning.
#
# With --images it then makes sure a Docker engine and the local base image
# exist (tools/offline/docker-engine.sh, deploy/base-image.sh) and builds
#   inference-runtime/<svc>:local
# (for running the images by hand and for the image tests; the Pulumi program
# builds and removes its own inference-runtime/<svc>:<stack> images)
# from services/<svc>/Dockerfile with `--build-arg BASE_IMAGE=...`, labelled
# io.inference-runtime.role=image. Those Dockerfiles start with
# `ARG BASE_IMAGE` / `FROM ${BASE_IMAGE}` and COPY dist/main.js. The base image
# has no shell, so they use no RUN and only exec-form CMD/HEALTHCHECK.
#
# Why: one command (npm run build:services [-- --images]) that developers, CI
# and the Pulumi program's tests share, so the images always contain the
# current bundles. Re-running is cheap: esbuild takes well under a second per
# service and docker's layer cache makes an unchanged image build a no-op.
#
# Usage: scripts/build-services.sh [--images] [service ...]
#
# Env vars read:
#   BASE_IMAGE      base image tag (default inference-runtime/node-base:20)
#   IMAGE_PREFIX    image repository prefix (default inference-runtime)
#   IMAGE_TAG       image tag (default local)
#   SERVICES_ROOT   folder holding the service folders (default <repo>/services)
#   DOCKER_BUILDKIT honoured when set; otherwise BuildKit is used only when the
#                   docker CLI has the buildx plugin, and the classic builder
#                   (DOCKER_BUILDKIT=0) otherwise — Debian's docker.io has no
#                   buildx, and the engine builds fine without it.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BASE_IMAGE="${BASE_IMAGE:-inference-runtime/node-base:20}"
IMAGE_PREFIX="${IMAGE_PREFIX:-inference-runtime}"
IMAGE_TAG="${IMAGE_TAG:-local}"
SERVICES_ROOT="${SERVICES_ROOT:-$REPO_ROOT/services}"
ALL_SERVICES=(mock-vllm worker-agent)

say() { echo "build-services: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

images=0
services=()
for arg in "$@"; do
  case "$arg" in
    --images) images=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg (usage: $0 [--images] [service ...])" ;;
    *) services+=("$arg") ;;
  esac
done
[ "${#services[@]}" -gt 0 ] || services=("${ALL_SERVICES[@]}")

# esbuild comes from the project's own devDependencies.
ESBUILD="$REPO_ROOT/node_modules/.bin/esbuild"
if [ ! -x "$ESBUILD" ]; then
  say "node_modules/.bin/esbuild missing; running npm ci"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) || die "npm ci failed"
  [ -x "$ESBUILD" ] || die "esbuild still missing after npm ci"
fi

# 1. Bundle.
bundled=()
for svc in "${services[@]}"; do
  dir="$SERVICES_ROOT/$svc"
  if [ ! -f "$dir/src/main.ts" ]; then
    say "warning: $dir/src/main.ts does not exist; skipping $svc"
    continue
  fi
  "$ESBUILD" "$dir/src/main.ts" --bundle --platform=node --target=node20 \
    --outfile="$dir/dist/main.js" --log-level=warning \
    || die "esbuild failed for $svc"
  say "bundled $svc -> ${dir#"$REPO_ROOT"/}/dist/main.js ($(wc -c <"$dir/dist/main.js") bytes)"
  bundled+=("$svc")
done

# The health gate and the smoke test run on every deploy, on its critical path: bundled, each
# starts in a tenth of a second instead of half a second or more through tsx.
for script in wait-healthy wait-rollout smoke-test; do
  "$ESBUILD" "$REPO_ROOT/deploy/$script.ts" --bundle --platform=node --target=node20 \
    --outfile="$REPO_ROOT/dist/scripts/$script.js" --log-level=warning \
    || die "esbuild failed for deploy/$script.ts"
done
say "bundled the deploy-time scripts -> dist/scripts/"

[ "$images" -eq 1 ] || exit 0

# 2. Images.
if [ "${#bundled[@]}" -eq 0 ]; then
  say "warning: no service was bundled; no image to build"
  exit 0
fi
bash "$REPO_ROOT/tools/offline/docker-engine.sh"
bash "$REPO_ROOT/deploy/base-image.sh"

if [ -z "${DOCKER_BUILDKIT:-}" ]; then
  if docker buildx version >/dev/null 2>&1; then
    export DOCKER_BUILDKIT=1
  else
    export DOCKER_BUILDKIT=0
  fi
fi

for svc in "${bundled[@]}"; do
  dir="$SERVICES_ROOT/$svc"
  if [ ! -f "$dir/Dockerfile" ]; then
    say "warning: $dir/Dockerfile does not exist; not building an image for $svc"
    continue
  fi
  tag="$IMAGE_PREFIX/$svc:$IMAGE_TAG"
  log="$(mktemp /tmp/inference-runtime-build-"$svc".XXXXXX.log)"
  if ! docker build \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" \
      --label io.inference-runtime.role=image \
      --label "io.inference-runtime.service=$svc" \
      -t "$tag" -f "$dir/Dockerfile" "$dir" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "docker build failed for $svc"
  fi
  rm -f "$log"
  say "built $tag ($(docker image inspect --format '{{.Id}}' "$tag" | cut -c1-19))"
done
