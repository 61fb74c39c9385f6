#!/usr/bin/env bash
# Runs the project's pinned Pulumi CLI with the local file backend: `npm run pulumi -- <args>`.
# Plugins are not required here, so `plugin install` and `stack` commands work without them;
# commands that need a missing plugin get the engine's own error naming it.
# Environment: see scripts/lib/pulumi-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pulumi-env.sh
pulumi_env --skip-plugins
exec pulumi "$@"
