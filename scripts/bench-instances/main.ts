// Instances benchmark: create and terminate N = 1, 4, 8 mock instances at once with the library
// (instances/: one stack each, the Automation API, the real engine), against the old way on the
// same machine in the same run: one Docker Compose project per instance (`docker compose -p
// mockrt-<id12> up -d --wait`, then `down -v`), with the same containers from the same spec
// builders. `npm run bench:instances [-- --rounds R] [--sizes 1,4,8] [--json FILE]`.
//
// Per size and round, each side: the wall time from the first create to the last one done (the
// program builds its images inside each create, from the layer cache; Compose runs prebuilt
// images), the resident memory of each instance's two containers once all are up (`docker stats
// --no-stream`), and the wall time to terminate them all. Sides alternate which goes first.
// Reported are medians over the rounds and the ratios the targets name: N = 8 against N = 1
// (program), program against Compose at each N, MiB per instance. Everything is removed at the
// end, also on failure: the instances, the Compose projects, the images, the network, temp dirs.
import { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { createInstance, terminateInstance } from "../../instances";
import { stackNameOf } from "../../instances/ids";
import { sweep } from "../bench-lifecycle/leftovers";
import { median } from "../lib/median";
import { compose, composeCommand, composeStack, IMAGES, writeComposeFile } from "./compose";
import { containerMemory } from "./memory";

const ROOT = path.join(__dirname, "..", "..");
const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toTimeString().slice(0, 8)}] ${msg}\n`);
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

interface Sample {
  up: number;
  down: number;
  /** MiB per instance (model server + agent). */
  mib: number[];
}
type Side = "program" | "compose";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "2" }, sizes: { type: "string", default: "1,4,8" }, json: { type: "string" } },
});
const rounds = Number(values.rounds);
const sizes = values.sizes!.split(",").map(Number);
if (!Number.isInteger(rounds) || rounds < 1 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  process.stderr.write("bench-instances: --rounds expects a whole number >= 1, --sizes a list such as 1,4,8\n");
  process.exit(2);
}

const network = `bench-instances-${process.pid}`;
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-instances-state-"));
const composeDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-instances-compose-"));
const live = { program: new Set<string>(), compose: new Map<string, string>() };
const failures: string[] = [];
const docker = (...args: string[]) =>
  execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 }).trim();

async function programRound(n: number): Promise<Sample> {
  const ids = Array.from({ length: n }, () => randomUUID());
  ids.forEach((id) => live.program.add(id));
  let t0 = process.hrtime.bigint();
  const made = await Promise.all(ids.map((id) => createInstance(id, { network, stateDir })));
  const up = seconds(t0);
  const mib = memoryOf(made.map((x) => [`inference-runtime-${x.stack}-model-server`, `inference-runtime-${x.stack}-worker-agent`]));
  t0 = process.hrtime.bigint();
  await Promise.all(ids.map((id) => terminateInstance(id, { stateDir })));
  const down = seconds(t0);
  ids.forEach((id) => live.program.delete(id));
  return { up, down, mib };
}

async function composeRound(command: string[], n: number): Promise<Sample> {
  const ids = Array.from({ length: n }, () => randomUUID());
  const files = ids.map((id) => writeComposeFile(composeDir, id, network));
  ids.forEach((id, i) => live.compose.set(id, files[i].file));
  let t0 = process.hrtime.bigint();
  await Promise.all(ids.map((id, i) => compose(command, id, files[i].file, ["up", "-d", "--wait"])));
  const up = seconds(t0);
  const mib = memoryOf(files.map((x) => x.containers));
  t0 = process.hrtime.bigint();
  await Promise.all(ids.map((id, i) => compose(command, id, files[i].file, ["down", "-v"])));
  const down = seconds(t0);
  ids.forEach((id) => live.compose.delete(id));
  return { up, down, mib };
}

// After a short settle, so start-up allocations are not what is measured.
function memoryOf(instances: string[][]): number[] {
  execFileSync("sleep", ["3"]);
  const all = containerMemory(instances.flat());
  return instances.map((names) => names.reduce((sum, name) => sum + (all.get(name) ?? NaN), 0));
}

async function cleanup(command: string[], all = true): Promise<void> {
  progress(all ? "cleaning up" : "removing what the failed round left");
  await Promise.all(
    [...live.program].map((id) => terminateInstance(id, { stateDir }).catch((e) => progress(`terminate ${id}: ${(e as Error).message}`))),
  );
  await Promise.all([...live.compose].map(([id, file]) => compose(command, id, file, ["down", "-v"]).catch(() => undefined)));
  for (const id of [...live.program].map(stackNameOf).concat([...live.compose.keys()].map(composeStack))) {
    sweep(id);
  }
  live.program.clear();
  live.compose.clear();
  if (!all) return;
  for (const image of Object.values(IMAGES)) {
    try {
      docker("image", "rm", image);
    } catch {
      /* not built */
    }
  }
  try {
    docker("network", "rm", network);
  } catch {
    /* not made */
  }
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.rmSync(composeDir, { recursive: true, force: true });
}

async function main(): Promise<number> {
  const command = composeCommand(ROOT);
  const results: Record<number, Record<Side, Sample[]>> = {};
  let failure: unknown;
  process.on("SIGINT", () => {
    failure = new Error("interrupted");
  });
  try {
    progress(
      `nproc ${os.cpus().length}, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}; sizes ${sizes.join(", ")}; ${rounds} round(s); compose: ${command.join(" ")}`,
    );
    execFileSync("bash", [path.join(ROOT, "scripts/bootstrap.sh")], { stdio: ["ignore", "ignore", "inherit"] });
    progress(`building ${IMAGES.server} and ${IMAGES.agent} for the Compose side (not timed)`);
    execFileSync("bash", [path.join(ROOT, "scripts/build-services.sh"), "--images"], {
      env: { ...process.env, IMAGE_TAG: "bench-instances" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    docker("network", "create", network);
    // One create and terminate first, not counted: the first run after a change pays for caches.
    progress("warm-up round (not counted)");
    await programRound(1);
    for (const n of sizes) {
      results[n] = { program: [], compose: [] };
      for (let r = 1; r <= rounds; r++) {
        const order: Side[] = r % 2 === 1 ? ["program", "compose"] : ["compose", "program"];
        for (const side of order) {
          if (failure) throw failure;
          // A round that fails (e.g. a container marked unhealthy under load) is counted as
          // failed, cleaned up, and the benchmark goes on.
          try {
            const s = side === "program" ? await programRound(n) : await composeRound(command, n);
            results[n][side].push(s);
            progress(
              `N=${n} round ${r} ${side}: up ${f(s.up)} s, down ${f(s.down)} s, MiB/instance ${s.mib.map(f).join(" ")} (load ${os.loadavg()[0].toFixed(2)})`,
            );
          } catch (err) {
            const why = (err as Error).message.trim().split("\n").slice(-1)[0];
            failures.push(`N=${n} round ${r} ${side}: ${why}`);
            progress(`N=${n} round ${r} ${side} FAILED: ${why}`);
            await cleanup(command, false);
          }
        }
      }
    }
  } catch (err) {
    failure = err;
  } finally {
    await cleanup(command);
  }
  if (failure) {
    process.stderr.write(`bench-instances: ${(failure as Error).message}\n`);
    return 1;
  }
  report(results);
  return 0;
}

function report(results: Record<number, Record<Side, Sample[]>>): void {
  const m = (n: number, side: Side, key: "up" | "down") => (results[n][side].length ? median(results[n][side].map((s) => s[key])) : NaN);
  const mem = (n: number, side: Side) => (results[n][side].length ? median(results[n][side].flatMap((s) => s.mib)) : NaN);
  const lines = [
    `| N | program up (s) | Compose up (s) | ratio | program down (s) | Compose down (s) | ratio | MiB per instance (program / Compose) |`,
    `|---|---|---|---|---|---|---|---|`,
    ...sizes.map(
      (n) =>
        `| ${n} | ${f(m(n, "program", "up"))} | ${f(m(n, "compose", "up"))} | ${(m(n, "program", "up") / m(n, "compose", "up")).toFixed(2)}× | ${f(m(n, "program", "down"))} | ${f(m(n, "compose", "down"))} | ${(m(n, "program", "down") / m(n, "compose", "down")).toFixed(2)}× | ${f(mem(n, "program"))} / ${f(mem(n, "compose"))} |`,
    ),
  ];
  const first = sizes[0];
  const last = sizes[sizes.length - 1];
  const scale = m(last, "program", "up") / m(first, "program", "up");
  const vsCompose = m(last, "program", "up") / m(last, "compose", "up");
  const worstMib = Math.max(...sizes.flatMap((n) => results[n].program.flatMap((s) => s.mib)));
  lines.push(
    "",
    `targets: N=${last} up in ${scale.toFixed(2)}× the time of N=${first} (target ≤ 2×: ${scale <= 2 ? "met" : "missed"}); ` +
      `${vsCompose.toFixed(2)}× Compose at N=${last} (target ≤ 1.5×: ${vsCompose <= 1.5 ? "met" : "missed"}); ` +
      `at most ${f(worstMib)} MiB per instance (target ≤ 120: ${worstMib <= 120 ? "met" : "missed"})`,
    `medians of the rounds that succeeded, of ${rounds}; ${os.cpus().length} cores; load at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    ...failures.map((x) => `failed: ${x}`),
  );
  process.stdout.write(lines.join("\n") + "\n");
  if (values.json) fs.writeFileSync(values.json, JSON.stringify({ rounds, sizes, results, failures }, null, 2));
}

main().then((code) => process.exit(code));
