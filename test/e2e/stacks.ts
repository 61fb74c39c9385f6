// Real stacks for end-to-end tests: a throwaway copy of the project (sources symlinked, stack
// files copied) with its own local backend, driven by the Automation API and the real CLI
// against the real Docker engine. Every stack gets its own name and free host ports, so tests
// never touch a developer's own dev stack, and `cleanup()` removes what a failed test left.
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import assert from "node:assert/strict";
import { ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../scripts/lib/freePort";
import { DockerKind, labelledQueries, REMOVAL_ORDER, removeArgs } from "../../scripts/lib/labelled";
import { missingPlugins } from "../../scripts/lib/plugins";
import { PROGRAM_FILES } from "../../scripts/lib/programFiles";

export { freePort };

const ROOT = path.join(__dirname, "..", "..");
const run = promisify(execFile);
const LINKED = [...PROGRAM_FILES, "node_modules"];

export const docker = async (...args: string[]): Promise<string> =>
  (await run("docker", args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();

/** Everything on the engine, by ID and name: what "exactly as before" compares. */
export async function engineSnapshot(): Promise<Record<string, string[]>> {
  const list = async (...args: string[]) => [...new Set((await docker(...args)).split("\n").filter(Boolean))].sort();
  return {
    containers: await list("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"),
    images: await list("images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"),
    volumes: await list("volume", "ls", "-q"),
    networks: await list("network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"),
  };
}

/** Docker objects labelled with a stack, as `kind:name`. */
export async function labelled(stack: string): Promise<string[]> {
  const found: string[] = [];
  for (const [kind, args] of labelledQueries(stack))
    for (const name of (await docker(...args)).split("\n").filter(Boolean)) found.push(`${kind}:${name}`);
  return found.sort();
}

export class ScratchProject {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-e2e-"));
  readonly env: Record<string, string>;

  constructor() {
    for (const entry of LINKED) fs.symlinkSync(path.join(ROOT, entry), path.join(this.dir, entry));
    for (const stack of ["dev", "gpu"]) {
      fs.copyFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), path.join(this.dir, `Pulumi.${stack}.yaml`));
    }
    const state = path.join(this.dir, ".state");
    fs.mkdirSync(state);
    this.env = {
      PULUMI_BACKEND_URL: `file://${state}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
  }

  /**
   * A new stack named `name` with the config of the committed stack file `base`, its host ports
   * replaced by free ones unless `hostPorts` is false (and any other `settings`, by config path).
   */
  async stack(name: string, base: "dev" | "gpu", settings: Record<string, string> = {}, { hostPorts = true } = {}): Promise<Stack> {
    fs.copyFileSync(path.join(ROOT, `Pulumi.${base}.yaml`), path.join(this.dir, `Pulumi.${name}.yaml`));
    const stack = await LocalWorkspace.createStack({ stackName: name, workDir: this.dir }, { envVars: this.env });
    // A cluster publishes no host ports (and refuses network settings).
    const ports = hostPorts ? { "network.apiPort": String(await freePort()), "network.agentPort": String(await freePort()) } : {};
    for (const [key, value] of Object.entries({ ...ports, ...settings })) {
      await stack.setConfig(`inference-runtime:${key}`, { value }, true);
    }
    return stack;
  }

  /** Runs the CLI to its end; never throws (the exit code and both streams are returned). */
  async pulumi(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run("pulumi", [...args, "--non-interactive"], {
        cwd: this.dir,
        env: { ...process.env, ...this.env },
        timeout: 300_000,
        maxBuffer: 32 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }

  /** Starts the CLI in the project (for what the Automation API does not expose: signals). */
  cli(args: string[]): ChildProcess {
    return spawn("pulumi", [...args, "--non-interactive"], { cwd: this.dir, env: { ...process.env, ...this.env }, stdio: "pipe" });
  }

  /** Best-effort teardown of a stack, whatever state a failed test left it in. */
  async cleanup(stack: string): Promise<void> {
    const opts = { cwd: this.dir, env: { ...process.env, ...this.env }, timeout: 300_000 };
    await run("pulumi", ["cancel", "--yes", "--stack", stack, "--non-interactive"], opts).catch(() => undefined);
    await run("pulumi", ["destroy", "--yes", "--stack", stack, "--non-interactive"], opts).catch(() => undefined);
    const found = (await labelled(stack).catch(() => [])).map((obj) => obj.split(":") as [DockerKind, string]);
    for (const kind of REMOVAL_ORDER)
      for (const [k, name] of found) if (k === kind) await docker(...removeArgs(kind, name)).catch(() => undefined);
  }

  /** Tears down `stacks` (see cleanup), then removes the scratch copy. */
  async cleanupAll(stacks: string[]): Promise<void> {
    for (const s of stacks) await this.cleanup(s);
    this.remove();
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The error of a failed Automation API call, as text; fails the test when the call succeeded. */
export async function failure(op: Promise<unknown>): Promise<string> {
  try {
    await op;
  } catch (err) {
    return String((err as Error).message ?? err);
  }
  return assert.fail("expected the operation to fail");
}

/**
 * Why real previews and lifecycle tests cannot run here, or undefined when they can: they need
 * the docker and command resource plugins at the versions package.json pins, and a Docker engine.
 */
export function lifecycleBlocker(): string | undefined {
  const plugins = missingPlugins(["docker", "command"]);
  if ("failed" in plugins) return plugins.failed;
  if (plugins.missing.length > 0) {
    const list = plugins.missing.join(", ");
    return `resource plugin(s) ${list} not installed: \`npm run pulumi -- plugin install resource <name> <version>\` (see README, Prerequisites)`;
  }
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
  } catch {
    return "no Docker engine answers `docker info`";
  }
  return undefined;
}
