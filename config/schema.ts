// The stack configuration: one zod schema for every key a stack may set, the defaults that depend
// on runtime and device, and the cross-field rules. No Pulumi import here, so the whole contract
// is testable as plain data in, typed config (or every problem at once) out.
import { z } from "zod";
import { formatGoDuration, parseDurationMs } from "./duration";

export const RUNTIMES = ["mock", "vllm"] as const;
export const DEVICES = ["cpu", "gpu", "auto"] as const;
export const DTYPES = ["auto", "half", "float16", "bfloat16", "float", "float32"] as const;
export const QUANTIZATIONS = [
  "awq", "awq_marlin", "gptq", "gptq_marlin", "fp8", "bitsandbytes", "gguf", "compressed-tensors",
] as const;
export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;
export const MOCK_MODES = ["echo", "generate"] as const;
/** The only defaults written here rather than in defaults.ts: the cross-field rules need them. */
export const DEFAULT_RUNTIME: (typeof RUNTIMES)[number] = "mock";
export const DEFAULT_DEVICE: (typeof DEVICES)[number] = "auto";

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
const dockerName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "expected a Docker object name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)");

const modelSchema = z
  .object({
    id: name.optional(),
    servedName: name.optional(),
    revision: name.optional(),
    maxModelLen: positiveInt.optional(),
    dtype: z.enum(DTYPES).optional(),
    quantization: z.enum(QUANTIZATIONS).optional(),
    gpuMemoryUtilization: number((n) =>
      n.gt(0, "expected a fraction in (0, 1]").lte(1, "expected a fraction in (0, 1]"),
    ).optional(),
    maxNumSeqs: positiveInt.optional(),
    tensorParallelSize: positiveInt.optional(),
    trustRemoteCode: boolean().optional(),
    extraArgs: z.array(z.string().regex(/^\S+$/, "expected one argument without spaces per item")).optional(),
  })
  .strict();

const imagesSchema = z
  .object({
    vllmGpu: name.optional(),
    vllmCpu: name.optional(),
    mockVllm: name.optional(),
    workerAgent: name.optional(),
    buildBase: name.optional(),
  })
  .strict();

const gpuSchema = z
  .object({
    count: z.union([z.literal("all"), positiveInt]).optional(),
    deviceIds: z.array(name).min(1, "expected at least one device id").optional(),
  })
  .strict();

const cacheSchema = z
  .object({ volumeName: dockerName.optional(), keepOnDestroy: boolean().optional() })
  .strict();

const networkSchema = z
  .object({
    external: dockerName.optional(),
    publish: boolean().optional(),
    bindAddress: ipv4.optional(),
    apiPort: port.optional(),
    agentPort: port.optional(),
  })
  .strict();

const healthcheckSchema = z
  .object({
    interval: duration.optional(),
    timeout: duration.optional(),
    startPeriod: duration.optional(),
    startInterval: duration.optional(),
    retries: positiveInt.optional(),
    waitTimeoutSeconds: positiveInt.optional(),
  })
  .strict();

const serverSchema = z
  .object({
    memoryLimitMb: positiveInt.optional(),
    shmSizeMb: positiveInt.optional(),
    restart: z.enum(RESTART_POLICIES).optional(),
    shutdownTimeoutSeconds: number((n) => n.int().min(0)).optional(),
    cpuKvCacheSpaceGb: positiveInt.optional(),
    hfHubOffline: boolean().optional(),
  })
  .strict();

const agentSchema = z
  .object({
    enabled: boolean().optional(),
    controlPlaneUrl: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
    instanceId: z.uuid({ error: "expected a UUID" }).optional(),
    advertiseIp: ipv4.optional(),
    heartbeatIntervalSeconds: number((n) => n.positive().max(3600)).optional(),
    simulateGpuCount: number((n) => n.int().min(0).max(16)).optional(),
    simulateGpuVramMb: positiveInt.optional(),
  })
  .strict();

