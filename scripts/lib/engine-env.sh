# shellcheck shell=bash
# Sourced by the wrappers: the one Docker engine that they, the program and Pulumi's docker provider
# all use.
#
# The provider knows only its `docker:host` config, then DOCKER_HOST, then the default socket; the
# docker CLI also knows contexts. So the engine is the stack's `docker:host`, else DOCKER_HOST, else
# the docker CLI's current context when it is not "default" (DOCKER_CONTEXT, or currentContext in
# the docker config), else the local socket (unix:///var/run/docker.sock, or where that is absent
# the provider's own fallbacks, Docker Desktop's per-user sockets). It is exported as DOCKER_HOST for
# everything the wrappers start, so the provider follows a context too. TLS: the stack's
# `docker:certPath`, or its `docker:caMaterial`/`certMaterial`/`keyMaterial` written as
# ca.pem/cert.pem/key.pem to a private temporary directory (removed on exit), or a context's TLS
# files, become DOCKER_CERT_PATH with DOCKER_TLS_VERIFY=1.
#
#   engine_env_for_stack STACK [--create]  reads the stack's config once (with --create, creates the
#                                          stack in the current backend when it cannot be read: what
#                                          `up` and `preview` do on first use), then engine_env
#   engine_env [HOST]                      HOST (a stack's docker:host) or the rest of the order
#   run_last CMD...                        runs CMD as the last step: exec, or, when a temporary
#                                          directory must be removed afterwards, a child

ENGINE_TLS_DIR=
engine_say() { printf '%s\n' "${WRAPPER_NAME:-inference-runtime}: $*" >&2; }

# docker_context: the docker CLI's current context (empty when none is named).
docker_context() {
  if [ -n "${DOCKER_CONTEXT:-}" ]; then
    printf '%s\n' "$DOCKER_CONTEXT"
    return
  fi
  local config=${DOCKER_CONFIG:-$HOME/.docker}/config.json
  [ -f "$config" ] || return 0
  sed -n 's/.*"currentContext"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$config" | head -n1
}

# The provider's local socket (host/engineTarget.ts has the same order).
engine_local_socket() {
  local rel
  if [ ! -e /var/run/docker.sock ]; then
    for rel in .docker/run/docker.sock .docker/desktop/docker.sock; do
      if [ -e "$HOME/$rel" ]; then
        echo "unix://$HOME/$rel"
        return
      fi
    done
  fi
  echo unix:///var/run/docker.sock
}

engine_env() {
  local host=${1:-} ctx info skip tls
  if [ -z "$host" ] && [ -n "${DOCKER_HOST:-}" ]; then
    host=$DOCKER_HOST
  fi
  if [ -z "$host" ]; then
    ctx=$(docker_context)
    if [ -n "$ctx" ] && [ "$ctx" != default ]; then
      info=$(docker context inspect "$ctx" --format '{{.Endpoints.docker.Host}}|{{.Endpoints.docker.SkipTLSVerify}}|{{.Storage.TLSPath}}') || {
        engine_say "ERROR: docker context \"$ctx\" (the docker CLI's current context) cannot be read: \`docker context inspect $ctx\`"
        return 1
      }
      IFS='|' read -r host skip tls <<<"$info"
      [ -n "$host" ] || { engine_say "ERROR: docker context \"$ctx\" has no docker endpoint"; return 1; }
      if [ -z "${DOCKER_CERT_PATH:-}" ] && [ -f "$tls/docker/ca.pem" ]; then
        export DOCKER_CERT_PATH=$tls/docker
        if [ "$skip" = true ]; then export DOCKER_TLS=1; else export DOCKER_TLS_VERIFY=1; fi
      fi
      engine_say "Docker engine: $host, of the docker CLI's context \"$ctx\"; exported as DOCKER_HOST so that Pulumi's docker provider uses it too"
    fi
  fi
  export DOCKER_HOST=${host:-$(engine_local_socket)}
}

# The stack's docker:* settings from `pulumi config --json` on stdin: prints the host, the
# certPath, "material" when TLS material is set, and "hidden" when any of them is a secret not
# shown; with a directory as $1, writes the material there as ca.pem, cert.pem and key.pem instead.
# shellcheck disable=SC2016 # a node program
ENGINE_CONFIG_JS='
  const fs = require("fs");
  const cfg = JSON.parse(fs.readFileSync(0, "utf8") || "{}");
  const files = { caMaterial: "ca.pem", certMaterial: "cert.pem", keyMaterial: "key.pem" };
  const set = (k) => cfg[`docker:${k}`] !== undefined;
  const value = (k) => (set(k) && cfg[`docker:${k}`].value !== undefined ? String(cfg[`docker:${k}`].value) : "");
  const material = Object.keys(files).filter(set);
  if (process.argv[1]) {
    for (const k of material) fs.writeFileSync(`${process.argv[1]}/${files[k]}`, value(k), { mode: 0o600 });
  } else {
    const hidden = ["host", "certPath", ...material].some((k) => set(k) && cfg[`docker:${k}`].value === undefined);
    console.log([value("host"), value("certPath"), material.length ? "material" : "", hidden ? "hidden" : ""].join("\n"));
  }
'

# engine_fields OUTPUT: the lines ENGINE_CONFIG_JS printed into host, cert, material and hidden.
engine_fields() {
  local lines
  mapfile -t lines <<<"$1"
  host=${lines[0]:-} cert=${lines[1]:-} material=${lines[2]:-} hidden=${lines[3]:-}
}

engine_env_for_stack() {
  local stack=$1 create=${2:-} json err host='' cert='' material='' hidden='' out
  err=$(mktemp)
  # Without --show-secrets: the CLI then decrypts nothing (a passphrase costs a key derivation).
  if ! json=$(pulumi config --stack "$stack" --json --non-interactive 2>"$err"); then
    if [ "$create" != --create ]; then
      cat "$err" >&2
      rm -f "$err"
      return 1
    fi
    pulumi stack select --create "$stack" --non-interactive >&2
    json=$(pulumi config --stack "$stack" --json --non-interactive 2>"$err") || {
      cat "$err" >&2
      rm -f "$err"
      return 1
    }
  fi
  rm -f "$err"
  # Most stacks set no docker:* key at all: no node then.
  if [[ $json == *'"docker:'* ]]; then
    out=$(node -e "$ENGINE_CONFIG_JS" <<<"$json")
    engine_fields "$out"
    if [ -n "$hidden" ]; then
      # Some of them are secrets: read once more, shown.
      json=$(pulumi config --stack "$stack" --json --show-secrets --non-interactive)
      out=$(node -e "$ENGINE_CONFIG_JS" <<<"$json")
      engine_fields "$out"
    fi
    if [ -n "$cert" ]; then
      export DOCKER_CERT_PATH=$cert DOCKER_TLS_VERIFY=1
    elif [ -n "$material" ]; then
      ENGINE_TLS_DIR=$(mktemp -d)
      chmod 0700 "$ENGINE_TLS_DIR"
      trap 'rm -rf "$ENGINE_TLS_DIR"' EXIT
      node -e "$ENGINE_CONFIG_JS" "$ENGINE_TLS_DIR" <<<"$json"
      export DOCKER_CERT_PATH=$ENGINE_TLS_DIR DOCKER_TLS_VERIFY=1
    fi
  fi
  engine_env "$host"
}

run_last() {
  if [ -z "$ENGINE_TLS_DIR" ]; then exec "$@"; fi
  local rc=0
  "$@" || rc=$?
  exit "$rc"
}
