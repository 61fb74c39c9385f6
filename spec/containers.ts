// Pure spec builders: RuntimeConfig in, Docker arguments out. Everything the components declare
// is decided here, so it can be unit-tested without Pulumi and read in one place.
import { AGENT_ENV, AGENT_HEALTHCHECK, localUrl, mockEnvVar, PATHS, PORTS, PROBE_FLAGS } from "../contract";
import { RuntimeConfig } from "../config/defaults";
import { formatGoDuration, parseDurationMs } from "../config/duration";
import { EngineFeatures } from "../host/engine";

export type Role = "model-server" | "worker-agent" | "model-cache" | "network" | "image" | "namespace" | "secrets" | "service";

/** Where the Hugging Face cache lives in both the vLLM and the mock-vllm images. */
export const HF_HOME = "/root/.cache/huggingface";
/** vLLM's compile cache (torch.compile / CUDA graphs), reused across restarts. */
export const VLLM_CACHE_ROOT = "/root/.cache/vllm";
/** Where the worker-agent image keeps its token file (WORKER_AUTH_TOKEN_FILE). */
export const AGENT_STATE_DIR = "/var/lib/worker-agent";

export interface DockerLabel {
  label: string;
  value: string;
}

export function labels(cfg: RuntimeConfig, role: Role): DockerLabel[] {
  return [
    { label: "io.inference-runtime.stack", value: cfg.stack },
    { label: "io.inference-runtime.role", value: role },
  ];
}

/** The model server's labels: the stack and role, and whether an agent sidecar belongs to it. */
export function modelServerLabels(cfg: RuntimeConfig): DockerLabel[] {
  // Lets `npm run up` tell from the engine alone whether all the stack's containers are there.
  return [...labels(cfg, "model-server"), { label: "io.inference-runtime.sidecar", value: cfg.agent.enabled ? "worker-agent" : "none" }];
}

export function containerNames(cfg: RuntimeConfig) {
  const prefix = `${cfg.project}-${cfg.stack}`;
  return { modelServer: `${prefix}-model-server`, workerAgent: `${prefix}-worker-agent` };
}

/**
 * The `vllm serve` arguments, identical for vLLM and mock-vllm. The images' entrypoint is
 * `vllm serve`, so the model comes first, positionally: vLLM deprecated `--model` there and warns
 * that it will be removed.
 */
export function serveArgs(cfg: RuntimeConfig): string[] {
  const m = cfg.model;
  const args = [
    m.id,
    "--served-model-name",
    m.servedName,
    "--host",
    "0.0.0.0",
    "--port",
    String(PORTS.api),
    "--max-model-len",
    String(m.maxModelLen),
    "--max-num-seqs",
    String(m.maxNumSeqs),
    "--dtype",
    m.dtype,
    "--gpu-memory-utilization",
    String(m.gpuMemoryUtilization),
    "--tensor-parallel-size",
    String(m.tensorParallelSize),
    "--shutdown-timeout",
    String(cfg.server.shutdownTimeoutSeconds),
  ];
  if (m.revision) args.push("--revision", m.revision);
  if (m.quantization) args.push("--quantization", m.quantization);
  if (m.trustRemoteCode) args.push("--trust-remote-code");
  return [...args, ...m.extraArgs];
}

/** Plain (non-secret) environment of the model server; secrets are added by the component. */
export function modelServerEnv(cfg: RuntimeConfig): string[] {
  const env = [`HF_HOME=${HF_HOME}`, `VLLM_CACHE_ROOT=${VLLM_CACHE_ROOT}`];
  if (cfg.server.hfHubOffline) env.push("HF_HUB_OFFLINE=1");
  if (cfg.runtime === "vllm" && cfg.device === "cpu") {
    env.push(`VLLM_CPU_KVCACHE_SPACE=${cfg.server.cpuKvCacheSpaceGb}`, "VLLM_CPU_OMP_THREADS_BIND=auto");
  }
  if (cfg.runtime === "mock") env.push(...mockEnv(cfg));
  return env;
}

// Simulation settings travel as environment variables so the command line stays vLLM's own.
function mockEnv(cfg: RuntimeConfig): string[] {
  const k = cfg.mock;
  const settings: [`mock-${string}`, string | number][] = [
    ["mock-mode", k.mode],
    ["mock-ttft-ms", k.ttftMs],
    ["mock-ttft-jitter-ms", k.ttftJitterMs],
    ["mock-itl-ms", k.itlMs],
    ["mock-itl-jitter-ms", k.itlJitterMs],
    ["mock-startup-ms", k.startupMs],
    ["mock-failure-rate", k.failureRate],
    ["mock-seed", k.seed],
  ];
  if (k.compatGpuCacheMetric) settings.push(["mock-compat-gpu-cache-metric", "true"]);
  // /version and the start-up banner report the vLLM release the gpu image pins, as that server would.
  const pinned = /:v?(\d+\.\d+\.\d+[\w.+-]*)$/.exec(cfg.images.vllmGpu);
  if (pinned) settings.push(["mock-vllm-version", pinned[1]]);
  return settings.map(([flag, value]) => `${mockEnvVar(flag)}=${value}`);
}

