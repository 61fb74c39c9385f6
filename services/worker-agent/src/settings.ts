import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";

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
const SECRET_VARS = new Set(["WORKER_AUTH_TOKEN", "VLLM_API_KEY"]);

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

const ip = () => z.preprocess(blank, z.string().refine((s) => isIP(s) !== 0, "must be an IPv4 or IPv6 address").optional());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const envSchema = z.object({
  CONTROL_PLANE_URL: httpUrl(),
  WORKER_AUTH_TOKEN: text(),
  WORKER_AUTH_TOKEN_FILE: text(),
  INSTANCE_ID: z.preprocess(blank, z.string().regex(UUID, "must be a UUID (8-4-4-4-12 hex digits)").optional()),
  WORKER_ID: z.preprocess(blank, z.string().max(200, "must be at most 200 characters").optional()),
  MODEL_ID: text(),
  VLLM_BASE_URL: httpUrl(),
  VLLM_METRICS_URL: httpUrl(),
  VLLM_API_KEY: text(),
  WORKER_HEALTH_HOST: ip(),
  // 0 asks the OS for a free port; only useful in tests.
  WORKER_HEALTH_PORT: int(0, 65535, 8080),
  WORKER_VLLM_PORT: int(1, 65535, 8000),
  WORKER_HEARTBEAT_INTERVAL_S: seconds(0.05, 3600, 5),
  WORKER_HTTP_TIMEOUT_S: seconds(0.05, 120, 3),
  WORKER_REGISTER_BACKOFF_MAX_S: seconds(0.05, 3600, 60),
  WORKER_ADVERTISE_IP: ip(),
  WORKER_SIMULATE_GPU_COUNT: int(0, 64, 0),
  WORKER_SIMULATE_GPU_VRAM_MB: int(1, 10_000_000, 24576),
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
  if (blank(env.CONTROL_PLANE_URL) !== undefined && blank(env.INSTANCE_ID) === undefined) {
    errors.push("INSTANCE_ID: required when CONTROL_PLANE_URL is set");
  }
  if (!parsed.success || errors.length > 0) return { ok: false, errors };

  const e = parsed.data;
  const vllmBaseUrl = e.VLLM_BASE_URL ?? "http://127.0.0.1:8000";
  return {
    ok: true,
    settings: {
      controlPlaneUrl: e.CONTROL_PLANE_URL ?? null,
      authToken: e.WORKER_AUTH_TOKEN ?? null,
      authTokenFile: e.WORKER_AUTH_TOKEN_FILE ?? null,
      instanceId: e.INSTANCE_ID ?? null,
      workerId: e.WORKER_ID ?? randomUUID(),
      modelId: e.MODEL_ID ?? null,
      vllmBaseUrl,
      vllmMetricsUrl: e.VLLM_METRICS_URL ?? `${vllmBaseUrl}/metrics`,
      vllmApiKey: e.VLLM_API_KEY ?? null,
      healthHost: e.WORKER_HEALTH_HOST ?? "0.0.0.0",
      healthPort: e.WORKER_HEALTH_PORT,
      vllmPort: e.WORKER_VLLM_PORT,
      heartbeatIntervalMs: Math.round(e.WORKER_HEARTBEAT_INTERVAL_S * 1000),
      httpTimeoutMs: Math.round(e.WORKER_HTTP_TIMEOUT_S * 1000),
      registerBackoffMaxMs: Math.round(e.WORKER_REGISTER_BACKOFF_MAX_S * 1000),
      advertiseIp: e.WORKER_ADVERTISE_IP ?? null,
      simulateGpuCount: e.WORKER_SIMULATE_GPU_COUNT,
      simulateGpuVramMb: e.WORKER_SIMULATE_GPU_VRAM_MB,
      nvidiaSmi: e.WORKER_NVIDIA_SMI ?? "nvidia-smi",
      diskPath: e.WORKER_DISK_PATH ?? "/",
      logLevel: e.WORKER_LOG_LEVEL,
      logBuffer: e.WORKER_LOG_BUFFER,
      logFile: e.WORKER_LOG_FILE ?? null,
    },
  };
}
