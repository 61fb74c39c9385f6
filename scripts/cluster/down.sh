#!/usr/bin/env bash
# `npm run cluster:down`: removes every trace of the local cluster scripts/cluster/up.sh made: its
# processes (daemons, containerd shims, the pods' containers), mounts under its directory and
# under /var/lib/kubelet, the pods' network namespaces, the bridge, the iptables rule, the
# kubelet's cgroups, what the kubelet and containerd's CNI left in /var/lib/kubelet,
# /var/lib/cni, /run/netns and /var/log/containers, and finally its state directory.
#
# Why by hand: the processes run detached without a service manager, and a cluster torn down
# half-way (a killed up.sh, a crash) must be removable too, so every step works from what is found
# on the host and not only from pid files. Never touches the Docker engine, its containerd or its
# networks: processes are matched by the cluster's own binaries and directory, containers through
# the cluster's own containerd socket.
#
# Idempotent: succeeds, and does nothing, when no cluster is there. Progress on stderr.
set -euo pipefail
# shellcheck source=scripts/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(uname -s)" = Linux ] || { cluster_say "not Linux: no local cluster here"; exit 0; }
[ "$(id -u)" -eq 0 ] || { cluster_say "ERROR: removing the local cluster needs root: run it with sudo or as root"; exit 1; }

cluster_lock
started_at=$(date +%s.%N)
problems=()
if [ ! -d "$CLUSTER_DIR" ] && ! ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1 && [ -z "$(cluster_processes)" ]; then
  found="no local cluster was up"
else
  found="nothing of the cluster is left"
fi

