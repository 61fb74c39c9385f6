import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { parseCommandLine } from "../src/cli";
import { DEFAULT_SIMULATION, configFromCommandLine } from "../src/config";
import { Faults } from "../src/faults";
import { createRng } from "../src/rng";
import { exchange } from "../../fuzz/wire";
import { RunningServer } from "../src/server";
import { post, start } from "./helpers";

/** Each request bound: vLLM's error body, the field as `param`, the limit in the message. */
async function refused(
  server: RunningServer,
  path: string,
  body: unknown,
  status: number,
  param: string | null,
  message: RegExp,
): Promise<void> {
  const res = await post(server.url, path, body);
  assert.equal(res.status, status, res.body);
  const { error } = JSON.parse(res.body);
  assert.equal(error.param, param, error.message);
  assert.match(error.message, message);
}

const chat = (extra: object = {}) => ({
  model: "qwen",
  messages: [{ role: "user", content: "hello" }],
  max_tokens: 8,
  ...extra,
});
const completion = (extra: object = {}) => ({ model: "qwen", prompt: "hello", max_tokens: 8, ...extra });

describe("request bounds with the default limits", () => {
  let server: RunningServer;
  // Embeddings are served only by a model served for pooling, as in vLLM.
  let embedder: RunningServer;
  before(async () => {
    server = await start({ maxModelLen: 2048 });
    embedder = await start({ maxModelLen: 2048, pooling: true });
  });
  after(() => Promise.all([server.close(), embedder.close()]));

  test("n and best_of: at most VLLM_MAX_N_SEQUENCES (16384); best_of at least n", async () => {
    await refused(server, "/v1/chat/completions", chat({ n: 16385 }), 400, "n", /^n must be at most 16384, got 16385\./);
    await refused(server, "/v1/completions", completion({ best_of: 20000 }), 400, "best_of", /^best_of must be at most 16384/);
    await refused(
      server,
      "/v1/completions",
      completion({ n: 3, best_of: 2 }),
      400,
      "best_of",
      /best_of must be greater than or equal to n, got n=3 and best_of=2/,
    );
    assert.equal((await post(server.url, "/v1/completions", completion({ n: 2, best_of: 2 }))).status, 200);
  });

  test("logprobs, top_logprobs, prompt_logprobs: at most --max-logprobs (20)", async () => {
    await refused(
      server,
      "/v1/completions",
      completion({ logprobs: 21 }),
      400,
      "logprobs",
      /^Requested sample logprobs of 21, which is greater than max allowed: 20$/,
    );
    await refused(server, "/v1/completions", completion({ logprobs: -2 }), 400, "logprobs", /non-negative or -1/);
    await refused(
      server,
      "/v1/chat/completions",
      chat({ logprobs: true, top_logprobs: 50 }),
      400,
      "top_logprobs",
      /sample logprobs of 50, which is greater than max allowed: 20/,
    );
    await refused(server, "/v1/chat/completions", chat({ prompt_logprobs: 21 }), 400, "prompt_logprobs", /prompt logprobs of 21/);
    assert.equal((await post(server.url, "/v1/completions", completion({ logprobs: 20 }))).status, 200);
  });

  test("prompts per completions request and inputs per embeddings request: at most VLLM_MAX_COMPLETION_PROMPTS (1024)", async () => {
    await refused(
      server,
      "/v1/completions",
      completion({ prompt: new Array(1025).fill("a") }),
      400,
      "prompt",
      /^prompt list length 1025 exceeds the maximum allowed count of 1024/,
    );
    await refused(embedder, "/v1/embeddings", { model: "qwen", input: new Array(1025).fill([1]) }, 400, "input", /input list length 1025/);
    // One list of token ids is one prompt, however long.
    assert.equal((await post(server.url, "/v1/completions", completion({ prompt: new Array(1025).fill(104) }))).status, 200);
  });

  test("stop strings: at most VLLM_MAX_STOP_STRINGS (4)", async () => {
    await refused(
      server,
      "/v1/chat/completions",
      chat({ stop: ["a", "b", "c", "d", "e"] }),
      400,
      "stop",
      /at most 4 items after validation, not 5/,
    );
    assert.equal((await post(server.url, "/v1/chat/completions", chat({ stop: ["a", "b", "c", "d"] }))).status, 200);
  });

  test("prompt size: over --max-model-len refused with the token count; as many messages as tokens cannot fit", async () => {
    await refused(
      server,
      "/v1/completions",
      { model: "qwen", prompt: "a ".repeat(4_000_000) },
      400,
      "input_tokens",
      /maximum context length is 2048 tokens\. However, your request has 4000001 input tokens/,
    );
    await refused(
      server,
      "/v1/completions",
      { model: "qwen", prompt: new Array(3000).fill(104) },
      400,
      "input_tokens",
      /your request has 3000 input tokens/,
    );
    await refused(
      server,
      "/v1/chat/completions",
      { model: "qwen", messages: new Array(2048).fill({ role: "user", content: "" }) },
      400,
      "messages",
      /maximum context length is 2048 tokens\. However, your request has 2048 messages/,
    );
    await refused(
      embedder,
      "/v1/embeddings",
      { model: "qwen", input: [new Array(3000).fill(104)] },
      400,
      "input",
      /you requested 3000 tokens in the input/,
    );
  });

  test("min_tokens above max_tokens is refused as vLLM does", async () => {
    await refused(
      server,
      "/v1/chat/completions",
      chat({ min_tokens: 9 }),
      400,
      "min_tokens",
      /min_tokens must be less than or equal to max_tokens=8, got 9/,
    );
  });

  test("embeddings dimensions: at most --mock-embedding-dim", async () => {
    await refused(
      embedder,
      "/v1/embeddings",
      { model: "qwen", input: "x", dimensions: 385 },
      400,
      "dimensions",
      /dimensions must be at most 384/,
    );
    const ok = JSON.parse((await post(embedder.url, "/v1/embeddings", { model: "qwen", input: "x", dimensions: 384 })).body);
    assert.equal(ok.data[0].embedding.length, 384);
  });

  test("a quoted model name is cut, so the error body stays small", async () => {
    const res = await post(server.url, "/v1/chat/completions", { ...chat(), model: "m".repeat(1_000_000) });
    assert.equal(res.status, 404);
    assert.ok(res.body.length < 400, `${res.body.length} bytes`);
    assert.match(JSON.parse(res.body).error.message, /\(1000000 characters\)/);
  });
});

