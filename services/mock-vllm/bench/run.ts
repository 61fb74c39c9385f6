import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { buildSync } from "esbuild";
import { percentile, streamLoad } from "./streamLoad";

/**
 * `npm run bench:mock`: mock-vllm (bundled exactly as in the image), a bare node:http baseline
 * and, when `LLMD_SIM_BIN` names a binary, llm-d-inference-sim, under the same loads, one after
 * the other, in the same command. Where there are two or more CPUs the servers are pinned to
 * CPU 0 and the load generators (wrk, and this process for the stream client) to CPU 1, so they
 * do not compete with each other (they still compete with whatever else runs on the machine:
 * compare ratios, not absolute figures). Not part of the tests.
 */
const ROOT = join(__dirname, "..", "..", "..");
const OUT = join(tmpdir(), "mock-vllm-bench");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** Alternated rounds of the 64-connection case; the table shows the median and the range. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const LLMD = process.env.LLMD_SIM_BIN;
const PORT = 18400;
const PINNED = cpus().length >= 2 && hasCommand("taskset", ["-V"]);
const SERVER_CPU = "0";
const CLIENT_CPU = "1";

function hasCommand(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch (e) {
    // wrk --version exits 1 after printing its version; a missing command has no status.
    return (e as { status?: number }).status === 1;
  }
}
const WRK = hasCommand("wrk", ["--version"]);

function bundle(entry: string, outfile: string): string {
  buildSync({ entryPoints: [entry], bundle: true, platform: "node", target: "node20", outfile, logLevel: "warning" });
  return outfile;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** CPU time (user + system) the process has used, in microseconds. */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on("error", () => resolve(0));
    req.end();
  });
}

function postJson(port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/v1/chat/completions", method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        let b = "";
        res.on("data", (c) => (b += c));
        res.on("end", () => resolve(b));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A server under test: how to start it with zero latency, or with a TTFT/ITL pace. */
interface Target {
  name: string;
  command(
    pace: { ttftMs: number; itlMs: number },
    extra: Record<string, string>,
  ): { file: string; args: string[]; env: Record<string, string> };
}

async function launch(target: Target, pace = { ttftMs: 0, itlMs: 0 }, extra: Record<string, string> = {}): Promise<ChildProcess> {
  const { file, args, env } = target.command(pace, extra);
  const argv = PINNED ? ["-c", SERVER_CPU, file, ...args] : args;
  const child = spawn(PINNED ? "taskset" : file, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 300; i++) {
    if ((await get(PORT, "/health")) === 200) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`${target.name} did not start`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** Peak RSS while `work` runs. */
async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<[T, number]> {
  let peak = rssKb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssKb(pid))), 100);
  try {
    return [await work(), Math.max(peak, rssKb(pid))];
  } finally {
    clearInterval(timer);
  }
}

/** The issue-comparable request: chat completion, `max_tokens` 8. */
const CHAT = JSON.stringify({
  model: "qwen",
  messages: [{ role: "user", content: "Hello! Please answer in one short sentence." }],
  max_tokens: 8,
});

function wrkMs(text: string, label: string): number {
  const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}

interface HttpResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Non-streaming load: wrk (one thread, pinned to the client CPU) when installed, else autocannon. */
async function http(port: number, connections: number): Promise<HttpResult> {
  if (WRK) {
    const script = join(OUT, "post.lua");
    writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(CHAT)}\n`);
    const args = ["-t1", `-c${connections}`, `-d${SECONDS}s`, "--latency", "-s", script, `http://127.0.0.1:${port}/v1/chat/completions`];
    const out = execFileSync(PINNED ? "taskset" : "wrk", PINNED ? ["-c", CLIENT_CPU, "wrk", ...args] : args).toString();
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors =
      Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
    return { rps, p50: wrkMs(out, "50"), p99: wrkMs(out, "99"), errors };
  }
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: CHAT,
    connections,
    duration: SECONDS,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

function streamBody(tokens: number): string {
  return JSON.stringify({
    model: "qwen",
    messages: [{ role: "user", content: "Tell me a story." }],
    max_tokens: tokens,
    stream: true,
    ignore_eos: true,
  });
}

// --- report ---------------------------------------------------------------------------------

