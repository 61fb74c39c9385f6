#!/usr/bin/env bash
# docker-engine.sh — make sure a reachable Docker engine exists.
#
# What: if `docker info` already answers (local socket, or whatever DOCKER_HOST
# points at), this exits 0 at once and changes nothing. Otherwise, on a Debian
# machine where we are root, it installs the `docker.io` package when `dockerd`
# (or the `docker` client) is missing, starts `dockerd` in the background,
# detached from the calling shell, and waits until `docker info` answers.
#
# Why: the Pulumi program, the image build (scripts/build-services.sh --images)
# and the container tests all need an engine; machines here come without one
# and without systemd, so the project brings its own up the same way everywhere
# (developer shells, CI). The daemon is deliberately left running after the
# caller exits; running this script again is a fast no-op.
#
# Safe to run concurrently and repeatedly: a lock serialises callers, and a
# daemon that is already running (but still starting up) is waited for rather
# than started twice.
#
# Env vars read:
#   DOCKER_HOST                 if set, only that engine is checked; nothing is
#                               installed or started when it is not local.
#   DOCKERD_LOG                 daemon log file
#                               (default /var/log/inference-runtime-dockerd.log)
#   DOCKER_WAIT_SECONDS         how long to wait for the engine to answer (default 60)
#   ENSURE_DOCKER_NO_INSTALL=1  never run apt-get; fail instead if dockerd is missing.
#   DOCKERD_EXTRA_ARGS          extra arguments appended to the dockerd command line.
set -euo pipefail

LOG_FILE="${DOCKERD_LOG:-/var/log/inference-runtime-dockerd.log}"
WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-60}"
LOCK_FILE="/run/inference-runtime-ensure-docker.lock"

say() { echo "docker-engine: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# $1: seconds to allow `docker info` (a stopped or wedged daemon accepts the
# connection and never answers).
engine_up() {
  command -v docker >/dev/null 2>&1 && timeout "${1:-15}" docker info >/dev/null 2>&1
}

# 1. Fast path: an engine already answers.
if engine_up; then
  exit 0
fi

# A DOCKER_HOST pointing somewhere other than the local default socket is the
# caller's engine: we cannot start it, so report what is wrong.
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ] \
   && [ "${DOCKER_HOST}" != "unix:///run/docker.sock" ]; then
  die "DOCKER_HOST=${DOCKER_HOST} is set but \`docker info\` does not answer there (is that engine running and reachable?)"
fi

[ "$(id -u)" -eq 0 ] || die "no Docker engine answers and we are not root, so dockerd cannot be installed or started here; start dockerd (or set DOCKER_HOST) and retry"

# Serialise concurrent callers (e.g. several test files starting at once), so
# only one of them ever launches dockerd.
mkdir -p "$(dirname "$LOCK_FILE")"
exec 9>"$LOCK_FILE"
if command -v flock >/dev/null 2>&1; then
  flock -w $((WAIT_SECONDS + 600)) 9 || die "timed out waiting for another docker-engine.sh run to finish"
fi

# Another caller may have brought the engine up while we waited for the lock.
if engine_up; then
  exit 0
fi

# 2. Install the engine (and client) when missing.
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  [ "${ENSURE_DOCKER_NO_INSTALL:-0}" = "1" ] && die "dockerd/docker not installed and ENSURE_DOCKER_NO_INSTALL=1"
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and apt-get is not available (not a Debian machine?); install a Docker engine by hand"
  say "installing docker.io with apt-get (dockerd or docker client missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null \
    || die "apt-get install docker.io failed"
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd still not on PATH"
fi

# 3. Netfilter backend. dockerd programs NAT/filter rules with the `iptables`
# command (bridge networks: DNAT for published ports, MASQUERADE for egress,
# the embedded DNS redirect at 127.0.0.11 inside each container on a
# user-defined network). Debian points `iptables` at the nf_tables flavour
# (iptables-nft) by default; on kernels built without nf_tables, or where the
# nft flavour cannot create its tables, dockerd then fails to create its
# networks ("failed to create NAT chain DOCKER"). When the nft flavour does not
# work but the legacy x_tables one does, switch the Debian alternatives to
# iptables-legacy. Nothing is changed when the current choice works.
iptables_works() { iptables -t nat -S >/dev/null 2>&1 && iptables -t filter -S >/dev/null 2>&1; }
if command -v iptables >/dev/null 2>&1 && ! iptables_works; then
  if command -v iptables-legacy >/dev/null 2>&1 && iptables-legacy -t nat -S >/dev/null 2>&1 \
     && command -v update-alternatives >/dev/null 2>&1; then
    say "iptables (nf_tables backend) does not work on this kernel; switching to iptables-legacy"
    update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
    if command -v ip6tables-legacy >/dev/null 2>&1; then
      update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null || true
    fi
  else
    say "warning: iptables does not work here; dockerd may fail to set up networks"
  fi
fi

# 4. Start dockerd unless one is already running (e.g. still starting up).
dockerd_running() {
  if [ -s /var/run/docker.pid ]; then
    local pid
    pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
    if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
      return 0
    fi
  fi
  # No pgrep on minimal Debian (procps is optional): scan /proc ourselves.
  local c
  for c in /proc/[0-9]*/comm; do
    [ "$(cat "$c" 2>/dev/null)" = dockerd ] && return 0
  done
  return 1
}

if dockerd_running; then
  say "dockerd is already running but not answering yet; waiting for it"
else
  mkdir -p "$(dirname "$LOG_FILE")"
  say "starting dockerd (log: $LOG_FILE)"
  # setsid + nohup: new session, no controlling terminal, immune to the
  # caller's SIGHUP, so the daemon outlives the shell or CI step that ran us.
  # stdin from /dev/null and fd 9 (our lock) closed so the daemon holds nothing
  # of ours open.
  # shellcheck disable=SC2086
  setsid nohup dockerd ${DOCKERD_EXTRA_ARGS:-} </dev/null >>"$LOG_FILE" 2>&1 9>&- &
  disown || true
fi

# 5. Wait (bounded) for the engine to answer.
start=$(date +%s)
deadline=$(( start + WAIT_SECONDS ))
until engine_up 5; do
  now=$(date +%s)
  # Give the freshly forked process a moment to exec dockerd before judging.
  if [ $(( now - start )) -ge 3 ] && ! dockerd_running; then
    die "dockerd exited during start-up; last lines of $LOG_FILE:
$(tail -n 20 "$LOG_FILE" 2>/dev/null || true)"
  fi
  if [ "$now" -ge "$deadline" ]; then
    die "dockerd is running but \`docker info\` did not answer within ${WAIT_SECONDS}s; see $LOG_FILE"
  fi
  sleep 0.5
done
say "Docker engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown))"
