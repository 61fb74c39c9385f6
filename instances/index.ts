// Instances on demand, for a control plane: each instance is a stack of this same program,
// driven by the Automation API, in a file backend of its own. Create converges (a second create
// of the same id changes nothing), terminate destroys the stack and removes it, and bad input
// is refused before anything exists. See docs/instances.md.
import { ConcurrentUpdateError, OutputMap, Stack, StackAlreadyExistsError } from "@pulumi/pulumi/automation";
import { localUrl, PORTS } from "../contract";
import { EngineTarget, engineTarget } from "../host/engine";
import { diagnosis } from "./diagnosis";
import { ContainerState, containersByStack, engineUnusable, networkProblem } from "./engine";
import { isInstanceStack, parseInstanceId, stackNameOf } from "./ids";
import { InstanceInputError, InstancePlan, planInstance, PROJECT } from "./options";
import { backendStacks, existingStack, newStack, readConfig, writeConfig } from "./stacks";
import { purgeStackFiles, removeWorkspace, StateLocation, stateLocation } from "./state";

export { InstanceInputError } from "./options";
export { parseSettings } from "./options";
export { STATE_DIR_ENV } from "./state";

/** Where the state lives and where progress goes; every call takes these. */
export interface StateOptions {
  /**
   * The instances' state directory (file backend and per-instance workspaces). Default:
   * $INFERENCE_RUNTIME_INSTANCES_DIR, else `${XDG_STATE_HOME:-~/.local/state}/inference-runtime/instances`.
   */
  stateDir?: string;
  /** Receives Pulumi's progress output as it comes, in chunks of text. Default: discarded. */
  onProgress?: (text: string) => void;
}

export interface CreateInstanceOptions extends StateOptions {
  /**
   * The control plane's Docker network (joined as `network.external`, never created or
   * deleted); it must exist. The instance's `ip` is the model server's address on it. Required.
   */
  network: string;
  /**
   * The committed stack file whose config the instance starts from, `Pulumi.<base>.yaml`:
   * `dev` (mock-vllm on cpu) or `gpu` (vLLM on GPUs). Default `dev`.
   */
  base?: string;
  /**
   * The agent's `CONTROL_PLANE_URL`, an http(s) URL reachable on `network`, e.g.
   * `http://api:8003`. Default: unset, so the agent runs standalone and registers nowhere.
   */
  controlPlaneUrl?: string;
  /**
   * The agent's `WORKER_AUTH_TOKEN`, stored as a Pulumi secret. Default: unset (the agent then
   * registers once without a token and adopts the bootstrap token the control plane grants).
   */
  workerToken?: string;
  /** Hugging Face token for gated models (`HF_TOKEN`), stored as a Pulumi secret. Default: unset. */
  hfToken?: string;
  /**
   * Stack config keys by path, e.g. `{ "model.maxModelLen": 4096, "mock.ttftMs": 5 }`, over the
   * base file's; validated by the stack config schema, with its messages. Host ports are off
   * (`network.publish: false`, `smokeTest: false`) unless set here. Default: none.
   */
  overrides?: Record<string, unknown>;
}

/** Where the control plane reaches a created instance. */
export interface Instance {
  /** The control plane's instance id (a UUID, lower case). */
  instanceId: string;
  /** The instance's stack: `i-<first 12 hex digits of the id>`. */
  stack: string;
  /** The model server's IPv4 address on the control plane's network (the agent shares it). */
  ip: string;
  /** OpenAI-compatible API base URL on that address, port 8000 (without /v1). */
  apiUrl: string;
  /** Worker-agent base URL on that address, port 8080 (/healthz, /readyz, /metrics). */
  agentUrl: string;
  /** The model name clients send; the agent registers with it as its MODEL_ID. */
  servedModelName: string;
}

/**
 * running: every container of the instance runs; missing-containers: one is gone from the
 * engine; failed: one exited, restarts or is unhealthy, or the last update failed; creating: a
 * first update is under way.
 */
export type InstanceState = "running" | "missing-containers" | "failed" | "creating";

/** An instance as its stack and the engine show it. */
export interface InstanceStatus extends Partial<Instance> {
  /** The instance's stack (always known, even when its settings file is gone). */
  stack: string;
  /** What the engine shows, in one word. */
  state: InstanceState;
  /** The reason for a state other than running, in a few words. */
  detail: string;
  /** The instance's containers on the engine. */
  containers: ContainerState[];
}

export interface TerminateResult {
  instanceId: string;
  stack: string;
  /** False when there was nothing to terminate. */
  terminated: boolean;
  /** What was done, in one sentence. */
  message: string;
}

