import { readFileSync, statfsSync, type StatsFs } from "node:fs";

/** Host figures as the control plane's `metadata.system` expects them. Unknown ones are null. */
export interface SystemSample {
  cpu_usage_pct: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  mem_total_bytes: number | null;
  mem_available_bytes: number | null;
  mem_used_bytes: number | null;
  mem_used_pct: number | null;
  disk_path: string;
  disk_total_bytes: number | null;
  disk_used_bytes: number | null;
  disk_free_bytes: number | null;
  disk_used_pct: number | null;
  net_rx_bps: number | null;
  net_tx_bps: number | null;
  net_rx_bytes_total: number | null;
  net_tx_bytes_total: number | null;
}

/** Aggregate CPU jiffies from the first line of /proc/stat; iowait counts as idle. */
export function parseProcStatCpu(text: string): { total: number; idle: number } | null {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal; guest time is already inside user.
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { total, idle };
}

export function parseMeminfo(text: string): { total: number; available: number } | null {
  const kb = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kb("MemTotal");
  // Kernels before 3.14 lack MemAvailable; free + buffers + cache is the old approximation.
  const available = kb("MemAvailable") ?? sumKnown([kb("MemFree"), kb("Buffers"), kb("Cached")]);
  return total === null || available === null ? null : { total, available };
}

function sumKnown(xs: (number | null)[]): number | null {
  return xs.some((x) => x === null) ? null : xs.reduce<number>((a, b) => a + (b ?? 0), 0);
}

export function parseLoadavg(text: string): [number, number, number] | null {
  const v = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return v.length === 3 && v.every(Number.isFinite) ? (v as [number, number, number]) : null;
}

/** Bytes received and sent, summed over every interface except loopback. */
export function parseNetDev(text: string): { rx: number; tx: number } | null {
  let rx = 0;
  let tx = 0;
  let seen = false;
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    if (line.slice(0, colon).trim() === "lo") continue;
    const cols = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (cols.length < 16 || !Number.isFinite(cols[0]) || !Number.isFinite(cols[8])) continue;
    rx += cols[0] ?? 0;
    tx += cols[8] ?? 0;
    seen = true;
  }
  return seen ? { rx, tx } : null;
}

const pct = (part: number, whole: number): number => Math.round((part / whole) * 1000) / 10;

/**
 * Samples /proc; CPU % and network rates are deltas against the previous sample, so the first
 * call primes them and the agent calls it once at start.
 */
export class SystemSampler {
  private prevCpu: { total: number; idle: number } | null = null;
  private prevNet: { rx: number; tx: number; at: number } | null = null;

  constructor(
    private readonly diskPath: string,
    private readonly procRoot = "/proc",
  ) {}

  // /proc files are generated in memory and tiny, and statfs only reads the superblock: synchronous
  // calls cost microseconds, while the promise API spends several thread-pool round trips on each.
  private read(file: string): string | null {
    try {
      return readFileSync(`${this.procRoot}/${file}`, "utf8");
    } catch {
      return null;
    }
  }

  private statfs(): StatsFs | null {
    try {
      return statfsSync(this.diskPath);
    } catch {
      return null;
    }
  }

  async sample(now = performance.now()): Promise<SystemSample> {
    const fsStats = this.statfs();
    const stat = this.read("stat");
    const meminfo = this.read("meminfo");
    const loadavg = this.read("loadavg");
    const netdev = this.read("net/dev");

    const cpu = stat === null ? null : parseProcStatCpu(stat);
    let cpuPct: number | null = null;
    if (cpu && this.prevCpu && cpu.total > this.prevCpu.total) {
      const busy = 1 - (cpu.idle - this.prevCpu.idle) / (cpu.total - this.prevCpu.total);
      cpuPct = Math.round(Math.min(1, Math.max(0, busy)) * 1000) / 10;
    }
    if (cpu) this.prevCpu = cpu;

    const net = netdev === null ? null : parseNetDev(netdev);
    let rxBps: number | null = null;
    let txBps: number | null = null;
    if (net && this.prevNet && now > this.prevNet.at) {
      const dt = (now - this.prevNet.at) / 1000;
      // Counters reset when an interface goes away; report 0 rather than a negative rate.
      rxBps = Math.round(Math.max(0, net.rx - this.prevNet.rx) / dt);
      txBps = Math.round(Math.max(0, net.tx - this.prevNet.tx) / dt);
    }
    if (net) this.prevNet = { ...net, at: now };

    const mem = meminfo === null ? null : parseMeminfo(meminfo);
    const load = loadavg === null ? null : parseLoadavg(loadavg);
    const diskTotal = fsStats ? fsStats.blocks * fsStats.bsize : null;
    const diskUsed = fsStats ? (fsStats.blocks - fsStats.bfree) * fsStats.bsize : null;
    return {
      cpu_usage_pct: cpuPct,
      load1: load?.[0] ?? null,
      load5: load?.[1] ?? null,
      load15: load?.[2] ?? null,
      mem_total_bytes: mem?.total ?? null,
      mem_available_bytes: mem?.available ?? null,
      mem_used_bytes: mem ? Math.max(0, mem.total - mem.available) : null,
      mem_used_pct: mem && mem.total > 0 ? pct(Math.max(0, mem.total - mem.available), mem.total) : null,
      disk_path: this.diskPath,
      disk_total_bytes: diskTotal,
      disk_used_bytes: diskUsed,
      disk_free_bytes: fsStats ? fsStats.bavail * fsStats.bsize : null,
      disk_used_pct: diskTotal && diskUsed !== null ? pct(diskUsed, diskTotal) : null,
      net_rx_bps: rxBps,
      net_tx_bps: txBps,
      net_rx_bytes_total: net?.rx ?? null,
      net_tx_bytes_total: net?.tx ?? null,
    };
  }
}
