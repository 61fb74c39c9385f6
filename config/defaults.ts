// Turns a validated stack config into the fully-defaulted RuntimeConfig the spec builders use.
// Defaults depend on runtime and device: a mock answers in seconds, vLLM on a GPU needs minutes
// to load a model and far longer on a CPU.
import { z } from "zod";
import { DEFAULT_HEARTBEAT_INTERVAL_S, PORTS, servedModelName } from "../contract";
import { DEFAULT_PLATFORM, DEFAULT_RUNTIME, stackConfigSchema, StackConfig } from "./schema";

export const DEFAULT_MODEL_ID = "Qwen/Qwen2.5-0.5B-Instruct";
// v0.31.0: the newest release whose image tags we found in public material (see docs/gpu.md).
// Its default GPU build is CUDA 13.0 (NVIDIA driver 580 or later); `-cu129` is the variant for
// older drivers. config/imageFloor.ts refuses pins older than the command line works with.
export const DEFAULT_IMAGES = {
  vllmGpu: "vllm/vllm-openai:v0.31.0",
  vllmCpu: "vllm/vllm-openai-cpu:v0.31.0",
  buildBase: "node:20-slim",
} as const;

export interface StackIdentity {
  project: string;
  stack: string;
}

type Section<K extends keyof StackConfig> = NonNullable<StackConfig[K]>;
/**
 * A config section with every field set, but for the `Unset` ones, which stay optional because
 * "not set" means "not passed" (no `--revision`, no memory limit). Derived from the schema, so a
 * field added there is a type error here until it gets a default.
 */
type Resolved<T, Unset extends keyof T = never> = { [K in Exclude<keyof T, Unset>]-?: Exclude<T[K], undefined> } & {
  [K in Unset]?: Exclude<T[K], undefined>;
};

/** Healthcheck timings (durations in Go form, e.g. "1m30s") and how long `up` waits, in seconds. */
export type HealthTimings = Resolved<Section<"healthcheck">>;

/** The stack config with every default applied, as the spec builders read it. */
export interface RuntimeConfig extends StackIdentity {
  platform: Section<"platform">;
  runtime: Section<"runtime">;
  /** "auto" is resolved before this point: see host/device.ts. */
  device: "cpu" | "gpu";
  model: Resolved<Section<"model">, "revision" | "quantization">;
  images: Resolved<Section<"images">, "mockVllm" | "workerAgent">;
  gpu: Resolved<Section<"gpu">, "deviceIds">;
  /** The compile cache volume is named after the Hugging Face cache volume. */
  cache: Resolved<Section<"cache">> & { compileVolumeName: string };
  /** The stack's own network is always `<project>-<stack>-net`. */
  network: Resolved<Section<"network">, "external"> & { name: string };
  healthcheck: HealthTimings;
  /** The container stop timeout is longer than the server's own shutdown timeout. */
  server: Resolved<Section<"server">, "memoryLimitMb" | "shmSizeMb"> & { stopTimeoutSeconds: number };
  /** Rotation of the containers' json-file logs (Docker; refused on Kubernetes). */
  logs: Resolved<Section<"logs">>;
  agent: Resolved<Section<"agent">, "controlPlaneUrl" | "instanceId" | "advertiseIp">;
  smokeTest: boolean;
  mock: Resolved<Section<"mock">>;
  /** Read only on platform "kubernetes"; resolved on both so the shape never depends on the platform. */
  kubernetes: Resolved<Section<"kubernetes">, "storageClass" | "runtimeClassName">;
}

const HEALTH_DEFAULTS: Record<"mock" | "vllm-gpu" | "vllm-cpu", HealthTimings> = {
  mock: { interval: "2s", timeout: "2s", startPeriod: "30s", startInterval: "1s", retries: 5, waitTimeoutSeconds: 120 },
  // Loading a sub-1B model from cache takes ~1 min on a datacenter GPU; a first download takes
  // minutes more. Probes that give up during loading are the classic failure, hence 10 minutes.
  "vllm-gpu": { interval: "10s", timeout: "5s", startPeriod: "10m0s", startInterval: "5s", retries: 6, waitTimeoutSeconds: 1800 },
  "vllm-cpu": { interval: "15s", timeout: "10s", startPeriod: "30m0s", startInterval: "5s", retries: 6, waitTimeoutSeconds: 3600 },
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** One line per zod issue: `inference-runtime:model.gpuMemoryUtilization: expected ...`. */
export function formatIssues(issues: z.core.$ZodIssue[], namespace: string): string[] {
  return issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
    let message = issue.message;
    if (issue.code === "unrecognized_keys") message = `unknown key(s) ${issue.keys.join(", ")}`;
    return `${namespace}:${path}: ${message}`;
  });
}

/** Validates raw stack values; throws a ConfigError listing every problem, each with its key. */
export function parseStackConfig(raw: unknown, namespace: string): StackConfig {
  const result = stackConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, namespace));
  return result.data;
}

