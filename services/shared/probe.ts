/**
 * The images' healthcheck, without curl, python or a shell: `node /app/main.js <probe flag> [url]`
 * (flags in contract/index.ts). Resolves to the exit code: 0 when the URL answers 2xx within the
 * timeout, 1 otherwise (refused, timed out, or any other status).
 */
export async function probe(url: string, timeoutMs: number): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status >= 200 && res.status <= 299 ? 0 : 1;
  } catch {
    return 1;
  }
}
