// The stack configuration: one zod schema for every key a stack may set, the defaults that depend
// on runtime and device, and the cross-field rules. No Pulumi import here, so the whole contract
// is testable as plain data in, typed config (or every problem at once) out.
import { z } from "zod";
import { formatGoDuration, parseDurationMs } from "./duration";
import { belowVllmFloor } from "./imageFloor";

export const RUNTIMES = ["mock", "vllm"] as const;
export const DEVICES = ["cpu", "gpu", "auto"] as const;
export const DTYPES = ["auto", "half", "float16", "bfloat16", "float", "float32"] as const;
export const QUANTIZATIONS = ["awq", "awq_marlin", "gptq", "gptq_marlin", "fp8", "bitsandbytes", "gguf", "compressed-tensors"] as const;
export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;
export const MOCK_MODES = ["echo", "generate"] as const;
export const PLATFORMS = ["docker", "kubernetes"] as const;
export const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const TOLERATION_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
/** The only defaults written here rather than in defaults.ts: the cross-field rules need them. */
export const DEFAULT_RUNTIME: (typeof RUNTIMES)[number] = "mock";
export const DEFAULT_DEVICE: (typeof DEVICES)[number] = "auto";
export const DEFAULT_PLATFORM: (typeof PLATFORMS)[number] = "docker";

// `pulumi config set --path model.maxModelLen 4096` stores the string "4096"; accept it as the
// number it means, but only where a number (or boolean) is expected.
const fromText = (v: unknown) => {
  if (typeof v !== "string") return v;
  const t = v.trim();
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(t)) return Number(t);
  return t === "true" ? true : t === "false" ? false : v;
};
const number = (rules: (n: z.ZodNumber) => z.ZodNumber = (n) => n) => z.preprocess(fromText, rules(z.number()));
const boolean = () => z.preprocess(fromText, z.boolean());

const name = z.string().trim().min(1, "expected a non-empty string");
const port = number((n) => n.int("expected a whole number").min(1).max(65535));
const positiveInt = number((n) => n.int("expected a whole number").positive());
const duration = z
  .union([z.string(), number()])
  .refine((v) => parseDurationMs(v) !== undefined, {
    message: 'expected a duration such as "10s", "1m30s", "10m" or a number of seconds',
  })
  .transform((v) => formatGoDuration(parseDurationMs(v)!));
const ipv4 = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, 'expected an IPv4 address such as "127.0.0.1"');
const k8sName = z
  .string()
  .max(63, "expected at most 63 characters")
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "expected a Kubernetes name (lower-case letters, digits and '-', starting and ending alphanumeric)",
  );
const dockerName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "expected a Docker object name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)");

const modelSchema = z
  .object({
    /** the model, `vllm serve`'s first (positional) argument. Committed stacks: `Qwen/Qwen2.5-0.5B-Instruct` (both stacks). */
    id: name.optional(),
    /** `--served-model-name`; also the agent's `MODEL_ID` (the control plane routes on it). Committed stacks: `qwen2.5-0.5b-instruct` (both stacks). */
    servedName: name.optional(),
    /** `--revision`. Committed stacks: —. */
    revision: name.optional(),
    /** `--max-model-len`. Committed stacks: dev `2048`, gpu `4096`. */
    maxModelLen: positiveInt.optional(),
    /** `--dtype`: `auto`, `half`, `float16`, `bfloat16`, `float`, `float32`. Committed stacks: dev `auto`, gpu `auto` (`bfloat16` for vLLM on cpu). */
    dtype: z.enum(DTYPES).optional(),
    /** `--quantization`: `awq`, `awq_marlin`, `gptq`, `gptq_marlin`, `fp8`, `bitsandbytes`, `gguf`, `compressed-tensors`. Committed stacks: —. */
    quantization: z.enum(QUANTIZATIONS).optional(),
    /** `--gpu-memory-utilization`, in (0, 1]. Committed stacks: `0.6`. */
    gpuMemoryUtilization: number((n) => n.gt(0, "expected a fraction in (0, 1]").lte(1, "expected a fraction in (0, 1]")).optional(),
    /** `--max-num-seqs`. Committed stacks: `64`. */
    maxNumSeqs: positiveInt.optional(),
    /** `--tensor-parallel-size`; at most the GPUs requested (`gpu.count` defaults to it), 1 on cpu. Committed stacks: `1`. */
    tensorParallelSize: positiveInt.optional(),
    /** `--trust-remote-code`. Committed stacks: `false`. */
    trustRemoteCode: boolean().optional(),
    /** more `vllm serve` arguments, one per item. Committed stacks: `[]`. */
    extraArgs: z.array(z.string().regex(/^\S+$/, "expected one argument without spaces per item")).optional(),
  })
  .strict();

