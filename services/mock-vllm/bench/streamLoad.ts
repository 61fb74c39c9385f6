import { Socket, connect } from "node:net";

/**
 * A streaming load generator: `concurrency` keep-alive connections, each sending one streamed
 * chat request after another for `durationMs`, timing every token event as it arrives. Raw
 * sockets keep the client's own cost per token small, since it shares the CPUs with the server.
 */
export interface StreamLoadResult {
  streams: number;
  tokens: number;
  tokensPerSecond: number;
  ttftMs: number[];
  itlMs: Float64Array;
  errors: number;
}

const TOKEN = '"delta":{"content":';
const DONE = "data: [DONE]";

export function streamLoad(port: number, body: string, concurrency: number, durationMs: number, rampMs = 0): Promise<StreamLoadResult> {
  const request = `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const ttft: number[] = [];
  let itl = new Float64Array(1 << 20);
  let itlCount = 0;
  let tokens = 0;
  let streams = 0;
  let errors = 0;
  const t0 = performance.now();
  const stopAt = t0 + rampMs + durationMs;
  let measuredFrom = t0 + rampMs;
  let open = 0;

  return new Promise((resolve) => {
    const finish = () => {
      if (--open > 0) return;
      const elapsed = (performance.now() - measuredFrom) / 1000;
      resolve({ streams, tokens, tokensPerSecond: tokens / elapsed, ttftMs: ttft, itlMs: itl.subarray(0, itlCount), errors });
    };
    const start = (socket: Socket) => {
      let sentAt = 0;
      let last = 0;
      let buf = "";
      let first = true;
      const send = () => {
        if (performance.now() >= stopAt) {
          socket.end();
          return;
        }
        sentAt = performance.now();
        last = 0;
        first = true;
        buf = "";
        socket.write(request);
      };
      socket.setNoDelay(true);
      socket.setEncoding("latin1");
      socket.on("data", (data: string) => {
        const now = performance.now();
        buf += data;
        const measuring = now >= measuredFrom;
        let i = 0;
        while ((i = buf.indexOf(TOKEN, i)) >= 0) {
          i += TOKEN.length;
          if (!measuring) {
            first = false;
            last = now;
            continue;
          }
          tokens++;
          if (first) {
            ttft.push(now - sentAt);
            first = false;
          } else {
            if (itlCount === itl.length) {
              const grown = new Float64Array(itl.length * 2);
              grown.set(itl);
              itl = grown;
            }
            itl[itlCount++] = now - last;
          }
          last = now;
        }
        if (buf.includes(DONE)) {
          if (measuring) streams++;
          // The terminating zero-length chunk may still be in flight; it precedes the next reply.
          send();
          return;
        }
        buf = buf.slice(Math.max(0, buf.length - TOKEN.length));
      });
      socket.on("error", () => errors++);
      socket.on("close", finish);
      send();
    };
    for (let c = 0; c < concurrency; c++) {
      open++;
      const delay = rampMs > 0 ? (c / concurrency) * Math.min(rampMs, 1000) : 0;
      setTimeout(() => {
        const s = connect(port, "127.0.0.1");
        s.on("connect", () => start(s));
        s.on("error", () => {
          errors++;
        });
      }, delay);
    }
    if (rampMs === 0) measuredFrom = t0;
  });
}

export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
