import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, errorBody } from "./errors";
import { noteContentLength } from "./httpMetrics";

// uvicorn's header; some monitoring fingerprints the server by it.
const SERVER = "uvicorn";

export function sendJson(res: ServerResponse, status: number, body: string, extraHeaders?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const length = Buffer.byteLength(body);
  noteContentLength(res, length);
  res.writeHead(status, {
    server: SERVER,
    "content-type": "application/json",
    "content-length": length,
    ...extraHeaders,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, err: ApiError, extraHeaders?: Record<string, string>): void {
  sendJson(res, err.status, errorBody(err.status, err.message, err.param), extraHeaders);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { server: SERVER, "content-length": 0 });
  res.end();
}

export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { server: SERVER, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  // Tokens are small writes that must leave immediately: no Nagle delay.
  res.socket?.setNoDelay(true);
}

/**
 * Reads the whole body up to `limit` bytes. Too large a body is answered 413 at once but still
 * drained (up to a bound), so that a client still writing it can read the answer instead of
 * seeing a reset connection.
 */
export function readBody(req: IncomingMessage, limit: number, done: (err: ApiError | null, body: string) => void): void {
  const declared = Number(req.headers["content-length"] ?? -1);
  const tooLarge = () => new ApiError(413, `Request body too large: the limit is ${limit} bytes.`);
  if (declared > limit) {
    discard(req, limit);
    done(tooLarge(), "");
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on("data", (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > limit) {
      failed = true;
      chunks.length = 0;
      discard(req, limit);
      done(tooLarge(), "");
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (failed) return;
    done(null, chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
  });
  req.on("error", () => {
    failed = true;
  });
}

function discard(req: IncomingMessage, limit: number): void {
  let drained = 0;
  const cap = Math.max(limit * 4, 64 * 1024 * 1024);
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > cap) req.socket.destroy();
  });
  req.resume();
}