/** A create or terminate that did not succeed; `diagnosis` is what the engine and the health gate said. */
export class InstanceFailure extends Error {
  constructor(
    message: string,
    readonly diagnosis = "",
  ) {
    super(diagnosis ? `${message}\n${diagnosis}` : message);
    this.name = "InstanceFailure";
  }
}

/**
 * Creates the instance `id` (a UUID), or converges it when it exists: the same request twice
 * changes nothing. Throws InstanceInputError for bad input (nothing created), InstanceFailure
 * when the deploy fails (what a first create made is destroyed and its stack removed).
 */
export async function createInstance(id: string, options: CreateInstanceOptions): Promise<Instance> {
  const plan = planInstance(id, options);
  await checkEngine(plan);
  const loc = stateLocation(options.stateDir);
  const progress = options.onProgress ?? (() => undefined);

  // Init first: a new instance is the common case, and init of an existing stack says so.
  let stack: Stack;
  let created = false;
  try {
    stack = await newStack(loc, plan.stack);
    created = true;
  } catch (err) {
    if (!(err instanceof StackAlreadyExistsError)) throw err;
    const found = await existingStack(loc, plan.stack);
    if (!found) throw new InstanceFailure(`instance ${plan.id}: stack ${plan.stack} was removed while this create started; try again`);
    stack = found;
    checkOwner(loc, plan);
  }
  progress(`${created ? "creating" : "converging"} instance ${plan.id} (stack ${plan.stack})\n`);
  try {
    await writeConfig(loc, stack, plan.stackConfig, { workerAuthToken: options.workerToken, hfToken: options.hfToken });
    // A plain up does not look at the engine; refresh only when a container went missing or stopped.
    const refresh = !created && !(await allRunning(plan.engine, plan.stack));
    const result = await stack.up({ onOutput: progress, refresh, color: "never" });
    return instanceOf(plan.id, plan.stack, plan.network, result.outputs);
  } catch (err) {
    if (err instanceof ConcurrentUpdateError) {
      throw new InstanceFailure(
        `instance ${plan.id}: another create or terminate of it is under way (stack ${plan.stack} is locked); try again once it ends`,
      );
    }
    const why = err instanceof InstanceFailure ? err.message : diagnosis(err);
    if (!created)
      throw new InstanceFailure(`converging instance ${plan.id} (stack ${plan.stack}) failed; the instance is left as it is:`, why);
    progress(`create failed: destroying what it made and removing stack ${plan.stack}\n`);
    const undo = await destroyAndRemove(loc, stack, progress).then(
      () => "everything it created was destroyed and its stack removed",
      (e) => `destroying what it created failed too (${diagnosis(e).split("\n")[0]}); terminate it to retry`,
    );
    throw new InstanceFailure(`creating instance ${plan.id} failed; ${undo}. Why:`, why);
  }
}

/** Destroys the instance's containers, volumes, network and images, and removes its stack. A missing instance is a no-op that says so. */
export async function terminateInstance(id: string, options: StateOptions = {}): Promise<TerminateResult> {
  const instanceId = requireId(id);
  const name = stackNameOf(instanceId);
  const loc = stateLocation(options.stateDir);
  const stack = await existingStack(loc, name);
  if (!stack) {
    removeWorkspace(loc, name);
    return {
      instanceId,
      stack: name,
      terminated: false,
      message: `instance ${instanceId} does not exist (no stack ${name} in ${loc.backendUrl}); nothing to terminate`,
    };
  }
  try {
    await destroyAndRemove(loc, stack, options.onProgress ?? (() => undefined));
  } catch (err) {
    if (err instanceof ConcurrentUpdateError) {
      throw new InstanceFailure(
        `instance ${instanceId}: another create or terminate of it is under way (stack ${name} is locked); try again once it ends`,
      );
    }
    throw new InstanceFailure(
      `terminating instance ${instanceId} (stack ${name}) failed; its stack is kept, terminate again to retry:`,
      diagnosis(err),
    );
  }
  return { instanceId, stack: name, terminated: true, message: `instance ${instanceId} terminated: stack ${name} destroyed and removed` };
}

/** The instance's status, or undefined when it does not exist. */
export async function getInstance(id: string, options: StateOptions = {}): Promise<InstanceStatus | undefined> {
  const instanceId = requireId(id);
  const loc = stateLocation(options.stateDir);
  const stack = await existingStack(loc, stackNameOf(instanceId));
  if (!stack) return undefined;
  return statusOf(loc, stack, await containersByStack(engineOf(loc, stack.name)));
}

