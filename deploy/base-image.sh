#!/usr/bin/env bash
# base-image.sh — make the local Node.js base image the service images build FROM.
#
# What: builds `inference-runtime/node-base:20` (or $BASE_IMAGE) with
# `docker import` from a root filesystem assembled on this machine:
#   - this machine's own `node` binary (as /usr/local/bin/node) plus every shared
#     library `ldd` lists for it and the dynamic loader;
#   - /etc/passwd and /etc/group with root and a `node` user/group (uid/gid 1000,
#     home /home/node), /tmp with mode 1777;
#   - /etc/nsswitch.conf ("hosts: files dns"), /etc/hosts, /etc/resolv.conf
#     placeholders (Docker bind-mounts the real ones), so getaddrinfo resolves
#     container names on user-defined networks through Docker's embedded DNS;
#   - the CA bundle from /etc/ssl/certs when present (NODE_EXTRA_CA_CERTS points
#     at it, so Node also trusts any CA this machine was configured with).
# The image has NO shell: Dockerfiles built on it can use COPY/ENV/USER/CMD/
# ENTRYPOINT/HEALTHCHECK in exec form (["CMD","node","-e","..."]), not RUN or
# shell-form commands.
#
# Why: no image can be pulled from any registry here, so the project makes its
# own base from what the machine already has. The image is labelled with the
# node version and the recipe version; it is rebuilt when either changes
# (e.g. the machine's node was upgraded), otherwise this script is a fast no-op.
#
# Env vars read:
#   BASE_IMAGE   tag to build (default inference-runtime/node-base:20)
#   NODE_BIN     node binary to package (default: `node` on PATH)
#   FORCE=1      rebuild even if an up-to-date image exists
# Needs a running engine: run tools/offline/docker-engine.sh first (build-services.sh
# --images does).
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-inference-runtime/node-base:20}"
# Bump when the root filesystem recipe below changes, to force a rebuild.
RECIPE_VERSION=1
LABEL_ROLE="io.inference-runtime.role=image"
LABEL_NODE="io.inference-runtime.node-version"
LABEL_RECIPE="io.inference-runtime.base-recipe"

say() { echo "base-image: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker client not found; run tools/offline/docker-engine.sh first"
NODE_BIN="${NODE_BIN:-$(command -v node || true)}"
[ -n "$NODE_BIN" ] || die "node not found on PATH (set NODE_BIN)"
NODE_BIN="$(readlink -f "$NODE_BIN")"
[ -x "$NODE_BIN" ] || die "NODE_BIN=$NODE_BIN is not executable"
NODE_VERSION="$("$NODE_BIN" -p process.version)"

current_labels() {
  docker image inspect --format \
    "{{index .Config.Labels \"$LABEL_NODE\"}} {{index .Config.Labels \"$LABEL_RECIPE\"}}" \
    "$BASE_IMAGE" 2>/dev/null || true
}

up_to_date() { [ "$(current_labels)" = "$NODE_VERSION $RECIPE_VERSION" ]; }

if [ "${FORCE:-0}" != "1" ] && up_to_date; then
  exit 0
fi

docker info >/dev/null 2>&1 || die "no Docker engine answers; run tools/offline/docker-engine.sh first"

# Serialise concurrent builders of the same tag.
# One lock file for every tag: a file per tag would pile up in /tmp (tests make tags of their own).
lock="/tmp/inference-runtime-base-image.lock"
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then flock -w 300 9 || die "timed out waiting for another build of $BASE_IMAGE"; fi
if [ "${FORCE:-0}" != "1" ] && up_to_date; then exit 0; fi

old_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)"
say "building $BASE_IMAGE from $NODE_BIN ($NODE_VERSION)${old_id:+, replacing $old_id}"

root="$(mktemp -d /tmp/inference-runtime-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{usr/local/bin,usr/bin,etc/ssl,tmp,root,home/node,dev,proc,sys,run,var/tmp}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"

# node itself, plus /usr/bin/node for anything that expects it there.
cp -L "$NODE_BIN" "$root/usr/local/bin/node"
chmod 755 "$root/usr/local/bin/node"
ln -s ../local/bin/node "$root/usr/bin/node"

# Shared libraries and the loader, at the paths ldd reports (the binary's
# PT_INTERP path and the loader's search path must both resolve). Symlinks are
# dereferenced so the soname files are real files in the image.
copy_lib() {
  local src="$1"
  [ -e "$src" ] || die "library $src listed by ldd does not exist"
  mkdir -p "$root$(dirname "$src")"
  cp -L "$src" "$root$src"
}
mapfile -t libs < <(ldd "$NODE_BIN" | awk '
  $2 == "=>" && $3 ~ /^\// { print $3; next }
  $1 ~ /^\// { print $1 }')
[ "${#libs[@]}" -gt 0 ] || die "ldd listed no libraries for $NODE_BIN (static binary?)"
for lib in "${libs[@]}"; do copy_lib "$lib"; done
# Since glibc 2.34 the files/dns NSS modules live in libc itself; older glibc
# loads them with dlopen, which ldd cannot see: copy them when they exist.
libdir="$(dirname "$(printf '%s\n' "${libs[@]}" | grep -m1 '/libc\.so\.')")"
for extra in libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
  [ -e "$libdir/$extra" ] && copy_lib "$libdir/$extra"
done

# Users, groups, name resolution.
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
node:x:1000:1000:node:/home/node:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
networks: files
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"
echo "inference-runtime-node-base" >"$root/etc/hostname"

changes=(
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin'
  --change "ENV NODE_VERSION=$NODE_VERSION"
  --change 'WORKDIR /'
  --change 'CMD ["node"]'
  --change "LABEL $LABEL_ROLE"
  --change "LABEL $LABEL_NODE=$NODE_VERSION"
  --change "LABEL $LABEL_RECIPE=$RECIPE_VERSION"
)

# CA certificates: the bundle (and the hashed directory, dereferenced) so both
# OpenSSL-style lookups and NODE_EXTRA_CA_CERTS work.
if [ -d /etc/ssl/certs ]; then
  cp -rL /etc/ssl/certs "$root/etc/ssl/certs" 2>/dev/null || cp -r /etc/ssl/certs "$root/etc/ssl/certs"
  if [ -f "$root/etc/ssl/certs/ca-certificates.crt" ]; then
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
  fi
fi

chown -R 1000:1000 "$root/home/node"

tar --numeric-owner -C "$root" -cf - . \
  | docker import "${changes[@]}" --message "node $NODE_VERSION base (recipe $RECIPE_VERSION)" - "$BASE_IMAGE" >/dev/null

up_to_date || die "imported $BASE_IMAGE but its labels do not match ($(current_labels))"

# Smoke test: the loader, libraries and node start inside the image.
got="$(docker run --rm --network none "$BASE_IMAGE" node -p process.version)" \
  || die "node does not start inside $BASE_IMAGE"
[ "$got" = "$NODE_VERSION" ] || die "node inside $BASE_IMAGE reports $got, expected $NODE_VERSION"

# Drop the image this one replaced, unless something still uses it.
new_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
  docker image rm "$old_id" >/dev/null 2>&1 || true
fi
say "built $BASE_IMAGE ($NODE_VERSION, $(docker image inspect --format '{{.Size}}' "$BASE_IMAGE") bytes)"
