// The rules of the pack, as pure functions of what the engine sent: each returns the violations it
// finds, one message per problem, naming the resource and what to change. index.ts registers them
// with @pulumi/policy; the unit tests call them directly.
import { asArray, asRecord, durationSeconds, isSecretAt, known, labelsOf, ResourceView, stackOf, UNKNOWN } from "./view";

export const CONTAINER = "docker:index/container:Container";
export const VOLUME = "docker:index/volume:Volume";
export const NETWORK = "docker:index/network:Network";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const IMAGE = "docker:index/image:Image";
export const COMMAND = "command:local:Command";
export const STACK = "pulumi:pulumi:Stack";

export const STACK_LABEL = "io.inference-runtime.stack";
export const ROLE_LABEL = "io.inference-runtime.role";
export const ROLES = ["model-server", "worker-agent", "model-cache", "network", "image"] as const;

/** Environment variables that carry credentials: their values must reach the engine as secrets. */
export const SECRET_ENV_NAMES = ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "VLLM_API_KEY", "WORKER_AUTH_TOKEN"] as const;

/** Least healthcheck start period per runtime, in seconds: how long a cold start may take. */
export const MIN_START_PERIOD_SECONDS = { "vllm-gpu": 600, "vllm-cpu": 1800, mock: 0 } as const;

export const DEFAULT_ALLOWED_ADDRESSES = ["127.0.0.1", "::1"];
export const DEFAULT_MAX_GPU_MEMORY_UTILIZATION = 0.9;

/** A violation of a stack policy, on the resource it names (the stack itself when none). */
export interface StackViolation {
  urn?: string;
  message: string;
}

const describe = (view: ResourceView) => {
  const name = view.props.name;
  return typeof name === "string" && name !== "" ? `${kindOf(view)} ${name} (${view.name})` : `${kindOf(view)} ${view.name}`;
};

function kindOf(view: ResourceView): string {
  switch (view.type) {
    case CONTAINER:
      return "container";
    case VOLUME:
      return "volume";
    case NETWORK:
      return "network";
    case REMOTE_IMAGE:
    case IMAGE:
      return "image";
    case COMMAND:
      return "image build";
    default:
      return view.type;
  }
}

/** host-ports-loopback: every published host port binds to an allowed address (loopback by default). */
export function hostPortsLoopback(view: ResourceView, allowedAddresses: readonly string[] = DEFAULT_ALLOWED_ADDRESSES): string[] {
  if (view.type !== CONTAINER || !known(view.props.ports)) return [];
  const found: string[] = [];
  for (const port of asArray(view.props.ports)) {
    const { ip, external, internal } = asRecord(port);
    if (ip === UNKNOWN || external === undefined) continue;
    // Docker publishes on every interface when no address is given.
    const address = typeof ip === "string" && ip !== "" ? ip : "0.0.0.0";
    if (allowedAddresses.includes(address)) continue;
    found.push(
      `${describe(view)} publishes host port ${String(external)} (container port ${String(internal)}) on ${address}: ` +
        `bind it to 127.0.0.1 (config network.bindAddress), or, if this stack must be reachable from other hosts, ` +
        `name ${address} in the stack's policy config (host-ports-loopback.allowedAddresses)`,
    );
  }
  return found;
}

/** What is wrong with an image reference, or undefined when it names a release (tag) or a digest. */
export function unpinnedReason(reference: string): string | undefined {
  if (/^sha256:[0-9a-f]{12,64}$/.test(reference) || /@sha256:[0-9a-f]{64}$/.test(reference)) return undefined;
  const lastSlash = reference.lastIndexOf("/");
  const colon = reference.indexOf(":", lastSlash + 1);
  if (colon < 0) return "has no tag, which means `latest`";
  const tag = reference.slice(colon + 1);
  if (tag === "" || tag === "latest") return "is tagged `latest`, which names a different image whenever one is pushed";
  return undefined;
}

const PIN_ADVICE =
  "pin a release tag (e.g. vllm/vllm-openai:v0.31.0, config images.vllmGpu / images.vllmCpu / images.*) or a digest (@sha256:...)";

/**
 * images-pinned: pulled images and container images name a release tag or a digest, never
 * `latest` or no tag. The program's own builds (`inference-runtime/<service>:<stack>`, one tag per
 * stack) are pinned by content instead: they must carry the digest of what goes into the image as
 * their trigger, so a changed bundle or Dockerfile is a new build and an unchanged one is not.
 */