/**
 * How long a starting model server may fail its probes before they count: the start period, but
 * never less than `healthcheck.waitTimeoutSeconds`, the bound the user gave `pulumi up`. A first
 * start that downloads weights and compiles is then waited for until that bound, on engines with
 * and without start intervals; the first passing probe ends it, so later failures count as usual.
 */
export function loadingGrace(cfg: RuntimeConfig): string {
  const h = cfg.healthcheck;
  return formatGoDuration(Math.max(parseDurationMs(h.startPeriod) ?? 0, h.waitTimeoutSeconds * 1000));
}

/**
 * The probe must exist in the image: python3 in vLLM's, node in ours (neither is sure to have
 * curl); its own timeout is `healthcheck.timeout`, as the engine's. Engines below API 1.44 refuse
 * a start interval; there the health gate's own probes give the fast first check (see
 * deploy/wait-healthy.ts).
 */
export function healthcheck(cfg: RuntimeConfig, engine: Pick<EngineFeatures, "startInterval">) {
  const url = localUrl("127.0.0.1", PORTS.api, PATHS.serverHealth);
  const h = cfg.healthcheck;
  const timeoutSeconds = Math.max(1, (parseDurationMs(h.timeout) ?? 1000) / 1000);
  const tests =
    cfg.runtime === "vllm"
      ? ["CMD", "python3", "-c", `import urllib.request; urllib.request.urlopen('${url}', timeout=${timeoutSeconds})`]
      : ["CMD", "node", "/app/main.js", PROBE_FLAGS.mockVllm, url];
  return {
    tests,
    interval: h.interval,
    timeout: h.timeout,
    startPeriod: loadingGrace(cfg),
    ...(engine.startInterval ? { startInterval: h.startInterval } : {}),
    retries: h.retries,
  };
}

/** The agent's probe; the same timings as the HEALTHCHECK of its image. */
export function agentHealthcheck(engine: Pick<EngineFeatures, "startInterval">) {
  const { startInterval, ...timings } = AGENT_HEALTHCHECK;
  return {
    tests: ["CMD", "node", "/app/main.js", PROBE_FLAGS.workerAgent, localUrl("127.0.0.1", PORTS.agent, PATHS.agentHealth)],
    ...timings,
    ...(engine.startInterval ? { startInterval } : {}),
  };
}

/**
 * NVIDIA device requests on GPU stacks (classic runtime: driver "nvidia"); none elsewhere. The
 * listed GPUs when `gpu.deviceIds` is set; else `gpu.count` of them (the tensor-parallel size by
 * default), or every GPU of the host (-1) for `all`.
 */
export function deviceRequests(cfg: RuntimeConfig) {
  if (cfg.device !== "gpu") return undefined;
  const { count, deviceIds } = cfg.gpu;
  if (deviceIds) return [{ driver: "nvidia", deviceIds, capabilities: ["gpu"] }];
  return [{ driver: "nvidia", count: count === "all" ? -1 : count, capabilities: ["gpu"] }];
}

/**
 * The worker-agent's view of the server's GPUs on GPU stacks: the same GPUs with the `utility`
 * capability alone, which the NVIDIA Container Toolkit answers with nvidia-smi and NVML but no
 * CUDA, so the agent can report them in heartbeats and can never compute on them.
 */
export function agentDeviceRequests(cfg: RuntimeConfig) {
  return deviceRequests(cfg)?.map((request) => ({ ...request, capabilities: ["utility"] }));
}

/** Settings that only a GPU or a CPU vLLM needs: shared memory for PyTorch, CPU pinning rights. */
export function hostSettings(cfg: RuntimeConfig) {
  const vllmOnCpu = cfg.runtime === "vllm" && cfg.device === "cpu";
  return {
    ipcMode: cfg.device === "gpu" ? "host" : undefined,
    shmSize: cfg.server.shmSizeMb,
    capabilities: vllmOnCpu ? { adds: ["SYS_NICE"] } : undefined,
    securityOpts: vllmOnCpu ? ["seccomp=unconfined"] : undefined,
    memory: cfg.server.memoryLimitMb,
  };
}

/** The json-file log driver with rotation, for both containers (Docker's default never rotates). */
export function logSettings(cfg: RuntimeConfig) {
  return {
    logDriver: "json-file",
    logOpts: { "max-size": `${cfg.logs.maxSizeMb}m`, "max-file": String(cfg.logs.maxFiles) },
  };
}

/** Host ports: both live on the model server, since the agent shares its network namespace. */
export function publishedPorts(cfg: RuntimeConfig) {
  const n = cfg.network;
  if (!n.publish) return [];
  const ports: { internal: number; external: number; ip: string; protocol: string }[] = [
    { internal: PORTS.api, external: n.apiPort, ip: n.bindAddress, protocol: "tcp" },
  ];
  if (cfg.agent.enabled) {
    ports.push({ internal: PORTS.agent, external: n.agentPort, ip: n.bindAddress, protocol: "tcp" });
  }
  return ports;
}

