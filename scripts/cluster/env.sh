# shellcheck shell=bash
# Sourced (`source scripts/cluster/env.sh`): the environment for using the local cluster of
# scripts/cluster/up.sh, and whether it can be brought up here.
#
# Exports KUBECONFIG (its cluster-admin kubeconfig, context inference-runtime-local),
# INFERENCE_RUNTIME_CLUSTER_CONTEXT, INFERENCE_RUNTIME_CLUSTER_CONTAINERD (its containerd socket,
# for `ctr --address`) and puts its kubectl first on PATH. Defines:
#   cluster_blocker   prints why the cluster cannot be brought up on this host and returns 1, or
#                     prints nothing and returns 0 when it can (tests skip with that reason)
#   cluster_running   returns 0 when the cluster is up (all its daemons alive, brought up fully)
# shellcheck source=scripts/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export KUBECONFIG=$CLUSTER_KUBECONFIG
export INFERENCE_RUNTIME_CLUSTER_CONTEXT=$CLUSTER_CONTEXT
export INFERENCE_RUNTIME_CLUSTER_CONTAINERD=$CLUSTER_CONTAINERD_SOCK
case ":$PATH:" in *":$CLUSTER_BIN:"*) ;; *) export PATH=$CLUSTER_BIN:$PATH ;; esac

cluster_running() {
  local daemon
  [ -f "$CLUSTER_DIR/.up" ] || return 1
  for daemon in "${CLUSTER_DAEMONS[@]}"; do cluster_pid "$daemon" >/dev/null || return 1; done
}

cluster_blocker() {
  local port
  if [ "$(uname -s)" != Linux ]; then
    echo "the local Kubernetes cluster needs Linux (found $(uname -s))"
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "the local Kubernetes cluster needs root (bridge, mounts, cgroups)"
    return 1
  fi
  if [ ! -e "$CLUSTER_BIN/.complete" ] && ! command -v go >/dev/null; then
    echo "no Kubernetes binaries in $CLUSTER_BIN and no go to build them (tools/offline/kubernetes-binaries.sh)"
    return 1
  fi
  if ! command -v apt-get >/dev/null; then
    local missing=()
    command -v etcd >/dev/null || missing+=(etcd)
    command -v containerd >/dev/null || missing+=(containerd)
    command -v runc >/dev/null || missing+=(runc)
    [ -x /usr/lib/cni/bridge ] || missing+=("CNI plugins in /usr/lib/cni")
    if [ "${#missing[@]}" -gt 0 ]; then
      echo "missing ${missing[*]} and no apt-get to install them"
      return 1
    fi
  fi
  if ! cluster_running; then
    for port in "$CLUSTER_APISERVER_PORT" 2379 2380; do
      if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
        echo "port $port is taken by another process (another Kubernetes or etcd?)"
        return 1
      fi
    done
  fi
  if ! ip link add irk8s-probe type bridge 2>/dev/null; then
    echo "cannot create a network bridge here (no CAP_NET_ADMIN?)"
    return 1
  fi
  ip link del irk8s-probe
}
