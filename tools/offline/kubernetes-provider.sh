#!/usr/bin/env bash
# Provides the Pulumi Kubernetes resource plugin at the version @pulumi/kubernetes is pinned to in
# package.json. Uses an installed plugin when there is one; otherwise asks the CLI to install it from
# its registry, and where that fails builds it from its Go module into a cache outside the checkout
# (once; 16 to 30 minutes cold on two cores) and installs it with `pulumi plugin install --file`.
# The CLI is the one tools/offline/toolchain.sh finds (the user's own when it fits); the plugin
# goes into the user's PULUMI_HOME as it is (unset: the CLI's default, ~/.pulumi). Prints the
# plugin's directory on stdout; progress on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${INFERENCE_RUNTIME_CACHE:-/var/cache/inference-runtime}
say() { echo "kubernetes-provider: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

VERSION=$(node -p 'require(process.argv[1]).dependencies["@pulumi/kubernetes"] || ""' "$ROOT/package.json")
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "package.json must pin @pulumi/kubernetes to an exact version (found \"$VERSION\")"

# The provider module has no release tags of its own on the module proxy: each release is the
# pseudo-version of its tag's commit.
case "$VERSION" in
  4.25.0) PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199 ;;
  *) die "no known Go module version of the provider for @pulumi/kubernetes $VERSION; install it with: pulumi plugin install resource kubernetes $VERSION" ;;
esac
MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
SDK_MOD=github.com/pulumi/pulumi-kubernetes/sdk/v4
# Where the CLI keeps it; only looked at, PULUMI_HOME is not set here.
PLUGIN_DIR=${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-kubernetes-v$VERSION

if [ -x "$PLUGIN_DIR/pulumi-resource-kubernetes" ] && [ ! -e "$PLUGIN_DIR.partial" ]; then
  echo "$PLUGIN_DIR"
  exit 0
fi
# The CLI every script of the project uses: the user's when it fits, else the cached build.
toolchain_env="$(bash "$ROOT/tools/offline/toolchain.sh" --skip-plugins --env)"
eval "$toolchain_env"
WORK=$CACHE/src/kubernetes-provider-$VERSION
OUT=$CACHE/kubernetes-provider/$VERSION
# A build made earlier is installed as it is; otherwise the registry first, where there is one.
if [ ! -x "$OUT/pulumi-resource-kubernetes" ] && [[ ! ${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-} =~ ^(1|[Tt]rue|TRUE)$ ]]; then
  say "asking the CLI to install the kubernetes $VERSION plugin from its registry"
  if pulumi plugin install resource kubernetes "$VERSION" --non-interactive >&2; then
    echo "$PLUGIN_DIR"
    exit 0
  fi
  say "no registry answered: building it instead"
fi
[ -x "$OUT/pulumi-resource-kubernetes" ] || command -v go >/dev/null ||
  die "the kubernetes $VERSION plugin is not installed and go is not there to build it; install it with: pulumi plugin install resource kubernetes $VERSION [--file ./pulumi-resource-kubernetes]"

mkdir -p "$WORK" "$OUT"
exec 9>"$OUT/.lock"
flock 9
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

if [ ! -x "$OUT/pulumi-resource-kubernetes" ]; then
  say "building the kubernetes $VERSION plugin from $MOD@$PROVIDER_PSEUDO into $OUT (about 16 minutes cold, once)"
  cd "$WORK"
  # A module of our own: the provider's go.mod replaces its SDK with a sibling directory, which
  # only exists in its repository, so the SDK comes from its released module here.
  cat >go.mod <<GOMOD
module inference-runtime.local/kubernetes-provider

go 1.24

require $MOD $PROVIDER_PSEUDO

replace $SDK_MOD => $SDK_MOD v$VERSION
GOMOD
  go mod download "$MOD"
  src=$(go list -m -f '{{.Dir}}' "$MOD")/cmd/pulumi-resource-kubernetes
  rm -rf cmd && mkdir -p cmd/pulumi-resource-kubernetes
  cp "$src"/*.go "$src"/*.json cmd/pulumi-resource-kubernetes/
  chmod -R u+w cmd
  # The command embeds its schema stamped with the version; its own generator writes it.
  (cd cmd/pulumi-resource-kubernetes && VERSION=$VERSION nice -n 10 go run generate.go)
  nice -n 10 go build -trimpath -p "${INFERENCE_RUNTIME_BUILD_JOBS:-2}" \
    -ldflags "-s -w -X $MOD/pkg/version.Version=$VERSION" -o "$OUT/pulumi-resource-kubernetes.tmp" ./cmd/pulumi-resource-kubernetes
  mv "$OUT/pulumi-resource-kubernetes.tmp" "$OUT/pulumi-resource-kubernetes"
fi
pulumi plugin install resource kubernetes "$VERSION" --file "$OUT/pulumi-resource-kubernetes" >&2
echo "$PLUGIN_DIR"