export function imagesPinned(view: ResourceView): string[] {
  const check = (reference: unknown, key: string): string[] => {
    if (typeof reference !== "string") return [];
    const reason = unpinnedReason(reference);
    if (!reason) return [];
    const what = view.props.name === reference ? describe(view) : `${describe(view)}: ${key} ${reference}`;
    return [`${what} ${reason}: ${PIN_ADVICE}`];
  };
  switch (view.type) {
    case REMOTE_IMAGE:
      return check(view.props.name, "image");
    case IMAGE:
      return check(view.props.imageName, "image");
    case CONTAINER:
      return check(view.props.image, "image");
    case COMMAND: {
      const tag = asRecord(view.props.environment).IMAGE_TAG;
      if (typeof tag !== "string") return [];
      const found = check(tag, "build tag").map((m) =>
        m.replace(PIN_ADVICE, "tag local builds with the stack name (inference-runtime/<service>:<stack>)"),
      );
      const triggers = view.props.triggers;
      if (known(triggers) && asArray(triggers).length === 0) {
        found.push(
          `${describe(view)} builds ${tag} without a content digest in its triggers: a changed bundle or Dockerfile would not rebuild it; pass the image digest (imageDigest) as a trigger`,
        );
      }
      return found;
    }
    default:
      return [];
  }
}

/** secret-env-values: credentials in a container's environment reach the engine as secrets. */
export function secretEnvValues(view: ResourceView): string[] {
  if (view.type !== CONTAINER) return [];
  const found: string[] = [];
  asArray(view.props.envs).forEach((entry, i) => {
    if (typeof entry !== "string") return;
    const name = entry.split("=", 1)[0];
    if (!(SECRET_ENV_NAMES as readonly string[]).includes(name) || isSecretAt(view, `envs[${i}]`)) return;
    // The value itself is never repeated.
    found.push(
      `${describe(view)} sets ${name} in plain text: its value would be stored unencrypted in the state and shown in previews; ` +
        `set it with \`pulumi config set --secret\` (hfToken, apiKey, workerAuthToken) and pass it as a secret Output (pulumi.secret)`,
    );
  });
  return found;
}

/** The runtime a model-server container runs, from what it is given: GPUs, or mock-vllm's settings. */
export function modelServerRuntime(view: ResourceView): keyof typeof MIN_START_PERIOD_SECONDS {
  const gpu = asArray(view.props.deviceRequests).some((r) => {
    const { driver, capabilities } = asRecord(r);
    return driver === "nvidia" || asArray(capabilities).includes("gpu");
  });
  if (gpu) return "vllm-gpu";
  const mock = asArray(view.props.envs).some((e) => typeof e === "string" && e.startsWith("MOCK_VLLM_"));
  return mock ? "mock" : "vllm-cpu";
}

const isModelServer = (view: ResourceView) => view.type === CONTAINER && labelsOf(view).get(ROLE_LABEL) === "model-server";

/** model-server-start-period: a model server has a healthcheck whose start period covers its cold start. */
export function modelServerStartPeriod(view: ResourceView): string[] {
  if (!isModelServer(view)) return [];
  const health = view.props.healthcheck;
  if (health === UNKNOWN) return [];
  const tests = asArray(asRecord(health).tests);
  if (health === undefined || tests.length === 0 || tests[0] === "NONE") {
    return [
      `${describe(view)} has no healthcheck: \`pulumi up\` could not tell a loading model from a broken server; declare one (config healthcheck.*)`,
    ];
  }
  const runtime = modelServerRuntime(view);
  const least = MIN_START_PERIOD_SECONDS[runtime];
  const startPeriod = asRecord(health).startPeriod;
  const seconds = startPeriod === undefined ? 0 : durationSeconds(startPeriod);
  if (seconds === undefined) {
    return [`${describe(view)} has a healthcheck start period ${String(startPeriod)} that is not a duration (e.g. 10m0s)`];
  }
  if (seconds >= least) return [];
  const needed = `${least / 60}m0s`;
  return [
    `${describe(view)} runs ${runtime === "vllm-gpu" ? "vLLM on a GPU" : "vLLM on a CPU"} with a healthcheck start period of ` +
      `${String(startPeriod ?? "0s")}, shorter than the ${needed} a cold start (weight download and load) may take: ` +
      `set healthcheck.startPeriod or healthcheck.waitTimeoutSeconds (the start period is the longer of the two) to at least ${needed}, ` +
      "or leave them unset for the runtime's defaults",
  ];
}

