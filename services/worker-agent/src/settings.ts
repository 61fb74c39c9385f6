import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { AGENT_ENV, DEFAULT_HEARTBEAT_INTERVAL_S, localUrl, PATHS, PORTS } from "../../../contract";

/** Fully validated, defaulted agent settings. Durations are in milliseconds. */
export interface Settings {
  controlPlaneUrl: string | null;
  authToken: string | null;
  authTokenFile: string | null;
  instanceId: string | null;
  workerId: string;
  modelId: string | null;
  vllmBaseUrl: string;
  vllmMetricsUrl: string;
  vllmApiKey: string | null;
  healthHost: string;
  healthPort: number;
  vllmPort: number;
  heartbeatIntervalMs: number;
  httpTimeoutMs: number;
  registerBackoffMaxMs: number;
  advertiseIp: string | null;
  simulateGpuCount: number;
  simulateGpuVramMb: number;
  nvidiaSmi: string;
  diskPath: string;
  logLevel: "debug" | "info" | "warn" | "error";
  logBuffer: number;
  logFile: string | null;
}

/** Values of these variables never appear in error messages. */
const SECRET_VARS = new Set<string>([AGENT_ENV.authToken, AGENT_ENV.vllmApiKey]);

// Orchestrators often pass unset variables as empty strings; treat those as absent.
const blank = (v: unknown): unknown => {
  if (typeof v !== "string") return v;
  const t = v.trim();
  return t === "" ? undefined : t;
};

const text = () => z.preprocess(blank, z.string().optional());

const httpUrl = () =>
  z.preprocess(
    blank,
    z
      .string()
      .refine((s) => {
        try {
          const u = new URL(s);
          return u.protocol === "http:" || u.protocol === "https:";
        } catch {
          return false;
        }
      }, "must be an http:// or https:// URL")
      .transform((s) => s.replace(/\/+$/, ""))
      .optional(),
  );

const int = (min: number, max: number, def: number) =>
  z.preprocess(
    blank,
    z.coerce
      .number({ error: `must be a whole number between ${min} and ${max}` })
      .int(`must be a whole number between ${min} and ${max}`)
      .min(min, `must be a whole number between ${min} and ${max}`)
      .max(max, `must be a whole number between ${min} and ${max}`)
      .default(def),
  );

const seconds = (min: number, max: number, def: number) =>
  z.preprocess(
    blank,
    z.coerce
      .number({ error: `must be a number of seconds between ${min} and ${max}` })
      .min(min, `must be a number of seconds between ${min} and ${max}`)
      .max(max, `must be a number of seconds between ${min} and ${max}`)
      .default(def),
  );

const ip = () =>
  z.preprocess(
    blank,
    z
      .string()
      .refine((s) => isIP(s) !== 0, "must be an IPv4 or IPv6 address")
      .optional(),
  );

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const envSchema = z.object({
  [AGENT_ENV.controlPlaneUrl]: httpUrl(),
  [AGENT_ENV.authToken]: text(),
  WORKER_AUTH_TOKEN_FILE: text(),
  [AGENT_ENV.instanceId]: z.preprocess(blank, z.string().regex(UUID, "must be a UUID (8-4-4-4-12 hex digits)").optional()),
  WORKER_ID: z.preprocess(blank, z.string().max(200, "must be at most 200 characters").optional()),
  [AGENT_ENV.modelId]: text(),
  [AGENT_ENV.vllmBaseUrl]: httpUrl(),
  VLLM_METRICS_URL: httpUrl(),
  [AGENT_ENV.vllmApiKey]: text(),
  WORKER_HEALTH_HOST: ip(),
  // 0 asks the OS for a free port; only useful in tests.
  [AGENT_ENV.healthPort]: int(0, 65535, PORTS.agent),
  [AGENT_ENV.vllmPort]: int(1, 65535, PORTS.api),
  [AGENT_ENV.heartbeatIntervalS]: seconds(0.05, 3600, DEFAULT_HEARTBEAT_INTERVAL_S),
  WORKER_HTTP_TIMEOUT_S: seconds(0.05, 120, 3),
  WORKER_REGISTER_BACKOFF_MAX_S: seconds(0.05, 3600, 60),
  [AGENT_ENV.advertiseIp]: ip(),
  [AGENT_ENV.simulateGpuCount]: int(0, 64, 0),
  [AGENT_ENV.simulateGpuVramMb]: int(1, 10_000_000, 24576),
  WORKER_NVIDIA_SMI: text(),
  WORKER_DISK_PATH: text(),
  WORKER_LOG_LEVEL: z.preprocess(
    (v) => (typeof blank(v) === "string" ? (blank(v) as string).toLowerCase() : blank(v)),
    z.enum(["debug", "info", "warn", "error"], "must be one of debug, info, warn, error").default("info"),
  ),
  WORKER_LOG_BUFFER: int(10, 100_000, 1000),
  WORKER_LOG_FILE: text(),
});

