#!/usr/bin/env bash
# Runs Pulumi as the other wrappers do: `npm run pulumi -- <args>`, with the same CLI, the user's
# PULUMI_HOME and backend, and the Docker engine the docker CLI uses (its context exported as
# DOCKER_HOST, so that Pulumi's docker provider follows it too). Plugins are not required here, so
# `plugin install` and `stack` commands work without them; commands that need a missing plugin get
# the engine's own error naming it. Environment: see scripts/lib/pulumi-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pulumi-env.sh
WRAPPER_NAME="npm run pulumi"
pulumi_env --skip-plugins
engine_env
exec pulumi "$@"