const imagesSchema = z
  .object({
    /** vLLM image for `device: gpu`, pinned by tag. Committed stacks: `vllm/vllm-openai:v0.31.0` (both stacks). */
    vllmGpu: name.optional(),
    /** vLLM image for `device: cpu`. Committed stacks: `vllm/vllm-openai-cpu:v0.31.0` (both stacks). */
    vllmCpu: name.optional(),
    /** prebuilt mock-vllm image; built from `services/mock-vllm` when unset. Committed stacks: —. */
    mockVllm: name.optional(),
    /** prebuilt worker-agent image; built from `services/worker-agent` when unset. Committed stacks: —. */
    workerAgent: name.optional(),
    /** base image of those builds (`node:20-slim` when unset). Committed stacks: `inference-runtime/node-base:20` (made locally by `deploy/base-image.sh`) (both stacks). */
    buildBase: name.optional(),
  })
  .strict();

const gpuSchema = z
  .object({
    /** GPUs to request (vLLM on gpu only): a number, at least `model.tensorParallelSize`, which is the default; or `all` (Docker: every GPU of the host, count -1; Kubernetes: `model.tensorParallelSize`, since a pod cannot claim a node's every GPU). Committed stacks: dev —, gpu `1` (= `model.tensorParallelSize`). */
    count: z.union([z.literal("all"), positiveInt]).optional(),
    /** specific GPUs on Docker, e.g. `["0", "2"]` (instead of `count`; at least `model.tensorParallelSize` of them). Committed stacks: —. */
    deviceIds: z.array(name).min(1, "expected at least one device id").optional(),
  })
  .strict();

const cacheSchema = z
  .object({
    /** Hugging Face cache volume (the compile cache is `<name>-vllm`). Committed stacks: `inference-runtime-<stack>-hf-cache`. */
    volumeName: dockerName.optional(),
    /** `pulumi destroy` leaves the cache volumes. Committed stacks: dev `false`, gpu `true`. */
    keepOnDestroy: boolean().optional(),
  })
  .strict();

const networkSchema = z
  .object({
    /** existing network to join as well (e.g. the control plane's); never created or deleted. Committed stacks: —. */
    external: dockerName.optional(),
    /** publish ports on the host. Committed stacks: `true`. */
    publish: boolean().optional(),
    /** host address of published ports. Committed stacks: `127.0.0.1`. */
    bindAddress: ipv4.optional(),
    /** host port of the API (container port 8000). Committed stacks: `8000`. */
    apiPort: port.optional(),
    /** host port of the agent (container port 8080). Committed stacks: `8080`. */
    agentPort: port.optional(),
  })
  .strict();

const healthcheckSchema = z
  .object({
    /** probe interval (durations like `10s`, `1m30s`, `10m`, or seconds). Committed stacks: dev `2s`, gpu `10s`. */
    interval: duration.optional(),
    /** probe timeout. Committed stacks: dev `2s`, gpu `5s`. */
    timeout: duration.optional(),
    /** grace period for loading (stretched to `waitTimeoutSeconds` when shorter). Committed stacks: dev `30s`, gpu `10m0s` (vLLM on cpu: `30m0s`). */
    startPeriod: duration.optional(),
    /** probe interval during the start period; sent to engines from API 1.44 on (older engines get the same fast first probe from the health gate, which runs the probe itself every 0.5 s until it passes). Committed stacks: dev `1s`, gpu `5s`. */
    startInterval: duration.optional(),
    /** failures before unhealthy. Committed stacks: dev `5`, gpu `6`. */
    retries: positiveInt.optional(),
    /** the longest `pulumi up` waits for the model server to pass its healthcheck, a first download and compile included (failed probes count only after it); a container that exits or restarts fails the update at once. Committed stacks: dev `120`, gpu `1800` (vLLM on cpu: `3600`). */
    waitTimeoutSeconds: positiveInt.optional(),
  })
  .strict();

