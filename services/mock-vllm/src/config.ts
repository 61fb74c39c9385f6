import { PORTS, servedModelName } from "../../../contract";
import { FlagValue, ParsedCommandLine } from "./cli";
import { parseHumanInt } from "./flags";
import { DEFAULT_LIMITS, Limits, defaultJsonValues, defaultResponseTokens } from "./limits";

export type ResponseMode = "echo" | "generate";
export type StartupMode = "closed" | "unhealthy";

export interface SimulationConfig {
  mode: ResponseMode;
  seed: number;
  outputLen: number;
  ttftMs: number;
  ttftJitterMs: number;
  itlMs: number;
  itlJitterMs: number;
  prefillMsPerToken: number;
  loadFactor: number;
  startupMs: number;
  startupMode: StartupMode;
  failureRate: number;
  failureStatus: number;
  failFirstN: number;
  dropRate: number;
  maxWaiting: number;
  maxBodyBytes: number;
  /** 0: derived from --max-model-len (see limits.ts). */
  maxResponseTokens: number;
  maxJsonValues: number;
  /** A request's headers, and the whole request with its body, must arrive within these. */
  headersTimeoutS: number;
  requestTimeoutS: number;
  kvCacheTokens: number;
  embeddingDim: number;
  compatGpuCacheMetric: boolean;
  vllmVersion: string;
  logRequests: boolean;
}

export interface Config {
  model: string;
  servedModelNames: string[];
  host: string;
  port: number;
  maxModelLen: number;
  maxNumSeqs: number;
  apiKeys: string[];
  /** Served as an embedding (pooling) model: `--runner pooling` or `--convert embed|classify|reward`. */
  pooling: boolean;
  /** --enable-server-load-tracking: /load counts requests in flight (else always 0, as vLLM). */
  serverLoadTracking: boolean;
  shutdownTimeoutS: number;
  blockSize: number;
  gpuMemoryUtilization: number;
  enablePrefixCaching: boolean;
  kvCacheDtype: string;
  /** --h11-max-header-count (vLLM's default) and --h11-max-incomplete-event-size (the mock keeps Node's 16 KiB). */
  maxHeaderCount: number;
  maxHeaderBytes: number;
  limits: Limits;
  mock: SimulationConfig;
  /** Every flag given, by canonical name, for the start-up summary. */
  flags: Map<string, FlagValue>;
}

export const DEFAULT_MODEL = "Qwen/Qwen3-0.6B";

export const DEFAULT_SIMULATION: SimulationConfig = {
  mode: "echo",
  seed: 0,
  outputLen: 64,
  ttftMs: 0,
  ttftJitterMs: 0,
  itlMs: 0,
  itlJitterMs: 0,
  prefillMsPerToken: 0,
  loadFactor: 1,
  startupMs: 0,
  startupMode: "closed",
  failureRate: 0,
  failureStatus: 503,
  failFirstN: 0,
  dropRate: 0,
  maxWaiting: 0,
  maxBodyBytes: 16 * 1024 * 1024,
  maxResponseTokens: 0,
  maxJsonValues: 0,
  headersTimeoutS: 10,
  requestTimeoutS: 30,
  kvCacheTokens: 0,
  embeddingDim: 384,
  compatGpuCacheMetric: false,
  vllmVersion: "0.31.0",
  logRequests: false,
};

