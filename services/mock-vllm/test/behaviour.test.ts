import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import OpenAI from "openai";
import { RunningServer, startServer } from "../src/server";
import { makeConfig } from "../src/config";
import { chat, client, freePort, post, raw, sample, scrape, sleep, start, stream, waitFor } from "./helpers";

// Timing assertions are one-sided with generous ceilings: the machine may be busy.
const CEILING_MS = 1500;

const contentEvents = (events: { at: number; data: string }[]) =>
  events.filter((e) => e.data !== "[DONE]" && (JSON.parse(e.data).choices?.[0]?.delta?.content ?? "") !== "");

describe("latency", () => {
  test("time to first token and inter-token latency follow the settings", async () => {
    const server = await start({ mock: { ttftMs: 120, itlMs: 40 } });
    try {
      const r = await stream(server.url, "/v1/chat/completions", { ...chat("a b c d e f"), stream: true });
      const tokens = contentEvents(r.events);
      assert.equal(tokens.length, 6);
      assert.ok(tokens[0].at >= 120, `ttft ${tokens[0].at}`);
      assert.ok(tokens[0].at < 120 + CEILING_MS);
      // Token times are absolute on the server, so measure from the request: a late first
      // token must not make the later gaps look short.
      const last = tokens[5].at;
      assert.ok(last >= 120 + 5 * 40 - 2, `last token at ${last} ms`);
      assert.ok(last < 120 + 5 * 40 + CEILING_MS);
      // Non-streaming takes the same simulated time.
      const t0 = performance.now();
      assert.equal((await post(server.url, "/v1/chat/completions", chat("a b c d e f"))).status, 200);
      assert.ok(performance.now() - t0 >= 120 + 5 * 40 - 5);
    } finally {
      await server.close();
    }
  });

  test("jitter stays within its bound; prefill time grows with the prompt", async () => {
    const server = await start({ mock: { ttftMs: 100, ttftJitterMs: 50, prefillMsPerToken: 2 } });
    try {
      const short = performance.now();
      await post(server.url, "/v1/completions", { model: "qwen", prompt: "x", max_tokens: 1 });
      const shortMs = performance.now() - short;
      assert.ok(shortMs >= 100 - 50, `short prompt ${shortMs}`);
      const long = performance.now();
      await post(server.url, "/v1/completions", { model: "qwen", prompt: "y ".repeat(150), max_tokens: 1 });
      const longMs = performance.now() - long;
      // 150 tokens * 2 ms on top of 100 +/- 50.
      assert.ok(longMs >= 100 - 50 + 300, `long prompt ${longMs}`);
      assert.ok(longMs < 100 + 50 + 300 + CEILING_MS);
    } finally {
      await server.close();
    }
  });
});

/** Waits (on the metrics, not the clock) until `running` requests run and `waiting` wait. */
async function admitted(server: RunningServer, running: number, waiting: number): Promise<void> {
  const L = { model_name: "qwen", engine: "0" };
  await waitFor(async () => {
    const m = await scrape(server.url);
    return sample(m, "vllm:num_requests_running", L) === running && sample(m, "vllm:num_requests_waiting", L) === waiting;
  }, 10_000);
}

