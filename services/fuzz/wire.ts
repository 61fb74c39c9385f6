import { connect } from "node:net";

/**
 * Raw HTTP/1.1 on a socket: bytes out exactly as given (pipelined, malformed, trickled), and a
 * strict reader of what comes back, so that a response that is not well-formed HTTP is caught
 * rather than smoothed over by a client library.
 */
export interface WireResponse {
  /** Of the request it answers (a HEAD answer has no body). */
  method: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Exchange {
  responses: WireResponse[];
  /** The server closed the connection (rather than this side giving up or finishing). */
  closed: boolean;
  /** Neither the expected responses nor a close came in time. */
  hung: boolean;
  /** Bytes that are not a well-formed response, with what is wrong. */
  malformed: string | null;
  ms: number;
}

export interface Send {
  /** Written in order; a number is a pause in milliseconds. */
  parts: (Buffer | number)[];
  /** Request methods in order, so that a HEAD response is read without a body. */
  methods: string[];
  /** Stop once this many responses arrived (or the server closes). */
  expect: number;
  timeoutMs: number;
  /** Close from this side right after writing (a client that goes away): no response expected. */
  abort?: boolean;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n]*?)[ \t]*$/;

type Parse = { ok: true; response: WireResponse; used: number } | { ok: false; error: string } | null;

/** One response from the start of `buf`: null when more bytes are needed. `eof`: no more will come. */
export function parseResponse(buf: Buffer, method: string, eof: boolean): Parse {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0)
    return eof && buf.length > 0
      ? { ok: false, error: `incomplete head: ${JSON.stringify(buf.subarray(0, 80).toString("latin1"))}` }
      : null;
  const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) return { ok: false, error: `bad status line ${JSON.stringify(lines[0].slice(0, 80))}` };
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const h = HEADER_LINE.exec(line);
    if (!h) return { ok: false, error: `bad header line ${JSON.stringify(line.slice(0, 80))}` };
    const name = h[1].toLowerCase();
    if (name in headers && (name === "content-length" || name === "transfer-encoding")) return { ok: false, error: `duplicate ${name}` };
    headers[name] = h[2];
  }
  const start = end + 4;
  if (headers["content-length"] !== undefined && headers["transfer-encoding"] !== undefined)
    return { ok: false, error: "both content-length and transfer-encoding" };
  // An error that closes the connection may answer a request the server could not parse, so it
  // cannot know it was a HEAD: whatever comes before the close is its body.
  if (method === "HEAD" && status >= 400 && /close/i.test(headers.connection ?? "")) {
    return eof ? { ok: true, response: { method, status, headers, body: buf.subarray(start) }, used: buf.length } : null;
  }
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { ok: true, response: { method, status, headers, body: Buffer.alloc(0) }, used: start };
  }
  if (headers["transfer-encoding"] !== undefined) {
    if (headers["transfer-encoding"].toLowerCase() !== "chunked")
      return { ok: false, error: `transfer-encoding ${headers["transfer-encoding"]}` };
    const chunks: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return eof ? { ok: false, error: "truncated chunked body" } : null;
      const size = parseInt(buf.subarray(at, lineEnd).toString("latin1"), 16);
      if (!Number.isFinite(size) || size < 0) return { ok: false, error: "bad chunk size" };
      if (buf.length < lineEnd + 2 + size + 2) return eof ? { ok: false, error: "truncated chunk" } : null;
      if (size === 0) return { ok: true, response: { method, status, headers, body: Buffer.concat(chunks) }, used: lineEnd + 4 };
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  if (headers["content-length"] !== undefined) {
    const len = Number(headers["content-length"]);
    if (!/^\d+$/.test(headers["content-length"])) return { ok: false, error: "bad content-length" };
    if (buf.length < start + len) return eof ? { ok: false, error: `body ${buf.length - start} of ${len} bytes` } : null;
    return {
      ok: true,
      response: { method, status, headers, body: buf.subarray(start, start + len) },
      used: start + len,
    };
  }
  // Neither: the body runs to the close (HTTP/1.0 style).
  return eof ? { ok: true, response: { method, status, headers, body: buf.subarray(start) }, used: buf.length } : null;
}

export function exchange(port: number, send: Send): Promise<Exchange> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const responses: WireResponse[] = [];
    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    let malformed: string | null = null;
    let methodIndex = 0;
    const socket = connect(port, "127.0.0.1");
    const finish = (closed: boolean, hung: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, closed, hung, malformed, ms: performance.now() - t0 });
    };
    const drain = (eof: boolean) => {
      while (!malformed && buf.length > 0) {
        const p = parseResponse(buf, send.methods[methodIndex] ?? "GET", eof);
        if (p === null) return;
        if (!p.ok) {
          malformed = p.error;
          return;
        }
        buf = buf.subarray(p.used);
        if (p.response.status >= 100 && p.response.status < 200) continue; // 100 Continue
        responses.push(p.response);
        methodIndex++;
      }
    };
    const timer = setTimeout(() => finish(false, !send.abort), send.timeoutMs);
    socket.on("data", (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      drain(false);
      if (malformed || responses.length >= send.expect) finish(false, false);
    });
    socket.on("end", () => {
      drain(true);
      finish(true, false);
    });
    socket.on("error", () => {
      drain(true);
      finish(true, false);
    });
    socket.on("connect", async () => {
      for (const part of send.parts) {
        if (settled) return;
        if (typeof part === "number") await new Promise((r) => setTimeout(r, part));
        else if (!socket.destroyed) socket.write(part);
      }
      if (send.abort) finish(false, false);
    });
  });
}
