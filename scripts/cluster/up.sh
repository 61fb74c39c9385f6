#!/usr/bin/env bash
# `npm run cluster:up`: a real one-node Kubernetes v1.37.2 cluster on this host, for the project's
# Kubernetes target and its tests. etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# a containerd of its own and a kubelet run as plain detached processes; certificates and
# kubeconfigs come from kubeadm's phases. Everything stays on 127.0.0.1 and on a bridge of the
# cluster's own (scripts/cluster/lib.sh names it), and all state (pid files, logs, data) lives in
# one directory outside the checkout, so scripts/cluster/down.sh can remove every trace.
#
# Why this way: hosts here have no systemd, no registry and no release downloads, and root lacks
# CAP_SYS_RESOURCE; the binaries are built from Go modules (tools/offline/kubernetes-binaries.sh)
# and the Debian packages provide etcd, containerd, runc and the CNI plugins.
#
# Idempotent: when the cluster is already up it only prints the kubeconfig; a broken or partial
# one is torn down first. On any failure everything started is torn down again.
# Prints the kubeconfig's path on stdout (context inference-runtime-local); progress on stderr.
# Needs root on Linux; ports 127.0.0.1:6443, 2379, 2380, 10248, 10257 and 10259 free.
set -euo pipefail
# shellcheck source=scripts/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started_at=$(date +%s.%N)
die() { cluster_say "ERROR: $*"; exit 1; }
elapsed() { awk -v s="$started_at" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# --- Can it run here? ----------------------------------------------------------------------------
[ "$(uname -s)" = Linux ] || die "the local cluster needs Linux (found $(uname -s)): it runs the kubelet and containerd on this host"
[ "$(id -u)" -eq 0 ] || die "the local cluster needs root (it creates a bridge, mounts and cgroups): run it with sudo or as root"

bin=$(bash "$CLUSTER_ROOT/tools/offline/kubernetes-binaries.sh") ||
  die "the Kubernetes binaries are not available (see the kubernetes-binaries message above); run: bash tools/offline/kubernetes-binaries.sh"
[ "$bin" = "$CLUSTER_BIN" ] || die "kubernetes-binaries.sh gave $bin, expected $CLUSTER_BIN"
kubectl() { "$CLUSTER_BIN/kubectl" "$@"; }

# etcd, containerd, runc and the CNI plugins come from Debian, like docker.io in
# tools/offline/docker-engine.sh.
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
{ command -v containerd && command -v ctr && command -v containerd-shim-runc-v2; } >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
for plugin in bridge host-local loopback; do
  [ -x "/usr/lib/cni/$plugin" ] || { missing+=(containernetworking-plugins); break; }
done
command -v iptables >/dev/null || missing+=(iptables)
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]} and apt-get is not available: install them by hand"
  cluster_say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
fi