describe("scheduling", () => {
  test("--max-num-seqs runs that many at once and queues the rest in FIFO order", async () => {
    // Long enough that the first is still running when the third is queued on a loaded machine.
    const server = await start({ maxNumSeqs: 1, mock: { ttftMs: 1000 } });
    try {
      const order: string[] = [];
      const t0 = performance.now();
      // Each request is sent once the one before it is admitted or queued (seen in the metrics),
      // so the arrival order holds however late the machine runs.
      const pending: Promise<void>[] = [];
      for (const [i, name] of ["first", "second", "third"].entries()) {
        pending.push(
          post(server.url, "/v1/chat/completions", chat(name)).then(
            (res) => void order.push(JSON.parse(res.body).choices[0].message.content),
          ),
        );
        await admitted(server, 1, i);
      }
      await Promise.all(pending);
      assert.deepEqual(order, ["first", "second", "third"]);
      assert.ok(performance.now() - t0 >= 3000, "one at a time");
    } finally {
      await server.close();
    }
  });

  test("a bounded waiting queue answers 429 when full", async () => {
    const server = await start({ maxNumSeqs: 1, mock: { ttftMs: 500, maxWaiting: 1 } });
    try {
      const sent: Promise<{ status: number; body: string }>[] = [];
      for (let i = 0; i < 3; i++) {
        sent.push(post(server.url, "/v1/chat/completions", chat("x")));
        if (i < 2) await admitted(server, 1, i);
      }
      const results = await Promise.all(sent);
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, 429],
      );
      assert.equal(JSON.parse(results[2].body).error.type, "RateLimitError");
    } finally {
      await server.close();
    }
  });

  test("under a load factor, latency grows as slots fill", async () => {
    const server = await start({ maxNumSeqs: 4, mock: { ttftMs: 100, loadFactor: 4 } });
    try {
      const alone = performance.now();
      await post(server.url, "/v1/completions", { model: "qwen", prompt: "x", max_tokens: 1 });
      const aloneMs = performance.now() - alone;
      const busy = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const t = performance.now();
          await post(server.url, "/v1/completions", { model: "qwen", prompt: "x", max_tokens: 1 });
          return performance.now() - t;
        }),
      );
      // The fourth admitted request runs at 4x: 400 ms.
      assert.ok(Math.max(...busy) >= 390, `busy ${busy.join(",")}`);
      assert.ok(aloneMs < Math.max(...busy));
    } finally {
      await server.close();
    }
  });
});

