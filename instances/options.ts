// What a create asks for, checked before anything exists: the id, the base stack file, the
// control plane's network, the control-plane URL and every override, all validated at once.
// Overrides go through the stack config's own zod schema, so a bad one gets exactly the message
// (and key path) a bad value in a stack file gets. No Pulumi here: plain data in, a plan out.
import * as fs from "node:fs";
import * as path from "node:path";
import yaml from "js-yaml";
import { ConfigError, parseStackConfig, resolveConfig } from "../config/defaults";
import { DEFAULT_RUNTIME, StackConfig } from "../config/schema";
import { EngineTarget, engineTarget } from "../host/engine";
import { parseInstanceId, stackNameOf } from "./ids";
import { PROGRAM_ROOT } from "./state";

export const PROJECT = "inference-runtime";
export const DEFAULT_BASE = "dev";

/** Bad input: nothing was created. `problems` has one line per problem, each naming its field. */
export class InstanceInputError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid instance request (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "InstanceInputError";
  }
}

/** Config keys the request sets itself; an override of them would contradict it. */
const OWNED_KEYS: Record<string, string> = {
  "agent.instanceId": "set from the instance id",
  "agent.controlPlaneUrl": "set from the controlPlaneUrl option (--control-plane-url)",
  "network.external": "set from the network option (--network)",
};
const SECRET_KEYS: Record<string, string> = {
  workerAuthToken: "a secret: pass the workerToken option (WORKER_AUTH_TOKEN or --worker-token-file)",
  hfToken: "a secret: pass the hfToken option (HF_TOKEN or --hf-token-file)",
  apiKey: "a secret the instance does not take: the control plane reaches /v1 without a key",
};

/** The parts of a request that shape the instance's stack. */
export interface RequestShape {
  /** Base stack file, `Pulumi.<base>.yaml` in the checkout. */
  base?: string;
  /** The control plane's Docker network. */
  network: string;
  /** The agent's `CONTROL_PLANE_URL`. */
  controlPlaneUrl?: string;
  /** Config overrides by key path. */
  overrides?: Record<string, unknown>;
}

/** A validated request: everything the stack needs, derived from the id and the options. */
export interface InstancePlan {
  id: string;
  stack: string;
  base: string;
  network: string;
  /** The engine the instance goes to: the base file's `docker:host`, else DOCKER_HOST, else the socket. */
  engine: EngineTarget;
  /** The stack settings file's `config:` map (namespaced keys, plain values; secrets apart). */
  stackConfig: Record<string, unknown>;
  /** The validated project config, for the derived facts below. */
  config: StackConfig;
  servedModelName: string;
}

/**
 * Checks every field that needs no engine, reporting all problems at once (the network's
 * existence is the engine's to say: see checkNetwork). Throws InstanceInputError.
 */
export function planInstance(id: unknown, shape: RequestShape, root = PROGRAM_ROOT): InstancePlan {
  const problems: string[] = [];
  const parsedId = parseInstanceId(id);
  if ("error" in parsedId) problems.push(parsedId.error);
  const instanceId = "id" in parsedId ? parsedId.id : "00000000-0000-4000-8000-000000000000";

  const base = shape.base ?? DEFAULT_BASE;
  const file = baseFile(base, root, problems);
  if (typeof shape.network !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(shape.network)) {
    problems.push(`network: expected the name of an existing Docker network (the control plane's), got ${JSON.stringify(shape.network)}`);
  }

  const project: Record<string, unknown> = {};
  const foreign: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file?.config ?? {})) {
    if (!key.startsWith(`${PROJECT}:`)) {
      foreign[key] = value;
      continue;
    }
    const name = key.slice(PROJECT.length + 1);
    if (name in SECRET_KEYS)
      problems.push(`base: Pulumi.${base}.yaml holds the secret ${key}, encrypted for that stack alone; ${SECRET_KEYS[name]}`);
    else project[name] = value;
  }
  // No host ports and no smoke test from the host unless asked: instances live on the control
  // plane's network, one IP each, and parallel instances would fight over fixed host ports.
  setPath(project, ["network", "publish"], false);
  setPath(project, ["smokeTest"], false);
  for (const [key, value] of Object.entries(shape.overrides ?? {})) {
    const reason = OWNED_KEYS[key] ?? SECRET_KEYS[key];
    if (reason) {
      problems.push(`${PROJECT}:${key}: not an override: ${reason}`);
      continue;
    }
    if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key)) {
      problems.push(`${PROJECT}:${key}: expected a config key path such as model.maxModelLen`);
      continue;
    }
    setPath(project, key.split("."), value);
  }
  setPath(project, ["agent", "instanceId"], instanceId);
  if (shape.controlPlaneUrl !== undefined) setPath(project, ["agent", "controlPlaneUrl"], shape.controlPlaneUrl);
  if (typeof shape.network === "string") setPath(project, ["network", "external"], shape.network);

  let config: StackConfig | undefined;
  try {
    config = parseStackConfig(project, PROJECT);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || config === undefined) throw new InstanceInputError(problems);

  const stack = stackNameOf(instanceId);
  const device = config.device === "gpu" || (config.device === "auto" && (config.runtime ?? DEFAULT_RUNTIME) === "vllm") ? "gpu" : "cpu";
  const resolved = resolveConfig(config, { project: PROJECT, stack }, device);
  const stackConfig: Record<string, unknown> = { ...foreign };
  for (const [key, value] of Object.entries(project)) stackConfig[`${PROJECT}:${key}`] = value;
  const dockerHost = typeof foreign["docker:host"] === "string" ? (foreign["docker:host"] as string) : undefined;
  return {
    id: instanceId,
    stack,
    base,
    network: shape.network,
    engine: engineTarget({ host: dockerHost }),
    stackConfig,
    config,
    servedModelName: resolved.model.servedName,
  };
}

/** `--set key=value` items as overrides; a value that reads as JSON (numbers, booleans, lists) is taken as such. */
export function parseSettings(items: string[]): Record<string, unknown> {
  const problems: string[] = [];
  const overrides: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      problems.push(`--set ${item}: expected key=value, e.g. --set model.maxModelLen=4096`);
      continue;
    }
    const text = item.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    overrides[item.slice(0, eq).trim()] = value;
  }
  if (problems.length > 0) throw new InstanceInputError(problems);
  return overrides;
}

function baseFile(base: string, root: string, problems: string[]): { config?: Record<string, unknown> } | undefined {
  const known = fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(base) || !known.includes(base)) {
    problems.push(`base: no stack file Pulumi.${base}.yaml in ${root}; expected one of ${known.join(", ")}`);
    return undefined;
  }
  const text = fs.readFileSync(path.join(root, `Pulumi.${base}.yaml`), "utf8");
  const doc = yaml.load(text);
  if (typeof doc !== "object" || doc === null) return {};
  return doc as { config?: Record<string, unknown> };
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    // A copy, so the base file's parsed objects are never shared between requests.
    node[key] = typeof next === "object" && next !== null && !Array.isArray(next) ? { ...(next as object) } : {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}
