#!/usr/bin/env bash
# Prints `--refresh` when `pulumi up` of stack $1 must refresh first, and nothing otherwise.
#
# A plain `up` does not notice a container removed or stopped outside Pulumi; `--refresh` does,
# and the up then restores it (and reruns the smoke test), at about 2 s more per run. So refresh
# only when the engine does not show this stack's network and running containers, each labelled
# with the stack and role (the model server also says whether it has an agent sidecar).
# up.sh runs it with the stack's own engine in DOCKER_HOST (and its TLS settings), the engine the
# docker provider uses (scripts/lib/engine-env.sh); run alone, it asks the docker CLI's own choice.
set -euo pipefail
stack="${1:?usage: refresh-flag.sh STACK}"
filter="label=io.inference-runtime.stack=$stack"
on_engine() { docker ps -a --filter "$filter" --filter "label=io.inference-runtime.role=$1" --format "$2" 2>/dev/null || true; }
server="$(on_engine model-server '{{.State}} {{.Label "io.inference-runtime.sidecar"}}')"
agent="$(on_engine worker-agent '{{.State}}')"
network="$(docker network ls -q --filter "$filter" 2>/dev/null || true)"
if [ -n "$network" ] && { [ "$server/$agent" = "running worker-agent/running" ] || [ "$server/$agent" = "running none/" ]; }; then
  exit 0
fi
echo --refresh
