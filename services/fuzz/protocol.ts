import fc from "fast-check";
import { Case, HOST, JSON_TYPE, Target, one, request } from "./request";

/**
 * Protocol garbage: the raw-socket cases of the hygiene tests and their
 * neighbours, fixed inputs for both services; and trickled, cut-short and abandoned requests.
 */
export function protocolCases(target: Target): Case[] {
  const ok = target === "mock" ? "GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n" : "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
  const path = target === "mock" ? "/v1/models" : "/healthz";
  const post = target === "mock" ? "/v1/completions" : "/healthz";
  const raw = (label: string, text: string, extra: Partial<Case> = {}) =>
    one(label, Buffer.from(text, "latin1"), "GET", { expect4xx: true, ...extra });
  return [
    {
      label: "3 pipelined GETs then GARBAGE",
      expect4xx: false,
      send: {
        parts: [Buffer.from(ok + ok + ok + "GARBAGE\r\n\r\n")],
        methods: ["GET", "GET", "GET", "GET"],
        expect: 4,
        timeoutMs: 15_000,
      },
    },
    raw("HTTP/0.9", `GET ${path} HTTP/0.9\r\nHost: a\r\n\r\n`),
    raw("HTTP/2.0", `GET ${path} HTTP/2.0\r\nHost: a\r\n\r\n`),
    raw("no version", `GET ${path}\r\n\r\n`),
    raw("HTTP/1.2", `GET ${path} HTTP/1.2\r\nHost: a\r\n\r\n`),
    raw("2000 Host headers", `GET ${path} HTTP/1.1\r\n${"Host: a\r\n".repeat(2000)}\r\n`),
    raw("2 Host headers", `GET ${path} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`),
    raw("no Host", `GET ${path} HTTP/1.1\r\n\r\n`),
    raw(
      "Transfer-Encoding: gzip, chunked",
      `POST ${post} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    ),
    raw(
      "Transfer-Encoding: chunked, gzip",
      `POST ${post} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    ),
    raw("Transfer-Encoding: identity", `POST ${post} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n`),
    raw(
      "Content-Length and Transfer-Encoding",
      `POST ${post} HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`,
    ),
    raw("two Content-Length", `POST ${post} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`),
    raw(
      "bad chunk size then a smuggled request",
      `POST ${post} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`,
    ),
    raw("chunk size overflow", `POST ${post} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n`),
    raw("300 headers", `GET ${path} HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 300 }, (_, i) => `X-H${i}: v\r\n`).join("")}\r\n`),
    raw("20 KB header", `GET ${path} HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`),
    raw("NUL in a header", `GET ${path} HTTP/1.1\r\nHost: a\r\nX-A: a\u0000b\r\n\r\n`),
    raw("obs-fold", `GET ${path} HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n`),
    raw("bare LF", `GET ${path} HTTP/1.1\nHost: a\n\n`),
    raw("space before colon", `GET ${path} HTTP/1.1\r\nHost : a\r\n\r\n`),
    raw("request line only spaces", `   \r\n\r\n`),
    raw("lowercase method", `get ${path} HTTP/1.1\r\nHost: a\r\n\r\n`),
    raw("CONNECT", `CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n`),
    raw("HTTP/2 preface", `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`),
    raw("binary", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u00fc\u0003\u0003"),
    one(
      "Expect: 100-continue",
      Buffer.from(`POST ${post} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`, "latin1"),
      "POST",
    ),
    one(
      "Upgrade: websocket",
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`, "latin1"),
    ),
    one("HTTP/1.0 without Host", Buffer.from(`GET ${path} HTTP/1.0\r\n\r\n`, "latin1")),
  ];
}

export const protocolCase = (target: Target) => fc.constantFrom(...protocolCases(target));

/** Trickled, cut short, or abandoned requests (the timeouts and disconnect paths). */
export function slowCase(target: Target, headersTimeoutMs: number, requestTimeoutMs: number): fc.Arbitrary<Case> {
  const path = target === "mock" ? "/v1/chat/completions" : "/healthz";
  const body = target === "mock" ? JSON.stringify({ model: "m", messages: [{ role: "user", content: "hello" }], stream: true }) : "";
  const full = request(target === "mock" ? "POST" : "GET", path, [HOST, JSON_TYPE], body || undefined);
  return fc.constantFrom<Case>(
    {
      label: "trickled request",
      send: {
        parts: [full.subarray(0, 10), 30, full.subarray(10, 40), 30, full.subarray(40)],
        methods: ["POST"],
        expect: 1,
        timeoutMs: 15_000,
      },
    },
    {
      label: "head never finished",
      expect4xx: true,
      send: { parts: [full.subarray(0, 20)], methods: ["GET"], expect: 1, timeoutMs: headersTimeoutMs + 2000 },
    },
    {
      label: "Content-Length 10 MB, 20 bytes sent",
      expect4xx: true,
      send: {
        parts: [Buffer.from(`POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n{"model":"m","messa`)],
        methods: ["POST"],
        expect: 1,
        timeoutMs: requestTimeoutMs + 2000,
      },
    },
    {
      label: "client gone after the head",
      send: {
        parts: [full.subarray(0, full.indexOf("\r\n\r\n") + 4)],
        methods: ["POST"],
        expect: 1,
        timeoutMs: 2000,
        abort: true,
      },
    },
    {
      label: "client gone mid-stream",
      send: { parts: [full, 5], methods: ["POST"], expect: 1, timeoutMs: 2000, abort: true },
    },
  );
}
