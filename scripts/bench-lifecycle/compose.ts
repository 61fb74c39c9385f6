// The Compose side: Docker Compose v2 (the command tools/offline/compose.sh provides) running the
// compose file of composeFile.ts. Its images are the program's own Dockerfiles and bundles (the
// snapshot's), built once before the rounds as inference-runtime/<svc>:bench-compose and removed
// at the end. A round times up = `up -d --wait` plus what the program's smoke test does (one chat
// completion with the official client, then the agent's /readyz); no-op = `up -d --wait` alone
// (the program's no-op up does not rerun its smoke test either); down = `down -v`.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import OpenAI from "openai";
import { RuntimeConfig } from "../../config/defaults";
import { COMPOSE_STACK, fmt, progress, PROJECT, Round, secondsSince, SERVICES, sleep } from "./common";
import { composeFile, devConfig } from "./composeFile";
import { describe, labelled, sweep } from "./leftovers";
import { checkAbort, lines, mustSucceed, run, RunOptions, RunResult, sh, trySh } from "./proc";
import { localUrl, PATHS } from "../../contract";

const COMPOSE_PROJECT = `${PROJECT}-${COMPOSE_STACK}`;
const COMPOSE_TAG = "bench-compose";
/** Where tools/offline/compose.sh's background build logs, ending with `rc=N`. */
const COMPOSE_LOG = "/tmp/compose.log";

export class ComposeSide {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-bench-compose-"));
  readonly file = path.join(this.dir, "compose.yaml");
  private command: string[] = [];
  private imagesBuilt = false;
  private cfg?: RuntimeConfig;

  /** `snapshot`: the project copy whose Dockerfiles and bundles the images are built from. */
  constructor(
    readonly snapshot: string,
    readonly logs: string,
  ) {}

  /** Finds Compose, writes the file, builds the images (not timed); returns Compose's version. */
  async setUp(apiPort: number, agentPort: number): Promise<string> {
    this.command = await composeCommand();
    const version = trySh(this.command[0], [...this.command.slice(1), "version", "--short"]);
    progress(`compose: ${this.command.join(" ")} (${version})`);
    this.cfg = devConfig(this.snapshot, COMPOSE_STACK, apiPort, agentPort);
    const images = { server: `${PROJECT}/mock-vllm:${COMPOSE_TAG}`, agent: `${PROJECT}/worker-agent:${COMPOSE_TAG}` };
    fs.writeFileSync(this.file, composeFile(this.cfg, images));
    progress(`compose: building ${images.server} and ${images.agent} (not timed)`);
    this.imagesBuilt = true;
    mustSucceed(
      "build-services.sh --images",
      await run("bash", [path.join(this.snapshot, "scripts", "build-services.sh"), "--images"], {
        cwd: this.snapshot,
        env: { ...process.env, IMAGE_TAG: COMPOSE_TAG },
        log: path.join(this.logs, "compose-images.log"),
      }),
    );
    const config = mustSucceed("compose config", await this.compose("compose-config", ["config", "--quiet"]));
    if (config.output.trim()) progress(`compose config: ${config.output.trim()}`);
    progress(`compose: ${this.file}, project ${COMPOSE_PROJECT}, ports ${apiPort}/${agentPort}`);
    return version;
  }

  async round(n: number): Promise<Round> {
    const notes: string[] = [];
    const up = await this.up(`compose-up-${n}`, true);
    progress(`round ${n}: compose up ${fmt(up.seconds)} s`);
    const noop = await this.up(`compose-noop-${n}`, false);
    if (/\b(Creat|Recreat|Start)(e|ed|ing)\b/.test(noop.output)) notes.push(`compose no-op up ${n} (re)created or started something`);
    progress(`round ${n}: compose no-op up ${fmt(noop.seconds)} s`);
    const down = mustSucceed("compose down", await this.compose(`compose-down-${n}`, ["down", "-v"]));
    progress(`round ${n}: compose down ${fmt(down.seconds)} s`);
    const left = labelled(COMPOSE_STACK);
    if (left.length > 0) notes.push(`after compose down ${n}, still on the engine: ${describe(left)}`);
    return { seconds: { up: up.seconds, noop: noop.seconds, down: down.seconds }, notes };
  }