const milliseconds = number((n) => n.min(0, "expected milliseconds >= 0"));
const mockSchema = z
  .object({
    mode: z.enum(MOCK_MODES).optional(),
    ttftMs: milliseconds.optional(),
    ttftJitterMs: milliseconds.optional(),
    itlMs: milliseconds.optional(),
    itlJitterMs: milliseconds.optional(),
    startupMs: milliseconds.optional(),
    failureRate: number((n) => n.min(0).max(1, "expected a fraction in [0, 1]")).optional(),
    seed: number((n) => n.int()).optional(),
    compatGpuCacheMetric: boolean().optional(),
  })
  .strict();

/** What a stack's `inference-runtime:*` keys may hold; every field optional, defaults applied later. */
export const stackConfigSchema = z
  .object({
    runtime: z.enum(RUNTIMES).optional(),
    device: z.enum(DEVICES).optional(),
    model: modelSchema.optional(),
    images: imagesSchema.optional(),
    gpu: gpuSchema.optional(),
    cache: cacheSchema.optional(),
    network: networkSchema.optional(),
    healthcheck: healthcheckSchema.optional(),
    server: serverSchema.optional(),
    agent: agentSchema.optional(),
    mock: mockSchema.optional(),
    smokeTest: boolean().optional(),
  })
  .strict()
  .superRefine(checkCrossFieldRules, { when: () => true });

export type StackConfig = z.output<typeof stackConfigSchema>;

// Runs even when single fields failed, so one preview reports every problem; hence the guards.
function checkCrossFieldRules(raw: StackConfig, ctx: z.RefinementCtx): void {
  const c = (raw ?? {}) as Record<string, any>;
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: "custom", path, message, input: undefined });
  const runtime = c.runtime ?? DEFAULT_RUNTIME;
  const device = c.device ?? DEFAULT_DEVICE;

  if (runtime === "mock" && device === "gpu") {
    issue(["device"], 'runtime "mock" simulates a GPU server on the CPU; expected device "cpu" or "auto"');
  }
  if (runtime === "mock" && isSet(c.gpu)) {
    issue(["gpu"], 'only applies to runtime "vllm" on device "gpu"; remove it for the mock runtime');
  }
  if (runtime !== "mock" && isSet(c.mock)) {
    issue(["mock"], 'only applies to runtime "mock"; remove it for runtime "vllm"');
  }
  if (c.gpu?.count !== undefined && c.gpu?.deviceIds !== undefined) {
    issue(["gpu"], "expected either count or deviceIds, not both");
  }
  const tp = c.model?.tensorParallelSize;
  const gpus = Array.isArray(c.gpu?.deviceIds) ? c.gpu.deviceIds.length : c.gpu?.count;
  if (typeof tp === "number" && typeof gpus === "number" && tp > gpus) {
    issue(["model", "tensorParallelSize"], `expected at most the ${gpus} GPU(s) requested in gpu, got ${tp}`);
  }
  if (typeof tp === "number" && tp > 1 && device === "cpu") {
    issue(["model", "tensorParallelSize"], 'expected 1 on device "cpu"');
  }
  const net = c.network ?? {};
  if (net.apiPort !== undefined && net.apiPort === net.agentPort) {
    issue(["network", "agentPort"], `expected a host port different from network.apiPort (${net.apiPort})`);
  }
  if (c.agent?.controlPlaneUrl !== undefined && c.agent?.instanceId === undefined) {
    issue(["agent", "instanceId"], "required when agent.controlPlaneUrl is set (the control plane's instance UUID)");
  }
  if (c.smokeTest === true && net.publish === false) {
    issue(["smokeTest"], "runs where Pulumi runs and needs the API on the host: set network.publish to true, or smokeTest to false");
  }
  const maxLen = c.model?.maxModelLen;
  if (typeof maxLen === "number" && maxLen < 16) {
    issue(["model", "maxModelLen"], "expected at least 16 tokens");
  }
}

// The project file declares `{}` as every object key's default, so empty means "not set".
function isSet(value: unknown): boolean {
  return value !== undefined && !(typeof value === "object" && value !== null && Object.keys(value).length === 0);
}
