#!/usr/bin/env bash
# `npm run cluster:load-images -- IMAGE...`: copies images from the Docker engine into the local
# cluster's containerd (scripts/cluster/up.sh), so pods can run them with imagePullPolicy: Never.
# There is no registry here: the project's images are built locally
# (`bash scripts/build-services.sh --images` makes inference-runtime/<service>:local) and the
# cluster's containerd is not the engine's, so each image goes across as a docker-archive:
#   docker save IMAGE | ctr -n k8s.io images import -
# Prints one line per imported image on stdout; progress and errors on stderr.
set -euo pipefail
# shellcheck source=scripts/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
die() { cluster_say "ERROR: $*"; exit 1; }

[ "$#" -gt 0 ] || die "usage: $0 IMAGE... (for example inference-runtime/mock-vllm:local)"
[ "$(id -u)" -eq 0 ] || die "importing into the cluster's containerd needs root: run it with sudo or as root"
if ! cluster_pid containerd >/dev/null || [ ! -S "$CLUSTER_CONTAINERD_SOCK" ]; then
  die "the local cluster is not up (no containerd on $CLUSTER_CONTAINERD_SOCK): run npm run cluster:up first"
fi
command -v docker >/dev/null || die "docker is not on PATH: the images come from the Docker engine"
for image in "$@"; do
  docker image inspect "$image" >/dev/null 2>&1 ||
    die "image $image is not on the Docker engine; the project's images are built by: bash scripts/build-services.sh --images"
done

for image in "$@"; do
  t0=$(date +%s.%N)
  # docker save runs in a pipeline: pipefail reports its failure as well as ctr's.
  docker save "$image" |
    ctr --address "$CLUSTER_CONTAINERD_SOCK" -n k8s.io images import - >>"$CLUSTER_LOG/images.log" 2>&1 ||
    die "importing $image failed: $(tail -n 3 "$CLUSTER_LOG/images.log")"
  echo "imported $image ($(docker image inspect --format '{{.Id}}' "$image")) in $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
done