const serverSchema = z
  .object({
    /** container memory limit. Committed stacks: —. */
    memoryLimitMb: positiveInt.optional(),
    /** `/dev/shm` size. Committed stacks: dev —, gpu — (`4096` for vLLM on cpu; GPU stacks use `ipc: host`). */
    shmSizeMb: positiveInt.optional(),
    /** restart policy: `no`, `on-failure`, `always`, `unless-stopped`. Committed stacks: `unless-stopped` (both stacks). */
    restart: z.enum(RESTART_POLICIES).optional(),
    /** `--shutdown-timeout` (drain in-flight requests); the container stop timeout is this + 15 s. Committed stacks: `30`. */
    shutdownTimeoutSeconds: number((n) => n.int().min(0)).optional(),
    /** `VLLM_CPU_KVCACHE_SPACE` (vLLM on cpu). Committed stacks: `4`. */
    cpuKvCacheSpaceGb: positiveInt.optional(),
    /** `HF_HUB_OFFLINE=1` (serve from cache only). Committed stacks: `false`. */
    hfHubOffline: boolean().optional(),
  })
  .strict();

const logsSchema = z
  .object({
    /** size at which Docker's json-file driver starts a new log file (`max-size`), in MB; Docker only. Committed stacks: `50`. */
    maxSizeMb: positiveInt.optional(),
    /** log files kept per container (`max-file`), the current one included; Docker only. Committed stacks: `5`. */
    maxFiles: positiveInt.optional(),
  })
  .strict();

const agentSchema = z
  .object({
    /** run the worker-agent. Committed stacks: `true`. */
    enabled: boolean().optional(),
    /** `CONTROL_PLANE_URL`; unset = standalone (health, readiness, metrics only). Committed stacks: —. */
    controlPlaneUrl: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    /** `INSTANCE_ID` (UUID); required with `controlPlaneUrl`. Committed stacks: —. */
    instanceId: z.uuid({ error: "expected a UUID" }).optional(),
    /** `WORKER_ADVERTISE_IP`. Committed stacks: —. */
    advertiseIp: ipv4.optional(),
    /** `WORKER_HEARTBEAT_INTERVAL_S`. Committed stacks: `5`. */
    heartbeatIntervalSeconds: number((n) => n.positive().max(3600)).optional(),
    /** `WORKER_SIMULATE_GPU_COUNT` (synthesized GPU figures). Committed stacks: dev `1`, gpu `0`. */
    simulateGpuCount: number((n) => n.int().min(0).max(16)).optional(),
    /** `WORKER_SIMULATE_GPU_VRAM_MB`. Committed stacks: `24576`. */
    simulateGpuVramMb: positiveInt.optional(),
  })
  .strict();

const milliseconds = number((n) => n.min(0, "expected milliseconds >= 0"));
const mockSchema = z
  .object({
    /** `echo` (reply = last user message) or `generate` (seeded text). Committed stacks: dev `echo`, gpu rejected. */
    mode: z.enum(MOCK_MODES).optional(),
    /** time to first token and its jitter. Committed stacks: dev `20`, `2`, gpu rejected. */
    ttftMs: milliseconds.optional(),
    /** time to first token and its jitter. Committed stacks: dev `20`, `2`, gpu rejected. */
    ttftJitterMs: milliseconds.optional(),
    /** inter-token latency and its jitter. Committed stacks: dev `5`, `1`, gpu rejected. */
    itlMs: milliseconds.optional(),
    /** inter-token latency and its jitter. Committed stacks: dev `5`, `1`, gpu rejected. */
    itlJitterMs: milliseconds.optional(),
    /** simulated model loading time. Committed stacks: dev `0`, gpu rejected. */
    startupMs: milliseconds.optional(),
    /** share of requests failed on purpose. Committed stacks: dev `0`, gpu rejected. */
    failureRate: number((n) => n.min(0).max(1, "expected a fraction in [0, 1]")).optional(),
    /** seed of generated text, jitter and failures. Committed stacks: dev `42`, gpu rejected. */
    seed: number((n) => n.int()).optional(),
    /** also emit the deprecated `vllm:gpu_cache_usage_perc`. Committed stacks: dev `false`, gpu rejected. */
    compatGpuCacheMetric: boolean().optional(),
  })
  .strict();

const tolerationSchema = z
  .object({
    key: name.optional(),
    operator: z.enum(["Equal", "Exists"]).optional(),
    value: z.string().optional(),
    effect: z.enum(TOLERATION_EFFECTS).optional(),
    tolerationSeconds: number((n) => n.int().min(0)).optional(),
  })
  .strict();

