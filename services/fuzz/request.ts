import type { Send } from "./wire";

/** One fuzz case, and how requests are written byte for byte. */
export type Target = "mock" | "agent";

export interface Case {
  label: string;
  send: Send;
  /** The request is certainly invalid: a 2xx answer is a finding. */
  expect4xx?: boolean;
}

const CRLF = "\r\n";

export function request(
  method: string,
  target: string,
  headers: [string, string][],
  body?: Buffer | string,
  framing: "length" | "chunked" = "length",
): Buffer {
  const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = [`${method} ${target} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (b && framing === "length") head.push(`Content-Length: ${b.length}`);
  if (b && framing === "chunked") head.push("Transfer-Encoding: chunked");
  const start = Buffer.from(head.join(CRLF) + CRLF + CRLF, "latin1");
  if (!b) return start;
  if (framing === "length") return Buffer.concat([start, b]);
  return Buffer.concat([start, Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n0\r\n\r\n")]);
}

export const HOST: [string, string] = ["Host", "127.0.0.1"];
export const JSON_TYPE: [string, string] = ["Content-Type", "application/json"];

export const one = (label: string, bytes: Buffer, method = "GET", extra: Partial<Case> & Partial<Send> = {}): Case => ({
  label,
  expect4xx: extra.expect4xx,
  send: { parts: [bytes], methods: [method], expect: 1, timeoutMs: extra.timeoutMs ?? 15_000, abort: extra.abort },
});