/** A complete config from a partial one: what tests use. */
export function makeConfig(
  partial: Partial<Omit<Config, "mock" | "limits">> & { mock?: Partial<SimulationConfig>; limits?: Partial<Limits> } = {},
): Config {
  const model = partial.model ?? DEFAULT_MODEL;
  const base: Config = {
    model,
    servedModelNames: partial.servedModelNames ?? [model],
    host: "127.0.0.1",
    port: 0,
    maxModelLen: 32768,
    maxNumSeqs: 256,
    apiKeys: [],
    pooling: false,
    serverLoadTracking: false,
    shutdownTimeoutS: 10,
    blockSize: 16,
    gpuMemoryUtilization: 0.9,
    enablePrefixCaching: true,
    kvCacheDtype: "auto",
    maxHeaderCount: 256,
    maxHeaderBytes: 16 * 1024,
    flags: new Map(),
    ...partial,
    limits: undefined as unknown as Limits,
    mock: { ...DEFAULT_SIMULATION, ...partial.mock },
  };
  if (base.mock.kvCacheTokens === 0) base.mock.kvCacheTokens = defaultKvCacheTokens(base);
  const m = base.mock;
  base.limits = {
    ...DEFAULT_LIMITS,
    maxResponseTokens: m.maxResponseTokens || defaultResponseTokens(base.maxModelLen),
    maxJsonValues: m.maxJsonValues || defaultJsonValues(base.maxModelLen),
    ...partial.limits,
  };
  return base;
}

// Without a GPU there is no real KV budget; scale one so that --gpu-memory-utilization and the
// batch size still move kv_cache_usage_perc the way they would on hardware.
function defaultKvCacheTokens(c: Config): number {
  const tokens = Math.round((c.maxModelLen * Math.min(c.maxNumSeqs, 64) * c.gpuMemoryUtilization) / 0.9);
  return Math.max(c.blockSize, Math.ceil(tokens / c.blockSize) * c.blockSize);
}

/** vLLM's own limits are environment variables; the mock reads the same ones. */
const LIMIT_ENV = {
  maxN: "VLLM_MAX_N_SEQUENCES",
  maxPrompts: "VLLM_MAX_COMPLETION_PROMPTS",
  maxStopStrings: "VLLM_MAX_STOP_STRINGS",
} as const;

function limitsFromEnv(env: NodeJS.ProcessEnv): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const [key, name] of Object.entries(LIMIT_ENV) as [keyof typeof LIMIT_ENV, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1)
      throw new Error(`vllm serve: error: environment variable ${name}: expected a positive integer, got '${raw}'`);
    out[key] = Number(raw);
  }
  return out;
}

