import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exchange, Exchange } from "../../fuzz/wire";
import { parseTarget } from "../src/http";
import type { RunningAgent } from "../src/main";
import { freePort, startAgentProcess, startTestAgent } from "./helpers";

/** HTTP hygiene of the agent's endpoints, on raw sockets read strictly (fuzz/wire.ts). */
const GET = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";

/** Sends `text` and reads until `expect` responses came, or (by default) until the server closes. */
function wire(port: number, text: string, expect = Infinity, timeoutMs = 5000): Promise<Exchange> {
  return exchange(port, { parts: [Buffer.from(text, "latin1")], methods: [], expect, timeoutMs });
}

function jsonError(x: Exchange, status: number, closed = true): string {
  assert.equal(x.malformed, null);
  assert.equal(x.hung, false, "neither an answer nor a close");
  if (closed) assert.equal(x.closed, true, "the agent did not close the connection");
  const last = x.responses.at(-1)!;
  assert.equal(last.status, status, last.body.toString());
  assert.match(last.headers["content-type"], /application\/json/);
  return JSON.parse(last.body.toString()).error;
}

// Targets `new URL(target, base)` throws on: these were answered 500 {"error":"internal error"}.
const REJECTED_BY_URL = [
  "///",
  "//[",
  "//[/healthz",
  "//a:b/",
  "//a:99999/",
  "//%zz",
  "//[::1/",
  "//a%00b/",
  "//:/",
  "//@/",
  "//a@@/",
].filter((t) => !URL.canParse(t, "http://agent"));

describe("HTTP hygiene: worker-agent", () => {
  let agent: RunningAgent;
  let port: number;
  before(async () => {
    agent = await startTestAgent({ VLLM_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    port = Number(new URL(agent.url).port);
  });
  after(() => agent.close());

  test("request targets `new URL()` rejects are a JSON 400 (malformed) or 404 (a path no route has), never a 500", async () => {
    assert.ok(REJECTED_BY_URL.length >= 8);
    for (const target of REJECTED_BY_URL) {
      const x = await wire(port, `GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`, 1);
      const r = x.responses[0];
      assert.ok(r.status === 400 || r.status === 404, `${target}: ${r.status} ${r.body}`);
      assert.ok(typeof JSON.parse(r.body.toString()).error === "string");
    }
    assert.equal((await wire(port, "GET //[ HTTP/1.1\r\nHost: a\r\n\r\n", 1)).responses[0].status, 400);
    assert.equal((await wire(port, "GET /// HTTP/1.1\r\nHost: a\r\n\r\n", 1)).responses[0].status, 404);
    assert.equal((await wire(port, "GET http://agent/healthz HTTP/1.1\r\nHost: a\r\n\r\n", 1)).responses[0].status, 200);
    // The 404 quotes the path, cut so the body does not grow with the request.
    const long = (await wire(port, `GET /${"a".repeat(5000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 1)).responses[0];
    assert.equal(long.status, 404);
    assert.equal(JSON.parse(long.body.toString()).path.length, 201);
  });

  test("parseTarget: origin form as sent (no normalising), absolute form, and nothing else", () => {
    assert.deepEqual(parseTarget("/logs?tail=3")?.path, "/logs");
    assert.equal(parseTarget("/logs?tail=3")?.query.get("tail"), "3");
    assert.equal(parseTarget("//healthz")?.path, "//healthz");
    assert.equal(parseTarget("http://h:1/info?x")?.path, "/info");
    for (const bad of ["//[", "/%zz", "*", "healthz", "http://[", "/a b", "/a\u00e9"]) assert.equal(parseTarget(bad), null, bad);
  });

  test("pipelined requests are answered in order up to a bad one, which gets a JSON 400, then the connection closes", async () => {
    const x = await wire(port, GET + GET + GET + "GARBAGE\r\n\r\n");
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [200, 200, 200, 400],
    );
    assert.match(jsonError(x, 400), /Invalid HTTP request/);
  });

  test("only HTTP/1.0 and 1.1 (505); duplicate or missing Host (400); transfer codings other than chunked (501)", async () => {
    for (const line of ["GET /healthz HTTP/0.9", "GET /healthz HTTP/2.0", "GET /healthz HTTP/1.2", "GET /healthz"])
      jsonError(await wire(port, `${line}\r\nHost: a\r\n\r\n`), 505);
    assert.match(jsonError(await wire(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400), /Duplicate Host/);
    jsonError(await wire(port, `GET /healthz HTTP/1.1\r\n${"Host: a\r\n".repeat(2000)}\r\n`), 431);
    assert.match(jsonError(await wire(port, "GET /healthz HTTP/1.1\r\n\r\n"), 400), /Missing Host/);
    const te = await wire(port, "POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + GET);
    assert.equal(te.responses.length, 1, "the request after it is not served");
    jsonError(te, 501);
  });

  test("the 5 s header timeout and 10 s request timeout fire within a second of their setting", { timeout: 30_000 }, async () => {
    // A body trickling a byte every 0.4 s keeps the connection from looking idle.
    const trickle: (Buffer | number)[] = [Buffer.from("POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n")];
    for (let i = 0; i < 40; i++) trickle.push(400, Buffer.from("x"));
    const [head, body] = await Promise.all([
      wire(port, "GET /healthz HTTP/1.1\r\nHost: a\r\n", Infinity, 15_000),
      exchange(port, { parts: trickle, methods: [], expect: Infinity, timeoutMs: 15_000 }),
    ]);
    jsonError(head, 408);
    assert.ok(head.ms >= 4900 && head.ms < 6000, `header timeout after ${head.ms.toFixed(0)} ms`);
    // The 405 is sent at once (the agent reads no body); the connection is cut when the body is late.
    assert.deepEqual(
      body.responses.map((r) => r.status),
      [405],
    );
    assert.equal(body.closed, true);
    assert.ok(body.ms >= 9900 && body.ms < 11_000, `request timeout after ${body.ms.toFixed(0)} ms`);
  });
});

describe("HTTP hygiene: worker-agent process", () => {
  test("SIGTERM after pipelined garbage exits at once", { timeout: 60_000 }, async () => {
    const { child, port, exited } = await startAgentProcess();
    try {
      for (let i = 0; i < 5; i++) await wire(port, GET + GET + GET + "GARBAGE\r\n\r\n");
      const t0 = performance.now();
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.ok(performance.now() - t0 < 2000, `exited after ${(performance.now() - t0).toFixed(0)} ms`);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
