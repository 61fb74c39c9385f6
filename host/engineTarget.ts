// Which Docker engine everything talks to: the docker provider, and every docker CLI call the
// program, its commands and the gates make. One resolution, in the provider's own order, so the
// two can never disagree: `docker:host`, else DOCKER_HOST, else the local socket; with the
// provider's TLS settings (`docker:certPath`, or `docker:caMaterial`/`certMaterial`/`keyMaterial`,
// or their DOCKER_* variables). The provider does not follow docker contexts: when the docker
// CLI's current context names another engine, that is reported instead of silently ignored.
// No Pulumi import: the program passes its `docker:*` settings in.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

/** TLS client material: a folder holding ca.pem, cert.pem and key.pem, or the three PEM texts. */
export type EngineTls = { certPath: string } | { caPem: string; certPem: string; keyPem: string };

export interface EngineTarget {
  /** The address the docker CLI and the docker provider are pointed at. */
  host: string;
  /** Where that address came from, for messages. */
  source: "docker:host" | "DOCKER_HOST" | "default socket";
  tls?: EngineTls;
  /** The docker CLI's current context when it names an engine other than `host`. */
  ignoredContext?: { name: string; endpoint: string };
}

/** The docker provider's settings that name the engine (`docker:host`, ...). */
export interface DockerSettings {
  host?: string;
  certPath?: string;
  caMaterial?: string;
  certMaterial?: string;
  keyMaterial?: string;
}

/** The engine the docker provider will use, given its settings and the environment. */
export function engineTarget(s: DockerSettings, env: NodeJS.ProcessEnv = process.env): EngineTarget {
  const tls = tlsOf(s, env);
  const withTls = (t: EngineTarget): EngineTarget => (tls ? { ...t, tls } : t);
  if (s.host) return withTls({ host: s.host, source: "docker:host" });
  if (env.DOCKER_HOST) return withTls({ host: env.DOCKER_HOST, source: "DOCKER_HOST" });
  const target = withTls({ host: localSocket(env), source: "default socket" });
  const context = currentContext(env);
  if (context) {
    const endpoint = contextEndpoint(context, env);
    if (endpoint && endpoint !== target.host) target.ignoredContext = { name: context, endpoint };
  }
  return target;
}

// The provider's fallback when the system socket is absent: Docker Desktop's per-user sockets.
function localSocket(env: NodeJS.ProcessEnv): string {
  if (fs.existsSync(DEFAULT_SOCKET.slice("unix://".length))) return DEFAULT_SOCKET;
  const home = env.HOME ?? os.homedir();
  for (const rel of [".docker/run/docker.sock", ".docker/desktop/docker.sock"]) {
    if (fs.existsSync(path.join(home, rel))) return `unix://${path.join(home, rel)}`;
  }
  return DEFAULT_SOCKET;
}

function tlsOf(s: DockerSettings, env: NodeJS.ProcessEnv): EngineTls | undefined {
  const ca = s.caMaterial ?? env.DOCKER_CA_MATERIAL;
  const cert = s.certMaterial ?? env.DOCKER_CERT_MATERIAL;
  const key = s.keyMaterial ?? env.DOCKER_KEY_MATERIAL;
  if (ca && cert && key) return { caPem: ca, certPem: cert, keyPem: key };
  const certPath = s.certPath ?? env.DOCKER_CERT_PATH;
  return certPath ? { certPath } : undefined;
}

/** The docker CLI's current context, when it is not "default" (DOCKER_CONTEXT, else its config). */
function currentContext(env: NodeJS.ProcessEnv): string | undefined {
  let name = env.DOCKER_CONTEXT;
  if (!name) {
    const dir = env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), ".docker");
    try {
      name = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).currentContext;
    } catch {
      return undefined;
    }
  }
  return name && name !== "default" ? name : undefined;
}

