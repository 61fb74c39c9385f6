import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { buildSync } from "esbuild";
import { percentile, streamLoad } from "./streamLoad";

/**
 * `npm run bench:mock`: mock-vllm (bundled exactly as in the image) against a bare node:http
 * baseline under the same loads, one after the other, on this machine. Not part of the tests.
 */
const ROOT = join(__dirname, "..", "..", "..");
const OUT = join(tmpdir(), "mock-vllm-bench");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const MOCK_PORT = 18400;
const BASE_PORT = 18401;

function bundle(entry: string, outfile: string): string {
  buildSync({ entryPoints: [entry], bundle: true, platform: "node", target: "node20", outfile, logLevel: "warning" });
  return outfile;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on("error", () => resolve(0));
    req.end();
  });
}

async function launch(file: string, args: string[], env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 200; i++) {
    if ((await get(port, "/health")) !== 0) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} did not start`);
}

async function stop(child: ChildProcess): Promise<void> {
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

const CHAT = JSON.stringify({ model: "qwen", messages: [{ role: "user", content: "Hello! Please answer in one short sentence." }], max_tokens: 32 });

function hasWrk(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (e) {
    // wrk --version exits 1 after printing its version.
    return (e as { status?: number }).status === 1;
  }
}
const WRK = hasWrk();

function wrkMs(text: string, label: string): number {
  const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}

/** Non-streaming load: wrk (one thread, C) when installed, else autocannon. */
async function http(port: number, connections: number): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  if (WRK) {
    const script = join(OUT, "post.lua");
    writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(CHAT)}\n`);
    const out = execFileSync("wrk", ["-t1", `-c${connections}`, `-d${SECONDS}s`, "--latency", "-s", script, `http://127.0.0.1:${port}/v1/chat/completions`]).toString();
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: .*?(\d+)/.exec(out)?.[1] ?? 0);
    return { rps, p50: wrkMs(out, "50"), p99: wrkMs(out, "99"), errors };
  }
  const r = await autocannon({ url: `http://127.0.0.1:${port}/v1/chat/completions`, method: "POST", headers: { "content-type": "application/json" }, body: CHAT, connections, duration: SECONDS });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** CPU time (user + system) the process has used, in microseconds. */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

function streamBody(tokens: number): string {
  return JSON.stringify({ model: "qwen", messages: [{ role: "user", content: "Tell me a story." }], max_tokens: tokens, stream: true });
}

interface Row {
  name: string;
  mock: number;
  base: number;
  unit: string;
  lowerIsBetter?: boolean;
}
const rows: Row[] = [];
const fmt = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : "n/a");
function record(name: string, mock: number, base: number, unit: string, lowerIsBetter = false): void {
  rows.push({ name, mock, base, unit, lowerIsBetter });
  console.log(`  ${name.padEnd(46)} mock ${fmt(mock).padStart(9)} ${unit.padEnd(8)} baseline ${fmt(base).padStart(9)}  ratio ${fmt(mock / base)}`);
}