describe("response size: --mock-max-response-tokens (default max(65536, --max-model-len))", () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ maxModelLen: 4096, mock: { mode: "generate", outputLen: 64 } });
  });
  after(() => server.close());

  test("n × the tokens each choice can carry is refused over the bound, naming n and the limit", async () => {
    // 1025 choices × 64 natural tokens = 65,600 > 65,536; 1024 × 64 fits.
    await refused(
      server,
      "/v1/chat/completions",
      { model: "qwen", messages: [{ role: "user", content: "hi" }], n: 1025 },
      400,
      "n",
      /would return up to 65600 tokens \(n=1025 choices of up to 64 tokens\), more than the 65536 .*--mock-max-response-tokens/,
    );
    const ok = await post(server.url, "/v1/chat/completions", {
      model: "qwen",
      messages: [{ role: "user", content: "hi" }],
      n: 1024,
    });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).usage.completion_tokens, 65536);
  });

  test("echoed prompts count, and /tokenize's token list is bounded too", async () => {
    const prompt = "word ".repeat(1000); // 1000 tokens
    await refused(
      server,
      "/v1/completions",
      { model: "qwen", prompt, max_tokens: 1, n: 64, echo: true },
      400,
      "n",
      /echoed prompts included/,
    );
    await refused(
      server,
      "/tokenize",
      { model: "qwen", prompt: "ab ".repeat(70_000) },
      400,
      "the prompt",
      /would return up to 70001 tokens/,
    );
  });
});