/** Every instance in the state directory's backend, with its state. */
export async function listInstances(options: StateOptions = {}): Promise<InstanceStatus[]> {
  const loc = stateLocation(options.stateDir);
  const names = (await backendStacks(loc)).filter(isInstanceStack);
  const engines = new Map<string, Promise<Map<string, ContainerState[]>>>();
  return Promise.all(
    names.map(async (name) => {
      const target = engineOf(loc, name);
      if (!engines.has(target.host)) engines.set(target.host, containersByStack(target));
      const stack = (await existingStack(loc, name))!;
      return statusOf(loc, stack, await engines.get(target.host)!);
    }),
  );
}

async function checkEngine(plan: InstancePlan): Promise<void> {
  const unusable = await engineUnusable(plan.engine);
  if (unusable) throw new InstanceFailure(unusable);
  const missing = await networkProblem(plan.engine, plan.network);
  if (missing) throw new InstanceInputError([missing]);
}

// Two ids sharing their first 12 hex digits would share a stack: refuse rather than take it over.
function checkOwner(loc: StateLocation, plan: InstancePlan): void {
  const owner = agentSetting(readConfig(loc, plan.stack), "instanceId");
  if (owner !== undefined && owner !== plan.id) {
    throw new InstanceInputError([`instance id: stack ${plan.stack} belongs to instance ${owner}, which has the same first 12 hex digits`]);
  }
}

function requireId(id: string): string {
  const parsed = parseInstanceId(id);
  if ("error" in parsed) throw new InstanceInputError([parsed.error]);
  return parsed.id;
}

async function destroyAndRemove(loc: StateLocation, stack: Stack, progress: (text: string) => void): Promise<void> {
  await stack.destroy({ onOutput: progress, remove: true, color: "never" });
  purgeStackFiles(loc, PROJECT, stack.name);
  removeWorkspace(loc, stack.name);
}

async function allRunning(target: EngineTarget, stack: string): Promise<boolean> {
  const containers = (await containersByStack(target)).get(stack) ?? [];
  const roles = new Set(containers.filter((c) => c.state === "running").map((c) => c.role));
  return roles.has("model-server") && roles.has("worker-agent");
}

function instanceOf(instanceId: string, stack: string, network: string, outputs: OutputMap): Instance {
  const ips = (outputs.modelServerIps?.value ?? {}) as Record<string, string>;
  const ip = ips[network];
  if (!ip)
    throw new InstanceFailure(
      `instance ${instanceId}: the model server has no address on network ${network} (it has ${JSON.stringify(ips)})`,
    );
  return {
    instanceId,
    stack,
    ip,
    apiUrl: localUrl(ip, PORTS.api),
    agentUrl: localUrl(ip, PORTS.agent),
    servedModelName: String(outputs.servedModelName?.value ?? ""),
  };
}

const agentSetting = (config: Record<string, unknown> | undefined, key: string): string | undefined =>
  ((config?.[`${PROJECT}:agent`] ?? {}) as Record<string, string | undefined>)[key];

function engineOf(loc: StateLocation, stack: string): EngineTarget {
  const host = readConfig(loc, stack)?.["docker:host"];
  return engineTarget({ host: typeof host === "string" ? host : undefined });
}

async function statusOf(loc: StateLocation, stack: Stack, engine: Map<string, ContainerState[]>): Promise<InstanceStatus> {
  const config = readConfig(loc, stack.name);
  const instanceId = agentSetting(config, "instanceId");
  const network = ((config?.[`${PROJECT}:network`] ?? {}) as { external?: string }).external;
  const containers = engine.get(stack.name) ?? [];
  const outputs = await stack.outputs();
  const base = { stack: stack.name, containers, ...(instanceId ? { instanceId } : {}) };
  if (!outputs.modelServerContainer) {
    const [last] = await stack.history(1);
    if (!last || last.result === "in-progress") return { ...base, state: "creating", detail: "its first update is under way" };
    return {
      ...base,
      state: "failed",
      detail: `its last ${last.kind} ${last.result === "failed" ? "failed" : `ended ${last.result}`}, without outputs`,
    };
  }
  let where: Partial<Instance> = {};
  try {
    if (instanceId && network) where = instanceOf(instanceId, stack.name, network, outputs);
  } catch {
    where = {};
  }
  const expected = [outputs.modelServerContainer.value, outputs.workerAgentContainer?.value].filter(
    (n): n is string => typeof n === "string",
  );
  const missing = expected.filter((name) => !containers.some((c) => c.name === name));
  if (missing.length > 0) return { ...base, ...where, state: "missing-containers", detail: `not on the engine: ${missing.join(", ")}` };
  const bad = containers.filter((c) => expected.includes(c.name) && (c.state !== "running" || c.health === "unhealthy"));
  if (bad.length > 0) {
    return {
      ...base,
      ...where,
      state: "failed",
      detail: bad.map((c) => `${c.name} is ${c.state === "running" ? c.health : c.state}`).join(", "),
    };
  }
  return { ...base, ...where, state: "running", detail: "" };
}
