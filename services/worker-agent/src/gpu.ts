import { execFile } from "node:child_process";

/** One GPU as the control plane's `metadata.gpus[]` expects it. Unknown figures are null. */
export interface GpuSample {
  index: number;
  gpu_utilization: number | null;
  gpu_mem_used_mb: number | null;
  gpu_mem_total_mb: number | null;
  gpu_temp_c: number | null;
  gpu_power_w: number | null;
  gpu_power_limit_w: number | null;
}

export type GpuSource = "nvidia-smi" | "simulated" | "none";

/** Per-GPU samples plus the aggregates the heartbeat's top-level fields carry. */
export interface GpuReport {
  source: GpuSource;
  gpus: GpuSample[];
  gpu_count: number;
  /** Mean over GPUs. */
  gpu_utilization: number | null;
  /** Sums over GPUs. */
  gpu_mem_used_mb: number | null;
  gpu_mem_total_mb: number | null;
  /** Means over GPUs that report them. */
  gpu_temp_c: number | null;
  gpu_power_w: number | null;
  gpu_power_limit_w: number | null;
}

export const NVIDIA_SMI_ARGS = [
  "--query-gpu=index,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,power.limit",
  "--format=csv,noheader,nounits",
];

// `[N/A]`, `[Not Supported]`, `N/A` and friends mean "this board does not report it".
function field(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const m = /^-?\d+(\.\d+)?/.exec(raw.trim());
  return m ? Number(m[0]) : null;
}

/** Parses the worker protocol's nvidia-smi query; lines that do not fit are skipped. */
export function parseNvidiaSmiCsv(text: string): GpuSample[] {
  const gpus: GpuSample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const parts = line.split(",").map((p) => p.trim());
    if (parts.length !== 7) continue;
    const index = field(parts[0]);
    if (index === null || !Number.isInteger(index)) continue;
    gpus.push({
      index,
      gpu_utilization: field(parts[1]),
      gpu_mem_used_mb: field(parts[2]),
      gpu_mem_total_mb: field(parts[3]),
      gpu_temp_c: field(parts[4]),
      gpu_power_w: field(parts[5]),
      gpu_power_limit_w: field(parts[6]),
    });
  }
  return gpus;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Deterministic figures derived from load, so dashboards move with traffic on machines without
 * a GPU, and so `/metrics` and the heartbeat of the same cycle agree exactly.
 */
export function simulateGpus(count: number, vramMb: number, load: { waiting: number | null; running: number | null }): GpuSample[] {
  const busy = Math.max(0, load.waiting ?? 0) + Math.max(0, load.running ?? 0);
  const base = Math.min(95, 5 + 8 * busy);
  const gpus: GpuSample[] = [];
  for (let index = 0; index < count; index++) {
    const util = round1(Math.min(100, base + 3 * index));
    gpus.push({
      index,
      gpu_utilization: util,
      gpu_mem_used_mb: Math.round((vramMb * util) / 100),
      gpu_mem_total_mb: vramMb,
      gpu_temp_c: round1(35 + util * 0.5),
      gpu_power_w: round1((300 * util) / 100),
      gpu_power_limit_w: 300,
    });
  }
  return gpus;
}

function mean(xs: (number | null)[]): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : round1(known.reduce((a, b) => a + b, 0) / known.length);
}

function sum(xs: (number | null)[]): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

export function summarize(source: GpuSource, gpus: GpuSample[]): GpuReport {
  return {
    source,
    gpus,
    gpu_count: gpus.length,
    gpu_utilization: mean(gpus.map((g) => g.gpu_utilization)),
    gpu_mem_used_mb: sum(gpus.map((g) => g.gpu_mem_used_mb)),
    gpu_mem_total_mb: sum(gpus.map((g) => g.gpu_mem_total_mb)),
    gpu_temp_c: mean(gpus.map((g) => g.gpu_temp_c)),
    gpu_power_w: mean(gpus.map((g) => g.gpu_power_w)),
    gpu_power_limit_w: mean(gpus.map((g) => g.gpu_power_limit_w)),
  };
}

export type SmiResult = { gpus: GpuSample[] } | { absent: true } | { error: string };

/** Runs the nvidia-smi query; a missing binary is remembered so it is not spawned every cycle. */
export class GpuReader {
  private absent = false;

  constructor(
    private readonly command: string,
    private readonly timeoutMs: number,
    private readonly simulate: { count: number; vramMb: number },
  ) {}

  query(): Promise<SmiResult> {
    if (this.absent) return Promise.resolve({ absent: true });
    return new Promise((resolve) => {
      execFile(this.command, NVIDIA_SMI_ARGS, { timeout: this.timeoutMs, windowsHide: true }, (err, stdout) => {
        if (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") {
            this.absent = true;
            resolve({ absent: true });
          } else resolve({ error: err.killed ? "timeout" : (err.message.split("\n")[0] ?? "failed") });
          return;
        }
        resolve({ gpus: parseNvidiaSmiCsv(stdout) });
      });
    });
  }

  /** Real figures when nvidia-smi reports GPUs; else simulated ones when simulation is on. */
  report(result: SmiResult, load: { waiting: number | null; running: number | null }): GpuReport {
    if ("gpus" in result && result.gpus.length > 0) return summarize("nvidia-smi", result.gpus);
    if (this.simulate.count > 0) return summarize("simulated", simulateGpus(this.simulate.count, this.simulate.vramMb, load));
    return summarize("none", []);
  }
}