  private compose(name: string, args: string[], extra: Partial<RunOptions> = {}): Promise<RunResult> {
    const [cmd, ...pre] = this.command;
    return run(cmd, [...pre, "-p", COMPOSE_PROJECT, "-f", this.file, ...args], { log: path.join(this.logs, `${name}.log`), ...extra });
  }

  /** `up -d --wait`, then (with `smoke`) what the program's smoke test checks, timed together. */
  private async up(name: string, smoke: boolean): Promise<{ seconds: number; output: string }> {
    const r = mustSucceed("compose up", await this.compose(name, ["up", "-d", "--wait"]));
    const t1 = process.hrtime.bigint();
    if (smoke) await this.smoke();
    return { seconds: r.seconds + (smoke ? secondsSince(t1) : 0), output: r.output };
  }

  /** The same checks as scripts/smoke-test.ts: one chat completion, then the agent's /readyz. */
  private async smoke(): Promise<void> {
    const cfg = this.cfg!;
    const api = localUrl("127.0.0.1", cfg.network.apiPort);
    const client = new OpenAI({ baseURL: `${api}/v1`, apiKey: "unused", maxRetries: 0, timeout: 30_000 });
    const deadline = Date.now() + 60_000;
    for (;;) {
      checkAbort();
      try {
        const r = await client.chat.completions.create({
          model: cfg.model.servedName,
          messages: [{ role: "user", content: "Reply with one short sentence: is the runtime up?" }],
          max_tokens: 32,
        });
        if (r.model !== cfg.model.servedName) throw new Error(`answered as model "${r.model}"`);
        if (!r.choices[0]?.message?.content?.trim()) throw new Error("the answer was empty");
        if (cfg.agent.enabled) {
          const ready = await fetch(localUrl("127.0.0.1", cfg.network.agentPort, PATHS.agentReady), { signal: AbortSignal.timeout(5000) });
          if (ready.status !== 200) throw new Error(`agent ${PATHS.agentReady}: status ${ready.status}`);
        }
        return;
      } catch (err) {
        if (Date.now() >= deadline) throw new Error(`compose smoke check at ${api}: ${(err as Error).message}`, { cause: err });
        await sleep(250);
      }
    }
  }

  /** Best effort: `down -v` once the file exists, a sweep by label, the images. */
  async cleanup(): Promise<string[]> {
    const notes: string[] = [];
    if (fs.existsSync(this.file) && this.command.length > 0) {
      const r = await this.compose("cleanup-down", ["down", "-v", "--remove-orphans"], { evenWhenAborted: true, timeoutMs: 3 * 60_000 });
      if (r.code !== 0) notes.push(`compose down during cleanup failed (exit ${r.code})`);
    }
    const swept = sweep(COMPOSE_STACK);
    if (swept) notes.push(`removed by label after compose down: ${swept}`);
    if (this.imagesBuilt) {
      for (const svc of SERVICES) trySh("docker", ["image", "rm", `${PROJECT}/${svc}:${COMPOSE_TAG}`]);
    }
    return notes;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The Compose v2 command from tools/offline/compose.sh. When a build of it is under way in the
 * background (its log /tmp/compose.log does not end with `rc=N` yet), waits for it rather than
 * starting a second build.
 */
async function composeCommand(): Promise<string[]> {
  const deadline = Date.now() + 40 * 60_000;
  let said = 0;
  while (fs.existsSync(COMPOSE_LOG)) {
    const last = (fs.readFileSync(COMPOSE_LOG, "utf8").trimEnd().split("\n").pop() ?? "").trim();
    const m = /^rc=(\d+)$/.exec(last);
    if (m) {
      if (m[1] !== "0")
        progress(`warning: the background Compose build ended with ${last} (see ${COMPOSE_LOG}); trying tools/offline/compose.sh`);
      break;
    }
    checkAbort();
    if (Date.now() > deadline) throw new Error(`${COMPOSE_LOG} still does not end with rc=N after 40 minutes`);
    if (Date.now() - said > 60_000) {
      progress(`waiting for the Docker Compose build in the background to finish (${COMPOSE_LOG})`);
      said = Date.now();
    }
    await sleep(5000);
  }
  const words = lines(sh("bash", ["tools/offline/compose.sh"]));
  if (words.length === 0) throw new Error("tools/offline/compose.sh printed no command");
  return words;
}
