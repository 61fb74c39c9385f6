// The Automation API side: one stack per instance in the instances' own file backend, each run
// from the instance's own workspace (see state.ts). The stack settings file is written from the
// plan (plain config as YAML, like the committed stack files); secrets go through the CLI, so
// they are encrypted with the stack's own salt and never written in plain text.
import { LocalWorkspace, Stack, StackNotFoundError } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import yaml from "js-yaml";
import { PROJECT } from "./options";
import { ensureBackend, ensureWorkspace, StateLocation, workspaceDir } from "./state";

/**
 * The CLI's environment for instance stacks. The passphrase: PULUMI_CONFIG_PASSPHRASE or
 * PULUMI_CONFIG_PASSPHRASE_FILE when set, else the empty one the project's stacks default to.
 */
export function cliEnvironment(loc: StateLocation, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const vars: Record<string, string> = {
    PULUMI_BACKEND_URL: loc.backendUrl,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // The program is type-checked with the project (npm run typecheck); checking it again in
    // every instance's `up` only costs CPU that parallel creates share.
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
  };
  if (env.PULUMI_CONFIG_PASSPHRASE === undefined && !env.PULUMI_CONFIG_PASSPHRASE_FILE) vars.PULUMI_CONFIG_PASSPHRASE = "";
  return vars;
}

async function workspace(loc: StateLocation, stack: string): Promise<LocalWorkspace> {
  ensureBackend(loc);
  return LocalWorkspace.create({ workDir: ensureWorkspace(loc, stack), envVars: cliEnvironment(loc) });
}

/** The names of the stacks in the backend. */
export async function backendStacks(loc: StateLocation): Promise<string[]> {
  ensureBackend(loc);
  // Any workspace of this project lists the backend's stacks; this one owns no stack.
  const dir = ensureWorkspace(loc, ".project");
  const ws = await LocalWorkspace.create({ workDir: dir, envVars: cliEnvironment(loc) });
  return (await ws.listStacks()).map((s) => s.name).sort();
}

/** The stack when it exists in the backend, else undefined (and no workspace is left for it). */
export async function existingStack(loc: StateLocation, stack: string): Promise<Stack | undefined> {
  // One CLI call: selecting a missing stack fails with StackNotFoundError.
  const hadWorkspace = fs.existsSync(workspaceDir(loc, stack));
  try {
    return await Stack.select(stack, await workspace(loc, stack));
  } catch (err) {
    if (!(err instanceof StackNotFoundError)) throw err;
    if (!hadWorkspace) fs.rmSync(workspaceDir(loc, stack), { recursive: true, force: true });
    return undefined;
  }
}

/** A new stack (throws StackAlreadyExistsError when another request made it first). */
export async function newStack(loc: StateLocation, stack: string): Promise<Stack> {
  return Stack.create(stack, await workspace(loc, stack));
}

const settingsFile = (loc: StateLocation, stack: string) => path.join(workspaceDir(loc, stack), `Pulumi.${stack}.yaml`);

/**
 * Writes the plain config into the stack's settings file, keeping what the CLI put there (the
 * encryption salt), then sets the secrets through the CLI in one call.
 */
export async function writeConfig(
  loc: StateLocation,
  stack: Stack,
  config: Record<string, unknown>,
  secrets: Record<string, string | undefined>,
): Promise<void> {
  const file = settingsFile(loc, stack.name);
  const current = fs.existsSync(file) ? ((yaml.load(fs.readFileSync(file, "utf8")) as Record<string, unknown> | null) ?? {}) : {};
  const header = "# An inference instance's stack, written by instances/stacks.ts. Secrets are set through the CLI.\n";
  fs.writeFileSync(file, header + yaml.dump({ ...current, config }, { lineWidth: 200 }));
  const secret = Object.fromEntries(
    Object.entries(secrets)
      .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
      .map(([key, value]) => [`${PROJECT}:${key}`, { value, secret: true }]),
  );
  if (Object.keys(secret).length > 0) await stack.setAllConfig(secret);
}

/** The plain config in the stack's settings file (undefined when the file is gone). */
export function readConfig(loc: StateLocation, stack: string): Record<string, unknown> | undefined {
  const file = settingsFile(loc, stack);
  if (!fs.existsSync(file)) return undefined;
  return (yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {};
}
