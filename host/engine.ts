// What the program needs to know about the Docker engine before it declares anything: which
// engine (the same one the docker provider will use), whether it answers, its API version and
// its runtimes. No Pulumi import: the caller passes the `docker:host` setting and raises errors.
import { execFileSync } from "node:child_process";
import { dockerEnv, EngineTarget, targetProblem } from "./engineTarget";

/** Docker Engine 20.10 speaks API 1.41: the oldest engine this program is tested against. */
export const MIN_ENGINE_API = "1.41";
/** `healthcheck.startInterval` reaches the engine only from API 1.44 (Engine 25.0) on. */
export const START_INTERVAL_API = "1.44";
export { EngineTarget, engineTarget } from "./engineTarget";

/** True for engines on this machine, whose published ports can be probed by binding them here. */
export function isLocalEngine(target: EngineTarget): boolean {
  return target.host.startsWith("unix://") || /^tcp:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(target.host);
}

export interface EngineReport {
  target: EngineTarget;
  /** The engine's API version ("1.41"), or undefined when it did not answer. */
  apiVersion?: string;
  /** The engine's version ("20.10.24"). */
  version?: string;
  /** Why it did not answer: the docker CLI's first line of error. */
  error?: string;
}

/** Runs the docker CLI against the target engine; throws with the CLI's stderr. */
export function dockerCli(target: EngineTarget, args: string[], timeoutMs = 15_000): string {
  return execFileSync("docker", args, {
    env: dockerEnv(target),
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function firstErrorLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string; code?: string };
  if (e.code === "ENOENT") return "the docker CLI is not installed (it is needed next to Pulumi)";
  const text = (e.stderr ?? "").trim() || e.message || String(err);
  return text
    .split("\n")
    .find((line) => line.trim() !== "")!
    .trim();
}

/** Asks the engine for its version; never throws (an unreachable engine is reported). */
export function inspectEngine(target: EngineTarget): EngineReport {
  try {
    const out = dockerCli(target, ["version", "--format", "{{.Server.APIVersion}} {{.Server.Version}}"]);
    const [apiVersion, version] = out.trim().split(/\s+/);
    if (!/^\d+\.\d+$/.test(apiVersion ?? "")) return { target, error: `unexpected answer to \`docker version\`: ${out.trim()}` };
    return { target, apiVersion, version };
  } catch (err) {
    return { target, error: firstErrorLine(err) };
  }
}

export function apiAtLeast(apiVersion: string, wanted: string): boolean {
  const [a, b] = apiVersion.split(".").map(Number);
  const [x, y] = wanted.split(".").map(Number);
  return a > x || (a === x && b >= y);
}

/** Why the program cannot use this engine, or undefined when it can. */
export function engineProblem(report: EngineReport): string | undefined {
  const { host, source } = report.target;
  const mismatch = targetProblem(report.target);
  if (mismatch) return mismatch;
  if (report.error !== undefined) {
    const via =
      source === "default socket" ? "the default socket; set DOCKER_HOST or `docker:host` to use another engine" : `from ${source}`;
    return (
      `cannot reach the Docker engine at ${host} (${via}): ${report.error}. ` +
      "Check that dockerd is running there (`docker info` answers) and that this user may use it."
    );
  }
  if (!apiAtLeast(report.apiVersion!, MIN_ENGINE_API)) {
    return (
      `the Docker engine at ${host} speaks API ${report.apiVersion} (Engine ${report.version}); ` +
      `this program needs API ${MIN_ENGINE_API} or later (Docker Engine 20.10+): upgrade the engine`
    );
  }
  return undefined;
}

export interface RuntimesReport {
  /** True when the engine lists an `nvidia` runtime (NVIDIA Container Toolkit configured). */
  nvidiaRuntime: boolean;
  /** What was seen, for messages: the runtimes listed, or why the engine could not be asked. */
  detail: string;
}

/** Asks the engine which container runtimes it has. */
export function inspectRuntimes(target: EngineTarget): RuntimesReport {
  try {
    const runtimes = Object.keys(JSON.parse(dockerCli(target, ["info", "--format", "{{json .Runtimes}}"])) ?? {});
    return { nvidiaRuntime: runtimes.includes("nvidia"), detail: `engine runtimes: ${runtimes.join(", ") || "none"}` };
  } catch (err) {
    return { nvidiaRuntime: false, detail: `could not ask the Docker engine (${firstErrorLine(err)})` };
  }
}

/** What the components need to know about the engine they declare containers on. */
export interface EngineFeatures {
  /** The engine accepts `healthcheck.startInterval` (API 1.44+). */
  startInterval: boolean;
  /** The engine, passed on to commands that run the docker CLI. */
  target: EngineTarget;
}

export function engineFeatures(report: EngineReport): EngineFeatures {
  return {
    startInterval: report.apiVersion !== undefined && apiAtLeast(report.apiVersion, START_INTERVAL_API),
    target: report.target,
  };
}
