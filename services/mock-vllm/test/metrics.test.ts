import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countTokens } from "../src/tokenizer";
import { chat, client, post, raw, sample, scrape, scrapeHistograms, sleep, start, stream, waitFor } from "./helpers";

const L = { model_name: "qwen", engine: "0" };

describe("/metrics", () => {
  test("names, types and labels follow current vLLM", async () => {
    const server = await start();
    try {
      const res = await raw(server.url, "GET", "/metrics");
      assert.match(String(res.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      const families = await scrape(server.url);
      const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
      const expected: Record<string, string> = {
        "vllm:num_requests_running": "GAUGE",
        "vllm:num_requests_waiting": "GAUGE",
        "vllm:kv_cache_usage_perc": "GAUGE",
        "vllm:cache_config_info": "GAUGE",
        "vllm:prompt_tokens_total": "COUNTER",
        "vllm:generation_tokens_total": "COUNTER",
        "vllm:request_success_total": "COUNTER",
        "vllm:num_preemptions_total": "COUNTER",
        "vllm:prefix_cache_queries_total": "COUNTER",
        "vllm:prefix_cache_hits_total": "COUNTER",
        "vllm:time_to_first_token_seconds": "HISTOGRAM",
        "vllm:inter_token_latency_seconds": "HISTOGRAM",
        "vllm:e2e_request_latency_seconds": "HISTOGRAM",
        "vllm:request_queue_time_seconds": "HISTOGRAM",
        "vllm:request_prefill_time_seconds": "HISTOGRAM",
        "vllm:request_decode_time_seconds": "HISTOGRAM",
        "vllm:request_prompt_tokens": "HISTOGRAM",
        "vllm:request_generation_tokens": "HISTOGRAM",
        "vllm:request_params_max_tokens": "HISTOGRAM",
      };
      for (const [name, type] of Object.entries(expected)) assert.equal(types[name], type, name);
      assert.equal(types["vllm:gpu_cache_usage_perc"], undefined, "deprecated gauge only in compatibility mode");
      assert.equal(sample(families, "vllm:num_requests_running", L), 0);
      const success = families.find((f) => f.name === "vllm:request_success_total")!;
      assert.deepEqual(success.metrics.map((m) => m.labels?.finished_reason).sort(), ["abort", "error", "length", "repetition", "stop"]);
      assert.ok(success.metrics.every((m) => m.labels?.model_name === "qwen" && m.labels?.engine === "0"));
    } finally {
      await server.close();
    }
  });

  test("token counters and finish reasons match what responses reported", async () => {
    const server = await start();
    try {
      const c = client(server);
      const a = await c.chat.completions.create(chat("one two three"));
      const b = await c.chat.completions.create({ ...chat("four five six seven"), max_tokens: 2 });
      const prompt = a.usage!.prompt_tokens + b.usage!.prompt_tokens;
      const generated = a.usage!.completion_tokens + b.usage!.completion_tokens;
      const m = await scrape(server.url);
      assert.equal(sample(m, "vllm:prompt_tokens_total", L), prompt);
      assert.equal(sample(m, "vllm:generation_tokens_total", L), generated);
      assert.equal(sample(m, "vllm:request_success_total", { ...L, finished_reason: "stop" }), 1);
      assert.equal(sample(m, "vllm:request_success_total", { ...L, finished_reason: "length" }), 1);
      const h = await scrapeHistograms(server.url);
      assert.equal(sample(h, "vllm:request_generation_tokens_count", L), 2);
      assert.equal(sample(h, "vllm:request_generation_tokens_sum", L), generated);
      assert.equal(sample(h, "vllm:request_generation_tokens_bucket", { ...L, le: "+Inf" }), 2);
      assert.equal(generated, countTokens("one two three") + 2);
      // Same prompt twice: the second one hits the prefix cache for its full blocks.
      const long = "a fairly long shared prefix ".repeat(10);
      await c.chat.completions.create(chat(long));
      await c.chat.completions.create(chat(long));
      const m2 = await scrape(server.url);
      assert.ok(sample(m2, "vllm:prefix_cache_hits_total", L)! >= 16);
      assert.ok(sample(m2, "vllm:prefix_cache_queries_total", L)! > sample(m2, "vllm:prefix_cache_hits_total", L)!);
    } finally {
      await server.close();
    }
  });

  test("running, waiting and KV usage reflect in-flight requests; histograms record latency", async () => {
    // Streams of ~1.3 s: the snapshot below is taken once all five are admitted or queued (an
    // event, not a fixed sleep), and a stalled machine only makes that window longer.
    const server = await start({ maxNumSeqs: 2, serverLoadTracking: true, mock: { ttftMs: 300, itlMs: 200, compatGpuCacheMetric: true } });
    try {
      const streams = Array.from({ length: 5 }, () => stream(server.url, "/v1/chat/completions", { ...chat("a b c d e f"), stream: true }));
      await waitFor(async () => {
        const m = await scrape(server.url);
        return sample(m, "vllm:num_requests_running", L) === 2 && sample(m, "vllm:num_requests_waiting", L) === 3;
      }, 5000);
      const m = await scrape(server.url);
      assert.equal(sample(m, "vllm:num_requests_running", L), 2);
      assert.equal(sample(m, "vllm:num_requests_waiting", L), 3);
      const kv = sample(m, "vllm:kv_cache_usage_perc", L)!;
      assert.ok(kv > 0 && kv <= 1);
      assert.equal(sample(m, "vllm:gpu_cache_usage_perc", L), kv);
      assert.deepEqual(JSON.parse((await raw(server.url, "GET", "/load")).body), { server_load: 5 });
      await Promise.all(streams);
      const after = await scrape(server.url);
      assert.equal(sample(after, "vllm:num_requests_running", L), 0);
      assert.equal(sample(after, "vllm:num_requests_waiting", L), 0);
      assert.equal(sample(after, "vllm:kv_cache_usage_perc", L), 0);
      const h = await scrapeHistograms(server.url);
      assert.equal(sample(h, "vllm:time_to_first_token_seconds_count", L), 5);
      assert.ok(sample(h, "vllm:time_to_first_token_seconds_sum", L)! / 5 >= 0.3);
      assert.ok(sample(h, "vllm:request_queue_time_seconds_sum", L)! > 0.1, "three of five requests queued");
      const itlCount = sample(h, "vllm:inter_token_latency_seconds_count", L)!;
      assert.ok(itlCount > 0);
      // Server-side gaps can be shortened by a late previous token (times are absolute), never
      // by much on average.
      assert.ok(sample(h, "vllm:inter_token_latency_seconds_sum", L)! / itlCount >= 0.15);
      assert.equal(sample(h, "vllm:e2e_request_latency_seconds_count", L), 5);
    } finally {
      await server.close();
    }
  });

  test("a client that disconnects mid-stream is counted as abort", async () => {
    const server = await start({ mock: { itlMs: 30 } });
    try {
      await stream(server.url, "/v1/chat/completions", { ...chat("x ".repeat(40)), stream: true }, { "x-mock-drop-after-tokens": "3" });
      await sleep(50);
      const m = await scrape(server.url);
      assert.equal(sample(m, "vllm:request_success_total", { ...L, finished_reason: "abort" }), 1);
      assert.equal(sample(m, "vllm:num_requests_running", L), 0);
      assert.equal(sample(m, "vllm:generation_tokens_total", L), 3);
      assert.equal((await post(server.url, "/v1/chat/completions", chat("ok"))).status, 200);
    } finally {
      await server.close();
    }
  });
});
