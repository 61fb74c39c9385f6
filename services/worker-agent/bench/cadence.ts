/**
 * Measures the bundled agent as it runs in production: heartbeat cadence error seen by a local
 * control plane, idle CPU (from /proc/<pid>/stat) and resident memory (from /proc/<pid>/status).
 *
 *   npx tsx services/worker-agent/bench/cadence.ts [--duration 30] [--interval 1]
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FakeControlPlane, FakeModelServer, freePort, INSTANCE_ID, sleep, waitFor } from "../test/helpers";
import { buildSync } from "esbuild";

const { values } = parseArgs({ options: { duration: { type: "string", default: "30" }, interval: { type: "string", default: "1" } } });
const durationS = Number(values.duration);
const intervalS = Number(values.interval);

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function cpuTicks(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

function clockTicks(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

async function main(): Promise<void> {
  // Measure the same single-file bundle the image runs, not the TypeScript loader.
  const bundle = join(mkdtempSync(join(tmpdir(), "worker-agent-bench-")), "main.js");
  buildSync({
    entryPoints: [join(__dirname, "..", "src", "main.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile: bundle,
    logLevel: "warning",
  });

  const cp = await FakeControlPlane.start();
  const model = await FakeModelServer.start({ models: ["m"], waiting: 7, running: 2 });
  const port = await freePort();
  const child = spawn(process.execPath, [bundle], {
    env: {
      PATH: process.env.PATH ?? "",
      CONTROL_PLANE_URL: cp.url,
      INSTANCE_ID,
      WORKER_AUTH_TOKEN: "bench",
      MODEL_ID: "m",
      VLLM_BASE_URL: model.url,
      WORKER_HEALTH_HOST: "127.0.0.1",
      WORKER_HEALTH_PORT: String(port),
      WORKER_HEARTBEAT_INTERVAL_S: String(intervalS),
      WORKER_SIMULATE_GPU_COUNT: "1",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pid = child.pid!;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

  try {
    await waitFor("the first heartbeat", () => cp.of("heartbeat").length >= 1, 30_000);
    // Let start-up work (module loading, JIT) settle before the idle window.
    await sleep(2000);
    const hbBefore = cp.of("heartbeat").length;
    const t0 = performance.now();
    const ticks0 = cpuTicks(pid);
    let rssMax = 0;
    while (performance.now() - t0 < durationS * 1000) {
      rssMax = Math.max(rssMax, rssKb(pid));
      await sleep(500);
    }
    const wallS = (performance.now() - t0) / 1000;
    const cpuPct = ((cpuTicks(pid) - ticks0) / clockTicks() / wallS) * 100;
    const rssEnd = rssKb(pid);

    const at = cp
      .of("heartbeat")
      .slice(hbBefore - 1)
      .map((c) => c.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    const dev = gaps.map((g) => Math.abs(g - intervalS * 1000)).sort((a, b) => a - b);
    const drift = at.at(-1)! - at[0]! - gaps.length * intervalS * 1000;
    const result = {
      interval_s: intervalS,
      window_s: Math.round(wallS * 10) / 10,
      heartbeats: gaps.length,
      gap_deviation_ms: { median: +quantile(dev, 0.5).toFixed(2), p99: +quantile(dev, 0.99).toFixed(2), max: +dev.at(-1)!.toFixed(2) },
      accumulated_drift_ms: +drift.toFixed(2),
      idle_cpu_pct: +cpuPct.toFixed(3),
      rss_mb: { end: +(rssEnd / 1024).toFixed(1), max: +(rssMax / 1024).toFixed(1) },
      last_heartbeat: { status: cp.of("heartbeat").at(-1)!.body.status, queue_depth: cp.of("heartbeat").at(-1)!.body.queue_depth },
      node: process.version,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    child.kill("SIGTERM");
    const code = await exited;
    if (code !== 0) console.error(`agent exited with ${code} on SIGTERM`);
    await cp.close();
    await model.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
