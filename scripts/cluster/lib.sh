# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this file
# What the local one-node Kubernetes cluster's scripts (up.sh, down.sh, load-images.sh, env.sh)
# share: where its state lives, the names of its parts, and small process helpers. Sourced, never
# run. Every path the cluster writes is derived here, so down.sh removes exactly what up.sh made.
#
# Env vars read:
#   INFERENCE_RUNTIME_CLUSTER_DIR  the cluster's one state directory
#                                  (default /var/lib/inference-runtime-cluster)
#   INFERENCE_RUNTIME_CACHE        cache root of the built binaries (default /var/cache/inference-runtime)

CLUSTER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_DIR=${INFERENCE_RUNTIME_CLUSTER_DIR:-/var/lib/inference-runtime-cluster}
CLUSTER_CACHE=${INFERENCE_RUNTIME_CACHE:-/var/cache/inference-runtime}
# Where tools/offline/kubernetes-binaries.sh keeps its finished build.
CLUSTER_BIN=$CLUSTER_CACHE/kubernetes/v1.37.2/bin

CLUSTER_CONTEXT=inference-runtime-local
CLUSTER_NODE=inference-runtime-node
# The bridge the node and its pods live on: the kubelet and kubeadm refuse loopback addresses, so
# the cluster gets a network of its own that nothing else uses. No NAT: pods reach only this
# bridge and the host's address on it.
CLUSTER_BRIDGE=irk8s0
CLUSTER_SUBNET_PREFIX=10.77.0
CLUSTER_NODE_IP=$CLUSTER_SUBNET_PREFIX.1
CLUSTER_SERVICE_SUBNET=10.96.0.0/16
CLUSTER_CNI_NETWORK=inference-runtime-cluster
CLUSTER_APISERVER_PORT=6443

CLUSTER_PKI=$CLUSTER_DIR/pki
CLUSTER_KUBECONFIG_DIR=$CLUSTER_DIR/kubeconfig
# The kubeconfig users get (cluster-admin, context $CLUSTER_CONTEXT).
CLUSTER_KUBECONFIG=$CLUSTER_DIR/kubeconfig/admin.conf
CLUSTER_RUN=$CLUSTER_DIR/run
CLUSTER_LOG=$CLUSTER_DIR/log
CLUSTER_CONTAINERD_SOCK=$CLUSTER_DIR/containerd/containerd.sock
CLUSTER_KUBELET_ROOT=$CLUSTER_DIR/kubelet
# Host paths the kubelet and containerd's CNI use whatever they are told; down.sh cleans them.
CLUSTER_HOST_KUBELET=/var/lib/kubelet
CLUSTER_HOST_CNI=/var/lib/cni
CLUSTER_HOST_NETNS=/run/netns
CLUSTER_HOST_CONTAINER_LOGS=/var/log/containers
# Where the controller manager's hostPath provisioner puts volumes (fixed by Kubernetes).
CLUSTER_HOST_HOSTPATH_PV=/tmp/hostpath_pv

# The daemons in start order; down.sh stops them in reverse.
CLUSTER_DAEMONS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet)

cluster_say() { echo "cluster: $*" >&2; }

# One cluster per host, so up.sh and down.sh run one at a time: a second up.sh waits and then
# finds the cluster up, a down.sh waits for a bring-up to finish. up.sh runs its own down.sh with
# INFERENCE_RUNTIME_CLUSTER_LOCKED=1, as it holds the lock already. On fd 8, which the daemons
# must not inherit.
CLUSTER_LOCK=$CLUSTER_CACHE/kubernetes/cluster.lock
cluster_lock() {
  [ "${INFERENCE_RUNTIME_CLUSTER_LOCKED:-}" = 1 ] && return 0
  mkdir -p "$(dirname "$CLUSTER_LOCK")"
  exec 8>"$CLUSTER_LOCK"
  flock -w 600 8 || {
    cluster_say "ERROR: another cluster:up or cluster:down has held $CLUSTER_LOCK for 10 minutes"
    exit 1
  }
}

# The pid a daemon's pid file names, when that process is alive (else nothing, status 1). A
# zombie is not alive: the daemons outlive up.sh, and what inherits them may be slow to reap.
cluster_pid() {
  local pid="" state=""
  { read -r pid <"$CLUSTER_RUN/$1.pid"; } 2>/dev/null || return 1
  [ -n "$pid" ] || return 1
  { read -r _ _ state _ <"/proc/$pid/stat"; } 2>/dev/null || return 1
  [ "$state" != Z ] || return 1
  echo "$pid"
}

# Every process running one of the cluster's daemons or a shim of its containerd, found by what
# they run rather than by pid files (which a crash or a killed up.sh may not have written):
# binaries from CLUSTER_BIN, or command lines naming CLUSTER_DIR.
cluster_processes() {
  local dir pid exe cmdline
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" = "$$" ] && continue
    exe=$(readlink "$dir/exe" 2>/dev/null) || continue
    cmdline=$({ tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null) || continue
    case "$exe" in "$CLUSTER_BIN"/*)
      echo "$pid"
      continue
      ;;
    esac
    case "$cmdline" in *"$CLUSTER_DIR"/*) echo "$pid" ;; esac
  done
}

# Mount points at or below a directory, deepest first.
cluster_mounts_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
