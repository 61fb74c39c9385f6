import { createServer } from "node:http";

/**
 * The ceiling for this runtime: a bare node:http server answering the same JSON as mock-vllm
 * (and, for streams, the same chunks at the same pace), with no validation, metrics, scheduling
 * or tokenizing. The benchmark reports mock-vllm's figures as a ratio to this.
 */
const port = Number(process.env.PORT ?? 8100);
const ttftMs = Number(process.env.TTFT_MS ?? 0);
const itlMs = Number(process.env.ITL_MS ?? 0);
const reply = process.env.REPLY_JSON ?? "{}";
const chunk = process.env.CHUNK ?? 'data: {"choices":[{"index":0,"delta":{"content":" tok"}}]}\n\n';

createServer({ keepAliveTimeout: 5000, requestTimeout: 0 }, (req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => (body += c));
  req.on("end", () => {
    const json = JSON.parse(body || "{}") as { stream?: boolean; max_tokens?: number };
    if (!json.stream) {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(reply) });
      res.end(reply);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
    res.socket?.setNoDelay(true);
    const tokens = json.max_tokens ?? 16;
    let sent = 0;
    let next = performance.now() + ttftMs;
    const tick = () => {
      do {
        res.write(chunk);
        sent++;
        next += itlMs;
      } while (sent < tokens && itlMs === 0);
      if (sent >= tokens) {
        res.end("data: [DONE]\n\n");
        return;
      }
      timer = setTimeout(tick, Math.max(0, next - performance.now()));
    };
    let timer = setTimeout(tick, Math.max(0, next - performance.now()));
    res.on("close", () => clearTimeout(timer));
  });
}).listen({ port, host: "127.0.0.1", backlog: 2048 }, () => console.log(`baseline listening on ${port}`));