# stop PID...: SIGTERM, up to 10 s for them to exit, then SIGKILL.
stop() {
  local pid i alive
  [ "$#" -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for i in $(seq 100); do
    alive=()
    for pid in "$@"; do [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && alive+=("$pid"); done
    [ "${#alive[@]}" -eq 0 ] && return 0
    [ "$i" -eq 100 ] || sleep 0.1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
}
stop_daemons() {
  local pids=() daemon pid
  for daemon in "$@"; do pid=$(cluster_pid "$daemon") && pids+=("$pid"); done
  stop "${pids[@]}"
}

# The processes of the pods' containers: everything in the kubelet's pod cgroups.
pod_processes() {
  local procs=(/sys/fs/cgroup/*/kubepods/**/cgroup.procs)
  [ "${#procs[@]}" -eq 0 ] || cat "${procs[@]}" 2>/dev/null | sort -u
}

shopt -s globstar nullglob

# 1. The kubelet first (else it restarts what is stopped next), then the control plane.
stop_daemons kubelet
stop_daemons kube-scheduler kube-controller-manager kube-apiserver

# 2. The pods' containers, through the cluster's own containerd while it runs: killing the tasks
# and deleting them lets each shim exit and remove its socket.
ctr_() { timeout 20 ctr --address "$CLUSTER_CONTAINERD_SOCK" -n k8s.io "$@"; }
containers=()
if cluster_pid containerd >/dev/null && [ -S "$CLUSTER_CONTAINERD_SOCK" ]; then
  mapfile -t containers < <(ctr_ containers ls -q 2>/dev/null || true)
  mapfile -t tasks < <(ctr_ tasks ls -q 2>/dev/null || true)
  for id in "${tasks[@]}"; do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  # shellcheck disable=SC2046
  stop $(pod_processes)
  for id in "${tasks[@]}"; do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
  for id in "${containers[@]}"; do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
fi
# containerd keeps the sandboxes' network namespaces under its state directory; any in the host's
# /run/netns made since up.sh ran (by an older containerd configuration) go too.
netns=()
if [ -f "$CLUSTER_RUN/netns-before" ]; then
  for ns in "$CLUSTER_HOST_NETNS"/cni-*; do
    grep -qxF "$ns" "$CLUSTER_RUN/netns-before" || netns+=("$ns")
  done
fi

# The shims still running (of containers containerd no longer knew, or with containerd gone).
shims=()
for cmdline in /proc/[0-9]*/cmdline; do
  args=$({ tr '\0' ' ' <"$cmdline"; } 2>/dev/null) || continue
  case "$args" in
    *containerd-shim*"-address $CLUSTER_CONTAINERD_SOCK"*)
      id=$(sed -n 's/.* -id \([^ ]*\).*/\1/p' <<<"$args")
      [ -z "$id" ] || shims+=("$id")
      ;;
  esac
done

# 3. containerd and etcd, then anything of the cluster's still running (daemons whose pid file was
# lost, shims, pod processes). A shim killed here leaves its socket behind: containerd names it
# after its own address, the namespace and the container.
stop_daemons containerd etcd
# shellcheck disable=SC2046
stop $(cluster_processes) $(pod_processes)
leftover=$(cluster_processes)
[ -z "$leftover" ] || problems+=("processes still running: $leftover")
for id in "${containers[@]}" "${shims[@]}"; do
  rm -f "/run/containerd/s/$(printf '%s' "$CLUSTER_CONTAINERD_SOCK/k8s.io/$id" | sha256sum | cut -d' ' -f1)"
done

# 4. Mounts: the containers' root filesystems and sandbox shm (under the state directory), the
# pods' volumes (under the kubelet's directories), the sandboxes' network namespaces.
unmount_all() {
  local m
  for m in "$@"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || problems+=("cannot unmount $m")
  done
}
mapfile -t mounts < <(cluster_mounts_under "$CLUSTER_DIR"; cluster_mounts_under "$CLUSTER_HOST_KUBELET")
unmount_all "${mounts[@]}"
for ns in "${netns[@]}"; do
  [ -e "$ns" ] || continue
  mapfile -t mounts < <(cluster_mounts_under "$ns")
  unmount_all "${mounts[@]}"
  rm -f "$ns"
done

# 5. Network: the bridge (the pods' veths went with their namespaces) and the FORWARD rule.
if ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1; then
  ip link del "$CLUSTER_BRIDGE" || problems+=("cannot delete the bridge $CLUSTER_BRIDGE")
fi
for chain in DOCKER-USER FORWARD; do
  while iptables -C "$chain" -i "$CLUSTER_BRIDGE" -o "$CLUSTER_BRIDGE" -j ACCEPT 2>/dev/null; do
    iptables -D "$chain" -i "$CLUSTER_BRIDGE" -o "$CLUSTER_BRIDGE" -j ACCEPT || break
  done
done

# 6. The kubelet's pod cgroups, deepest first (empty now that their processes are gone).
for pods_cgroup in /sys/fs/cgroup/*/kubepods; do
  find "$pods_cgroup" -depth -type d -exec rmdir {} + 2>/dev/null || problems+=("cannot remove the cgroups under $pods_cgroup")
done

# 7. Host directories the kubelet and containerd's CNI write whatever they are told: the files
# of this cluster, and the directories themselves when they did not exist before up.sh.
existed_before() { [ -f "$CLUSTER_RUN/host-dirs-before" ] && grep -qxF "$1" "$CLUSTER_RUN/host-dirs-before"; }
remove_if_new() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$CLUSTER_RUN/host-dirs-before" ] && ! existed_before "$dir"; then
    if [ -z "$(cluster_mounts_under "$dir")" ]; then rm -rf --one-file-system "$dir"; fi
  else
    rmdir "$dir" 2>/dev/null || true
  fi
}
rm -rf "$CLUSTER_HOST_KUBELET/device-plugins"
remove_if_new "$CLUSTER_HOST_KUBELET"
# CNI's cached results, of the cluster's network and of containerd's loopback one: each names its
# sandbox's network namespace, which lived in the state directory.
for result in "$CLUSTER_HOST_CNI"/results/*; do
  if [[ $(basename "$result") == "$CLUSTER_CNI_NETWORK"-* ]] || grep -qF "\"$CLUSTER_DIR/" "$result" 2>/dev/null; then
    rm -f "$result"
  fi
done
rmdir "$CLUSTER_HOST_CNI/results" 2>/dev/null || true
existed_before "$CLUSTER_HOST_CNI" || rmdir "$CLUSTER_HOST_CNI" 2>/dev/null || true
existed_before "$CLUSTER_HOST_NETNS" || rmdir "$CLUSTER_HOST_NETNS" 2>/dev/null || true
for link in "$CLUSTER_HOST_CONTAINER_LOGS"/*; do
  case "$(readlink "$link")" in "$CLUSTER_DIR"/*) rm -f "$link" ;; esac
done
existed_before "$CLUSTER_HOST_CONTAINER_LOGS" || rmdir "$CLUSTER_HOST_CONTAINER_LOGS" 2>/dev/null || true
# Volumes the provisioner made for claims still there (it removes those of deleted claims itself).
for volume in "$CLUSTER_HOST_HOSTPATH_PV"/*; do
  [ -e "$volume" ] || continue
  if [ -f "$CLUSTER_RUN/hostpath-before" ] && ! grep -qxF "$volume" "$CLUSTER_RUN/hostpath-before"; then rm -rf --one-file-system "$volume"; fi
done
remove_if_new "$CLUSTER_HOST_HOSTPATH_PV"

# 8. The state directory, only once nothing is mounted below it any more.
if [ -d "$CLUSTER_DIR" ]; then
  if [ -n "$(cluster_mounts_under "$CLUSTER_DIR")" ]; then
    problems+=("mounts remain under $CLUSTER_DIR: $(cluster_mounts_under "$CLUSTER_DIR" | tr '\n' ' ')")
  else
    rm -rf --one-file-system "$CLUSTER_DIR"
  fi
fi

if [ "${#problems[@]}" -gt 0 ]; then
  for p in "${problems[@]}"; do cluster_say "ERROR: $p"; done
  exit 1
fi
cluster_say "down in $(awk -v s="$started_at" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s: $found"