/**
 * Everything whose change replaces the model server container (see the provider's notes): its
 * digest, compared with the last update's, tells preview to warn of downtime. Secrets count by
 * name only; a rotated secret value is not seen.
 */
export function serverReplacementSpec(cfg: RuntimeConfig, imageSource: string, secretNames: string[]) {
  return {
    imageSource,
    command: serveArgs(cfg),
    env: modelServerEnv(cfg),
    secretNames: [...secretNames].sort(),
    labels: modelServerLabels(cfg),
    cache: [cfg.cache.volumeName, cfg.cache.compileVolumeName],
    networks: [cfg.network.name, cfg.network.external ?? null],
    ports: publishedPorts(cfg),
    devices: deviceRequests(cfg) ?? null,
    host: hostSettings(cfg),
    logs: logSettings(cfg),
    stopTimeout: cfg.server.stopTimeoutSeconds,
  };
}

/** The host ports `up` checks before creating anything, each with the key that sets it. */
export function publishedPortKeys(cfg: RuntimeConfig): { key: string; port: number; address: string }[] {
  const n = cfg.network;
  if (!n.publish) return [];
  const ports = [{ key: "network.apiPort", port: n.apiPort, address: n.bindAddress }];
  if (cfg.agent.enabled) ports.push({ key: "network.agentPort", port: n.agentPort, address: n.bindAddress });
  return ports;
}

/** What `pulumi destroy` leaves on the host, as the `keptOnDestroy` output lists it. */
export function keptOnDestroy(cfg: RuntimeConfig): string[] {
  const kept: string[] = [];
  if (cfg.cache.keepOnDestroy) kept.push(`volume ${cfg.cache.volumeName}`, `volume ${cfg.cache.compileVolumeName}`);
  if (cfg.runtime === "vllm") kept.push(`image ${cfg.device === "gpu" ? cfg.images.vllmGpu : cfg.images.vllmCpu}`);
  if (cfg.runtime === "mock" && cfg.images.mockVllm) kept.push(`image ${cfg.images.mockVllm}`);
  if (cfg.agent.enabled && cfg.images.workerAgent) kept.push(`image ${cfg.images.workerAgent}`);
  if (cfg.network.external) kept.push(`network ${cfg.network.external}`);
  return kept;
}

/** Plain environment of the worker-agent; MODEL_ID is the served name by construction. */
export function workerAgentEnv(cfg: RuntimeConfig): string[] {
  const a = cfg.agent;
  const env: [string, string | number][] = [
    [AGENT_ENV.modelId, cfg.model.servedName],
    [AGENT_ENV.vllmBaseUrl, localUrl("127.0.0.1", PORTS.api)],
    [AGENT_ENV.healthPort, PORTS.agent],
    [AGENT_ENV.vllmPort, PORTS.api],
    [AGENT_ENV.heartbeatIntervalS, a.heartbeatIntervalSeconds],
    [AGENT_ENV.simulateGpuCount, a.simulateGpuCount],
    [AGENT_ENV.simulateGpuVramMb, a.simulateGpuVramMb],
  ];
  if (a.controlPlaneUrl) env.push([AGENT_ENV.controlPlaneUrl, a.controlPlaneUrl]);
  if (a.instanceId) env.push([AGENT_ENV.instanceId, a.instanceId]);
  if (a.advertiseIp) env.push([AGENT_ENV.advertiseIp, a.advertiseIp]);
  return env.map(([name, value]) => `${name}=${value}`);
}

/** Where callers reach the runtime: the host port when published, else the container on its network. */
export function endpoints(cfg: RuntimeConfig, hasApiKey: boolean) {
  const n = cfg.network;
  const host = n.publish ? n.bindAddress : containerNames(cfg).modelServer;
  const apiUrl = localUrl(host, n.publish ? n.apiPort : PORTS.api);
  return {
    apiUrl,
    agentUrl: cfg.agent.enabled ? localUrl(host, n.publish ? n.agentPort : PORTS.agent) : undefined,
    curlCommand: curlCommand(cfg, apiUrl, hasApiKey),
  };
}

// Never embeds the key: the command references $API_KEY so it can be pasted into a shell safely.
function curlCommand(cfg: RuntimeConfig, apiUrl: string, hasApiKey: boolean): string {
  const body = JSON.stringify({
    model: cfg.model.servedName,
    messages: [{ role: "user", content: "Say hello" }],
    max_tokens: 32,
  });
  const auth = hasApiKey ? ` -H "Authorization: Bearer $API_KEY"` : "";
  return `curl -s ${apiUrl}/v1/chat/completions -H 'Content-Type: application/json'${auth} -d '${body}'`;
}