export type SettingsResult = { ok: true; settings: Settings } | { ok: false; errors: string[] };

/** Parses the environment; every problem is reported at once, each naming its variable. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): SettingsResult {
  const errors: string[] = [];
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      const raw = env[name];
      const shown = SECRET_VARS.has(name) || raw === undefined ? "" : ` (got ${JSON.stringify(raw)})`;
      errors.push(`${name}: ${issue.message}${shown}`);
    }
  }
  if (blank(env[AGENT_ENV.controlPlaneUrl]) !== undefined && blank(env[AGENT_ENV.instanceId]) === undefined) {
    errors.push(`${AGENT_ENV.instanceId}: required when ${AGENT_ENV.controlPlaneUrl} is set`);
  }
  if (!parsed.success || errors.length > 0) return { ok: false, errors };

  const e = parsed.data;
  const vllmBaseUrl = e[AGENT_ENV.vllmBaseUrl] ?? localUrl("127.0.0.1", PORTS.api);
  return {
    ok: true,
    settings: {
      controlPlaneUrl: e[AGENT_ENV.controlPlaneUrl] ?? null,
      authToken: e[AGENT_ENV.authToken] ?? null,
      authTokenFile: e.WORKER_AUTH_TOKEN_FILE ?? null,
      instanceId: e[AGENT_ENV.instanceId] ?? null,
      workerId: e.WORKER_ID ?? randomUUID(),
      modelId: e[AGENT_ENV.modelId] ?? null,
      vllmBaseUrl,
      vllmMetricsUrl: e.VLLM_METRICS_URL ?? `${vllmBaseUrl}${PATHS.serverMetrics}`,
      vllmApiKey: e[AGENT_ENV.vllmApiKey] ?? null,
      healthHost: e.WORKER_HEALTH_HOST ?? "0.0.0.0",
      healthPort: e[AGENT_ENV.healthPort],
      vllmPort: e[AGENT_ENV.vllmPort],
      heartbeatIntervalMs: Math.round(e[AGENT_ENV.heartbeatIntervalS] * 1000),
      httpTimeoutMs: Math.round(e.WORKER_HTTP_TIMEOUT_S * 1000),
      registerBackoffMaxMs: Math.round(e.WORKER_REGISTER_BACKOFF_MAX_S * 1000),
      advertiseIp: e[AGENT_ENV.advertiseIp] ?? null,
      simulateGpuCount: e[AGENT_ENV.simulateGpuCount],
      simulateGpuVramMb: e[AGENT_ENV.simulateGpuVramMb],
      nvidiaSmi: e.WORKER_NVIDIA_SMI ?? "nvidia-smi",
      diskPath: e.WORKER_DISK_PATH ?? "/",
      logLevel: e.WORKER_LOG_LEVEL,
      logBuffer: e.WORKER_LOG_BUFFER,
      logFile: e.WORKER_LOG_FILE ?? null,
    },
  };
}