const kubernetesSchema = z
  .object({
    /** namespace of every object. Committed stacks: `inference-runtime-<stack>`. */
    namespace: k8sName.optional(),
    /** create the namespace (destroy deletes it, unless the cache is kept); `false`: it must exist. Committed stacks: `true`. */
    createNamespace: boolean().optional(),
    /** storage class of the cache claim; the cluster's default class when unset. Committed stacks: —. */
    storageClass: name.optional(),
    /** size of the cache claim, in GiB. Committed stacks: dev `1`, gpu `50`. */
    cacheSizeGb: positiveInt.optional(),
    /** type of the Service for 8000 and 8080: `ClusterIP`, `NodePort`, `LoadBalancer`. Committed stacks: `ClusterIP`. */
    serviceType: z.enum(SERVICE_TYPES).optional(),
    /** node labels the pods require, e.g. `{"nvidia.com/gpu.present": "true"}`. Committed stacks: `{}`. */
    nodeSelector: z.record(z.string().min(1), z.string()).optional(),
    /** pod tolerations (`key`, `operator`, `value`, `effect`, `tolerationSeconds`), e.g. for tainted GPU nodes. Committed stacks: `[]`. */
    tolerations: z.array(tolerationSchema).optional(),
    /** pods of the Deployment, each a model server plus its agent. Committed stacks: `1`. */
    replicas: positiveInt.optional(),
    /** `runtimeClassName` of the pods (e.g. `nvidia`). Committed stacks: —. */
    runtimeClassName: k8sName.optional(),
    /** `imagePullPolicy` of both containers: `Always`, `IfNotPresent`, `Never` (images imported into the nodes). Committed stacks: `IfNotPresent`. */
    imagePullPolicy: z.enum(PULL_POLICIES).optional(),
  })
  .strict();

/** What a stack's `inference-runtime:*` keys may hold; every field optional, defaults applied later. */
export const stackConfigSchema = z
  .object({
    /** where the runtime runs: `docker` (one Docker host) or `kubernetes` (a cluster; settings under `kubernetes`). Committed stacks: `docker`. */
    platform: z.enum(PLATFORMS).optional(),
    /** `mock` or `vllm`. Committed stacks: dev `mock`, gpu `vllm`. */
    runtime: z.enum(RUNTIMES).optional(),
    /** `cpu`, `gpu`, or `auto` (gpu when the Docker host lists the `nvidia` runtime; always cpu for the mock; the choice is printed as a warning in preview). Committed stacks: dev `cpu`, gpu `gpu`. */
    device: z.enum(DEVICES).optional(),
    model: modelSchema.optional(),
    images: imagesSchema.optional(),
    gpu: gpuSchema.optional(),
    cache: cacheSchema.optional(),
    network: networkSchema.optional(),
    healthcheck: healthcheckSchema.optional(),
    server: serverSchema.optional(),
    /** log rotation of both containers on Docker (json-file driver); on Kubernetes the kubelet rotates (containerLogMaxSize, containerLogMaxFiles). */
    logs: logsSchema.optional(),
    agent: agentSchema.optional(),
    mock: mockSchema.optional(),
    kubernetes: kubernetesSchema.optional(),
    /** after each deploy of the model server, one real chat completion to `apiUrl` and the agent's `/readyz` (needs `network.publish`). Committed stacks: `true`. */
    smokeTest: boolean().optional(),
  })
  .strict()
  .superRefine(checkCrossFieldRules, { when: () => true });

export type StackConfig = z.output<typeof stackConfigSchema>;

/** A value as it may be when its own field failed validation: anything at all. */
type Unchecked = Record<string, unknown>;
const section = (value: unknown): Unchecked =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Unchecked) : {};