/** Applies the runtime- and device-dependent defaults. `device` must already be cpu or gpu. */
export function resolveConfig(c: StackConfig, id: StackIdentity, device: "cpu" | "gpu"): RuntimeConfig {
  const runtime = c.runtime ?? DEFAULT_RUNTIME;
  const m = c.model ?? {};
  const modelId = m.id ?? DEFAULT_MODEL_ID;
  const prefix = `${id.project}-${id.stack}`;
  const health = HEALTH_DEFAULTS[runtime === "mock" ? "mock" : device === "gpu" ? "vllm-gpu" : "vllm-cpu"];
  const shutdownTimeoutSeconds = c.server?.shutdownTimeoutSeconds ?? 30;
  const cacheVolume = c.cache?.volumeName ?? `${prefix}-hf-cache`;
  const platform = c.platform ?? DEFAULT_PLATFORM;
  const k = c.kubernetes ?? {};
  return {
    ...id,
    platform,
    runtime,
    device,
    model: {
      id: modelId,
      servedName: servedModelName(modelId, m.servedName),
      revision: m.revision,
      maxModelLen: m.maxModelLen ?? 2048,
      // vLLM's CPU backend documents bfloat16; "auto" would pick float32 weights there.
      dtype: m.dtype ?? (runtime === "vllm" && device === "cpu" ? "bfloat16" : "auto"),
      quantization: m.quantization,
      // 0.4 leaves no KV cache for this model on small GPUs; 0.9 (vLLM's default) fails on shared ones.
      gpuMemoryUtilization: m.gpuMemoryUtilization ?? 0.6,
      maxNumSeqs: m.maxNumSeqs ?? 64,
      tensorParallelSize: m.tensorParallelSize ?? 1,
      trustRemoteCode: m.trustRemoteCode ?? false,
      extraArgs: m.extraArgs ?? [],
    },
    images: { ...DEFAULT_IMAGES, ...c.images },
    // One GPU per tensor-parallel rank by default, so a stack takes only what vLLM uses and two
    // stacks can share a host; "all" stays available when asked for.
    gpu: {
      count: c.gpu?.deviceIds ? c.gpu.deviceIds.length : (c.gpu?.count ?? m.tensorParallelSize ?? 1),
      deviceIds: c.gpu?.deviceIds,
    },
    cache: {
      volumeName: cacheVolume,
      compileVolumeName: `${cacheVolume}-vllm`,
      // Weights are gigabytes: a real vLLM stack keeps them unless told otherwise.
      keepOnDestroy: c.cache?.keepOnDestroy ?? runtime === "vllm",
    },
    network: {
      name: `${prefix}-net`,
      external: c.network?.external,
      publish: c.network?.publish ?? true,
      bindAddress: c.network?.bindAddress ?? "127.0.0.1",
      apiPort: c.network?.apiPort ?? PORTS.api,
      agentPort: c.network?.agentPort ?? PORTS.agent,
    },
    healthcheck: { ...health, ...c.healthcheck },
    server: {
      memoryLimitMb: c.server?.memoryLimitMb,
      shmSizeMb: c.server?.shmSizeMb ?? (runtime === "vllm" && device === "cpu" ? 4096 : undefined),
      restart: c.server?.restart ?? "unless-stopped",
      shutdownTimeoutSeconds,
      stopTimeoutSeconds: shutdownTimeoutSeconds + 15,
      cpuKvCacheSpaceGb: c.server?.cpuKvCacheSpaceGb ?? 4,
      hfHubOffline: c.server?.hfHubOffline ?? false,
    },
    // Docker's json-file default never rotates: a chatty server (vLLM logs every request's stats)
    // fills the host's disk. 5 × 50 MB per container keeps days of logs.
    logs: { maxSizeMb: c.logs?.maxSizeMb ?? 50, maxFiles: c.logs?.maxFiles ?? 5 },
    agent: {
      enabled: c.agent?.enabled ?? true,
      controlPlaneUrl: c.agent?.controlPlaneUrl,
      instanceId: c.agent?.instanceId,
      advertiseIp: c.agent?.advertiseIp,
      heartbeatIntervalSeconds: c.agent?.heartbeatIntervalSeconds ?? DEFAULT_HEARTBEAT_INTERVAL_S,
      simulateGpuCount: c.agent?.simulateGpuCount ?? (runtime === "mock" ? 1 : 0),
      simulateGpuVramMb: c.agent?.simulateGpuVramMb ?? 24576,
    },
    // On a cluster the API is not on a port of the machine running Pulumi; the rollout gate's
    // readiness (the server's /health and the agent's /readyz) stands in.
    smokeTest: platform === "docker" && (c.smokeTest ?? true),
    mock: {
      mode: c.mock?.mode ?? "echo",
      // Small but non-zero, so streaming clients see tokens arrive over time as with vLLM.
      ttftMs: c.mock?.ttftMs ?? 20,
      ttftJitterMs: c.mock?.ttftJitterMs ?? 2,
      itlMs: c.mock?.itlMs ?? 5,
      itlJitterMs: c.mock?.itlJitterMs ?? 1,
      startupMs: c.mock?.startupMs ?? 0,
      failureRate: c.mock?.failureRate ?? 0,
      seed: c.mock?.seed ?? 42,
      compatGpuCacheMetric: c.mock?.compatGpuCacheMetric ?? false,
    },
    kubernetes: {
      namespace: k.namespace ?? `${prefix}`,
      createNamespace: k.createNamespace ?? true,
      storageClass: k.storageClass,
      // A 0.5B model is ~1 GB of weights; real models need tens of GB, and claims rarely grow in place.
      cacheSizeGb: k.cacheSizeGb ?? (runtime === "vllm" ? 50 : 1),
      serviceType: k.serviceType ?? "ClusterIP",
      nodeSelector: k.nodeSelector ?? {},
      tolerations: k.tolerations ?? [],
      replicas: k.replicas ?? 1,
      runtimeClassName: k.runtimeClassName,
      imagePullPolicy: k.imagePullPolicy ?? "IfNotPresent",
    },
  };
}
