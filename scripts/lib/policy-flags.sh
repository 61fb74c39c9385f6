#!/usr/bin/env bash
# Prints, one per line, the flags that enforce the policy pack on a preview or up of stack $1:
# `--policy-pack policy`, and `--policy-pack-config policy/config/<stack>.json` when that stack has
# a policy config (e.g. host addresses besides loopback it may publish on). Run from the root.
set -euo pipefail
stack="${1:?usage: policy-flags.sh STACK}"
printf '%s\n' --policy-pack policy
if [ -f "policy/config/$stack.json" ]; then printf '%s\n' --policy-pack-config "policy/config/$stack.json"; fi
