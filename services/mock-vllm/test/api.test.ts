import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RunningServer } from "../src/server";
import { countTokens } from "../src/tokenizer";
import { chat, client, post, raw, start } from "./helpers";

describe("OpenAI-compatible API through the official client", () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ model: "Qwen/Qwen2.5-0.5B-Instruct", servedModelNames: ["qwen", "qwen-alias"] });
  });
  after(() => server.close());

  test("models list carries vLLM's card with max_model_len", async () => {
    const page = await client(server).models.list();
    const ids = page.data.map((m) => m.id);
    assert.deepEqual(ids, ["qwen", "qwen-alias"]);
    const card = page.data[0] as unknown as Record<string, unknown>;
    assert.equal(card.object, "model");
    assert.equal(card.owned_by, "vllm");
    assert.equal(card.root, "Qwen/Qwen2.5-0.5B-Instruct");
    assert.equal(card.parent, null);
    assert.equal(card.max_model_len, 2048);
    assert.ok(Array.isArray(card.permission));
  });

  test("chat echoes the last user message with consistent usage", async () => {
    const res = await client(server).chat.completions.create({
      model: "qwen",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "first" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "Hello, mock world!" },
      ],
    });
    assert.equal(res.object, "chat.completion");
    assert.match(res.id, /^chatcmpl-[0-9a-f]{32}$/);
    assert.equal(res.choices[0].message.role, "assistant");
    assert.equal(res.choices[0].message.content, "Hello, mock world!");
    assert.equal(res.choices[0].finish_reason, "stop");
    assert.equal(res.usage?.completion_tokens, countTokens("Hello, mock world!"));
    assert.equal(res.usage?.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  test("prompt tokens agree with /tokenize for the same messages", async () => {
    const messages = [{ role: "user" as const, content: "count me exactly, please" }];
    const res = await client(server).chat.completions.create({ model: "qwen", messages });
    const tok = await post(server.url, "/tokenize", { model: "qwen", messages });
    const body = JSON.parse(tok.body);
    assert.equal(body.count, res.usage?.prompt_tokens);
    assert.equal(body.max_model_len, 2048);
    assert.equal(body.tokens.length, body.count);
    const detok = await post(server.url, "/detokenize", {
      model: "qwen",
      tokens: (JSON.parse((await post(server.url, "/tokenize", { prompt: "héllo 😀 wörld" })).body) as { tokens: number[] }).tokens,
    });
    assert.equal(JSON.parse(detok.body).prompt, "héllo 😀 wörld");
  });

  test("max_tokens truncates with finish_reason length", async () => {
    const res = await client(server).chat.completions.create({ ...chat("one two three four five six seven"), max_tokens: 3 });
    assert.equal(res.choices[0].finish_reason, "length");
    assert.equal(res.usage?.completion_tokens, 3);
    assert.equal(countTokens(res.choices[0].message.content!), 3);
  });

  test("stop strings cut the output and report stop_reason", async () => {
    const res = await client(server).chat.completions.create({ ...chat("alpha beta STOP gamma"), stop: ["STOP"] });
    assert.equal(res.choices[0].message.content, "alpha beta ");
    assert.equal(res.choices[0].finish_reason, "stop");
    assert.equal((res.choices[0] as unknown as { stop_reason: string }).stop_reason, "STOP");
  });

  test("n returns that many choices", async () => {
    const res = await client(server).chat.completions.create({ ...chat("hi"), n: 3 });
    assert.deepEqual(
      res.choices.map((c) => c.index),
      [0, 1, 2],
    );
    assert.equal(res.usage?.completion_tokens, 3 * countTokens("hi"));
  });

  test("streaming chat: role first, content deltas, usage chunk, [DONE]", async () => {
    const s = await client(server).chat.completions.create({
      ...chat("stream this text please"),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let sawRole = false;
    let finish: string | null = null;
    let usage: { completion_tokens: number } | undefined;
    let chunks = 0;
    for await (const chunk of s) {
      chunks++;
      assert.equal(chunk.object, "chat.completion.chunk");
      if (chunk.usage) {
        assert.deepEqual(chunk.choices, []);
        usage = chunk.usage;
        continue;
      }
      const c = chunk.choices[0];
      if (c.delta.role) {
        assert.equal(chunks, 1, "role comes in the first chunk");
        sawRole = true;
      }
      text += c.delta.content ?? "";
      if (c.finish_reason) finish = c.finish_reason;
    }
    assert.ok(sawRole);
    assert.equal(text, "stream this text please");
    assert.equal(finish, "stop");
    assert.equal(usage?.completion_tokens, countTokens("stream this text please"));
  });

  test("completions, plain and streamed, with echo and several prompts", async () => {
    const c = client(server);
    const res = await c.completions.create({ model: "qwen", prompt: "complete me", max_tokens: 100 });
    assert.equal(res.object, "text_completion");
    assert.match(res.id, /^cmpl-/);
    assert.equal(res.choices[0].text, "complete me");
    const echoed = await c.completions.create({ model: "qwen", prompt: ["ab", "cd"], echo: true, max_tokens: 5 });
    assert.deepEqual(
      echoed.choices.map((x) => x.text),
      ["abab", "cdcd"],
    );
    const s = await c.completions.create({
      model: "qwen",
      prompt: "streamed completion",
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage;
    for await (const chunk of s) {
      if (chunk.usage) usage = chunk.usage;
      for (const ch of chunk.choices) text += ch.text;
    }
    assert.equal(text, "streamed completion");
    assert.equal(usage?.completion_tokens, countTokens("streamed completion"));
  });

  test("token-id prompts are accepted", async () => {
    const ids = JSON.parse((await post(server.url, "/tokenize", { prompt: "by ids" })).body).tokens as number[];
    const res = await client(server).completions.create({ model: "qwen", prompt: ids });
    assert.equal(res.choices[0].text, "by ids");
    assert.equal(res.usage?.prompt_tokens, ids.length);
  });

  test("embeddings are deterministic unit vectors (a model served for pooling)", async (t) => {
    const embedder = await start({ pooling: true });
    t.after(() => embedder.close());
    const c = client(embedder);
    const a = await c.embeddings.create({ model: "qwen", input: ["same text", "other"], encoding_format: "float" });
    const b = await c.embeddings.create({ model: "qwen", input: "same text", encoding_format: "float" });
    assert.equal(a.data.length, 2);
    assert.equal(a.data[0].embedding.length, 384);
    assert.deepEqual(a.data[0].embedding, b.data[0].embedding);
    const norm = Math.sqrt(a.data[1].embedding.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-6);
    assert.equal(b.usage.prompt_tokens, countTokens("same text"));
  });

  test("the default model is used when a request names none", async () => {
    const res = await post(server.url, "/v1/chat/completions", { messages: [{ role: "user", content: "x" }] });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).model, "qwen");
    const alias = await post(server.url, "/v1/chat/completions", { model: "qwen-alias", messages: [{ role: "user", content: "x" }] });
    assert.equal(JSON.parse(alias.body).model, "qwen-alias");
  });

  test("health, ping, version, load", async () => {
    assert.equal((await raw(server.url, "GET", "/health")).status, 200);
    assert.equal((await raw(server.url, "GET", "/ping")).status, 200);
    assert.equal((await raw(server.url, "POST", "/ping")).status, 200);
    assert.match(JSON.parse((await raw(server.url, "GET", "/version")).body).version, /^\d+\.\d+/);
    assert.deepEqual(JSON.parse((await raw(server.url, "GET", "/load")).body), { server_load: 0 });
  });
});

describe("generate mode", () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ mock: { mode: "generate", seed: 7, outputLen: 20 } });
  });
  after(() => server.close());

  test("stops naturally at the configured length, or at max_tokens with length", async () => {
    const c = client(server);
    const natural = await c.chat.completions.create(chat("anything"));
    assert.equal(natural.usage?.completion_tokens, 20);
    assert.equal(natural.choices[0].finish_reason, "stop");
    assert.notEqual(natural.choices[0].message.content, "anything");
    const capped = await c.chat.completions.create({ ...chat("anything"), max_tokens: 5 });
    assert.equal(capped.usage?.completion_tokens, 5);
    assert.equal(capped.choices[0].finish_reason, "length");
    const eos = await c.chat.completions.create({ ...chat("anything"), max_tokens: 50, ignore_eos: true } as never);
    assert.equal((eos as { usage: { completion_tokens: number } }).usage.completion_tokens, 50);
  });

  test("a request seed makes the text reproducible", async () => {
    const c = client(server);
    const a = await c.chat.completions.create({ ...chat("x"), seed: 42 });
    const b = await c.chat.completions.create({ ...chat("x"), seed: 42 });
    const d = await c.chat.completions.create({ ...chat("x"), seed: 43 });
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.notEqual(a.choices[0].message.content, d.choices[0].message.content);
  });

  test("max_model_len caps generation when max_tokens is absent", async () => {
    const small = await start({ maxModelLen: 40, mock: { mode: "generate", outputLen: 1000 } });
    try {
      const res = await client(small).chat.completions.create(chat("hi"));
      assert.equal(res.usage?.total_tokens, 40);
      assert.equal(res.choices[0].finish_reason, "length");
    } finally {
      await small.close();
    }
  });
});
