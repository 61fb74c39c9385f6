import { get } from "node:http";

/**
 * Container healthcheck without curl or python in the image:
 * `node /app/main.js --mock-probe [url]` exits 0 when the URL answers 200, 1 otherwise.
 */
export function probe(url = "http://127.0.0.1:8000/health", timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 0 : 1);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(1));
  });
}