const fmt = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : "n/a");
const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cell = (xs: number[] | undefined) => {
  if (!xs) return "absent";
  const m = median(xs);
  return xs.length > 1 ? `${fmt(m)} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : fmt(m);
};

/** One row: each server's values (several when the case ran in rounds). */
function record(name: string, unit: string, values: Record<string, number[] | undefined>): void {
  const m = median(values.mock ?? []);
  const ratio = (other: string) => (values[other] ? fmt(m / median(values[other]!)) : "absent");
  console.log(
    `  ${name.padEnd(40)} ${unit.padEnd(6)} mock ${cell(values.mock).padStart(22)}  baseline ${cell(values.baseline).padStart(22)}  ` +
      `llm-d ${cell(values.llmd).padStart(22)}  mock/baseline ${ratio("baseline").padStart(5)}  mock/llm-d ${ratio("llmd")}`,
  );
}

// --- the servers ----------------------------------------------------------------------------

const COMMON = [
  "Qwen/Qwen2.5-0.5B-Instruct",
  "--served-model-name",
  "qwen",
  "--max-model-len",
  "4096",
  "--host",
  "127.0.0.1",
  "--port",
  String(PORT),
  "--max-num-seqs",
  "1024",
];

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (PINNED) execFileSync("taskset", ["-a", "-pc", CLIENT_CPU, String(process.pid)], { stdio: "ignore" });
  console.log(
    `mock-vllm benchmark — ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"} — node ${process.version} — ${SECONDS}s per load`,
  );
  console.log(
    `pinning: ${PINNED ? `servers on CPU ${SERVER_CPU}, load generators on CPU ${CLIENT_CPU}` : "none (one CPU, or no taskset)"}; non-streaming client: ${WRK ? "wrk -t1" : "autocannon"}`,
  );
  console.log(
    `llm-d-inference-sim: ${LLMD ? (existsSync(LLMD) ? LLMD : `${LLMD} (not found: absent)`) : "absent (set LLMD_SIM_BIN to a binary to compare)"}`,
  );
  console.log(`load average at start: ${load()}`);

  const mockJs = bundle(join(ROOT, "services", "mock-vllm", "src", "main.ts"), join(OUT, "main.js"));
  const baseJs = bundle(join(__dirname, "baseline.ts"), join(OUT, "baseline.js"));
  const mock: Target = {
    name: "mock",
    command: ({ ttftMs, itlMs }) => ({
      file: process.execPath,
      args: [
        mockJs,
        ...COMMON,
        "--mock-mode",
        "generate",
        "--mock-output-len",
        "100000",
        "--mock-ttft-ms",
        String(ttftMs),
        "--mock-itl-ms",
        String(itlMs),
      ],
      env: {},
    }),
  };
  const baseline: Target = {
    name: "baseline",
    command: ({ ttftMs, itlMs }, extra) => ({
      file: process.execPath,
      args: [baseJs],
      env: { PORT: String(PORT), TTFT_MS: String(ttftMs), ITL_MS: String(itlMs), ...extra },
    }),
  };
  // Its own echo mode and zero-latency settings, the same slots as the others.
  const llmd: Target | null =
    LLMD && existsSync(LLMD)
      ? {
          name: "llmd",
          command: ({ ttftMs, itlMs }) => ({
            file: LLMD,
            args: [
              "--model",
              "qwen",
              "--port",
              String(PORT),
              "--max-num-seqs",
              "1024",
              "--max-model-len",
              "4096",
              "--mode",
              "echo",
              "--time-to-first-token",
              String(ttftMs),
              "--inter-token-latency",
              String(itlMs),
            ],
            env: {},
          }),
        }
      : null;
  const targets = [mock, baseline, ...(llmd ? [llmd] : [])];

  // The baseline answers with mock-vllm's own JSON body and SSE chunk, so both write the same bytes.
  let child = await launch(mock);
  await new Promise((r) => setTimeout(r, 1500));
  const idle: Record<string, number[]> = { mock: [rssKb(child.pid!) / 1024] };
  const replyJson = await postJson(PORT, CHAT);
  await stop(child);
  const chunk =
    'data: {"id":"chatcmpl-0123456789abcdef0123456789abcdef","object":"chat.completion.chunk","created":1700000000,"model":"qwen","choices":[{"index":0,"delta":{"content":" tok"},"logprobs":null,"finish_reason":null}]}\n\n';
  const extra = { REPLY_JSON: replyJson, CHUNK: chunk };
  const peak: Record<string, number> = {};

  // 1. Non-streaming at zero latency: 1 connection once, 64 connections in alternated rounds.
  console.log(`\nNon-streaming chat completions, max_tokens 8, zero simulated latency:`);
  for (const [connections, rounds] of [
    [1, 1],
    [64, ROUNDS],
  ] as const) {
    const res: Record<string, { rps: number[]; p50: number[]; p99: number[]; cpu: number[]; errors: number }> = {};
    for (let round = 0; round < rounds; round++) {
      for (const t of targets) {
        child = await launch(t, undefined, extra);
        await new Promise((r) => setTimeout(r, 500));
        if (round === 0 && connections === 1 && t !== mock) idle[t.name] = [rssKb(child.pid!) / 1024];
        const cpu0 = cpuUs(child.pid!);
        const [r, pk] = await withPeakRss(child.pid!, () => http(PORT, connections));
        const cpuPerReq = (cpuUs(child.pid!) - cpu0) / (r.rps * SECONDS);
        await stop(child);
        peak[t.name] = Math.max(peak[t.name] ?? 0, pk / 1024);
        const e = (res[t.name] ??= { rps: [], p50: [], p99: [], cpu: [], errors: 0 });
        e.rps.push(r.rps);
        e.p50.push(r.p50);
        e.p99.push(r.p99);
        e.cpu.push(cpuPerReq);
        e.errors += r.errors;
      }
    }
    const pick = (k: "rps" | "p50" | "p99" | "cpu") => Object.fromEntries(Object.entries(res).map(([n, e]) => [n, e[k]]));
    const label = `${connections} conn${rounds > 1 ? `, ${rounds} rounds` : ""}`;
    record(`${label}: requests/s`, "req/s", pick("rps"));
    record(`${label}: latency p50`, "ms", pick("p50"));
    record(`${label}: latency p99`, "ms", pick("p99"));
    record(`${label}: server CPU per request`, "µs", pick("cpu"));
    const errs = Object.entries(res).filter(([, e]) => e.errors > 0);
    if (errs.length) console.log(`  errors: ${errs.map(([n, e]) => `${n} ${e.errors}`).join(", ")}`);
    console.log(`  load average: ${load()}`);
  }

  // 2. Streaming throughput: 256 streams, no pacing.
  console.log("\nStreams, 256 concurrent, 64 tokens each, zero simulated latency:");
  {
    const v: Record<string, { tps: number[]; cpu: number[] }> = {};
    for (const t of targets) {
      child = await launch(t, undefined, extra);
      const cpu0 = cpuUs(child.pid!);
      const [m, pk] = await withPeakRss(child.pid!, () => streamLoad(PORT, streamBody(64), 256, SECONDS * 1000));
      v[t.name] = { tps: [m.tokensPerSecond], cpu: [(cpuUs(child.pid!) - cpu0) / m.tokens] };
      peak[t.name] = Math.max(peak[t.name] ?? 0, pk / 1024);
      await stop(child);
    }
    record("chunks/s", "tok/s", Object.fromEntries(Object.entries(v).map(([n, e]) => [n, e.tps])));
    record("server CPU per chunk", "µs", Object.fromEntries(Object.entries(v).map(([n, e]) => [n, e.cpu])));
    console.log(`  load average: ${load()}`);
  }

  // 3. Paced streams: TTFT and ITL 10 ms, 64 tokens, at 256 and 1,000 concurrent streams.
  for (const concurrency of [256, 1000]) {
    console.log(`\nPaced streams, ${concurrency} concurrent, TTFT 10 ms, ITL 10 ms, 64 tokens each:`);
    const v: Record<string, { tps: number; ttft: ArrayLike<number>; itl: ArrayLike<number>; errors: number }> = {};
    for (const t of targets) {
      child = await launch(t, { ttftMs: 10, itlMs: 10 }, extra);
      const [m, pk] = await withPeakRss(child.pid!, () => streamLoad(PORT, streamBody(64), concurrency, SECONDS * 1000, 1500));
      v[t.name] = { tps: m.tokensPerSecond, ttft: m.ttftMs, itl: m.itlMs, errors: m.errors };
      peak[t.name] = Math.max(peak[t.name] ?? 0, pk / 1024);
      await stop(child);
    }
    const row = (f: (e: (typeof v)[string]) => number) => Object.fromEntries(Object.entries(v).map(([n, e]) => [n, [f(e)]]));
    record(
      "chunks/s",
      "tok/s",
      row((e) => e.tps),
    );
    record(
      "TTFT p50",
      "ms",
      row((e) => percentile(e.ttft, 50)),
    );
    record(
      "TTFT p99",
      "ms",
      row((e) => percentile(e.ttft, 99)),
    );
    record(
      "ITL p50",
      "ms",
      row((e) => percentile(e.itl, 50)),
    );
    record(
      "ITL p99",
      "ms",
      row((e) => percentile(e.itl, 99)),
    );
    record(
      "ITL max",
      "ms",
      row((e) => percentile(e.itl, 100)),
    );
    const errs = Object.entries(v).filter(([, e]) => e.errors > 0);
    if (errs.length) console.log(`  errors: ${errs.map(([n, e]) => `${n} ${e.errors}`).join(", ")}`);
    console.log(`  load average: ${load()}`);
  }

  console.log("\nMemory:");
  record("idle RSS", "MiB", idle);
  record("peak RSS under the loads above", "MiB", Object.fromEntries(Object.entries(peak).map(([n, p]) => [n, [p]])));
  console.log(`\nload average at end: ${load()}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
