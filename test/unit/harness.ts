// Runs the real program (index.ts) under Pulumi's mocks with a stack's real config files, and
// records every resource it declares. One stack per process: Pulumi's runtime is global.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

export const ROOT = path.join(__dirname, "..", "..");
export const PROJECT = "inference-runtime";

export interface Declared {
  type: string;
  name: string;
  inputs: Record<string, any>;
  id: string;
}

/** Child name → parent name, as the program passed `parent` (the stack itself is "(stack)"). */
export type ParentMap = Record<string, string>;

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
): Promise<{ resources: Declared[]; outputs: Record<string, any>; parents: ParentMap }> {
  const resources: Declared[] = [];
  const parents: ParentMap = {};
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    flat[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(flat, secretKeys.map((k) => `${PROJECT}:${k}`));
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = `${args.name}-id`;
        const state: Record<string, any> = { ...args.inputs };
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = `sha256:${args.name}`;
        if (args.type === "docker:index/image:Image") state.repoDigest = `sha256:${args.name}`;
        if (args.type === "command:local:Command") state.stdout = '{"ok":true}';
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
    true,
  );
  recordParents(parents);
  const program = require(path.join(ROOT, "index.ts"));
  const outputs: Record<string, any> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = await unwrap(value);
  await settle();
  return { resources, outputs, parents };
}

// The mock's newResource hook does not see resource options, so read the parent each
// registration carries (a URN whose last segment is the parent's name) at the monitor.
function recordParents(parents: ParentMap): void {
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    if (req.getType() !== "pulumi:pulumi:Stack") {
      const parent: string = req.getParent();
      const isStack = parent === "" || parent.includes("::pulumi:pulumi:Stack::");
      parents[req.getName()] = isStack ? "(stack)" : parent.split("::").pop()!;
    }
    return register(req, callback);
  };
}

/** The plain value of an Output (or a plain value as is). */
export function unwrap<T>(value: pulumi.Input<T> | undefined): Promise<T | undefined> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value as T | undefined);
  return new Promise((resolve) => (value as pulumi.Output<T>).apply((v) => resolve(v)));
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
