// Resident memory of containers, as `docker stats --no-stream` reports it (the cgroup's usage
// without the page cache), summed per instance.
import { execFileSync } from "node:child_process";

const UNITS: Record<string, number> = { B: 1 / 1048576, KiB: 1 / 1024, kB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 };

/** "45.3MiB / 23.5GiB" → 45.3 (MiB). */
export function mibOf(usage: string): number {
  const m = /^([\d.]+)\s*([A-Za-z]+)/.exec(usage.trim());
  if (!m || !(m[2] in UNITS)) throw new Error(`unreadable memory figure ${JSON.stringify(usage)}`);
  return Number(m[1]) * UNITS[m[2]];
}

/** MiB per container name, for the given containers. */
export function containerMemory(names: string[]): Map<string, number> {
  const out = execFileSync("docker", ["stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", ...names], {
    encoding: "utf8",
    timeout: 120_000,
  });
  return new Map(
    out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [name, usage] = line.split("\t");
        return [name, mibOf(usage)];
      }),
  );
}
