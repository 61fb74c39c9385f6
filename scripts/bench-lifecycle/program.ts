// The Pulumi side. The snapshot becomes a scratch project like test/e2e/stacks.ts ScratchProject:
// its own local state backend (PULUMI_BACKEND_URL), an empty passphrase, a stack `bench` from
// Pulumi.dev.yaml on free host ports. A round times `bash <snapshot>/scripts/up.sh bench` (twice:
// from nothing, then the no-op) and `scripts/down.sh bench`, i.e. `npm run up` / `npm run down`
// for another stack, or with --direct the Pulumi commands alone. One more up and destroy with the
// engine's event log give the breakdown. Cleanup destroys the stack whatever state it is in and
// sweeps what carries its label.
import * as crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fmt, PROGRAM_STACK, progress, PROJECT, ROOT, Round, SERVICES } from "./common";
import { ArrivedEvent, breakdown, Breakdown, tailEvents } from "./eventLog";
import { describe, labelled, sweep } from "./leftovers";
import { mustSucceed, run, RunOptions, RunResult, sh, trySh } from "./proc";

const PLUGINS = { docker: "5.0.0", command: "1.2.1" };
const DEBUG = { PULUMI_DEBUG_COMMANDS: "true" };

type StepOptions = Partial<RunOptions> & { eventLog?: string };

/** The environment `tools/offline/toolchain.sh --env` sets up (PATH with a fitting CLI; the user's PULUMI_HOME), checked for the plugins. */
function toolchainEnvironment(dir: string): NodeJS.ProcessEnv {
  // Assigned first so that a failing ensure.sh stops here (a failing eval "$(...)" would not).
  const envOut = execFileSync("bash", ["-c", 'e="$(bash tools/offline/toolchain.sh --env)" && eval "$e" && env -0'], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 30 * 60_000,
  });
  const env: NodeJS.ProcessEnv = {};
  for (const entry of envOut.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  if (!env.PATH) throw new Error("tools/offline/toolchain.sh --env gave no PATH");
  const plugins = JSON.parse(sh("pulumi", ["plugin", "ls", "--json"], { env })) as { name: string; kind: string; version: string }[];
  const missing = Object.entries(PLUGINS).filter(
    ([n, v]) => !plugins.some((p) => p.kind === "resource" && p.name === n && p.version === v),
  );
  if (missing.length > 0) {
    throw new Error(
      `resource plugin(s) ${missing.map(([n, v]) => `${n} ${v}`).join(", ")} not installed (\`pulumi plugin ls\`); run with --compose-only meanwhile`,
    );
  }
  return env;
}

export class ProgramSide {
  /** For the CLI run directly: the toolchain's environment plus the scratch backend. */
  private env: NodeJS.ProcessEnv = {};
  /** For up.sh/down.sh: the caller's own environment plus the scratch backend (they find the CLI). */
  private scriptEnv: NodeJS.ProcessEnv = {};
  private initialized = false;
  /** up.sh must not, but if it ever worked on the checkout, it would leave this stack file there. */
  private readonly stray = path.join(ROOT, `Pulumi.${PROGRAM_STACK}.yaml`);
  private readonly strayExisted = fs.existsSync(this.stray);

  /** `dir`: the snapshot, which becomes the scratch project. */
  constructor(
    readonly dir: string,
    readonly logs: string,
    readonly direct: boolean,
  ) {}

