#!/usr/bin/env bash
# Provides the Kubernetes binaries the local one-node cluster (scripts/cluster/up.sh) runs:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl and kubeadm of
# Kubernetes v1.37.2, and the pods' sandbox ("pause") image as a docker-archive tar.
#
# Why: hosts here reach the Go module proxy but no release download site or image registry, so
# the binaries are built from the k8s.io/kubernetes Go module and the sandbox image from the
# project's own tools/offline/pause/main.go. Built once into a cache outside the checkout
# (many minutes cold on two cores); later runs find the `.complete` marker and return at once.
#
# Prints the bin directory on stdout; progress and errors on stderr. Exits 1 (with what to do)
# when the binaries are not cached and cannot be built.
#
# Env vars read:
#   INFERENCE_RUNTIME_CACHE       cache root (default /var/cache/inference-runtime)
#   INFERENCE_RUNTIME_BUILD_JOBS  parallel build jobs (default 2)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${INFERENCE_RUNTIME_CACHE:-/var/cache/inference-runtime}
VERSION=v1.37.2
# The staging modules (k8s.io/api, k8s.io/client-go, ...) are published as v0.<minor>.<patch>.
STAGING_VERSION=v0.37.2
MAJOR=1
MINOR=37
COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kubeadm)
# The name the cluster's containerd knows the sandbox image by (a host with a dot: never
# mistaken for a Docker Hub name, and never pulled since it is imported first).
PAUSE_REF=inference-runtime.local/pause:1

OUT=$CACHE/kubernetes/$VERSION/bin
say() { echo "kubernetes-binaries: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

complete() { [ -e "$OUT/.complete" ]; }

if complete; then
  echo "$OUT"
  exit 0
fi

command -v go >/dev/null ||
  die "the Kubernetes $VERSION binaries are not in $OUT and go is not on PATH to build them; install Go (1.26 or newer) or copy a finished build (with its .complete marker) there"

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9
# Another run may have finished the build while this one waited for the lock.
if complete; then
  echo "$OUT"
  exit 0
fi

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
JOBS=${INFERENCE_RUNTIME_BUILD_JOBS:-2}
started=$(date +%s)

# --- Kubernetes -------------------------------------------------------------------------------
# k8s.io/kubernetes replaces its staging modules with directories of its own repository, which
# do not apply to a module that requires it; a wrapper module of our own replaces each of them
# with its published release instead.
WORK=$CACHE/src/kubernetes-$VERSION
mkdir -p "$WORK"
cd "$WORK"
cat >go.mod <<GOMOD
module inference-runtime.local/kubernetes

go 1.26

require k8s.io/kubernetes $VERSION
GOMOD
say "downloading k8s.io/kubernetes@$VERSION"
upstream_mod=$(go mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[ -f "$upstream_mod" ] || die "go mod download k8s.io/kubernetes@$VERSION gave no go.mod"
# Lines like `	k8s.io/api => ./staging/src/k8s.io/api`.
mapfile -t staging < <(sed -n 's#^[[:space:]]*\([^[:space:]]*\) => \./staging/.*#\1#p' "$upstream_mod")
[ "${#staging[@]}" -gt 0 ] || die "found no staging replacements in $upstream_mod"
{
  echo
  for mod in "${staging[@]}"; do echo "replace $mod => $mod $STAGING_VERSION"; done
} >>go.mod
say "replacing ${#staging[@]} staging modules with their $STAGING_VERSION releases"

x=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  x+=" -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  x+=" -X $pkg.gitTreeState=clean"
done
for cmd in "${COMMANDS[@]}"; do
  [ -x "$OUT/$cmd" ] && continue
  say "building $cmd (20-80 s each with a warm Go cache; much longer cold)"
  t0=$(date +%s)
  nice -n 10 go build -trimpath -p "$JOBS" -ldflags "-s -w$x" -o "$OUT/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
  mv "$OUT/$cmd.tmp" "$OUT/$cmd"
  say "built $cmd in $(( $(date +%s) - t0 )) s"
done

# --- Sandbox image ----------------------------------------------------------------------------
# A docker-archive (the `docker save` layout): one layer holding /pause, its image config and
# manifest.json. Written here rather than with `docker build` so the shared Docker engine gets
# no image of ours.
if [ ! -s "$OUT/pause.tar" ]; then
  say "building the sandbox image $PAUSE_REF"
  PAUSE_WORK=$CACHE/src/pause
  rm -rf "$PAUSE_WORK" && mkdir -p "$PAUSE_WORK/rootfs" "$PAUSE_WORK/image"
  cp "$ROOT/tools/offline/pause/main.go" "$PAUSE_WORK/"
  printf 'module inference-runtime.local/pause\n\ngo 1.22\n' >"$PAUSE_WORK/go.mod"
  (cd "$PAUSE_WORK" && go build -trimpath -ldflags "-s -w" -o rootfs/pause .)
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$PAUSE_WORK/rootfs" -cf "$PAUSE_WORK/layer.tar" pause
  layer_id=$(sha256sum "$PAUSE_WORK/layer.tar" | cut -d' ' -f1)
  mkdir -p "$PAUSE_WORK/image/$layer_id"
  mv "$PAUSE_WORK/layer.tar" "$PAUSE_WORK/image/$layer_id/layer.tar"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$layer_id" >"$PAUSE_WORK/config.json"
  config_id=$(sha256sum "$PAUSE_WORK/config.json" | cut -d' ' -f1)
  mv "$PAUSE_WORK/config.json" "$PAUSE_WORK/image/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "$config_id" "$PAUSE_REF" "$layer_id" >"$PAUSE_WORK/image/manifest.json"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$PAUSE_WORK/image" -cf "$OUT/pause.tar.tmp" .
  mv "$OUT/pause.tar.tmp" "$OUT/pause.tar"
fi
echo "$PAUSE_REF" >"$OUT/pause.ref"

for cmd in "${COMMANDS[@]}"; do
  [ -x "$OUT/$cmd" ] || die "$OUT/$cmd is missing after the build"
done
touch "$OUT/.complete"
say "Kubernetes $VERSION binaries ready in $OUT ($(( $(date +%s) - started )) s)"
echo "$OUT"
