import type { Case } from "./cases";
import { HEALTH_PATH, Service, get } from "./target";
import { exchange, Exchange } from "./wire";

/**
 * One fuzz batch against a running service, and its checks: every connection gets
 * well-formed HTTP, every 4xx/5xx a small JSON body without a stack trace, an invalid request no
 * 2xx, nothing hangs, the process stays up, a valid request is served correctly afterwards, and
 * a health probe running alongside is always answered quickly (no request starves the loop).
 */
export interface Finding {
  label: string;
  problem: string;
}

export interface Tally {
  cases: number;
  responses: number;
  crashes: number;
  hangs: number;
  nonJsonErrors: number;
  malformed: number;
  other: number;
  findings: Finding[];
}

export const newTally = (): Tally => ({
  cases: 0,
  responses: 0,
  crashes: 0,
  hangs: 0,
  nonJsonErrors: 0,
  malformed: 0,
  other: 0,
  findings: [],
});

const MAX_ERROR_BODY = 16 * 1024;
const STACK = /\n\s+at \S|\.ts:\d+:\d+|node:internal/;

function note(t: Tally, kind: "hangs" | "nonJsonErrors" | "malformed" | "other", label: string, problem: string): void {
  t[kind]++;
  if (t.findings.length < 50) t.findings.push({ label, problem });
}

function isJson(contentType: string | undefined, text: string): boolean {
  try {
    return /application\/json/.test(contentType ?? "") && typeof JSON.parse(text) === "object";
  } catch {
    return false;
  }
}

export function check(t: Tally, c: Case, x: Exchange): void {
  t.cases++;
  t.responses += x.responses.length;
  if (x.malformed) note(t, "malformed", c.label, `malformed response: ${x.malformed}`);
  if (x.hung) return note(t, "hangs", c.label, `no response and no close within ${c.send.timeoutMs} ms`);
  if (!c.send.abort && x.responses.length === 0 && !x.malformed) note(t, "malformed", c.label, "connection closed without a response");
  for (const r of x.responses) {
    const text = r.body.toString("utf8");
    if (STACK.test(text)) note(t, "other", c.label, `stack trace in a ${r.status} body`);
    if (r.status < 400 || (r.method === "HEAD" && r.body.length === 0)) continue;
    if (r.status === 500) note(t, "other", c.label, `500: ${text.slice(0, 200)}`);
    if (r.body.length > MAX_ERROR_BODY) note(t, "other", c.label, `${r.status} error body of ${r.body.length} bytes`);
    if (!isJson(r.headers["content-type"], text))
      note(
        t,
        "nonJsonErrors",
        c.label,
        `${r.status} with ${r.headers["content-type"] ?? "no content-type"}: ${JSON.stringify(text.slice(0, 120))}`,
      );
  }
  const last = x.responses.at(-1);
  if (c.expect4xx && last && last.status < 400) note(t, "other", c.label, `${last.status} for an invalid request`);
}

/** Runs `cases` over `concurrency` connections at a time. */
export async function runBatch(svc: Service, cases: Case[], concurrency: number, t: Tally): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      check(t, c, await exchange(svc.port, c.send));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
}

/** A valid request, answered correctly: the service still works after the batch. */
export async function control(svc: Service): Promise<string | null> {
  if (svc.target === "agent") {
    const r = await get(svc.port, "/healthz", 5000);
    return r.status === 200 && r.body.includes('"ok"') ? null : `/healthz answered ${r.status} ${r.body.slice(0, 100)}`;
  }
  const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "still alive" }], max_tokens: 8 });
  const c: Case = {
    label: "control",
    send: {
      parts: [
        Buffer.from(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ),
      ],
      methods: ["POST"],
      expect: 1,
      timeoutMs: 5000,
    },
  };
  const x = await exchange(svc.port, c.send);
  const r = x.responses[0];
  if (!r || r.status !== 200) return `control chat request answered ${r ? r.status : "nothing"}`;
  const content = JSON.parse(r.body.toString()).choices?.[0]?.message?.content;
  return content === "still alive" ? null : `control chat request answered ${JSON.stringify(content)}`;
}

/** Probes the health route every `everyMs` while running: the slowest answer, failures, peak RSS. */
export function healthProbe(
  svc: Service,
  everyMs = 250,
): { stop(): { maxMs: number; failures: number; probes: number; peakRssMiB: number } } {
  let maxMs = 0;
  let peakRssMiB = 0;
  let failures = 0;
  let probes = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      const r = await get(svc.port, HEALTH_PATH[svc.target], 2000);
      if (!running) break;
      probes++;
      maxMs = Math.max(maxMs, r.ms);
      peakRssMiB = Math.max(peakRssMiB, svc.peakRssMiB() || 0);
      if (r.status !== 200) failures++;
      await new Promise((res) => setTimeout(res, everyMs));
    }
  };
  void loop();
  return {
    stop: () => {
      running = false;
      return { maxMs, failures, probes, peakRssMiB: Math.max(peakRssMiB, svc.peakRssMiB() || 0) };
    },
  };
}
