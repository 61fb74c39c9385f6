// What the Pulumi program, mock-vllm and the worker-agent must agree on, written once. The
// program imports this module; each service's esbuild bundle inlines it, so the images carry the
// same values. test/unit/contract.test.ts holds the services' parsers and the Dockerfiles to it.

/** Ports inside the model server's network namespace, which the agent shares: one IP, two ports. */
export const PORTS = {
  /** vLLM's OpenAI-compatible API (and mock-vllm's): `--port`. */
  api: 8000,
  /** The worker-agent's /healthz, /readyz, /info and /metrics. */
  agent: 8080,
} as const;

/** HTTP paths the program, the health gate, the smoke test and the agent probe. */
export const PATHS = {
  /** The model server's liveness: 200 once the model is loaded (vLLM's /health). */
  serverHealth: "/health",
  /** The model server's Prometheus metrics. */
  serverMetrics: "/metrics",
  /** The agent's liveness: 200 while its loop runs. */
  agentHealth: "/healthz",
  /** The agent's readiness: 200 once the model server answers. */
  agentReady: "/readyz",
} as const;

/**
 * Healthcheck commands the images answer: `node /app/main.js <flag> [url]` exits 0 on a 2xx
 * within the timeout, 1 otherwise (services/shared/probe.ts). mock-vllm's flag carries a prefix
 * so it can never collide with a `vllm serve` flag.
 */
export const PROBE_FLAGS = { mockVllm: "--mock-probe", workerAgent: "--probe" } as const;

/** The agent's healthcheck timings: its image's HEALTHCHECK and the program's are these. */
export const AGENT_HEALTHCHECK = { interval: "5s", timeout: "3s", startPeriod: "10s", startInterval: "1s", retries: 3 } as const;

/** Seconds between heartbeats when neither `agent.heartbeatIntervalSeconds` nor the agent's variable says. */
export const DEFAULT_HEARTBEAT_INTERVAL_S = 5;

/** The environment variable that sets mock-vllm's `--mock-<name>` flag: `MOCK_VLLM_<NAME>`. */
export function mockEnvVar(flag: `mock-${string}`): string {
  return `MOCK_VLLM_${flag.slice("mock-".length).toUpperCase().replace(/-/g, "_")}`;
}

/** Variables of the model server's that mock-vllm reads like vLLM (the secrets among them). */
export const SERVER_ENV = {
  /** `--api-key`'s variable: clients must send `Authorization: Bearer <key>`. */
  apiKey: "VLLM_API_KEY",
  /** Hugging Face token under both names the hub client reads. */
  hfToken: "HF_TOKEN",
  hfHubToken: "HUGGING_FACE_HUB_TOKEN",
} as const;

/** The variables the program sets on the worker-agent; the agent's settings loader reads these names. */
export const AGENT_ENV = {
  modelId: "MODEL_ID",
  vllmBaseUrl: "VLLM_BASE_URL",
  vllmApiKey: "VLLM_API_KEY",
  healthPort: "WORKER_HEALTH_PORT",
  vllmPort: "WORKER_VLLM_PORT",
  heartbeatIntervalS: "WORKER_HEARTBEAT_INTERVAL_S",
  simulateGpuCount: "WORKER_SIMULATE_GPU_COUNT",
  simulateGpuVramMb: "WORKER_SIMULATE_GPU_VRAM_MB",
  controlPlaneUrl: "CONTROL_PLANE_URL",
  instanceId: "INSTANCE_ID",
  advertiseIp: "WORKER_ADVERTISE_IP",
  authToken: "WORKER_AUTH_TOKEN",
} as const;

/** As vLLM: the name clients put in `model` is `--served-model-name` when given, else the model id. */
export function servedModelName(modelId: string, servedName?: string): string {
  return servedName ?? modelId;
}

/** How a client on the same machine reaches a server bound to `host` (wildcards become loopback). */
export function localUrl(host: string, port: number, path = ""): string {
  const h =
    host === "0.0.0.0"
      ? "127.0.0.1"
      : host === "::" || host === "[::]"
        ? "[::1]"
        : host.includes(":") && !host.startsWith("[")
          ? `[${host}]`
          : host;
  return `http://${h}:${port}${path}`;
}
