import { describeFetchError, withTimeout } from "./fetchUtil";

export interface Readiness {
  ready: boolean;
  /** Whether `/v1/models` answered at all (any HTTP status). */
  reachable: boolean;
  models: string[];
  /** Why the server is not ready; null when it is. */
  reason: string | null;
}

export interface Load {
  /** Waiting requests (the control plane's queue depth); null when metrics could not be read. */
  waiting: number | null;
  running: number | null;
  error: string | null;
}

/** Ready = `GET /v1/models` answers 200 and, when a model id is required, lists it. */
export async function probeReadiness(
  baseUrl: string,
  modelId: string | null,
  opts: { timeoutMs: number; apiKey?: string | null; signal?: AbortSignal },
): Promise<Readiness> {
  try {
    const res = await fetch(`${baseUrl}/v1/models`, {
      headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
      signal: withTimeout(opts.timeoutMs, opts.signal),
    });
    const body = await res.text();
    if (res.status !== 200) return { ready: false, reachable: true, models: [], reason: `/v1/models answered ${res.status}` };
    const models = modelIds(body);
    if (models === null) return { ready: false, reachable: true, models: [], reason: "/v1/models answered an unreadable body" };
    if (modelId !== null && !models.includes(modelId)) {
      return { ready: false, reachable: true, models, reason: `model ${JSON.stringify(modelId)} is not served yet` };
    }
    return { ready: true, reachable: true, models, reason: null };
  } catch (err) {
    return { ready: false, reachable: false, models: [], reason: describeFetchError(err) };
  }
}

function modelIds(body: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) return null;
    return data.map((m) => (m as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === "string");
  } catch {
    return null;
  }
}

export async function scrapeLoad(metricsUrl: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Load> {
  try {
    const res = await fetch(metricsUrl, { signal: withTimeout(opts.timeoutMs, opts.signal) });
    const body = await res.text();
    if (res.status !== 200) return { waiting: null, running: null, error: `metrics answered ${res.status}` };
    return { ...extractLoad(body), error: null };
  } catch (err) {
    return { waiting: null, running: null, error: describeFetchError(err) };
  }
}

// vLLM renamed its metrics from `vllm_*` to `vllm:*`; servers in the field expose either family.
const FAMILIES = {
  waiting: ["vllm:num_requests_waiting", "vllm_num_requests_waiting"],
  running: ["vllm:num_requests_running", "vllm_num_requests_running"],
} as const;

/** Sums each gauge over its label sets (one per model/engine), preferring the `vllm:` family. */
export function extractLoad(text: string): { waiting: number | null; running: number | null } {
  const sums = sumSamples(text, new Set([...FAMILIES.waiting, ...FAMILIES.running]));
  const pick = (names: readonly string[]): number | null => {
    for (const n of names) {
      const v = sums.get(n);
      if (v !== undefined) return v;
    }
    return null;
  };
  return { waiting: pick(FAMILIES.waiting), running: pick(FAMILIES.running) };
}

/** Minimal Prometheus text-format reader: sums the finite sample values of the wanted names. */
export function sumSamples(text: string, wanted: ReadonlySet<string>): Map<string, number> {
  const sums = new Map<string, number>();
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const sample = parseSampleLine(line);
    if (!sample || !wanted.has(sample.name) || !Number.isFinite(sample.value)) continue;
    sums.set(sample.name, (sums.get(sample.name) ?? 0) + sample.value);
  }
  return sums;
}

export function parseSampleLine(line: string): { name: string; value: number } | null {
  let i = 0;
  while (i < line.length && line[i] !== "{" && line[i] !== " " && line[i] !== "\t") i++;
  const name = line.slice(0, i);
  if (name === "") return null;
  if (line[i] === "{") {
    // Label values may contain `}` or spaces inside quotes, so scan rather than split.
    let inQuotes = false;
    for (i++; i < line.length; i++) {
      const c = line[i];
      if (inQuotes && c === "\\") i++;
      else if (c === '"') inQuotes = !inQuotes;
      else if (c === "}" && !inQuotes) break;
    }
    if (i >= line.length) return null;
    i++;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest[0] === undefined || rest[0] === "") return null;
  const v = rest[0];
  const value = v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);
  if (Number.isNaN(value) && v !== "NaN") return null;
  return { name, value };
}