describe("failure injection", () => {
  test("x-mock-fail-status forces a status with vLLM's error body", async () => {
    const server = await start();
    try {
      const res = await post(server.url, "/v1/chat/completions", chat("x"), { "x-mock-fail-status": "429" });
      assert.equal(res.status, 429);
      assert.equal(JSON.parse(res.body).error.type, "RateLimitError");
      assert.equal((await post(server.url, "/v1/chat/completions", chat("x"))).status, 200);
    } finally {
      await server.close();
    }
  });

  test("fail the first N requests of a script, then succeed: the client's retries recover", async () => {
    const server = await start();
    try {
      const headers = { "x-mock-fail-first-n": "2", "x-mock-fail-key": "retry-test", "x-mock-fail-status": "503" };
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await post(server.url, "/v1/chat/completions", chat("x"), headers)).status);
      assert.deepEqual(statuses, [503, 503, 200, 200]);
      // The official client with retries gets through a fresh script of two failures.
      const retrying = new OpenAI({
        baseURL: `${server.url}/v1`,
        apiKey: "x",
        maxRetries: 3,
        defaultHeaders: { ...headers, "x-mock-fail-key": "sdk" },
      });
      const res = await retrying.chat.completions.create(chat("after retries"));
      assert.equal(res.choices[0].message.content, "after retries");
    } finally {
      await server.close();
    }
  });

  test("server-wide --mock-fail-first-n and --mock-failure-rate", async () => {
    const first = await start({ mock: { failFirstN: 2, failureStatus: 500 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(first.url, "/v1/completions", { model: "qwen", prompt: "x" })).status);
      assert.deepEqual(statuses, [500, 500, 200]);
      assert.equal((await raw(first.url, "GET", "/health")).status, 200, "health is never failed");
    } finally {
      await first.close();
    }
    const always = await start({ mock: { failureRate: 1 } });
    try {
      assert.equal((await post(always.url, "/v1/completions", { model: "qwen", prompt: "x" })).status, 503);
    } finally {
      await always.close();
    }
  });

  test("stall before the response makes a client time out; stall mid-stream pauses tokens", async () => {
    const server = await start();
    try {
      const impatient = new OpenAI({
        baseURL: `${server.url}/v1`,
        apiKey: "x",
        maxRetries: 0,
        timeout: 150,
        defaultHeaders: { "x-mock-stall-ms": "2000" },
      });
      await assert.rejects(impatient.chat.completions.create(chat("x")), (e: unknown) => e instanceof OpenAI.APIConnectionTimeoutError);
      const r = await stream(
        server.url,
        "/v1/chat/completions",
        { ...chat("a b c d"), stream: true },
        { "x-mock-stall-ms": "300", "x-mock-stall-after-tokens": "2" },
      );
      const tokens = contentEvents(r.events);
      assert.equal(tokens.length, 4);
      assert.ok(tokens[2].at >= 298, `third token at ${tokens[2].at} ms`);
      assert.ok(tokens[1].at < tokens[2].at);
    } finally {
      await server.close();
    }
  });

  test("drop the connection mid-stream, or send vLLM's in-stream error", async () => {
    const server = await start({ mock: { itlMs: 5 } });
    try {
      const dropped = await stream(
        server.url,
        "/v1/chat/completions",
        { ...chat("a b c d e f g"), stream: true },
        { "x-mock-drop-after-tokens": "3" },
      );
      assert.ok(dropped.error, "connection was cut");
      assert.equal(contentEvents(dropped.events).length, 3);
      assert.ok(!dropped.events.some((e) => e.data === "[DONE]"));

      const errored = await stream(
        server.url,
        "/v1/chat/completions",
        { ...chat("a b c d e f g"), stream: true },
        { "x-mock-error-after-tokens": "2" },
      );
      assert.equal(contentEvents(errored.events.filter((e) => !e.data.includes('"error"'))).length, 2);
      const errorEvent = errored.events.find((e) => e.data.includes('"error"'));
      assert.equal(JSON.parse(errorEvent!.data).error.code, 500);
      assert.equal(errored.events.at(-1)?.data, "[DONE]");
      // The official client raises on the error event.
      const s = await client(server).chat.completions.create(
        { ...chat("a b c d"), stream: true },
        { headers: { "x-mock-error-after-tokens": "1" } },
      );
      await assert.rejects(async () => {
        for await (const _ of s) void _;
      });
      // Non-streaming drop: no response at all.
      await assert.rejects(post(server.url, "/v1/chat/completions", chat("x"), { "x-mock-drop-after-tokens": "0" }));
      assert.equal((await post(server.url, "/v1/chat/completions", chat("fine"))).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe("loading phase", () => {
  test("closed mode: the port opens only after loading", async () => {
    const port = await freePort();
    const starting = startServer(makeConfig({ port, servedModelNames: ["qwen"], mock: { startupMs: 400 } }));
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.on("connect", () => (s.destroy(), resolve(false)));
      s.on("error", () => resolve(true));
    });
    assert.ok(refused, "port closed while loading");
    const server = await starting;
    try {
      assert.equal((await raw(server.url, "GET", "/health")).status, 200);
    } finally {
      await server.close();
    }
  });

  test("unhealthy mode: /health is 503 and the API 503 until loaded", async () => {
    const server = await start({ mock: { startupMs: 400, startupMode: "unhealthy" } });
    try {
      assert.equal((await raw(server.url, "GET", "/health")).status, 503);
      const api = await post(server.url, "/v1/chat/completions", chat("x"));
      assert.equal(api.status, 503);
      assert.equal(JSON.parse(api.body).error.type, "ServiceUnavailableError");
      await server.ready;
      assert.equal((await raw(server.url, "GET", "/health")).status, 200);
      assert.equal((await post(server.url, "/v1/chat/completions", chat("x"))).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe("graceful shutdown", () => {
  test("in-flight requests finish; new connections are refused", async () => {
    const server = await start({ mock: { ttftMs: 100, itlMs: 50 } });
    const inflight = stream(server.url, "/v1/chat/completions", { ...chat("a b c d e f"), stream: true });
    const plain = post(server.url, "/v1/chat/completions", chat("plain"));
    await admitted(server, 2, 0);
    const closing = server.close();
    await sleep(20);
    await assert.rejects(raw(server.url, "GET", "/health"), "listener closed");
    const r = await inflight;
    assert.equal(contentEvents(r.events).length, 6);
    assert.equal(r.events.at(-1)?.data, "[DONE]");
    assert.equal((await plain).status, 200);
    await closing;
  });

  test("requests still running at the bound are cut", async () => {
    const server = await start({ shutdownTimeoutS: 0.3, mock: { itlMs: 100 } });
    const slow = stream(server.url, "/v1/chat/completions", { ...chat("x ".repeat(100)), stream: true });
    await admitted(server, 1, 0);
    const closedAt = performance.now();
    await server.close();
    const elapsed = performance.now() - closedAt;
    const r = await slow;
    assert.ok(!r.events.some((e) => e.data === "[DONE]"), "stream was cut");
    // libuv's timers count whole milliseconds from a loop time read at the start of each turn, so
    // the bound may end up to 1 ms early as measured from here.
    assert.ok(elapsed >= 299 && elapsed < 300 + CEILING_MS, `closed after ${elapsed} ms`);
  });
});
