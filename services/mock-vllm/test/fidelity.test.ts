import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { parseCommandLine } from "../src/cli";
import { configFromCommandLine } from "../src/config";
import { chat, post, raw, sample, scrape, scrapeHistograms, start, stream, waitFor } from "./helpers";

const L = { model_name: "qwen", engine: "0" };
const parse = (argv: string[]) => configFromCommandLine(parseCommandLine(argv, {}), {});

describe("as current vLLM: the command line", () => {
  test("flags current `vllm serve` has are accepted; -O<n> is --optimization-level", () => {
    const argv = [
      "m",
      "--optimization-level",
      "2",
      "--default-chat-template-kwargs",
      '{"enable_thinking": false}',
      "--max-cudagraph-capture-size",
      "64",
      "--disable-access-log-for-endpoints",
      "/health,/metrics",
      "--grpc",
      "--fingerprint-mode",
      "hash",
      "--ssl-ciphers",
      "ECDHE-RSA-AES256-GCM-SHA384",
      "--attention-backend",
      "FLASH_ATTN",
      "--stream-interval",
      "2",
      "-cc",
      "{}",
      "-dpe",
      "-ep",
    ];
    const c = parse(argv);
    assert.equal(c.flags.get("optimization-level"), 2);
    assert.equal(c.flags.get("fingerprint-mode"), "hash");
    assert.equal(c.flags.get("grpc"), true);
    assert.equal(parse(["m", "-O3"]).flags.get("optimization-level"), 3);
    assert.equal(parse(["m", "-O", "1"]).flags.get("optimization-level"), 1);
  });

  test("what it rejects: --task, --model beside a positional model, bad choices", () => {
    assert.throws(() => parse(["m", "--task", "generate"]), /unrecognized arguments: --task/);
    assert.throws(() => parse(["m", "--model", "other"]), /unrecognized arguments: m/);
    assert.throws(
      () => parse(["m", "--fingerprint-mode", "bogus"]),
      /argument --fingerprint-mode: expected one of custom, full, hash, none, got 'bogus'/,
    );
    assert.throws(() => parse(["m", "-O7"]), /argument --optimization-level: expected one of 0, 1, 2, 3, got '7'/);
    assert.equal(parse(["--model", "only"]).model, "only");
  });
});

describe("as current vLLM: routes", () => {
  test("embeddings only for a model served for pooling; a chat model gets vLLM's 404", async () => {
    const chatModel = await start();
    const embedder = await start({ pooling: true });
    try {
      const refused = await post(chatModel.url, "/v1/embeddings", { model: "qwen", input: "x" });
      assert.equal(refused.status, 404);
      assert.deepEqual(JSON.parse(refused.body), { detail: "Not Found" });
      assert.equal((await post(embedder.url, "/v1/embeddings", { model: "qwen", input: "x" })).status, 200);
      assert.equal((await post(embedder.url, "/v1/chat/completions", chat("x"))).status, 404);
      assert.equal(parse(["m", "--runner", "pooling"]).pooling, true);
      assert.equal(parse(["m", "--convert", "embed"]).pooling, true);
      assert.equal(parse(["m"]).pooling, false);
    } finally {
      await Promise.all([chatModel.close(), embedder.close()]);
    }
  });

  test("/load counts only with --enable-server-load-tracking", async () => {
    const off = await start({ mock: { ttftMs: 2000 } });
    const on = await start({ serverLoadTracking: true, mock: { ttftMs: 2000 } });
    try {
      const pending = [off, on].map((s) => stream(s.url, "/v1/chat/completions", { ...chat("a b"), stream: true }));
      await waitFor(async () => sample(await scrape(on.url), "vllm:num_requests_running", L) === 1, 5000);
      await waitFor(async () => sample(await scrape(off.url), "vllm:num_requests_running", L) === 1, 5000);
      assert.deepEqual(JSON.parse((await raw(off.url, "GET", "/load")).body), { server_load: 0 });
      assert.deepEqual(JSON.parse((await raw(on.url, "GET", "/load")).body), { server_load: 1 });
      assert.equal(parse(["m", "--enable-server-load-tracking"]).serverLoadTracking, true);
      await Promise.all([off.close(), on.close()]);
      await Promise.allSettled(pending);
    } finally {
      await Promise.all([off.close(), on.close()]);
    }
  });

  test("/v1/models stamps `created` per request; /version reports the configured release", async () => {
    const server = await start({ mock: { vllmVersion: "0.18.0" } });
    try {
      const first = JSON.parse((await raw(server.url, "GET", "/v1/models")).body).data[0].created;
      await new Promise((r) => setTimeout(r, 1100));
      const second = JSON.parse((await raw(server.url, "GET", "/v1/models")).body).data[0].created;
      assert.ok(second > first, `${second} > ${first}`);
      assert.deepEqual(JSON.parse((await raw(server.url, "GET", "/version")).body), { version: "0.18.0" });
      assert.equal(parse(["m", "--mock-vllm-version", "0.19.1"]).mock.vllmVersion, "0.19.1");
    } finally {
      await server.close();
    }
  });
});

