import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request } from "node:http";
import OpenAI from "openai";
import { RunningServer } from "../src/server";
import { chat, client, post, raw, start } from "./helpers";

function assertVllmError(res: { status: number; body: string }, status: number, type: string, messagePattern?: RegExp): void {
  assert.equal(res.status, status, res.body);
  const body = JSON.parse(res.body);
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.code, status);
  assert.equal(body.error.type, type);
  assert.equal(typeof body.error.message, "string");
  if (messagePattern) assert.match(body.error.message, messagePattern);
}

describe("bad inputs get vLLM's status and error body, and the server keeps serving", () => {
  let server: RunningServer;
  // Embeddings are served only by a model served for pooling, as in vLLM.
  let embedder: RunningServer;
  before(async () => {
    server = await start({ maxModelLen: 64, mock: { maxBodyBytes: 64 * 1024 } });
    embedder = await start({ maxModelLen: 64, pooling: true, mock: { maxBodyBytes: 64 * 1024 } });
  });
  after(() => Promise.all([server.close(), embedder.close()]));
  const at = (path: string) => (path === "/v1/embeddings" ? embedder.url : server.url);

  const stillServing = async () => {
    const res = await post(server.url, "/v1/chat/completions", chat("still alive"));
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).choices[0].message.content, "still alive");
  };

  test("malformed JSON is 400", async () => {
    for (const body of ["{", "not json", '{"model": "qwen",}', ""]) {
      assertVllmError(await raw(server.url, "POST", "/v1/chat/completions", body), 400, "BadRequestError");
    }
    assertVllmError(await raw(server.url, "POST", "/v1/completions", "[1,2]"), 400, "BadRequestError");
    await stillServing();
  });

  test("wrong types and missing fields are 400 naming the field", async () => {
    const cases: [string, unknown, string][] = [
      ["/v1/chat/completions", { model: "qwen" }, "messages"],
      ["/v1/chat/completions", { model: "qwen", messages: "hello" }, "messages"],
      ["/v1/chat/completions", { model: "qwen", messages: [{ role: "user", content: 5 }] }, "messages"],
      ["/v1/chat/completions", { ...chat("x"), max_tokens: "ten" }, "max_tokens"],
      ["/v1/chat/completions", { ...chat("x"), n: 0 }, "n"],
      ["/v1/chat/completions", { ...chat("x"), stream: "yes" }, "stream"],
      ["/v1/chat/completions", { ...chat("x"), temperature: -1 }, "temperature"],
      ["/v1/completions", { model: "qwen" }, "prompt"],
      ["/v1/completions", { model: "qwen", prompt: { text: "x" } }, "prompt"],
      ["/v1/embeddings", { model: "qwen", input: 3 }, "input"],
      ["/tokenize", { model: "qwen" }, ""],
      ["/detokenize", { model: "qwen", tokens: ["a"] }, "tokens"],
    ];
    for (const [path, body, field] of cases) {
      const res = await post(at(path), path, body);
      assertVllmError(res, 400, "BadRequestError", new RegExp(field));
    }
    assertVllmError(
      await post(server.url, "/v1/chat/completions", { ...chat("x"), max_tokens: 0 }),
      400,
      "BadRequestError",
      /max_tokens must be at least 1/,
    );
    assertVllmError(
      await post(server.url, "/v1/chat/completions", { ...chat("x"), stream_options: { include_usage: true } }),
      400,
      "BadRequestError",
      /stream=True/,
    );
    assertVllmError(await post(server.url, "/detokenize", { tokens: [-1] }), 400, "BadRequestError", /out of vocabulary/);
    await stillServing();
  });

  test("unknown model is 404 on every model-taking route", async () => {
    for (const [path, body] of [
      ["/v1/chat/completions", { ...chat("x"), model: "gpt-4" }],
      ["/v1/completions", { model: "gpt-4", prompt: "x" }],
      ["/v1/embeddings", { model: "gpt-4", input: "x" }],
      ["/tokenize", { model: "gpt-4", prompt: "x" }],
    ] as const) {
      assertVllmError(await post(at(path), path, body), 404, "NotFoundError", /The model `gpt-4` does not exist/);
    }
    await stillServing();
  });

  test("over-long requests are 400 naming the context length", async () => {
    const long = "word ".repeat(100);
    assertVllmError(
      await post(server.url, "/v1/chat/completions", chat(long)),
      400,
      "BadRequestError",
      /maximum context length is 64 tokens/,
    );
    assertVllmError(
      await post(server.url, "/v1/completions", { model: "qwen", prompt: "short", max_tokens: 100 }),
      400,
      "BadRequestError",
      /maximum context length is 64 tokens/,
    );
    assertVllmError(
      await post(embedder.url, "/v1/embeddings", { model: "qwen", input: long }),
      400,
      "BadRequestError",
      /maximum context length/,
    );
    // The official client surfaces it as BadRequestError.
    await assert.rejects(
      client(server).chat.completions.create(chat(long)),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.status === 400,
    );
    await stillServing();
  });

  test("an oversize body is 413, declared or chunked", async () => {
    const huge = JSON.stringify(chat("x".repeat(200 * 1024)));
    const declared = await raw(server.url, "POST", "/v1/chat/completions", huge);
    assertVllmError(declared, 413, "RequestEntityTooLargeError");
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/v1/chat/completions`,
        { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      for (let i = 0; i < 20; i++) req.write(huge.slice(i * 12000, (i + 1) * 12000));
      req.end(huge.slice(240000));
    });
    assertVllmError(chunked, 413, "RequestEntityTooLargeError");
    await stillServing();
  });

  test("unknown routes and wrong methods answer like FastAPI", async () => {
    const missing = await raw(server.url, "GET", "/v1/nothing-here");
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { detail: "Not Found" });
    const wrongMethod = await raw(server.url, "GET", "/v1/chat/completions");
    assert.equal(wrongMethod.status, 405);
    assert.deepEqual(JSON.parse(wrongMethod.body), { detail: "Method Not Allowed" });
    await stillServing();
  });
});

describe("API key", () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ apiKeys: ["s3cret"] });
  });
  after(() => server.close());

  test("/v1 routes need the bearer key; 401 body is {error: Unauthorized}", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "s3cret" }] as Record<string, string>[]) {
      const res = await post(server.url, "/v1/chat/completions", chat("x"), headers);
      assert.equal(res.status, 401);
      assert.deepEqual(JSON.parse(res.body), { error: "Unauthorized" });
    }
    assert.equal((await raw(server.url, "GET", "/v1/models")).status, 401);
    assert.equal((await raw(server.url, "GET", "/v1/unknown")).status, 401);
    const ok = await post(server.url, "/v1/chat/completions", chat("x"), { authorization: "Bearer s3cret" });
    assert.equal(ok.status, 200);
  });

  test("the official client works with the key and fails without it", async () => {
    const res = await client(server, "s3cret").chat.completions.create(chat("keyed"));
    assert.equal(res.choices[0].message.content, "keyed");
    await assert.rejects(client(server, "nope").models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  });

  test("health, metrics and tokenize stay open", async () => {
    assert.equal((await raw(server.url, "GET", "/health")).status, 200);
    assert.equal((await raw(server.url, "GET", "/metrics")).status, 200);
    assert.equal((await raw(server.url, "GET", "/version")).status, 200);
    assert.equal((await post(server.url, "/tokenize", { prompt: "x" })).status, 200);
  });
});