export function configFromCommandLine(parsed: ParsedCommandLine, env: NodeJS.ProcessEnv = process.env): Config {
  const v = parsed.values;
  const str = (k: string) => v.get(k) as string | undefined;
  const num = (k: string) => v.get(k) as number | undefined;
  const bool = (k: string) => v.get(k) as boolean | undefined;
  const list = (k: string) => v.get(k) as string[] | undefined;

  // One of the two, never both (parseCommandLine refuses that, as `vllm serve` does).
  const model = parsed.model ?? str("model") ?? DEFAULT_MODEL;
  const maxModelLen = str("max-model-len");
  let maxModelLenValue: number | undefined;
  if (maxModelLen !== undefined) {
    maxModelLenValue = parseHumanInt(maxModelLen);
    if (maxModelLenValue === undefined || maxModelLenValue < 1) {
      throw new Error(
        `vllm serve: error: argument --max-model-len: expected a positive integer (e.g. 2048, 32k, 1M), got '${maxModelLen}'`,
      );
    }
  }
  const blockSize = num("block-size") ?? 16;
  const numGpuBlocks = num("num-gpu-blocks-override");
  const seed = num("mock-seed") ?? num("seed") ?? 0;
  const sim: Partial<SimulationConfig> = {};
  const set = <K extends keyof SimulationConfig>(key: K, value: SimulationConfig[K] | undefined) => {
    if (value !== undefined) sim[key] = value;
  };
  set("mode", str("mock-mode") as ResponseMode | undefined);
  set("seed", seed);
  set("outputLen", num("mock-output-len"));
  set("ttftMs", num("mock-ttft-ms"));
  set("ttftJitterMs", num("mock-ttft-jitter-ms"));
  set("itlMs", num("mock-itl-ms"));
  set("itlJitterMs", num("mock-itl-jitter-ms"));
  set("prefillMsPerToken", num("mock-prefill-ms-per-token"));
  set("loadFactor", num("mock-load-factor"));
  set("startupMs", num("mock-startup-ms"));
  set("startupMode", str("mock-startup-mode") as StartupMode | undefined);
  set("failureRate", num("mock-failure-rate"));
  set("failureStatus", num("mock-failure-status"));
  set("failFirstN", num("mock-fail-first-n"));
  set("dropRate", num("mock-drop-rate"));
  set("maxWaiting", num("mock-max-waiting"));
  set("maxBodyBytes", num("mock-max-body-bytes"));
  set("maxResponseTokens", num("mock-max-response-tokens"));
  set("maxJsonValues", num("mock-max-json-values"));
  set("headersTimeoutS", num("mock-headers-timeout-s"));
  set("requestTimeoutS", num("mock-request-timeout-s"));
  set("kvCacheTokens", num("mock-kv-cache-tokens") ?? (numGpuBlocks !== undefined ? numGpuBlocks * blockSize : undefined));
  set("embeddingDim", num("mock-embedding-dim"));
  set("compatGpuCacheMetric", bool("mock-compat-gpu-cache-metric"));
  set("vllmVersion", str("mock-vllm-version"));
  set("logRequests", bool("mock-log-requests"));

  return makeConfig({
    model,
    servedModelNames: list("served-model-name") ?? [servedModelName(model)],
    host: str("host") ?? "0.0.0.0",
    port: num("port") ?? PORTS.api,
    maxModelLen: maxModelLenValue ?? 32768,
    maxNumSeqs: num("max-num-seqs") ?? 256,
    apiKeys: list("api-key") ?? [],
    pooling: str("runner") === "pooling" || ["embed", "classify", "reward"].includes(str("convert") ?? ""),
    serverLoadTracking: bool("enable-server-load-tracking") ?? false,
    shutdownTimeoutS: num("shutdown-timeout") ?? 10,
    blockSize,
    gpuMemoryUtilization: num("gpu-memory-utilization") ?? 0.9,
    enablePrefixCaching: bool("enable-prefix-caching") ?? true,
    kvCacheDtype: str("kv-cache-dtype") ?? "auto",
    maxHeaderCount: num("h11-max-header-count") ?? 256,
    maxHeaderBytes: num("h11-max-incomplete-event-size") ?? 16 * 1024,
    limits: { ...limitsFromEnv(env), ...(num("max-logprobs") !== undefined ? { maxLogprobs: num("max-logprobs") } : {}) },
    flags: new Map([...v].filter(([k]) => k !== "api-key" && k !== "hf-token")),
    mock: sim,
  });
}

/** The lines printed at start-up, in the spirit of vLLM's "non-default args" log. */
export function summarize(c: Config, parsed?: ParsedCommandLine): string[] {
  const shown: string[] = [];
  for (const [k, value] of c.flags) {
    const src = parsed?.sources.get(k) === "env" ? " (from env)" : "";
    shown.push(`${k}=${Array.isArray(value) ? value.join(",") : String(value)}${src}`);
  }
  if (c.apiKeys.length > 0) shown.push("api-key=<set>");
  const m = c.mock;
  return [
    `vLLM API server version ${m.vllmVersion} (mock-vllm)`,
    `model=${c.model} served-model-name=${c.servedModelNames.join(",")} max-model-len=${c.maxModelLen} max-num-seqs=${c.maxNumSeqs}`,
    `non-default args: ${shown.length ? shown.join(" ") : "(none)"}`,
    `simulation: mode=${m.mode} seed=${m.seed} ttft=${m.ttftMs}±${m.ttftJitterMs}ms itl=${m.itlMs}±${m.itlJitterMs}ms ` +
      `prefill=${m.prefillMsPerToken}ms/token load-factor=${m.loadFactor} startup=${m.startupMs}ms(${m.startupMode}) ` +
      `failure-rate=${m.failureRate} fail-first-n=${m.failFirstN} drop-rate=${m.dropRate} kv-cache-tokens=${m.kvCacheTokens}`,
  ];
}