function imageSize(): string {
  const docker = (args: string[], timeout = 20_000) => execFileSync("docker", args, { timeout, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();
  try {
    docker(["version", "--format", "{{.Server.Version}}"]);
  } catch {
    return "n/a (no Docker engine)";
  }
  try {
    // Same bundle and base image as scripts/build-services.sh; node:20-slim if the local base is absent.
    bundle(join(ROOT, "services", "mock-vllm", "src", "main.ts"), join(ROOT, "services", "mock-vllm", "dist", "main.js"));
    let baseImage = "inference-runtime/node-base:20";
    try {
      docker(["image", "inspect", baseImage]);
    } catch {
      baseImage = "node:20-slim";
    }
    docker(["build", "-q", "--build-arg", `BASE_IMAGE=${baseImage}`, "-t", "inference-runtime/mock-vllm:bench", join(ROOT, "services", "mock-vllm")], 300_000);
    const size = (image: string) => Number(docker(["image", "inspect", image, "--format", "{{.Size}}"]));
    const total = size("inference-runtime/mock-vllm:bench");
    return `${(total / 1e6).toFixed(1)} MB (base ${baseImage} ${(size(baseImage) / 1e6).toFixed(1)} MB + ${((total - size(baseImage)) / 1e6).toFixed(2)} MB)`;
  } catch (e) {
    return `n/a (build failed: ${(e as Error).message.split("\n")[0]})`;
  }
}

async function main(): Promise<void> {
  console.log(`mock-vllm benchmark — ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"} — node ${process.version} — ${SECONDS}s per load`);
  mkdirSync(OUT, { recursive: true });
  const mockJs = bundle(join(ROOT, "services", "mock-vllm", "src", "main.ts"), join(OUT, "main.js"));
  const baseJs = bundle(join(__dirname, "baseline.ts"), join(OUT, "baseline.js"));
  const common = ["Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen", "--max-model-len", "4096", "--host", "127.0.0.1", "--port", String(MOCK_PORT), "--max-num-seqs", "1024"];

  // 1. Non-streaming at zero latency.
  console.log(`\nNon-streaming chat completions, zero simulated latency (${WRK ? "wrk, 1 thread" : "autocannon"}):`);
  let mock = await launch(mockJs, common, {}, MOCK_PORT);
  await new Promise((r) => setTimeout(r, 1500));
  const idleMock = rssKb(mock.pid!);
  const replyJson = await new Promise<string>((resolve) => {
    const req = request({ host: "127.0.0.1", port: MOCK_PORT, path: "/v1/chat/completions", method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let b = "";
      res.on("data", (c) => (b += c));
      res.on("end", () => resolve(b));
    });
    req.end(CHAT);
  });
  let base = await launch(baseJs, [], { PORT: String(BASE_PORT), REPLY_JSON: replyJson }, BASE_PORT);
  await new Promise((r) => setTimeout(r, 1500));
  const idleBase = rssKb(base.pid!);
  let peakMock = 0;
  let peakBase = 0;
  for (const connections of [1, 64]) {
    const mockCpu = cpuUs(mock.pid!);
    const [m, pm] = await withPeakRss(mock.pid!, () => http(MOCK_PORT, connections));
    const mockCpuPerReq = (cpuUs(mock.pid!) - mockCpu) / (m.rps * SECONDS);
    const baseCpu = cpuUs(base.pid!);
    const [b, pb] = await withPeakRss(base.pid!, () => http(BASE_PORT, connections));
    const baseCpuPerReq = (cpuUs(base.pid!) - baseCpu) / (b.rps * SECONDS);
    peakMock = Math.max(peakMock, pm);
    peakBase = Math.max(peakBase, pb);
    record(`${connections} connection(s): requests/s`, m.rps, b.rps, "req/s");
    record(`${connections} connection(s): latency p50`, m.p50, b.p50, "ms", true);
    record(`${connections} connection(s): latency p99`, m.p99, b.p99, "ms", true);
    record(`${connections} connection(s): server CPU per request`, mockCpuPerReq, baseCpuPerReq, "µs", true);
    if (m.errors || b.errors) console.log(`  errors: mock ${m.errors}, baseline ${b.errors}`);
  }
  await stop(mock);
  await stop(base);

  // 2. Streaming throughput: hundreds of concurrent streams, no pacing.
  console.log("\nStreamed tokens/s, 256 concurrent streams of 64 tokens, zero simulated latency:");
  const chunk = 'data: {"id":"chatcmpl-0123456789abcdef0123456789abcdef","object":"chat.completion.chunk","created":1700000000,"model":"qwen","choices":[{"index":0,"delta":{"content":" tok"},"logprobs":null,"finish_reason":null}]}\n\n';
  const genArgs = [...common, "--mock-mode", "generate", "--mock-output-len", "100000"];
  mock = await launch(mockJs, genArgs, {}, MOCK_PORT);
  base = await launch(baseJs, [], { PORT: String(BASE_PORT), CHUNK: chunk }, BASE_PORT);
  {
    const mockCpu = cpuUs(mock.pid!);
    const [m, pm] = await withPeakRss(mock.pid!, () => streamLoad(MOCK_PORT, streamBody(64), 256, SECONDS * 1000));
    const mockCpuPerToken = (cpuUs(mock.pid!) - mockCpu) / m.tokens;
    const baseCpu = cpuUs(base.pid!);
    const [b, pb] = await withPeakRss(base.pid!, () => streamLoad(BASE_PORT, streamBody(64), 256, SECONDS * 1000));
    const baseCpuPerToken = (cpuUs(base.pid!) - baseCpu) / b.tokens;
    peakMock = Math.max(peakMock, pm);
    peakBase = Math.max(peakBase, pb);
    record("tokens/s", m.tokensPerSecond, b.tokensPerSecond, "tok/s");
    record("streams/s", m.streams / SECONDS, b.streams / SECONDS, "req/s");
    record("server CPU per token", mockCpuPerToken, baseCpuPerToken, "µs", true);
  }
  await stop(mock);
  await stop(base);

  // 3. Latency fidelity under paced streams.
  for (const [concurrency, ttft, itl, tokens] of [
    [256, 50, 10, 100],
    [1000, 50, 10, 100],
  ] as const) {
    console.log(`\nLatency fidelity, ${concurrency} concurrent streams, configured TTFT ${ttft} ms, ITL ${itl} ms, ${tokens} tokens each:`);
    mock = await launch(mockJs, [...genArgs, "--mock-ttft-ms", String(ttft), "--mock-itl-ms", String(itl)], {}, MOCK_PORT);
    base = await launch(baseJs, [], { PORT: String(BASE_PORT), CHUNK: chunk, TTFT_MS: String(ttft), ITL_MS: String(itl) }, BASE_PORT);
    const ramp = 1500;
    const [m, pm] = await withPeakRss(mock.pid!, () => streamLoad(MOCK_PORT, streamBody(tokens), concurrency, SECONDS * 1000, ramp));
    const [b, pb] = await withPeakRss(base.pid!, () => streamLoad(BASE_PORT, streamBody(tokens), concurrency, SECONDS * 1000, ramp));
    peakMock = Math.max(peakMock, pm);
    peakBase = Math.max(peakBase, pb);
    record("TTFT p50", percentile(m.ttftMs, 50), percentile(b.ttftMs, 50), "ms", true);
    record("TTFT p99", percentile(m.ttftMs, 99), percentile(b.ttftMs, 99), "ms", true);
    record("ITL p50", percentile(m.itlMs, 50), percentile(b.itlMs, 50), "ms", true);
    record("ITL p99", percentile(m.itlMs, 99), percentile(b.itlMs, 99), "ms", true);
    record("ITL p99 minus configured", percentile(m.itlMs, 99) - itl, percentile(b.itlMs, 99) - itl, "ms", true);
    record("tokens/s", m.tokensPerSecond, b.tokensPerSecond, "tok/s");
    if (m.errors || b.errors) console.log(`  errors: mock ${m.errors}, baseline ${b.errors}`);
    await stop(mock);
    await stop(base);
  }

  console.log("\nMemory and image:");
  record("idle RSS", idleMock / 1024, idleBase / 1024, "MiB", true);
  record("peak RSS under the loads above", peakMock / 1024, peakBase / 1024, "MiB", true);
  console.log(`  image size (inference-runtime/mock-vllm): ${imageSize()}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