describe("long zero-latency streams are written in slices", () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ maxModelLen: 270_000, mock: { mode: "generate", outputLen: 64 } });
  });
  after(() => server.close());

  const request = (maxTokens: number) => {
    const body = JSON.stringify({
      model: "qwen",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: maxTokens,
      ignore_eos: true,
      stream: true,
    });
    return `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  };

  test("a 262,144-token stream (~48 MB) never holds the event loop for long", async () => {
    // The longest turn of the event loop, in CPU time rather than wall time, so that a busy
    // machine preempting the process does not count as the server holding the loop.
    let longestTurnUs = 0;
    let last = process.cpuUsage();
    let ticking = true;
    const tick = () => {
      const now = process.cpuUsage();
      longestTurnUs = Math.max(longestTurnUs, now.user - last.user + now.system - last.system);
      last = now;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const bytes = await new Promise<number>((resolve, reject) => {
      const s = connect(server.port, "127.0.0.1", () => s.write(request(262_144)));
      let n = 0;
      s.on("data", (d: Buffer) => {
        n += d.length;
        if (d.includes("data: [DONE]")) {
          s.destroy();
          resolve(n);
        }
      });
      s.on("error", reject);
    });
    ticking = false;
    assert.ok(bytes > 40_000_000, `${bytes} bytes`);
    // Built and written whole, this stream held the loop for ~1 s here; in slices the longest
    // turn is generating the text up front (~0.15 s).
    assert.ok(longestTurnUs / 1e3 < 500, `the event loop was held for ${(longestTurnUs / 1e3).toFixed(0)} ms of CPU`);
  });

  test("a client that does not read holds its stream (instead of the server buffering all of it), and gets all of it once it reads", async () => {
    const s = connect(server.port, "127.0.0.1", () => s.write(request(65_536)));
    s.pause();
    try {
      await new Promise((r) => setTimeout(r, 500));
      // Written whole at once, the ~12 MB stream would be finished on the server's side by now.
      assert.equal(server.context.scheduler.running, 1, "the stream is held while the client does not read");
      let bytes = 0;
      await new Promise<void>((resolve, reject) => {
        s.on("data", (d: Buffer) => {
          bytes += d.length;
          if (d.includes("data: [DONE]")) resolve();
        });
        s.on("error", reject);
        s.resume();
      });
      assert.ok(bytes > 5_000_000, `${bytes} bytes`);
      assert.equal(server.context.scheduler.running, 0);
    } finally {
      s.destroy();
    }
  });
});

describe("limits follow vLLM's own settings", () => {
  const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => configFromCommandLine(parseCommandLine(["m", ...argv], env), env);

  test("VLLM_MAX_N_SEQUENCES, VLLM_MAX_COMPLETION_PROMPTS, VLLM_MAX_STOP_STRINGS and --max-logprobs", () => {
    const c = config(["--max-logprobs", "5"], {
      VLLM_MAX_N_SEQUENCES: "4",
      VLLM_MAX_COMPLETION_PROMPTS: "8",
      VLLM_MAX_STOP_STRINGS: "2",
    });
    assert.deepEqual(
      { ...c.limits },
      { maxN: 4, maxPrompts: 8, maxStopStrings: 2, maxLogprobs: 5, maxResponseTokens: 65536, maxJsonValues: 262144 },
    );
    assert.throws(() => config([], { VLLM_MAX_N_SEQUENCES: "lots" }), /VLLM_MAX_N_SEQUENCES: expected a positive integer, got 'lots'/);
  });

  test("the size bounds grow with --max-model-len, and have flags", () => {
    assert.deepEqual(
      [config(["--max-model-len", "1M"]).limits.maxResponseTokens, config(["--max-model-len", "1M"]).limits.maxJsonValues],
      [1048576, 2097152],
    );
    const c = config(["--mock-max-response-tokens", "100", "--mock-max-json-values", "1000", "--h11-max-header-count", "50"]);
    assert.deepEqual([c.limits.maxResponseTokens, c.limits.maxJsonValues, c.maxHeaderCount], [100, 1000, 50]);
  });
});

describe("fault-injection headers cannot grow memory or overflow timers", () => {
  test("script keys (x-mock-fail-key) beyond 1024 are forgotten oldest first", () => {
    const faults = new Faults(DEFAULT_SIMULATION, createRng(1));
    const fails = (key: string) => faults.plan({ "x-mock-fail-first-n": "1", "x-mock-fail-key": key }, 0)!.failStatus >= 0;
    assert.equal(fails("k0"), true);
    assert.equal(fails("k0"), false, "k0's one failure is used up");
    for (let i = 1; i <= 1024; i++) fails(`k${i}`);
    assert.equal(fails("k0"), true, "k0 was forgotten, so its script starts again");
    assert.equal(fails("k1024"), false, "recent keys are remembered");
  });

  test("x-mock-stall-ms beyond setTimeout's range stalls (~24.8 days), instead of Node firing it after 1 ms", async () => {
    const server = await start();
    try {
      const body = JSON.stringify({ model: "qwen", messages: [{ role: "user", content: "x" }] });
      const text = `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nx-mock-stall-ms: 99999999999\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const x = await exchange(server.port, {
        parts: [Buffer.from(text)],
        methods: ["POST"],
        expect: 1,
        timeoutMs: 500,
      });
      assert.equal(x.hung, true, `answered ${x.responses[0]?.status} at once`);
    } finally {
      await server.close();
    }
  });
});
