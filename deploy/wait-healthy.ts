// Waits, for `pulumi up` (a @pulumi/command resource), until a container passes its own
// healthcheck, and fails fast with a diagnosis otherwise: a container that exits or restarts
// fails within a second or two, and every failure reports the container's last log lines, its
// last probe outputs, its exit code, its restart count and how long it was waited for.
//
// The container's healthcheck command is run here with `docker exec` every half second, so the
// first probe does not wait for the engine's interval (engines below API 1.44 know no start
// interval); the engine's own probes keep their steady-state interval.
//
// Environment: WAIT_CONTAINER (required), WAIT_TIMEOUT_S (default 120), DOCKER_HOST and the TLS
// variables of host/engineTarget.ts.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { dockerEnv, targetFromEnvironment } from "../host/engineTarget";

const run = promisify(execFile);
const POLL_MS = 500;
// The engine the program named in DOCKER_HOST (and its TLS settings), for every docker call:
// resolved on first use, so importing this module (the unit tests do) runs nothing.
let env: NodeJS.ProcessEnv | undefined;
const ENV = () => (env ??= dockerEnv(targetFromEnvironment()));
const LOG_LINES = 30;

/** The parts of `docker inspect` this script reads. */
export interface ContainerState {
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    ExitCode: number;
    Error?: string;
    Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] };
  };
  RestartCount: number;
  Created?: string;
  Config: { Healthcheck?: { Test?: string[] } };
}

export type Verdict = { kind: "wait" } | { kind: "failed"; reason: string };

/**
 * What one look at the container says: keep waiting, or failed (and why). `lastExit` is the exit
 * code of its last exit, which a restarted container's state no longer shows.
 */
export function judge(c: ContainerState, lastExit?: number): Verdict {
  const s = c.State;
  if (s.Restarting || c.RestartCount > 0) {
    return { kind: "failed", reason: `it exited (exit code ${lastExit ?? s.ExitCode}) and is being restarted` };
  }
  if (!s.Running) return { kind: "failed", reason: `it is ${s.Status} (exit code ${s.ExitCode}${s.Error ? `: ${s.Error}` : ""})` };
  if (s.Health?.Status === "unhealthy") return { kind: "failed", reason: "the engine marked it unhealthy" };
  return { kind: "wait" };
}

/** The probe as `docker exec` arguments: CMD runs as is, CMD-SHELL through the image's shell. */
export function probeCommand(test: string[] | undefined): string[] | undefined {
  if (!test || test.length < 2) return undefined;
  if (test[0] === "CMD") return test.slice(1);
  if (test[0] === "CMD-SHELL") return ["/bin/sh", "-c", test[1]];
  return undefined;
}

async function docker(args: string[], timeoutMs = 30_000): Promise<string> {
  return (await run("docker", args, { env: ENV(), timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 })).stdout;
}

async function inspect(name: string): Promise<ContainerState> {
  try {
    return (JSON.parse(await docker(["inspect", "--type", "container", name])) as ContainerState[])[0];
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`cannot inspect container ${name}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

async function probeOnce(name: string, cmd: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run("docker", ["exec", name, ...cmd], { env: ENV(), timeout: 30_000 });
    return { ok: true, output: (stdout + stderr).trim() };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: ((e.stdout ?? "") + (e.stderr ?? "")).trim() || e.message };
  }
}

/** Exit codes of every exit of the container since it was created, oldest first (engine events). */
async function exitCodes(name: string, created: string | undefined): Promise<number[]> {
  if (!created) return [];
  try {
    const since = String(Math.floor(Date.parse(created) / 1000));
    const until = String(Math.ceil(Date.now() / 1000));
    const out = await docker([
      "events",
      "--since",
      since,
      "--until",
      until,
      "--filter",
      `container=${name}`,
      "--filter",
      "event=die",
      "--format",
      '{{index .Actor.Attributes "exitCode"}}',
    ]);
    return out.split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Everything a person needs to see why the container did not become healthy. */
export async function diagnosis(name: string, reason: string, waitedMs: number, lastProbe?: string): Promise<string> {
  const lines = [`container ${name} did not become healthy: ${reason}; waited ${(waitedMs / 1000).toFixed(1)} s`];
  try {
    const c = await inspect(name);
    const exits = await exitCodes(name, c.Created);
    const history = exits.length > 0 ? `, exit codes so far ${exits.join(", ")}` : "";
    lines.push(`state: ${c.State.Status}, exit code ${c.State.ExitCode}, restart count ${c.RestartCount}${history}`);
    const probes = (c.State.Health?.Log ?? []).slice(-3);
    if (probes.length > 0) {
      lines.push("last health probes:");
      for (const p of probes) lines.push(`  exit ${p.ExitCode}: ${p.Output.trim().split("\n").slice(-3).join(" | ") || "(no output)"}`);
    }
  } catch (err) {
    lines.push(`(could not inspect it: ${(err as Error).message.split("\n")[0]})`);
  }
  if (lastProbe) lines.push(`last probe run by this check: ${lastProbe}`);
  try {
    const { stdout, stderr } = await run("docker", ["logs", "--tail", String(LOG_LINES), name], {
      env: ENV(),
      timeout: 30_000,
      maxBuffer: 8 * 1024 * 1024,
    });
    const log = (stdout + stderr).trimEnd();
    lines.push(`last ${LOG_LINES} log lines:`, log === "" ? "  (none)" : log.replace(/^/gm, "  "));
  } catch (err) {
    lines.push(`(could not read its logs: ${(err as Error).message.split("\n")[0]})`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const name = process.env.WAIT_CONTAINER;
  const timeoutS = Number(process.env.WAIT_TIMEOUT_S ?? "120");
  if (!name) throw new Error("WAIT_CONTAINER: expected the name of the container to wait for");
  if (!(timeoutS > 0)) throw new Error(`WAIT_TIMEOUT_S: expected a positive number of seconds, got "${process.env.WAIT_TIMEOUT_S}"`);
  const started = Date.now();
  let lastProbe: string | undefined;
  for (;;) {
    const c = await inspect(name);
    const restarted = c.State.Restarting || c.RestartCount > 0;
    const verdict = judge(c, restarted ? (await exitCodes(name, c.Created)).pop() : undefined);
    if (verdict.kind === "failed") throw new Error(await diagnosis(name, verdict.reason, Date.now() - started, lastProbe));
    if (c.State.Health?.Status === "healthy") break;
    const cmd = probeCommand(c.Config.Healthcheck?.Test);
    if (!cmd) throw new Error(`container ${name} has no healthcheck to wait for`);
    const probe = await probeOnce(name, cmd);
    if (probe.ok) break;
    lastProbe = probe.output;
    if (Date.now() - started >= timeoutS * 1000) {
      throw new Error(await diagnosis(name, `no passing probe within ${timeoutS} s`, Date.now() - started, lastProbe));
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  console.log(JSON.stringify({ container: name, healthyAfterS: Number(((Date.now() - started) / 1000).toFixed(1)) }));
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