describe("as current vLLM: errors and the API key", () => {
  test("over-long prompt and too large max_tokens: two messages, 400, each with its param", async () => {
    const server = await start({ maxModelLen: 64 });
    try {
      const long = JSON.parse((await post(server.url, "/v1/completions", { model: "qwen", prompt: "word ".repeat(100) })).body).error;
      assert.equal(long.code, 400);
      assert.equal(long.param, "input_tokens");
      assert.match(
        long.message,
        /^This model's maximum context length is 64 tokens\. However, your request has \d+ input tokens\. Please reduce the length of the input prompt\. \(parameter=input_tokens, value=\d+\)$/,
      );
      const res = await post(server.url, "/v1/completions", { model: "qwen", prompt: "short", max_tokens: 100 });
      assert.equal(res.status, 400);
      const big = JSON.parse(res.body).error;
      assert.equal(big.param, "max_tokens");
      assert.match(
        big.message,
        /^'max_tokens' or 'max_completion_tokens' is too large: 100\. This model's maximum context length is 64 tokens and your request has (\d+) input tokens \(100 > 64 - \1\)\. \(parameter=max_tokens, value=100\)$/,
      );
    } finally {
      await server.close();
    }
  });

  test("--api-key guards /v1, /v2, /inference and /cohere; case-insensitive scheme; OPTIONS and /health open", async () => {
    const server = await start({ apiKeys: ["k1"] });
    try {
      for (const path of ["/v1/models", "/v2/rerank", "/inference/v1/generate", "/cohere/v2/chat"]) {
        const res = await raw(server.url, "GET", path);
        assert.equal(res.status, 401, path);
        assert.equal(res.body, '{"error":"Unauthorized"}', path);
      }
      assert.equal((await raw(server.url, "GET", "/v1/models", undefined, { authorization: "bearer k1" })).status, 200);
      assert.equal((await raw(server.url, "GET", "/v1/models", undefined, { authorization: "BEARER k1" })).status, 200);
      assert.equal((await raw(server.url, "GET", "/v1/models", undefined, { authorization: "Bearer k2" })).status, 401);
      assert.equal((await raw(server.url, "GET", "/v1/models", undefined, { authorization: "Basic k1" })).status, 401);
      assert.notEqual((await raw(server.url, "OPTIONS", "/v1/models")).status, 401);
      assert.equal((await raw(server.url, "GET", "/health")).status, 200);
      assert.equal((await raw(server.url, "GET", "/metrics")).status, 200);
      assert.equal((await raw(server.url, "GET", "/v3/x")).status, 404, "an unguarded prefix is not checked");
    } finally {
      await server.close();
    }
  });
});

