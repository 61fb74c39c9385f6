// Runs the real program (index.ts) under Pulumi's mocks with a stack's real config files, and
// records every resource it declares. Runs in one process follow each other (each sets the
// whole config and fresh mocks); a run that needs an environment of its own uses runIsolated.
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ConfigError, parseStackConfig } from "../../config/defaults";
import { bundled, ROOT } from "../lib/bundle";

export { ROOT };
export const PROJECT = "inference-runtime";

export interface Declared {
  type: string;
  name: string;
  inputs: Record<string, any>;
  id: string;
}

/** Child name → parent name, as the program passed `parent` (the stack itself is "(stack)"). */
export type ParentMap = Record<string, string>;

/** The resource options each registration carried, by resource name. */
export interface DeclaredOptions {
  dependsOn: string[];
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
  retainOnDelete: boolean;
  customTimeouts: { create?: string };
}

/**
 * The program asks the docker CLI about the engine before it declares anything: unit tests
 * answer with test/unit/fake-docker/docker instead of needing an engine. Called by runProgram.
 */
export function useFakeDocker(): void {
  const fake = path.join(ROOT, "test", "unit", "fake-docker");
  if (!process.env.PATH?.startsWith(fake)) process.env.PATH = `${fake}${path.delimiter}${process.env.PATH}`;
}

/** Every problem the stack config schema reports for `raw` (none: []), each as the program prints it. */
export function configProblems(raw: unknown): string[] {
  try {
    parseStackConfig(raw, PROJECT);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
  return [];
}

/** Project defaults from Pulumi.yaml overlaid with Pulumi.<stack>.yaml, as the CLI would merge them. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as any;
  const merged: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries<any>(project.config ?? {})) merged[key] = decl.default;
  const stackFile = path.join(ROOT, `Pulumi.${stack}.yaml`);
  const stackYaml = (yaml.load(fs.readFileSync(stackFile, "utf8")) as any)?.config ?? {};
  for (const [fullKey, value] of Object.entries(stackYaml)) merged[fullKey.replace(`${PROJECT}:`, "")] = value;
  return { ...merged, ...overrides };
}

/**
 * Sets config and mocks, imports the program, and resolves once every resource has been
 * registered. `secretKeys` are marked secret the way `pulumi config set --secret` would.
 */
export async function runProgram(
  stack: string,
  config: Record<string, unknown>,
  secretKeys: string[] = [],
  mode: "preview" | "up" = "preview",
): Promise<{ resources: Declared[]; outputs: Record<string, any>; parents: ParentMap; options: Record<string, DeclaredOptions> }> {
  const resources: Declared[] = [];
  const parents: ParentMap = {};
  const options: Record<string, DeclaredOptions> = {};
  useFakeDocker();
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    flat[fullKey(key)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(flat, secretKeys.map(fullKey));
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = `${args.name}-id`;
        const state: Record<string, any> = { ...args.inputs };
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = `sha256:${args.name}`;
        if (args.type === "docker:index/image:Image") state.repoDigest = `sha256:${args.name}`;
        if (args.type === "command:local:Command") {
          state.stdout = args.name.endsWith("-build") ? `sha256:${args.name}` : '{"ok":true}';
        }
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, id });
        return { id, state };
      },
      call(args) {
        if (args.token === "docker:index/getNetwork:getNetwork") return { ...args.inputs, id: `net-${args.inputs.name}` };
        return args.inputs;
      },
    },
    PROJECT,
    stack,
    mode === "preview",
    "organization",
  );
  recordRegistrations(parents, options);
  // Imported only now: the program must see the mocks and config set above.
  const program = (await import("../../index")).default;
  const outputs: Record<string, any> = {};
  for (const [key, value] of Object.entries<unknown>(await program())) outputs[key] = await unwrap(value);
  await settle();
  return { resources, outputs, parents, options };
}

/** A key of the project's namespace ("model"), or of another one as given ("docker:host"). */
const fullKey = (key: string) => (key.includes(":") ? key : `${PROJECT}:${key}`);

const nameOfUrn = (urn: string) => urn.split("::").pop()!;

// The mock's newResource hook does not see resource options, so read them from each
// registration (parents and dependencies are URNs whose last segment is the name) at the monitor.
function recordRegistrations(parents: ParentMap, options: Record<string, DeclaredOptions>): void {
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    if (req.getType() !== "pulumi:pulumi:Stack") {
      const parent: string = req.getParent();
      const isStack = parent === "" || parent.includes("::pulumi:pulumi:Stack::");
      parents[req.getName()] = isStack ? "(stack)" : nameOfUrn(parent);
      const timeouts = req.getCustomtimeouts();
      options[req.getName()] = {
        dependsOn: (req.getDependenciesList() as string[]).map(nameOfUrn).sort(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        replaceOnChanges: req.getReplaceonchangesList(),
        retainOnDelete: req.getRetainondelete?.() ?? false,
        customTimeouts: { create: timeouts?.getCreate() || undefined },
      };
    }
    return register(req, callback);
  };
}

export interface ProgramRun {
  resources: Declared[];
  outputs: Record<string, any>;
  options: Record<string, DeclaredOptions>;
  /** Set when the program refused the config: the message, and whether it was a RunError. */
  error?: { message: string; runError: boolean };
}

/**
 * runProgram in a child process of its own, for runs that need their own environment (PATH,
 * DOCKER_HOST: what the engine checks read).
 */
export function runIsolated(
  stack: string,
  config: Record<string, unknown>,
  secretKeys: string[] = [],
  mode: "preview" | "up" = "preview",
  env: Record<string, string> = {},
): ProgramRun {
  const out = execFileSync("node", [bundled("test/unit/isolatedRun.ts"), JSON.stringify([stack, config, secretKeys, mode])], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return JSON.parse(out.trim().split("\n").pop()!);
}

/** The plain value of an Output (or a plain value as is). */
export function unwrap<T>(value: pulumi.Input<T> | undefined): Promise<T | undefined> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value as T | undefined);
  // Outputs unknown in preview (provider-computed fields) resolve as undefined, not never.
  return (value as any).promise() as Promise<T | undefined>;
}

/** Whether an Output is marked secret. */
export async function isSecret(value: unknown): Promise<boolean> {
  return pulumi.Output.isInstance(value) ? await (value as any).isSecret : false;
}

// Resource registrations are asynchronous; give the mock monitor time to see them all.
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50));
}

export function byType(resources: Declared[], type: string): Declared[] {
  return resources.filter((r) => r.type === type);
}

export function labelsOf(resource: Declared): Record<string, string> {
  return Object.fromEntries((resource.inputs.labels ?? []).map((l: any) => [l.label, l.value]));
}
