#!/usr/bin/env bash
# Deploys a stack (default dev) from a fresh clone: bootstrap, select or create the stack on the
# local backend, `pulumi up`. Usage: scripts/up.sh [stack] [extra pulumi up flags]
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"
shift || true
bash scripts/bootstrap.sh
source scripts/lib/pulumi-env.sh
# Stops here, before any stack is touched, naming each plugin that is missing and how to add it.
pulumi_env
pulumi stack select --create "$stack" --non-interactive >&2

# A plain `up` does not notice a container removed or stopped outside Pulumi; `--refresh` does,
# and the up then restores it (and reruns the smoke test), at about 2 s more per run. So refresh
# only when the engine does not show this stack's network and running containers, each labelled
# with the stack and role (the model server also says whether it has an agent sidecar).
on_engine() { docker ps -a --filter "label=io.inference-runtime.stack=$stack" --filter "label=io.inference-runtime.role=$1" --format "$2" 2>/dev/null || true; }
server="$(on_engine model-server '{{.State}} {{.Label "io.inference-runtime.sidecar"}}')"
agent="$(on_engine worker-agent '{{.State}}')"
network="$(docker network ls -q --filter "label=io.inference-runtime.stack=$stack" 2>/dev/null || true)"
refresh=(--refresh)
if [ -n "$network" ] && { [ "$server/$agent" = "running worker-agent/running" ] || [ "$server/$agent" = "running none/" ]; }; then
  refresh=()
fi
exec pulumi up --stack "$stack" --yes --skip-preview --non-interactive "${refresh[@]}" "$@"