function contextEndpoint(name: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    const out = execFileSync("docker", ["context", "inspect", name, "--format", "{{.Endpoints.docker.Host}}"], {
      encoding: "utf8",
      timeout: 15_000,
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...env, DOCKER_HOST: "" },
    });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Why the program refuses this target, or undefined. */
export function targetProblem(target: EngineTarget): string | undefined {
  const c = target.ignoredContext;
  if (!c) return undefined;
  return (
    `the docker CLI's current context "${c.name}" points at ${c.endpoint}, but the docker provider does not follow ` +
    `docker contexts: it would use ${target.host}. Name the engine for both: ` +
    `\`pulumi config set docker:host ${c.endpoint}\`, or \`export DOCKER_HOST=${c.endpoint}\` (\`npm run up\` does that for you)`
  );
}

/**
 * The environment variables that point a docker CLI started by a command (during `up` or
 * `destroy`, from the state) at the target: DOCKER_HOST always, and the TLS settings. PEM texts
 * travel as DOCKER_*_MATERIAL (secret values in the state) and are written to a private folder by
 * whoever runs the CLI (`dockerEnv`, or the commands' TLS_PRELUDE).
 */
export function engineEnvironment(target: EngineTarget): Record<string, string> {
  const env: Record<string, string> = { DOCKER_HOST: target.host };
  const tls = target.tls;
  if (tls && "certPath" in tls) Object.assign(env, { DOCKER_CERT_PATH: tls.certPath, DOCKER_TLS_VERIFY: "1" });
  if (tls && "caPem" in tls) {
    Object.assign(env, {
      DOCKER_CA_MATERIAL: tls.caPem,
      DOCKER_CERT_MATERIAL: tls.certPem,
      DOCKER_KEY_MATERIAL: tls.keyPem,
      DOCKER_TLS_VERIFY: "1",
    });
  }
  return env;
}

/** Bash lines that turn DOCKER_*_MATERIAL into a private DOCKER_CERT_PATH for the docker CLI. */
export const TLS_PRELUDE = [
  'if [ -n "${DOCKER_CA_MATERIAL:-}" ]; then',
  '  DOCKER_CERT_PATH="$(mktemp -d)"; trap \'rm -rf "$DOCKER_CERT_PATH"\' EXIT; export DOCKER_CERT_PATH',
  '  printf %s "$DOCKER_CA_MATERIAL" >"$DOCKER_CERT_PATH/ca.pem"; printf %s "$DOCKER_CERT_MATERIAL" >"$DOCKER_CERT_PATH/cert.pem"',
  '  (umask 077; printf %s "$DOCKER_KEY_MATERIAL" >"$DOCKER_CERT_PATH/key.pem")',
  "fi",
].join("\n");

let materialized: string | undefined;

/**
 * The environment for a docker CLI this process starts: `base` with the target's variables, PEM
 * texts written once into a folder of mode 0700 (removed when this process exits).
 */
export function dockerEnv(target: EngineTarget, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...engineEnvironment(target) };
  if (env.DOCKER_CA_MATERIAL) {
    if (!materialized) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-tls-"));
      fs.writeFileSync(path.join(dir, "ca.pem"), env.DOCKER_CA_MATERIAL);
      fs.writeFileSync(path.join(dir, "cert.pem"), env.DOCKER_CERT_MATERIAL ?? "");
      fs.writeFileSync(path.join(dir, "key.pem"), env.DOCKER_KEY_MATERIAL ?? "", { mode: 0o600 });
      process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
      materialized = dir;
    }
    env.DOCKER_CERT_PATH = materialized;
  }
  for (const key of ["DOCKER_CA_MATERIAL", "DOCKER_CERT_MATERIAL", "DOCKER_KEY_MATERIAL"]) delete env[key];
  return env;
}

/** The target as the environment of a deploy-time script describes it (the inverse of engineEnvironment). */
export function targetFromEnvironment(env: NodeJS.ProcessEnv = process.env): EngineTarget {
  return engineTarget({}, env);
}
