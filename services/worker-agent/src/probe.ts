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

/** The agent's own `/healthz`, from the same variables the agent binds with. */
export function defaultProbeUrl(env: NodeJS.ProcessEnv = process.env): string {
  const port = Number(env.WORKER_HEALTH_PORT?.trim() || "8080");
  const bind = env.WORKER_HEALTH_HOST?.trim() || "0.0.0.0";
  const host = bind === "0.0.0.0" ? "127.0.0.1" : bind === "::" ? "[::1]" : bind.includes(":") ? `[${bind}]` : bind;
  return `http://${host}:${Number.isInteger(port) && port > 0 ? port : 8080}/healthz`;
}
