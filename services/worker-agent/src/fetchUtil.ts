/** A signal that fires on the timeout or when the caller's signal fires, whichever is first. */
export function withTimeout(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([t, signal]) : t;
}

export type FailureKind = "timeout" | "aborted" | "network";

/** Classifies a rejected `fetch` so logs and tests can tell a slow peer from a dead one. */
export function classifyFetchError(err: unknown): FailureKind {
  const name = (err as { name?: string } | null)?.name;
  if (name === "TimeoutError") return "timeout";
  if (name === "AbortError") return "aborted";
  return "network";
}

export function describeFetchError(err: unknown): string {
  const kind = classifyFetchError(err);
  if (kind !== "network") return kind;
  // undici hides the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
