// What the library asks the Docker engine itself (the program asks it the rest at `up`): does
// the control plane's network exist, and which containers of which instance are there in what
// state. One docker CLI call each, asynchronous, so parallel requests do not queue behind it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { EngineTarget, engineProblem } from "../host/engine";
import { dockerEnv } from "../host/engineTarget";

const run = promisify(execFile);

async function docker(target: EngineTarget, args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { env: dockerEnv(target), timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

const firstLine = (err: unknown) => {
  const e = err as { stderr?: string; message?: string };
  return ((e.stderr ?? "").trim() || e.message || String(err)).split("\n")[0].trim();
};

/** Why the engine cannot be used (unreachable, too old), or undefined. */
export async function engineUnusable(target: EngineTarget): Promise<string | undefined> {
  try {
    const out = (await docker(target, ["version", "--format", "{{.Server.APIVersion}} {{.Server.Version}}"])).trim();
    const [apiVersion, version] = out.split(/\s+/);
    return engineProblem({ target, apiVersion, version });
  } catch (err) {
    return engineProblem({ target, error: firstLine(err) });
  }
}

/** A problem line when the network does not exist on the engine, else undefined. */
export async function networkProblem(target: EngineTarget, name: string): Promise<string | undefined> {
  try {
    await docker(target, ["network", "inspect", "--format", "{{.Name}}", name]);
    return undefined;
  } catch (err) {
    const line = firstLine(err);
    if (/no such network|not found/i.test(line))
      return `network: no Docker network named "${name}" on the engine at ${target.host}; create it first or name the control plane's`;
    throw new Error(`could not ask the engine at ${target.host} about network ${name}: ${line}`, { cause: err });
  }
}

/** One container an instance owns, as the engine shows it. */
export interface ContainerState {
  name: string;
  role: string;
  /** The engine's state: running, exited, restarting, created, paused, dead. */
  state: string;
  /** healthy, unhealthy, starting, or "" without a healthcheck. */
  health: string;
}

/** Containers by the stack label they carry, for every stack at once. */
export async function containersByStack(target: EngineTarget): Promise<Map<string, ContainerState[]>> {
  const format = '{{.Label "io.inference-runtime.stack"}}\t{{.Names}}\t{{.Label "io.inference-runtime.role"}}\t{{.State}}\t{{.Status}}';
  const out = await docker(target, ["ps", "-a", "--filter", "label=io.inference-runtime.stack", "--format", format]);
  const byStack = new Map<string, ContainerState[]>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [stack, name, role, state, status] = line.split("\t");
    const health = /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1].replace("health: ", "") ?? "";
    byStack.set(stack, [...(byStack.get(stack) ?? []), { name, role, state, health }]);
  }
  return byStack;
}
