// A throwaway copy of the project (sources symlinked) with its own local backend, so real
// `pulumi` runs neither touch the user's state nor rewrite the committed stack files.
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../unit/harness";

const run = promisify(execFile);
const LINKED = ["index.ts", "components", "services", "node_modules", "package.json", "tsconfig.json", "Pulumi.yaml"];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ScratchProject {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-cli-"));
  private readonly env: NodeJS.ProcessEnv;

  constructor() {
    for (const entry of LINKED) fs.symlinkSync(path.join(ROOT, entry), path.join(this.dir, entry));
    for (const stack of ["dev", "gpu"]) {
      fs.copyFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), path.join(this.dir, `Pulumi.${stack}.yaml`));
    }
    const state = path.join(this.dir, ".state");
    fs.mkdirSync(state);
    this.env = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${state}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
  }

  async pulumi(...args: string[]): Promise<CliResult> {
    try {
      const { stdout, stderr } = await run("pulumi", [...args, "--non-interactive"], {
        cwd: this.dir,
        env: this.env,
        timeout: 300_000,
        maxBuffer: 32 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Why real previews of the stacks cannot run on this machine, or undefined when they can: they
 * need the docker and command resource plugins at the versions package.json pins.
 */
export function missingPlugins(): string | undefined {
  const pins = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;
  let installed: { name: string; kind: string; version: string }[] = [];
  try {
    installed = JSON.parse(execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8", timeout: 60_000 }));
  } catch (err) {
    return `\`pulumi plugin ls\` failed: ${(err as Error).message.split("\n")[0]}`;
  }
  const missing = ["docker", "command"].filter(
    (name) => !installed.some((p) => p.kind === "resource" && p.name === name && p.version === pins[`@pulumi/${name}`]),
  );
  if (missing.length === 0) return undefined;
  return `resource plugin(s) ${missing.map((n) => `${n} ${pins[`@pulumi/${n}`]}`).join(", ")} not installed (see scripts/toolchain/README.md)`;
}