// Runs even when single fields failed, so one preview reports every problem; hence the guards:
// nothing read here is trusted to have the schema's type.
function checkCrossFieldRules(raw: StackConfig, ctx: z.RefinementCtx): void {
  const c = section(raw);
  const [gpu, model, net, agent, images] = [c.gpu, c.model, c.network, c.agent, c.images].map(section);
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message, input: undefined });
  const runtime = c.runtime ?? DEFAULT_RUNTIME;
  const device = c.device ?? DEFAULT_DEVICE;
  if ((c.platform ?? DEFAULT_PLATFORM) === "kubernetes") checkKubernetesRules(c, issue);
  else if (isSet(c.kubernetes)) issue(["kubernetes"], 'only applies to platform "kubernetes"; remove it, or set platform to "kubernetes"');

  if (runtime === "mock" && device === "gpu") {
    issue(["device"], 'runtime "mock" simulates a GPU server on the CPU; expected device "cpu" or "auto"');
  }
  if (runtime === "mock" && isSet(c.gpu)) {
    issue(["gpu"], 'only applies to runtime "vllm" on device "gpu"; remove it for the mock runtime');
  }
  if (runtime !== "mock" && isSet(c.mock)) {
    issue(["mock"], 'only applies to runtime "mock"; remove it for runtime "vllm"');
  }
  if (gpu.count !== undefined && gpu.deviceIds !== undefined) {
    issue(["gpu"], "expected either count or deviceIds, not both");
  }
  // vLLM runs one tensor-parallel rank per GPU: fewer GPUs than ranks fails only once the engine starts.
  const tp = typeof model.tensorParallelSize === "number" ? model.tensorParallelSize : 1;
  if (typeof gpu.count === "number" && gpu.count < tp) {
    issue(
      ["gpu", "count"],
      `${gpu.count} GPU(s) is fewer than model.tensorParallelSize (${tp}): vLLM needs one GPU per tensor-parallel rank; ` +
        `set gpu.count to at least ${tp}, or leave it unset (it defaults to model.tensorParallelSize)`,
    );
  }
  if (Array.isArray(gpu.deviceIds) && gpu.deviceIds.length < tp) {
    issue(
      ["gpu", "deviceIds"],
      `${gpu.deviceIds.length} device(s) is fewer than model.tensorParallelSize (${tp}): vLLM needs one GPU per tensor-parallel rank; ` +
        `list at least ${tp}, or lower model.tensorParallelSize`,
    );
  }
  if (typeof tp === "number" && tp > 1 && device === "cpu") {
    issue(["model", "tensorParallelSize"], 'expected 1 on device "cpu"');
  }
  if (net.apiPort !== undefined && net.apiPort === net.agentPort) {
    issue(["network", "agentPort"], `expected a host port different from network.apiPort (${net.apiPort})`);
  }
  if (agent.controlPlaneUrl !== undefined && agent.instanceId === undefined) {
    issue(["agent", "instanceId"], "required when agent.controlPlaneUrl is set (the control plane's instance UUID)");
  }
  if (c.smokeTest === true && net.publish === false) {
    issue(["smokeTest"], "runs where Pulumi runs and needs the API on the host: set network.publish to true, or smokeTest to false");
  }
  for (const key of ["vllmGpu", "vllmCpu"] as const) {
    const image = images[key];
    const tooOld = typeof image === "string" ? belowVllmFloor(image.trim()) : undefined;
    if (tooOld) issue(["images", key], tooOld);
  }
  const maxLen = model.maxModelLen;
  if (typeof maxLen === "number" && maxLen < 16) {
    issue(["model", "maxModelLen"], "expected at least 16 tokens");
  }
}

// What a Docker host has and a cluster does not (host ports, networks, restart policies), and the
// images a cluster must pull rather than build. (`smokeTest` has a project default, so it is
// always set: on a cluster it is not run, see resolveConfig.)
function checkKubernetesRules(c: Unchecked, issue: (path: (string | number)[], message: string) => void): void {
  const [gpu, images, server] = [c.gpu, c.images, c.server].map(section);
  if (isSet(c.network)) {
    issue(["network"], 'Docker host settings; on platform "kubernetes" the Service is set with kubernetes.serviceType: remove network');
  }
  if (isSet(c.logs)) {
    issue(
      ["logs"],
      'Docker\'s json-file log rotation; on platform "kubernetes" the kubelet rotates container logs ' +
        "(its containerLogMaxSize and containerLogMaxFiles settings): remove logs",
    );
  }
  if (server.restart !== undefined)
    issue(["server", "restart"], 'a Docker restart policy; pods on platform "kubernetes" always restart: remove it');
  if (gpu.deviceIds !== undefined) {
    issue(["gpu", "deviceIds"], 'the device plugin picks the GPUs of a pod on platform "kubernetes": use gpu.count instead');
  }
  const runtime = c.runtime ?? DEFAULT_RUNTIME;
  if (runtime === "mock" && images.mockVllm === undefined) {
    issue(["images", "mockVllm"], 'required on platform "kubernetes": the image of mock-vllm the nodes can pull (or have imported)');
  }
  if (section(c.agent).enabled !== false && images.workerAgent === undefined) {
    issue(
      ["images", "workerAgent"],
      'required on platform "kubernetes" while agent.enabled: the image of the worker-agent the nodes can pull (or have imported)',
    );
  }
}

// The project file declares `{}` as every object key's default, so empty means "not set".
function isSet(value: unknown): boolean {
  return value !== undefined && !(typeof value === "object" && value !== null && Object.keys(value).length === 0);
}