describe("as current vLLM: metrics", () => {
  test("the series current vLLM exports for a text model, with its labels", async () => {
    const server = await start();
    try {
      const types = Object.fromEntries((await scrape(server.url)).map((f) => [f.name, f.type]));
      const expected: Record<string, string> = {
        "vllm:num_requests_waiting_by_reason": "GAUGE",
        "vllm:engine_sleep_state": "GAUGE",
        "vllm:prompt_tokens_by_source_total": "COUNTER",
        "vllm:prompt_tokens_cached_total": "COUNTER",
        "vllm:prompt_tokens_recomputed_total": "COUNTER",
        "vllm:external_prefix_cache_queries_total": "COUNTER",
        "vllm:external_prefix_cache_hits_total": "COUNTER",
        "vllm:mm_cache_queries_total": "COUNTER",
        "vllm:mm_cache_hits_total": "COUNTER",
        "vllm:iteration_tokens_total": "HISTOGRAM",
        "vllm:request_max_num_generation_tokens": "HISTOGRAM",
        "vllm:request_time_per_output_token_seconds": "HISTOGRAM",
        "vllm:request_prefill_kv_computed_tokens": "HISTOGRAM",
        "vllm:request_inference_time_seconds": "HISTOGRAM",
        "vllm:request_params_n": "HISTOGRAM",
        http_requests_total: "COUNTER",
        http_request_size_bytes: "SUMMARY",
        http_response_size_bytes: "SUMMARY",
        http_request_duration_seconds: "HISTOGRAM",
        http_request_duration_highr_seconds: "HISTOGRAM",
      };
      for (const [name, type] of Object.entries(expected)) assert.equal(types[name], type, name);
      const m = await scrape(server.url);
      const success = m.find((f) => f.name === "vllm:request_success_total")!;
      assert.deepEqual(success.metrics.map((s) => s.labels?.finished_reason).sort(), ["abort", "error", "length", "repetition", "stop"]);
      assert.equal(sample(m, "vllm:engine_sleep_state", { ...L, sleep_state: "awake" }), 1);
      assert.equal(sample(m, "vllm:engine_sleep_state", { ...L, sleep_state: "discard_all" }), 0);
      assert.equal(sample(m, "vllm:num_requests_waiting_by_reason", { ...L, reason: "capacity" }), 0);
      assert.equal(sample(m, "vllm:num_requests_waiting_by_reason", { ...L, reason: "deferred" }), 0);
      const h = await scrapeHistograms(server.url);
      assert.equal(sample(h, "vllm:iteration_tokens_total_bucket", { ...L, le: "16384" }), 0);
    } finally {
      await server.close();
    }
  });

  test("values move with the simulation: prompt sources, cache, steps, per-request TPOT, http_*", async () => {
    const server = await start({ mock: { itlMs: 5 } });
    try {
      const long = "a fairly long shared prefix ".repeat(10);
      const a = JSON.parse((await post(server.url, "/v1/chat/completions", { ...chat(long), max_tokens: 4 })).body);
      const b = JSON.parse((await post(server.url, "/v1/chat/completions", { ...chat(long), max_tokens: 4 })).body);
      await raw(server.url, "GET", "/nowhere");
      const prompt = a.usage.prompt_tokens + b.usage.prompt_tokens;
      const m = await scrape(server.url);
      const computed = sample(m, "vllm:prompt_tokens_by_source_total", { ...L, source: "local_compute" })!;
      const hit = sample(m, "vllm:prompt_tokens_by_source_total", { ...L, source: "local_cache_hit" })!;
      assert.equal(computed + hit, prompt);
      assert.ok(hit >= 16, "the second request reused the first one's blocks");
      assert.equal(sample(m, "vllm:prompt_tokens_cached_total", L), hit);
      assert.equal(sample(m, "vllm:prompt_tokens_by_source_total", { ...L, source: "external_kv_transfer" }), 0);
      assert.equal(sample(m, "http_requests_total", { handler: "/v1/chat/completions", method: "POST", status: "2xx" }), 2);
      assert.equal(sample(m, "http_requests_total", { handler: "none", method: "GET", status: "4xx" }), 1);
      assert.equal(
        m.find((f) => f.name === "http_requests_total")!.metrics.some((s) => s.labels?.handler === "/metrics"),
        false,
        "/metrics is not instrumented",
      );
      const h = await scrapeHistograms(server.url);
      assert.equal(sample(h, "vllm:request_prefill_kv_computed_tokens_sum", L), computed);
      assert.equal(sample(h, "vllm:request_max_num_generation_tokens_sum", L), 8);
      // Per request: one prefill step, then three decode steps of one token.
      assert.equal(sample(h, "vllm:iteration_tokens_total_count", L), 8);
      assert.equal(sample(h, "vllm:request_time_per_output_token_seconds_count", L), 2);
      assert.ok(sample(h, "vllm:request_time_per_output_token_seconds_sum", L)! / 2 >= 0.004);
      assert.equal(sample(h, "http_request_duration_highr_seconds_count"), 3);
      assert.equal(sample(h, "http_request_duration_seconds_count", { handler: "/v1/chat/completions", method: "POST" }), 2);
      // Summaries (no quantiles, as prometheus_client exports them): read from the text.
      const text = (await raw(server.url, "GET", "/metrics")).body;
      const summary = (line: string) => Number(new RegExp(`^${line.replace(/[{}/]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
      assert.equal(summary('http_response_size_bytes_count{handler="/v1/chat/completions"}'), 2);
      assert.equal(
        summary('http_response_size_bytes_sum{handler="/v1/chat/completions"}'),
        Buffer.byteLength(JSON.stringify(a)) + Buffer.byteLength(JSON.stringify(b)),
      );
      assert.ok(summary('http_request_size_bytes_sum{handler="/v1/chat/completions"}') > 0);
    } finally {
      await server.close();
    }
  });
});

describe("a client that goes away", () => {
  test("a real disconnect mid-stream (the client destroys its socket) aborts the request and frees its slot", async () => {
    const server = await start({ maxNumSeqs: 1, mock: { itlMs: 30 } });
    try {
      const body = JSON.stringify({ ...chat("x ".repeat(40)), stream: true });
      const socket = connect(server.port, "127.0.0.1");
      let seen = "";
      const tokens = () => seen.split('"delta":{"content":').length - 1;
      socket.on("data", (d) => (seen += d));
      socket.on("error", () => undefined);
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await waitFor(() => tokens() >= 3, 10_000);
      socket.destroy();
      await waitFor(
        async () => sample(await scrape(server.url), "vllm:request_success_total", { ...L, finished_reason: "abort" }) === 1,
        10_000,
      );
      const m = await scrape(server.url);
      assert.equal(sample(m, "vllm:num_requests_running", L), 0);
      assert.ok(sample(m, "vllm:generation_tokens_total", L)! < 40, "stopped generating");
      // The only slot is free again: the next request is served, not queued behind the dead one.
      const next = await post(server.url, "/v1/chat/completions", { ...chat("ok"), max_tokens: 1 });
      assert.equal(next.status, 200);
    } finally {
      await server.close();
    }
  });
});

describe("draining", () => {
  test("a request that arrives while draining gets 503 with `Connection: close`", async () => {
    const server = await start({ mock: { ttftMs: 1500 } });
    const inflight = stream(server.url, "/v1/chat/completions", { ...chat("a b"), stream: true });
    await waitFor(async () => sample(await scrape(server.url), "vllm:num_requests_running", L) === 1, 5000);
    // A connection whose request head is half sent is busy, so the drain does not close it.
    const socket = connect(server.port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    let reply = "";
    socket.on("data", (d) => (reply += d));
    const closed = new Promise((r) => socket.once("close", r));
    socket.write("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n");
    await new Promise((r) => setTimeout(r, 50));
    const stopping = server.close();
    await waitFor(() => server.context.phase === "draining", 5000);
    const body = JSON.stringify(chat("late"));
    socket.write(`content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await closed;
    assert.match(reply, /^HTTP\/1\.1 503 /);
    assert.match(reply, /\r\nconnection: close\r\n/i);
    assert.match(reply, /"The server is shutting down\."/);
    assert.equal((await inflight).status, 200, "the request in flight still finished");
    await stopping;
  });
});