# --- Already up? ---------------------------------------------------------------------------------
cluster_lock
node_ready() {
  [ "$(kubectl --kubeconfig "$CLUSTER_KUBECONFIG" get node "$CLUSTER_NODE" --request-timeout=5s \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
if [ -d "$CLUSTER_DIR" ] || ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1 || [ -n "$(cluster_processes)" ]; then
  all_running=1
  for daemon in "${CLUSTER_DAEMONS[@]}"; do cluster_pid "$daemon" >/dev/null || all_running=0; done
  if [ "$all_running" = 1 ] && [ -f "$CLUSTER_DIR/.up" ] && node_ready; then
    cluster_say "already up (node $CLUSTER_NODE Ready)"
    echo "$CLUSTER_KUBECONFIG"
    exit 0
  fi
  cluster_say "found an incomplete cluster (in $CLUSTER_DIR, or its bridge or processes); removing it first"
  INFERENCE_RUNTIME_CLUSTER_LOCKED=1 bash "$CLUSTER_ROOT/scripts/cluster/down.sh" >&2 ||
    die "could not remove the incomplete cluster (see above)"
fi

# Ports on loopback the control plane binds (the kubelet's own are on the new bridge).
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\).*/\1/p' | head -n1; }
for port in "$CLUSTER_APISERVER_PORT" 2379 2380 10248 10257 10259; do
  if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
    owner=$(port_owner "$port")
    die "port $port is already taken${owner:+ by $owner} (the cluster's etcd uses 2379/2380, the API server 6443, the kubelet 10248, the controller manager 10257, the scheduler 10259): stop that process (another Kubernetes or etcd?) and retry"
  fi
done
if ip route show | grep -q "^$CLUSTER_SUBNET_PREFIX\."; then
  die "the cluster's subnet $CLUSTER_SUBNET_PREFIX.0/24 is already routed on this host ($(ip route show | grep "^$CLUSTER_SUBNET_PREFIX\." | head -n1)): remove that network and retry"
fi

# From here on, a failure removes whatever was started.
up_ok=0
teardown_on_failure() {
  [ "$up_ok" = 1 ] && return
  cluster_say "bring-up failed after $(elapsed) s; logs in $CLUSTER_LOG:"
  for daemon in "${CLUSTER_DAEMONS[@]}"; do
    [ -s "$CLUSTER_LOG/$daemon.log" ] || continue
    echo "--- last lines of $daemon.log" >&2
    tail -n 8 "$CLUSTER_LOG/$daemon.log" >&2
  done
  # The logs are kept for reading: down.sh removes the state directory.
  local keep
  keep=$(mktemp -d /tmp/inference-runtime-cluster-logs.XXXXXX)
  cp -r "$CLUSTER_LOG/." "$keep/" 2>/dev/null || true
  cluster_say "tearing down (logs kept in $keep)"
  INFERENCE_RUNTIME_CLUSTER_LOCKED=1 bash "$CLUSTER_ROOT/scripts/cluster/down.sh" >&2 ||
    cluster_say "teardown failed too; run npm run cluster:down"
}
trap teardown_on_failure EXIT

mkdir -p "$CLUSTER_RUN" "$CLUSTER_LOG" "$CLUSTER_PKI" "$CLUSTER_KUBECONFIG_DIR" "$CLUSTER_DIR/etcd" \
  "$CLUSTER_DIR/containerd" "$CLUSTER_DIR/cni/net.d" "$CLUSTER_DIR/cni/ipam" "$CLUSTER_KUBELET_ROOT" \
  "$CLUSTER_DIR/kubelet-pki" "$CLUSTER_DIR/pod-logs"
chmod 700 "$CLUSTER_DIR"
# Which host directories existed before, so down.sh removes only those it (the kubelet,
# containerd) created.
for host_dir in "$CLUSTER_HOST_KUBELET" "$CLUSTER_HOST_CNI" "$CLUSTER_HOST_NETNS" "$CLUSTER_HOST_CONTAINER_LOGS" "$CLUSTER_HOST_HOSTPATH_PV"; do
  [ -e "$host_dir" ] && echo "$host_dir"
done >"$CLUSTER_RUN/host-dirs-before"
# And the network namespaces already there (down.sh removes the sandboxes' ones made since).
for ns in "$CLUSTER_HOST_NETNS"/cni-*; do [ -e "$ns" ] && echo "$ns"; done >"$CLUSTER_RUN/netns-before"
# And the hostPath volumes already there (down.sh removes the ones the provisioner makes since).
for volume in "$CLUSTER_HOST_HOSTPATH_PV"/*; do [ -e "$volume" ] && echo "$volume"; done >"$CLUSTER_RUN/hostpath-before"

start_daemon() {
  local name=$1
  shift
  # A session of its own, stdin closed and output in its log: it outlives this script and the
  # shell (or test) that ran it.
  setsid "$@" </dev/null >>"$CLUSTER_LOG/$name.log" 2>&1 8>&- &
  echo $! >"$CLUSTER_RUN/$name.pid"
}
alive() { cluster_pid "$1" >/dev/null || die "$1 exited during start-up (log: $CLUSTER_LOG/$1.log)"; }
# wait_for WHAT SECONDS COMMAND...: polls every 0.1 s; stops early when a daemon started so far
# has exited.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for() {
  local what=$1 seconds=$2 deadline=$(($(now_ms) + $2 * 1000)) pidfile
  shift 2
  until "$@" >/dev/null 2>&1; do
    for pidfile in "$CLUSTER_RUN"/*.pid; do alive "$(basename "$pidfile" .pid)"; done
    [ "$(now_ms)" -lt "$deadline" ] || die "timed out after $seconds s waiting for $what"
    sleep 0.1
  done
}

# --- Network: the bridge, and pod-to-pod traffic past Docker's FORWARD policy ---------------------
ip link add "$CLUSTER_BRIDGE" type bridge
ip addr add "$CLUSTER_NODE_IP/24" dev "$CLUSTER_BRIDGE"
ip link set "$CLUSTER_BRIDGE" up
# Docker's FORWARD policy is DROP and bridged traffic passes it (br_netfilter); DOCKER-USER is the
# chain Docker leaves to its users. Without Docker the rule goes into FORWARD itself.
forward_chain=FORWARD
iptables -n -L DOCKER-USER >/dev/null 2>&1 && forward_chain=DOCKER-USER
iptables -I "$forward_chain" -i "$CLUSTER_BRIDGE" -o "$CLUSTER_BRIDGE" -j ACCEPT
echo "$forward_chain" >"$CLUSTER_RUN/iptables-chain"

# containerd adds the loopback interface itself (its network "cni-loopback").
cat >"$CLUSTER_DIR/cni/net.d/10-$CLUSTER_CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CLUSTER_CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CLUSTER_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CLUSTER_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$CLUSTER_SUBNET_PREFIX.0/24", "rangeStart": "$CLUSTER_SUBNET_PREFIX.10", "gateway": "$CLUSTER_NODE_IP" }]]
      }
    }
  ]
}
EOF

# --- Certificates and kubeconfigs --------------------------------------------------------------
# kubeadm refuses a loopback advertise address: it advertises the bridge address, while the API
# server binds only 127.0.0.1 and every kubeconfig points there. ECDSA keys: generated in
# milliseconds, where RSA takes seconds.
cat >"$CLUSTER_DIR/kubeadm.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: $CLUSTER_NODE_IP
  bindPort: $CLUSTER_APISERVER_PORT
nodeRegistration:
  name: $CLUSTER_NODE
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: $CLUSTER_CONTEXT
kubernetesVersion: v1.37.2
certificatesDir: $CLUSTER_PKI
controlPlaneEndpoint: 127.0.0.1:$CLUSTER_APISERVER_PORT
encryptionAlgorithm: ECDSA-P256
networking:
  serviceSubnet: $CLUSTER_SERVICE_SUBNET
apiServer:
  certSANs: [127.0.0.1, localhost]
EOF
kubeadm_log=$CLUSTER_LOG/kubeadm.log
"$CLUSTER_BIN/kubeadm" init phase certs all --config "$CLUSTER_DIR/kubeadm.yaml" >>"$kubeadm_log" 2>&1 ||
  die "kubeadm init phase certs failed: $(tail -n 3 "$kubeadm_log")"
"$CLUSTER_BIN/kubeadm" init phase kubeconfig all --config "$CLUSTER_DIR/kubeadm.yaml" \
  --kubeconfig-dir "$CLUSTER_KUBECONFIG_DIR" >>"$kubeadm_log" 2>&1 ||
  die "kubeadm init phase kubeconfig failed: $(tail -n 3 "$kubeadm_log")"
# kubeadm points the kubelet's, controller manager's and scheduler's kubeconfigs at the advertise
# address, where nothing listens.
sed -i "s#^\(    server: \).*#\1https://127.0.0.1:$CLUSTER_APISERVER_PORT#" "$CLUSTER_KUBECONFIG_DIR"/*.conf
kubectl --kubeconfig "$CLUSTER_KUBECONFIG" config rename-context \
  "kubernetes-admin@$CLUSTER_CONTEXT" "$CLUSTER_CONTEXT" >/dev/null
chmod 600 "$CLUSTER_KUBECONFIG_DIR"/*.conf

# --- etcd and containerd -------------------------------------------------------------------------
P=$CLUSTER_PKI
start_daemon etcd etcd --name "$CLUSTER_NODE" --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster "$CLUSTER_NODE=http://127.0.0.1:2380" \
  --cert-file "$P/etcd/server.crt" --key-file "$P/etcd/server.key" \
  --trusted-ca-file "$P/etcd/ca.crt" --client-cert-auth

C=$CLUSTER_DIR/containerd
cat >"$C/config.toml" <<EOF
# The cluster's own containerd: never the Docker engine's (own root, state, socket, runc root).
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$CLUSTER_CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(cat "$CLUSTER_BIN/pause.ref")"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails in runc create.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  # The sandboxes' network namespaces under its own state, not in the host's /run/netns.
  netns_mounts_under_state_dir = true

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$C/runc"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DIR/cni/net.d"
    max_conf_num = 1
EOF
start_daemon containerd containerd --config "$C/config.toml"

# --- Control plane ---------------------------------------------------------------------------------
start_daemon kube-apiserver "$CLUSTER_BIN/kube-apiserver" \
  --advertise-address="$CLUSTER_NODE_IP" --bind-address=127.0.0.1 --secure-port="$CLUSTER_APISERVER_PORT" \
  --etcd-servers=https://127.0.0.1:2379 --etcd-cafile="$P/etcd/ca.crt" \
  --etcd-certfile="$P/apiserver-etcd-client.crt" --etcd-keyfile="$P/apiserver-etcd-client.key" \
  --client-ca-file="$P/ca.crt" --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$CLUSTER_SERVICE_SUBNET" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true --profiling=false

K=$CLUSTER_KUBECONFIG_DIR

# --- The node ------------------------------------------------------------------------------------
ctr_() { ctr --address "$CLUSTER_CONTAINERD_SOCK" "$@"; }
wait_for "containerd to answer on $CLUSTER_CONTAINERD_SOCK" 20 ctr_ version
ctr_ -n k8s.io images import "$CLUSTER_BIN/pause.tar" >>"$CLUSTER_LOG/images.log" 2>&1 ||
  die "importing the sandbox image failed: $(tail -n 3 "$CLUSTER_LOG/images.log")"

cat >"$CLUSTER_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# It refuses loopback: it listens on the cluster's bridge; its health port stays on loopback.
address: $CLUSTER_NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $P/ca.crt }
authorization: { mode: Webhook }
containerRuntimeEndpoint: unix://$CLUSTER_CONTAINERD_SOCK
# No systemd as PID 1 and cgroup v1 (hybrid) here.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
# Else it adds DROP rules to the host's INPUT and OUTPUT chains.
makeIPTablesUtilChains: false
podLogsDir: $CLUSTER_DIR/pod-logs
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
# A test node on a shared disk: never evict or collect images (imported ones cannot be pulled back).
evictionHard: { memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
start_daemon kubelet "$CLUSTER_BIN/kubelet" --config="$CLUSTER_DIR/kubelet.yaml" \
  --kubeconfig="$K/kubelet.conf" --hostname-override="$CLUSTER_NODE" --node-ip="$CLUSTER_NODE_IP" \
  --root-dir="$CLUSTER_KUBELET_ROOT" --cert-dir="$CLUSTER_DIR/kubelet-pki"

# --- Ready ---------------------------------------------------------------------------------------
readyz() { curl -sf --max-time 2 --cacert "$P/ca.crt" "https://127.0.0.1:$CLUSTER_APISERVER_PORT/readyz"; }
wait_for "the API server on 127.0.0.1:$CLUSTER_APISERVER_PORT (log: $CLUSTER_LOG/kube-apiserver.log)" 60 readyz
for daemon in etcd containerd kube-apiserver kubelet; do alive "$daemon"; done
# Started once the API server is ready: the controller manager exits at once when it may not yet
# read the authentication ConfigMap, before the API server has bootstrapped its RBAC roles.
start_daemon kube-controller-manager "$CLUSTER_BIN/kube-controller-manager" \
  --kubeconfig="$K/controller-manager.conf" --authentication-kubeconfig="$K/controller-manager.conf" \
  --authorization-kubeconfig="$K/controller-manager.conf" --bind-address=127.0.0.1 \
  --client-ca-file="$P/ca.crt" --root-ca-file="$P/ca.crt" --service-account-private-key-file="$P/sa.key" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --use-service-account-credentials=true --leader-elect=false --profiling=false \
  --enable-hostpath-provisioner=true
start_daemon kube-scheduler "$CLUSTER_BIN/kube-scheduler" \
  --kubeconfig="$K/scheduler.conf" --authentication-kubeconfig="$K/scheduler.conf" \
  --authorization-kubeconfig="$K/scheduler.conf" --bind-address=127.0.0.1 --leader-elect=false --profiling=false

# What kubeadm init would add: admin.conf's group gets cluster-admin, and the API server's
# client certificate may use the kubelet's API (logs, exec, port-forward).
kubectl --kubeconfig "$K/super-admin.conf" apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "kubeadm:cluster-admins" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "kubeadm:cluster-admins" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: kube-apiserver-kubelet-client }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:kubelet-api-admin" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: kube-apiserver-kubelet-client }]
---
# Claims need a storage class: the controller manager's hostPath provisioner (one node only) makes
# a directory under $CLUSTER_HOST_HOSTPATH_PV per claim and deletes it with the claim.
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-hostpath
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF

wait_for "node $CLUSTER_NODE to be Ready (log: $CLUSTER_LOG/kubelet.log)" 90 node_ready
# Pods are admitted only once their namespace's default ServiceAccount exists.
wait_for "the default ServiceAccount in namespace default" 60 \
  kubectl --kubeconfig "$CLUSTER_KUBECONFIG" get serviceaccount default -n default
for daemon in "${CLUSTER_DAEMONS[@]}"; do alive "$daemon"; done

touch "$CLUSTER_DIR/.up"
up_ok=1
cluster_say "up in $(elapsed) s: node $CLUSTER_NODE Ready, API server https://127.0.0.1:$CLUSTER_APISERVER_PORT"
echo "$CLUSTER_KUBECONFIG"