  /** Toolchain, scratch backend, stack and ports; returns the CLI version and the untimed steps up.sh adds, timed once. */
  async setUp(apiPort: number, agentPort: number): Promise<{ version: string; toolchainCheck: number; stackSelect: number }> {
    const toolchainEnv = toolchainEnvironment(this.dir);
    const version = sh("pulumi", ["version"], { env: toolchainEnv });
    const ensure = mustSucceed(
      "tools/offline/toolchain.sh",
      await run("bash", ["tools/offline/toolchain.sh"], { cwd: this.dir, log: this.log("ensure") }),
    );
    fs.copyFileSync(path.join(this.dir, "Pulumi.dev.yaml"), path.join(this.dir, `Pulumi.${PROGRAM_STACK}.yaml`));
    const state = path.join(this.dir, ".state");
    fs.mkdirSync(state);
    const backend = {
      PULUMI_BACKEND_URL: `file://${state}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    this.env = { ...toolchainEnv, ...backend };
    this.scriptEnv = { ...process.env, ...backend };
    mustSucceed("pulumi stack init", await this.pulumi("stack-init", ["stack", "init", PROGRAM_STACK]));
    this.initialized = true;
    for (const [key, port] of [
      ["network.apiPort", apiPort],
      ["network.agentPort", agentPort],
    ] as const) {
      mustSucceed(
        `pulumi config set ${key}`,
        await this.pulumi("config", ["config", "set", "--path", key, String(port), "--stack", PROGRAM_STACK]),
      );
    }
    // What up.sh runs before `pulumi up`, here on a stack that exists already, as in every round.
    const select = mustSucceed("pulumi stack select", await this.pulumi("stack-select", ["stack", "select", "--create", PROGRAM_STACK]));
    progress(`program: scratch project ${this.dir}, stack ${PROGRAM_STACK}, ports ${apiPort}/${agentPort}`);
    return { version, toolchainCheck: ensure.seconds, stackSelect: select.seconds };
  }

  /** Up from nothing (the smoke test must have run), the no-op up, down (nothing may be left). */
  async round(n: number): Promise<Round> {
    const notes: string[] = [];
    const [upCmd, downCmd] = this.direct ? ["pulumi up", "pulumi destroy"] : ["scripts/up.sh", "scripts/down.sh"];
    const up = mustSucceed(`program up (${upCmd})`, await this.up(`program-up-${n}`));
    if (!this.direct) this.checkScratchUsed();
    if (!/smoke-test-command\s+created/.test(up.output)) throw new Error(`program up ${n}: the smoke test did not run (see ${up.log})`);
    progress(`round ${n}: program up ${fmt(up.seconds)} s`);
    const noop = mustSucceed(`program no-op up (${upCmd})`, await this.up(`program-noop-${n}`));
    const summary = noop.output.split("Resources:").pop() ?? "";
    if (/\b(created|updated|replaced|deleted)\b/.test(summary))
      notes.push(`program no-op up ${n} changed something: ${summary.trim().split("\n").slice(0, 4).join("; ")}`);
    progress(`round ${n}: program no-op up ${fmt(noop.seconds)} s`);
    const down = mustSucceed(`program down (${downCmd})`, await this.down(`program-down-${n}`));
    progress(`round ${n}: program down ${fmt(down.seconds)} s`);
    const left = labelled(PROGRAM_STACK);
    if (left.length > 0) notes.push(`after program down ${n}, still on the engine: ${describe(left)}`);
    return { seconds: { up: up.seconds, noop: noop.seconds, down: down.seconds }, notes };
  }

  /** One more up (as the rounds run it) and a `pulumi destroy`, not counted, with the engine's event log. */
  async breakdown(): Promise<{ up: Breakdown; destroy: Breakdown }> {
    progress("breakdown: one more program up and destroy with the engine's event log (not counted)");
    const upEvents: ArrivedEvent[] = [];
    const upLog = path.join(this.dir, "up.events.jsonl");
    const up = mustSucceed(
      "program up with --event-log",
      await this.up("breakdown-up", { eventLog: upLog, during: tailEvents(upLog, upEvents) }),
    );
    const downEvents: ArrivedEvent[] = [];
    const downLog = path.join(this.dir, "destroy.events.jsonl");
    // down.sh passes no flags on, so this one is its `pulumi destroy --skip-preview` run directly.
    const down = mustSucceed(
      "program destroy with --event-log",
      await this.destroy("breakdown-destroy", { eventLog: downLog, during: tailEvents(downLog, downEvents) }),
    );
    return { up: breakdown("up", up.seconds, upEvents), destroy: breakdown("destroy", down.seconds, downEvents) };
  }

  private log(name: string): string {
    return path.join(this.logs, `${name}.log`);
  }

  private pulumi(name: string, args: string[], extra: Partial<RunOptions> = {}): Promise<RunResult> {
    return run("pulumi", [...args, "--non-interactive"], { cwd: this.dir, env: this.env, log: this.log(name), ...extra });
  }

  private script(name: string, script: string, args: string[], extra: Partial<RunOptions>): Promise<RunResult> {
    return run("bash", [path.join(this.dir, "scripts", script), PROGRAM_STACK, ...args], {
      cwd: this.dir,
      env: this.scriptEnv,
      log: this.log(name),
      ...extra,
    });
  }

  /** `npm run up` for the bench stack (or, with --direct, its `pulumi up`); up.sh passes an event log on to `pulumi up`. */
  private up(name: string, { eventLog, ...extra }: StepOptions = {}): Promise<RunResult> {
    const flags = eventLog ? ["--event-log", eventLog] : [];
    const debug = eventLog ? DEBUG : {};
    if (this.direct) {
      return this.pulumi(name, ["up", "--yes", "--skip-preview", "--refresh", "--stack", PROGRAM_STACK, ...flags], {
        ...extra,
        env: { ...this.env, ...debug },
      });
    }
    return this.script(name, "up.sh", flags, { ...extra, env: { ...this.scriptEnv, ...debug } });
  }

  /** `npm run down` for the bench stack (or, with --direct, its `pulumi destroy`). */
  private down(name: string): Promise<RunResult> {
    return this.direct ? this.destroy(name) : this.script(name, "down.sh", [], {});
  }

  /** `pulumi destroy` itself: for --direct, the breakdown (with an event log) and cleanup. */
  private destroy(name: string, { eventLog, ...extra }: StepOptions = {}): Promise<RunResult> {
    const args = ["destroy", "--yes", "--skip-preview", "--stack", PROGRAM_STACK, ...(eventLog ? ["--event-log", eventLog] : [])];
    return this.pulumi(name, args, eventLog ? { ...extra, env: { ...this.env, ...DEBUG } } : extra);
  }

  /** up.sh and down.sh must have worked on the scratch copy, not on the checkout. */
  private checkScratchUsed(): void {
    const state = path.join(this.dir, ".state", ".pulumi", "stacks", PROJECT, `${PROGRAM_STACK}.json`);
    const appeared = !this.strayExisted && fs.existsSync(this.stray);
    if (appeared || !fs.existsSync(state)) {
      throw new Error(
        `scripts/up.sh did not run in the scratch copy ${this.dir} (${appeared ? `${this.stray} appeared` : `no state at ${state}`}): ` +
          "it no longer works from a copy of the project; rerun with --direct",
      );
    }
  }

  /** Best effort, whatever state an interrupted run left. */
  async cleanup(): Promise<string[]> {
    const notes: string[] = [];
    if (this.initialized) {
      const opts = { evenWhenAborted: true, timeoutMs: 5 * 60_000 };
      let r = await this.destroy("cleanup-destroy", opts);
      if (r.code !== 0 && /locked/i.test(r.output)) {
        // An interrupted CLI leaves its lock in our own scratch backend.
        fs.rmSync(path.join(this.dir, ".state", ".pulumi", "locks"), { recursive: true, force: true });
        r = await this.destroy("cleanup-destroy-2", opts);
      }
      if (r.code !== 0) notes.push(`pulumi destroy during cleanup failed (exit ${r.code}); swept by label instead`);
    }
    const swept = sweep(PROGRAM_STACK);
    for (const svc of SERVICES) trySh("docker", ["image", "rm", `${PROJECT}/${svc}:${PROGRAM_STACK}`]);
    if (swept) notes.push(`removed by label after destroy: ${swept}`);
    // The CLI remembers the selected stack of every project path in PULUMI_HOME/workspaces.
    const home = this.env.PULUMI_HOME || path.join(os.homedir(), ".pulumi");
    {
      const hash = crypto.createHash("sha1").update(path.join(this.dir, "Pulumi.yaml")).digest("hex");
      fs.rmSync(path.join(home, "workspaces", `${PROJECT}-${hash}-workspace.json`), { force: true });
    }
    if (!this.strayExisted && fs.existsSync(this.stray)) {
      fs.rmSync(this.stray);
      notes.push(`removed ${this.stray}`);
    }
    return notes;
  }
}