/** docker-labels: every Docker object the stack creates carries its stack and role labels. */
export function dockerLabels(view: ResourceView): string[] {
  const stack = stackOf(view.urn);
  if (view.type === CONTAINER || view.type === VOLUME || view.type === NETWORK || view.type === IMAGE) {
    if (!known(view.props.labels)) return [];
    const labels = labelsOf(view);
    const found: string[] = [];
    if (labels.get(STACK_LABEL) !== stack) {
      found.push(
        `${describe(view)} lacks the label ${STACK_LABEL}=${stack}${labels.has(STACK_LABEL) ? ` (it has ${String(labels.get(STACK_LABEL))})` : ""}: add the spec's labels(cfg, role) to it`,
      );
    }
    const role = labels.get(ROLE_LABEL);
    if (!(ROLES as readonly unknown[]).includes(role)) {
      found.push(
        `${describe(view)} lacks a ${ROLE_LABEL} label (one of ${ROLES.join(", ")})${role === undefined ? "" : `, it has ${String(role)}`}: add the spec's labels(cfg, role) to it`,
      );
    }
    return found;
  }
  if (view.type === COMMAND) {
    const env = asRecord(view.props.environment);
    if (typeof env.IMAGE_TAG !== "string") return [];
    const script = view.props.create;
    const found: string[] = [];
    if (typeof script === "string" && !(script.includes(`--label ${STACK_LABEL}=`) && script.includes(`--label ${ROLE_LABEL}=image`))) {
      found.push(
        `${describe(view)} builds ${env.IMAGE_TAG} without the labels ${STACK_LABEL} and ${ROLE_LABEL}=image: pass both to docker build`,
      );
    }
    if (known(env.STACK) && env.STACK !== stack) {
      found.push(`${describe(view)} labels its image with stack ${String(env.STACK)}, not ${stack}: set STACK to the stack name`);
    }
    return found;
  }
  return [];
}

/**
 * gpu-cache-retained: on a GPU stack, `pulumi destroy` keeps the model-cache volumes.
 *
 * Policies are not shown the retainOnDelete option (the engine sends protect, ignoreChanges,
 * deleteBeforeReplace, aliases, timeouts and parent only), so this reads the stack's own account
 * of what destroy keeps, the `keptOnDestroy` output, which the program derives from the same
 * setting (cache.keepOnDestroy) as the volumes' retainOnDelete; the unit tests hold the two equal.
 */
export function gpuCacheRetained(resources: readonly ResourceView[]): StackViolation[] {
  const gpu = resources.some((r) => isModelServer(r) && modelServerRuntime(r) === "vllm-gpu");
  if (!gpu) return [];
  const caches = resources.filter((r) => r.type === VOLUME && labelsOf(r).get(ROLE_LABEL) === "model-cache");
  const stack = resources.find((r) => r.type === STACK);
  const kept = stack?.props.keptOnDestroy;
  if (kept === UNKNOWN) return [];
  const keptList = asArray(kept).filter((k): k is string => typeof k === "string");
  return caches
    .filter((v) => typeof v.props.name !== "string" || !keptList.includes(`volume ${v.props.name}`))
    .map((v) => ({
      urn: v.urn,
      message:
        `${describe(v)} of a GPU stack would be deleted by \`pulumi destroy\`, and with it gigabytes of downloaded weights: ` +
        `set cache.keepOnDestroy: true in the stack file (the volumes are then declared with retainOnDelete)`,
    }));
}

/** gpu-memory-utilization (advisory): vLLM is left some GPU memory beyond its KV cache. */
export function gpuMemoryUtilization(view: ResourceView, max: number = DEFAULT_MAX_GPU_MEMORY_UTILIZATION): string[] {
  if (!isModelServer(view) || modelServerRuntime(view) !== "vllm-gpu") return [];
  const args = asArray(view.props.command);
  const i = args.indexOf("--gpu-memory-utilization");
  const value = i >= 0 ? Number(args[i + 1]) : NaN;
  if (!(value > max)) return [];
  return [
    `${describe(view)} lets vLLM take ${value * 100}% of each GPU's memory: above ${max * 100}% CUDA graphs, the ` +
      `sampler and any other process on the GPU can run out of memory at start; consider model.gpuMemoryUtilization <= ${max}`,
  ];
}
