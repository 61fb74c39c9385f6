/**
 * Container healthcheck without curl or a shell: `node /app/main.js --probe [URL]`.
 * Exit code 0 when the URL answers 2xx within the timeout, 1 otherwise.
 */
export async function probe(url: string, timeoutMs = 3000): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status >= 200 && res.status <= 299 ? 0 : 1;
  } catch {
    return 1;
  }
}

export function defaultProbeUrl(env: NodeJS.ProcessEnv = process.env): string {
  const port = Number(env.WORKER_HEALTH_PORT?.trim() || "8080");
  return `http://127.0.0.1:${Number.isInteger(port) && port > 0 ? port : 8080}/healthz`;
}
