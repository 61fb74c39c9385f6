import { ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import type { Target } from "./cases";
import { PATHS } from "../../contract";
import { freePort } from "../../scripts/lib/freePort";

export { freePort };

/** A service under fuzz: its own process, bundled as the image runs it, on a loopback port. */
export interface Service {
  target: Target;
  port: number;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  output(): string;
  /** Resident memory now, and the peak so far (VmHWM), in MiB. */
  rssMiB(): number;
  peakRssMiB(): number;
  /** SIGTERM; resolves with how long the process took to exit. */
  stop(): Promise<number>;
}

export const HEALTH_PATH: Record<Target, string> = { mock: PATHS.serverHealth, agent: PATHS.agentHealth };
const ENTRY: Record<Target, string> = { mock: "mock-vllm/src/main.ts", agent: "worker-agent/src/main.ts" };

function status(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export function get(port: number, path: string, timeoutMs = 2000): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve({ status: 0, body: "", ms: performance.now() - t0 }));
    req.end();
  });
}

/** Bundles and starts the service with default settings plus `args` (mock) or `env` (agent). */
export async function startService(target: Target, extra: { args?: string[]; env?: Record<string, string> } = {}): Promise<Service> {
  const file = join(tmpdir(), `fuzz-${target}-${process.pid}.js`);
  buildSync({
    entryPoints: [join(__dirname, "..", ENTRY[target])],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile: file,
    logLevel: "warning",
  });
  const port = await freePort();
  const args =
    target === "mock" ? ["m", "--served-model-name", "m", "--host", "127.0.0.1", "--port", String(port), ...(extra.args ?? [])] : [];
  const env =
    target === "agent"
      ? {
          WORKER_HEALTH_PORT: String(port),
          WORKER_HEALTH_HOST: "127.0.0.1",
          VLLM_BASE_URL: `http://127.0.0.1:${await freePort()}`,
          MODEL_ID: "m",
          WORKER_NVIDIA_SMI: "/nonexistent/nvidia-smi",
          WORKER_HEARTBEAT_INTERVAL_S: "1",
          ...extra.env,
        }
      : extra.env;
  const child = spawn(process.execPath, [file, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | string | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  const pid = child.pid!;
  for (let i = 0; ; i++) {
    if ((await get(port, HEALTH_PATH[target], 500)).status !== 0) break;
    if (i > 200 || child.exitCode !== null) throw new Error(`${target} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(file, { force: true }); // loaded by now
  return {
    target,
    port,
    child,
    exited,
    output: () => out,
    rssMiB: () => status(pid, "VmRSS"),
    peakRssMiB: () => status(pid, "VmHWM"),
    stop: async () => {
      const t0 = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(killer);
      return performance.now() - t0;
    },
  };
}
