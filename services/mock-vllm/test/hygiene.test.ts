import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exchange, Exchange } from "../../fuzz/wire";
import { RunningServer } from "../src/server";
import { freePort, runMain, start, waitFor } from "./helpers";

/**
 * HTTP hygiene, on raw sockets: what arrives is exactly what the client wrote, and what
 * comes back is read strictly (see fuzz/wire.ts).
 */
const GET = "GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n";

/** Sends `text` and reads until `expect` responses came, or (by default) until the server closes. */
function wire(port: number, text: string, expect = Infinity, timeoutMs = 5000): Promise<Exchange> {
  return exchange(port, { parts: [Buffer.from(text, "latin1")], methods: [], expect, timeoutMs });
}

/** The last response is an error with vLLM's JSON body, after which the server closed the connection. */
function assertRefusedAndClosed(x: Exchange, status: number, message?: RegExp): void {
  assert.equal(x.malformed, null);
  assert.equal(x.hung, false, "neither an answer nor a close");
  assert.equal(x.closed, true, "the server did not close the connection");
  const last = x.responses.at(-1)!;
  assert.equal(last.status, status, last.body.toString());
  assert.match(last.headers["content-type"], /application\/json/);
  const { error } = JSON.parse(last.body.toString());
  assert.equal(error.code, status);
  if (message) assert.match(error.message, message);
  assert.equal(last.headers.connection, "close");
}

describe("HTTP hygiene: mock-vllm", () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ servedModelNames: ["m"], apiKeys: [], mock: { headersTimeoutS: 1, requestTimeoutS: 1.5 } });
  });
  after(() => server.close());

  test("pipelined requests are answered in order up to a bad one, which gets a 400, then the connection closes", async () => {
    const x = await wire(server.port, GET + GET + GET + "GARBAGE\r\n\r\n");
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [200, 200, 200, 400],
    );
    for (const r of x.responses.slice(0, 3)) assert.equal(JSON.parse(r.body.toString()).object, "list");
    assertRefusedAndClosed(x, 400, /Invalid HTTP request/);
  });

  test("only HTTP/1.0 and 1.1: HTTP/0.9, 2.0, 1.2 and a request line without a version are 505", async () => {
    for (const line of ["GET /health HTTP/0.9", "GET /health HTTP/2.0", "GET /health HTTP/1.2", "GET /health"]) {
      assertRefusedAndClosed(await wire(server.port, `${line}\r\nHost: a\r\n\r\n`), 505, /HTTP/);
    }
    assert.equal((await wire(server.port, "GET /health HTTP/1.0\r\n\r\n", 1)).responses[0].status, 200);
  });

  test("Host: two of them, or 257, or 2,000, or none on HTTP/1.1 are refused", async () => {
    assertRefusedAndClosed(await wire(server.port, "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400, /Duplicate Host/);
    // One line over the count, well under the 16 KiB head: the count limit.
    assertRefusedAndClosed(await wire(server.port, `GET /health HTTP/1.1\r\n${"Host: a\r\n".repeat(257)}\r\n`), 431, /at most 256/);
    // 18 KB of them: Node 24 counts every line against the 16 KiB head (header overflow), Node 20
    // only those it keeps (so the count limit): a 431 either way.
    assertRefusedAndClosed(
      await wire(server.port, `GET /health HTTP/1.1\r\n${"Host: a\r\n".repeat(2000)}\r\n`),
      431,
      /at most 256|Header overflow/,
    );
    assertRefusedAndClosed(await wire(server.port, "GET /health HTTP/1.1\r\n\r\n"), 400, /Missing Host/);
  });

  test("a transfer coding other than chunked is 501, and the request smuggled after it is not served", async () => {
    const x = await wire(
      server.port,
      "POST /v1/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + GET,
    );
    assert.equal(x.responses.length, 1);
    assertRefusedAndClosed(x, 501, /gzip, chunked/);
  });

  test("Content-Length with Transfer-Encoding, and a bad chunk size, are refused without a desync", async () => {
    for (const head of ["Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n\r\nzz\r\n"]) {
      const x = await wire(server.port, `POST /v1/completions HTTP/1.1\r\nHost: a\r\n${head}${GET}`);
      assert.equal(x.responses.length, 1, "the smuggled GET must not be answered");
      assertRefusedAndClosed(x, 400);
    }
  });

  test("CONNECT is answered (405) instead of a silently dropped connection", async () => {
    assertRefusedAndClosed(await wire(server.port, "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 405);
  });

  test("the body timeout fires within a second of its setting (1.5 s): 408", async () => {
    const x = await wire(server.port, 'POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n{"model":"m","promp');
    assertRefusedAndClosed(x, 408);
    assert.ok(x.ms >= 1400 && x.ms < 2500, `cut after ${x.ms.toFixed(0)} ms`);
  });

  test("the header timeout fires within a second of its setting (1 s): 408", async () => {
    const x = await wire(server.port, "GET /health HTTP/1.1\r\nHost: a\r\n");
    assertRefusedAndClosed(x, 408);
    assert.ok(x.ms >= 900 && x.ms < 2000, `cut after ${x.ms.toFixed(0)} ms`);
  });

  test("the timeouts cover receiving the request, not answering it: a slow answer is not cut", async () => {
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "slow" }] });
    const x = await wire(
      server.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nx-mock-stall-ms: 2000\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      1,
      6000,
    );
    assert.equal(x.responses[0]?.status, 200);
    assert.ok(x.ms >= 1900);
  });

  test("auth is not bypassed by path spelling", async () => {
    const keyed = await start({ apiKeys: ["k"] });
    try {
      for (const path of ["//v1/models", "/V1/models", "/__proto__", "/constructor"]) {
        const r = (await wire(keyed.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, 1)).responses[0];
        assert.equal(r.status, 404, path);
        assert.deepEqual(JSON.parse(r.body.toString()), { detail: "Not Found" });
      }
      assert.equal((await wire(keyed.port, GET, 1)).responses[0].status, 401);
    } finally {
      await keyed.close();
    }
  });
});

describe("HTTP hygiene: mock-vllm process", () => {
  test("SIGTERM after pipelined garbage exits at once, not after the 10 s shutdown timeout", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = runMain(["m", "--host", "127.0.0.1", "--port", String(port), "--shutdown-timeout", "10"]);
    try {
      await waitFor(() => p.output().includes("Application startup complete"), 30_000);
      for (let i = 0; i < 5; i++) await wire(port, GET + GET + GET + "GARBAGE\r\n\r\n");
      const t0 = performance.now();
      p.child.kill("SIGTERM");
      assert.equal(await p.exited, 0);
      const ms = performance.now() - t0;
      assert.ok(ms < 3000, `exited after ${ms.toFixed(0)} ms`);
    } finally {
      p.child.kill("SIGKILL");
    }
  });
});
