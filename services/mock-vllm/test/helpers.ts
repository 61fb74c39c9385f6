import { ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import OpenAI from "openai";
import { Config, SimulationConfig, makeConfig } from "../src/config";
import { RunningServer, startServer } from "../src/server";

export type PartialConfig = Partial<Omit<Config, "mock">> & { mock?: Partial<SimulationConfig> };

/** A server on an ephemeral loopback port; `close` it in an `after`/`finally`. */
export async function start(partial: PartialConfig = {}): Promise<RunningServer> {
  return startServer(makeConfig({ servedModelNames: ["qwen"], maxModelLen: 2048, ...partial }));
}

export function client(server: RunningServer, apiKey = "unused"): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Plain HTTP, for the inputs an SDK would refuse to send. */
export function raw(
  url: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers }, timeout: 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export const post = (url: string, path: string, json: unknown, headers: Record<string, string> = {}) =>
  raw(url, "POST", path, JSON.stringify(json), headers);

/** Streams SSE events with their arrival times (ms since the request was sent). */
export function stream(
  url: string,
  path: string,
  json: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; events: { at: number; data: string }[]; error?: Error }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const events: { at: number; data: string }[] = [];
    const req = request(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": "application/json", ...headers }, timeout: 20_000 },
      (res) => {
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          const at = performance.now() - t0;
          buf += c;
          let i: number;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (line.startsWith("data: ")) events.push({ at, data: line.slice(6) });
          }
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, events }));
        res.on("error", (error) => resolve({ status: res.statusCode ?? 0, events, error }));
        res.on("aborted", () => resolve({ status: res.statusCode ?? 0, events, error: new Error("aborted") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", (error) => (events.length ? resolve({ status: 0, events, error }) : reject(error)));
    req.end(JSON.stringify(json));
  });
}

export async function scrape(url: string): Promise<ReturnType<typeof parsePrometheusTextFormat>> {
  const res = await raw(url, "GET", "/metrics");
  return parsePrometheusTextFormat(res.body);
}

/**
 * Histogram series with labels, read with the same parser. parse-prometheus-text-format folds
 * all label sets of a histogram into one (a limitation of that library), so the TYPE line is
 * dropped first and `<name>_sum` / `<name>_count` / `<name>_bucket` come back as untyped samples.
 */
export async function scrapeHistograms(url: string): Promise<ReturnType<typeof parsePrometheusTextFormat>> {
  const res = await raw(url, "GET", "/metrics");
  return parsePrometheusTextFormat(res.body.replace(/^# TYPE \S+ histogram$/gm, ""));
}

/** Value of a counter/gauge sample whose labels include `labels`. */
export function sample(
  families: ReturnType<typeof parsePrometheusTextFormat>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const f = families.find((x) => x.name === name);
  const m = f?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

// One way to find a free loopback port, shared with the fuzzer's process launcher.
export { freePort } from "../../fuzz/target";
import { bundled } from "../../../test/lib/bundle";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const chat = (content: string) => ({ model: "qwen", messages: [{ role: "user" as const, content }] });

/** The real mock-vllm process (`vllm serve` arguments), with its stdout and stderr collected. */
export function runMain(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [bundled("services/mock-vllm/src/main.ts"), ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}
