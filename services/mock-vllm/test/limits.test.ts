import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { healthProbe } from "../../fuzz/fuzz";
import { Service, startService } from "../../fuzz/target";

/**
 * Issue 14: each of these correctly typed requests used to take the process to 4–6 GB and kill
 * it (or answer after seconds with a huge body, failing health probes meanwhile). They run
 * against the real process (bundled, default settings) with a short client timeout, so without
 * the bounds a test fails in seconds instead of taking the machine down. Each must be refused at
 * once with vLLM's error body naming the field and the limit, while /health keeps answering, and
 * resident memory stays under 300 MiB.
 */
const RSS_BOUND_MIB = 300;

function send(port: number, path: string, body: string, timeoutMs = 10_000): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { "content-type": "application/json" },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

function assertRefused(r: { status: number; body: string; ms: number }, status: number, param: string | null, message: RegExp): void {
  assert.equal(r.status, status, r.body.slice(0, 300));
  assert.ok(r.body.length < 2048, `error body of ${r.body.length} bytes`);
  const { error } = JSON.parse(r.body);
  assert.deepEqual(Object.keys(error).sort(), ["code", "message", "param", "type"]);
  assert.equal(error.code, status);
  assert.equal(error.param, param);
  assert.match(error.message, message);
  assert.ok(r.ms < 3000, `answered after ${r.ms.toFixed(0)} ms`);
}

const chat = (extra: string) => `{"model":"m","messages":[{"role":"user","content":"hello"}],"max_tokens":8,${extra}}`;
const completion = (extra: string) => `{"model":"m","prompt":"hello","max_tokens":8,${extra}}`;
const HUGE_N = ["100000000", "1e308", "9007199254740993", "1" + "0".repeat(299)];

describe("requests that used to kill mock-vllm are refused before any work", () => {
  let svc: Service;
  let probe: ReturnType<typeof healthProbe>;
  // Embeddings are served only by a model served for pooling, as in vLLM.
  let embedder: Service;
  before(async () => {
    svc = await startService("mock");
    embedder = await startService("mock", { args: ["--convert", "embed"] });
    probe = healthProbe(svc, 100);
  });
  after(async () => {
    probe.stop();
    await svc.stop();
    await embedder.stop();
  });

  for (const n of HUGE_N) {
    test(`n = ${n.length > 20 ? "a 300-digit integer" : n} on chat and completions`, async () => {
      assertRefused(
        await send(svc.port, "/v1/chat/completions", chat(`"n":${n}`)),
        400,
        "n",
        /^n must be at most 16384, got .*VLLM_MAX_N_SEQUENCES/,
      );
      assertRefused(await send(svc.port, "/v1/completions", completion(`"n":${n}`)), 400, "n", /^n must be at most 16384, got /);
    });
  }

  test("n = 1e6 (was a 230 MB response after 4.5 s)", async () => {
    assertRefused(await send(svc.port, "/v1/chat/completions", chat(`"n":1000000`)), 400, "n", /n must be at most 16384, got 1000000/);
  });

  test("embeddings of 1,000,000 inputs (5 MB), and of 100k", async () => {
    const inputs = (count: number) => `{"model":"m","input":[${new Array(count).fill('"a"').join(",")}]}`;
    // A million values is refused on the body's size before it is even parsed.
    assertRefused(await send(embedder.port, "/v1/embeddings", inputs(1_000_000)), 413, null, /more than 262144 JSON values/);
    assertRefused(
      await send(embedder.port, "/v1/embeddings", inputs(100_000)),
      400,
      "input",
      /^input list length 100000 exceeds the maximum allowed count of 1024\. .*VLLM_MAX_COMPLETION_PROMPTS/,
    );
  });

  test("embeddings dimensions = 100000000", async () => {
    assertRefused(
      await send(embedder.port, "/v1/embeddings", `{"model":"m","input":"hello","dimensions":100000000}`),
      400,
      "dimensions",
      /dimensions must be at most 384 .*got 100000000/,
    );
  });

  test("16 MB and 4 MB of messages [1,1,…] (were a 500 after 15 s and a 137 MB error body)", async () => {
    for (const mb of [16, 4]) {
      const count = Math.floor((mb * 1_000_000 - 40) / 2);
      const r = await send(svc.port, "/v1/chat/completions", `{"model":"m","messages":[${new Array(count).fill("1").join(",")}]}`);
      assertRefused(r, 413, null, /more than 262144 JSON values \(--mock-max-json-values\)/);
    }
  });

  test("a body under the JSON bound with 100,000 wrong items: the first few listed, the rest counted", async () => {
    const r = await send(svc.port, "/v1/chat/completions", `{"model":"m","messages":[${new Array(100_000).fill("1").join(",")}]}`);
    assertRefused(r, 400, "messages", /^100000 validation errors for ChatCompletionRequest: body\.messages\.0: .*; and 99995 more$/);
  });

  test("afterwards it still serves; health probes never failed or waited; memory stayed bounded", async () => {
    const r = await send(svc.port, "/v1/chat/completions", chat(`"n":2`));
    assert.equal(r.status, 200);
    assert.deepEqual(
      JSON.parse(r.body).choices.map((c: { message: { content: string } }) => c.message.content),
      ["hello", "hello"],
    );
    // The probe ran (every 100 ms) through all the tests above.
    const p = probe.stop();
    assert.ok(p.probes > 0);
    assert.equal(p.failures, 0, "a health probe failed");
    assert.ok(p.maxMs < 1000, `a health probe took ${p.maxMs.toFixed(0)} ms`);
    assert.ok(p.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${p.peakRssMiB.toFixed(0)} MiB`);
  });
});
