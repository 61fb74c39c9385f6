// Pure spec builders for platform "kubernetes": RuntimeConfig in, Kubernetes object specs out.
// The containers are the Docker target's (same `vllm serve` arguments, same environment, same
// ports, from spec/containers.ts); what differs is how a cluster expresses the rest: one pod per
// replica holding the server and its agent (one network namespace, as on Docker), probes instead
// of a healthcheck, a claim instead of volumes, a Secret instead of secret environment values.
import type * as k8s from "@pulumi/kubernetes";
import { AGENT_HEALTHCHECK, AGENT_ENV, PATHS, PORTS, SERVER_ENV } from "../contract";
import { RuntimeConfig } from "../config/defaults";
import { parseDurationMs } from "../config/duration";
import { SecretKey } from "../config/load";
import { AGENT_STATE_DIR, HF_HOME, loadingGrace, modelServerEnv, Role, serveArgs, VLLM_CACHE_ROOT, workerAgentEnv } from "./containers";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type Probe = k8s.types.input.core.v1.Probe;
type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Label keys that say which stack and role an object belongs to (the Docker labels' counterparts). */
export const K8S_LABELS = { stack: "inference-runtime.io/stack", role: "inference-runtime.io/role" } as const;
/** Container names inside the pod. */
export const CONTAINERS = { modelServer: "model-server", workerAgent: "worker-agent" } as const;
/** vLLM's PyTorch workers share tensors through /dev/shm; a container's default 64 MiB is too small. */
export const DEFAULT_SHM_MB = 2048;

/** Keys of the Kubernetes Secret, one per Pulumi secret that is set. */
export const SECRET_DATA_KEYS: Record<SecretKey, string> = { hfToken: "hf-token", apiKey: "api-key", workerAuthToken: "worker-auth-token" };

export function k8sLabels(cfg: RuntimeConfig, role: Role): Record<string, string> {
  return {
    "app.kubernetes.io/name": "inference-runtime",
    "app.kubernetes.io/instance": dnsLabel(cfg.stack),
    "app.kubernetes.io/component": role,
    "app.kubernetes.io/managed-by": "pulumi",
    [K8S_LABELS.stack]: dnsLabel(cfg.stack),
    [K8S_LABELS.role]: role,
  };
}

/** What the Deployment and the Service select: the stack's model-server pods. */
export function podSelector(cfg: RuntimeConfig): Record<string, string> {
  return { [K8S_LABELS.stack]: dnsLabel(cfg.stack), [K8S_LABELS.role]: "model-server" };
}

/** A stack name as a Kubernetes name: lower case, other characters as '-', at most 63. */
export function dnsLabel(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return s.slice(0, 63).replace(/-+$/, "") || "x";
}

export function objectNames(cfg: RuntimeConfig) {
  const prefix = dnsLabel(`${cfg.project}-${cfg.stack}`);
  return {
    namespace: cfg.kubernetes.namespace,
    deployment: prefix,
    service: prefix,
    secret: `${prefix}-secrets`,
    cacheClaim: dnsLabel(cfg.cache.volumeName),
  };
}

function seconds(duration: string): number {
  return Math.max(1, Math.ceil((parseDurationMs(duration) ?? 1000) / 1000));
}

/**
 * The model server's probes. The startup probe covers model loading: failureThreshold × period
 * is at least the loading grace (the start period, or `healthcheck.waitTimeoutSeconds` when longer:
 * the same bound as on Docker) and then the usual retries, so a slow load is never killed before
 * the user's bound; readiness and liveness take over only after it passed.
 */
export function modelServerProbes(cfg: RuntimeConfig): { startupProbe: Probe; readinessProbe: Probe; livenessProbe: Probe } {
  const h = cfg.healthcheck;
  const httpGet = { path: PATHS.serverHealth, port: "api" };
  const startPeriod = seconds(h.startInterval);
  return {
    startupProbe: {
      httpGet,
      periodSeconds: startPeriod,
      timeoutSeconds: seconds(h.timeout),
      failureThreshold: Math.ceil(seconds(loadingGrace(cfg)) / startPeriod) + h.retries,
    },
    readinessProbe: { httpGet, periodSeconds: seconds(h.interval), timeoutSeconds: seconds(h.timeout), failureThreshold: h.retries },
    livenessProbe: { httpGet, periodSeconds: seconds(h.interval), timeoutSeconds: seconds(h.timeout), failureThreshold: h.retries },
  };
}

/** The agent's probes: alive while its loop runs, ready once the server answers it (as its image's HEALTHCHECK). */
export function agentProbes(): { startupProbe: Probe; readinessProbe: Probe; livenessProbe: Probe } {
  const a = AGENT_HEALTHCHECK;
  const period = seconds(a.startInterval);
  const steady = { periodSeconds: seconds(a.interval), timeoutSeconds: seconds(a.timeout), failureThreshold: a.retries };
  return {
    startupProbe: {
      httpGet: { path: PATHS.agentHealth, port: "agent" },
      periodSeconds: period,
      timeoutSeconds: seconds(a.timeout),
      failureThreshold: Math.ceil(seconds(a.startPeriod) / period) + a.retries,
    },
    readinessProbe: { httpGet: { path: PATHS.agentReady, port: "agent" }, ...steady },
    livenessProbe: { httpGet: { path: PATHS.agentHealth, port: "agent" }, ...steady },
  };
}

/** `NAME=value` strings as Kubernetes env entries. */
function plainEnv(entries: string[]): EnvVar[] {
  return entries.map((e) => {
    const i = e.indexOf("=");
    return { name: e.slice(0, i), value: e.slice(i + 1) };
  });
}

function secretEnv(cfg: RuntimeConfig, present: SecretKey[], pairs: [string, SecretKey][]): EnvVar[] {
  const secret = objectNames(cfg).secret;
  return pairs
    .filter(([, key]) => present.includes(key))
    .map(([name, key]) => ({ name, valueFrom: { secretKeyRef: { name: secret, key: SECRET_DATA_KEYS[key] } } }));
}

/** GPUs a pod asks for: `gpu.count`, by default the tensor-parallel size; `all` means that too (a pod cannot claim a whole node's). */
export function gpuLimit(cfg: RuntimeConfig): number | undefined {
  if (cfg.device !== "gpu") return undefined;
  return cfg.gpu.count === "all" ? cfg.model.tensorParallelSize : cfg.gpu.count;
}

export function modelServerContainer(cfg: RuntimeConfig, image: string, secrets: SecretKey[]): Container {
  const limits: Record<string, string> = {};
  const gpus = gpuLimit(cfg);
  if (gpus !== undefined) limits["nvidia.com/gpu"] = String(gpus);
  if (cfg.server.memoryLimitMb) limits.memory = `${cfg.server.memoryLimitMb}Mi`;
  // One claim for both caches, as two directories of it.
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [
    { name: "cache", mountPath: HF_HOME, subPath: "huggingface" },
    { name: "cache", mountPath: VLLM_CACHE_ROOT, subPath: "vllm" },
  ];
  if (cfg.runtime === "vllm") mounts.push({ name: "dshm", mountPath: "/dev/shm" });
  const vllmOnCpu = cfg.runtime === "vllm" && cfg.device === "cpu";
  return {
    name: CONTAINERS.modelServer,
    image,
    imagePullPolicy: cfg.kubernetes.imagePullPolicy,
    // The images' entrypoint is the server (`vllm serve`); these are its arguments, as on Docker.
    args: serveArgs(cfg),
    env: [
      ...plainEnv(modelServerEnv(cfg)),
      ...secretEnv(cfg, secrets, [
        [SERVER_ENV.hfToken, "hfToken"],
        [SERVER_ENV.hfHubToken, "hfToken"],
        [SERVER_ENV.apiKey, "apiKey"],
      ]),
    ],
    ports: [{ name: "api", containerPort: PORTS.api, protocol: "TCP" }],
    ...modelServerProbes(cfg),
    volumeMounts: mounts,
    ...(Object.keys(limits).length > 0 ? { resources: { limits } } : {}),
    ...(vllmOnCpu ? { securityContext: { capabilities: { add: ["SYS_NICE"] } } } : {}),
  };
}

export function workerAgentContainer(cfg: RuntimeConfig, image: string, secrets: SecretKey[]): Container {
  return {
    name: CONTAINERS.workerAgent,
    image,
    imagePullPolicy: cfg.kubernetes.imagePullPolicy,
    env: [
      ...plainEnv(workerAgentEnv(cfg)),
      ...secretEnv(cfg, secrets, [
        [AGENT_ENV.authToken, "workerAuthToken"],
        [AGENT_ENV.vllmApiKey, "apiKey"],
      ]),
    ],
    ports: [{ name: "agent", containerPort: PORTS.agent, protocol: "TCP" }],
    ...agentProbes(),
    volumeMounts: [{ name: "agent-state", mountPath: AGENT_STATE_DIR }],
  };
}

export interface PodImages {
  modelServer: string;
  workerAgent?: string;
}

/** One replica: the model server and, when enabled, the agent in the same pod. */
export function podSpec(cfg: RuntimeConfig, images: PodImages, secrets: SecretKey[]): PodSpec {
  const k = cfg.kubernetes;
  const containers = [modelServerContainer(cfg, images.modelServer, secrets)];
  const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "cache", persistentVolumeClaim: { claimName: objectNames(cfg).cacheClaim } }];
  if (cfg.runtime === "vllm") {
    volumes.push({ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: `${cfg.server.shmSizeMb ?? DEFAULT_SHM_MB}Mi` } });
  }
  if (cfg.agent.enabled && images.workerAgent) {
    containers.push(workerAgentContainer(cfg, images.workerAgent, secrets));
    // Per pod: a rescheduled pod registers again, as a new container does on Docker without its volume.
    volumes.push({ name: "agent-state", emptyDir: {} });
  }
  return {
    containers,
    volumes,
    // The server drains for --shutdown-timeout; the kubelet must not kill it before.
    terminationGracePeriodSeconds: cfg.server.stopTimeoutSeconds,
    ...(Object.keys(k.nodeSelector).length > 0 ? { nodeSelector: k.nodeSelector } : {}),
    ...(k.tolerations.length > 0 ? { tolerations: k.tolerations } : {}),
    ...(k.runtimeClassName ? { runtimeClassName: k.runtimeClassName } : {}),
  };
}

export function deploymentSpec(cfg: RuntimeConfig, images: PodImages, secrets: SecretKey[]): k8s.types.input.apps.v1.DeploymentSpec {
  return {
    replicas: cfg.kubernetes.replicas,
    selector: { matchLabels: podSelector(cfg) },
    // A GPU node rarely has a spare GPU for a surge pod: replace in place there.
    strategy: cfg.device === "gpu" ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: { metadata: { labels: k8sLabels(cfg, "model-server") }, spec: podSpec(cfg, images, secrets) },
  };
}

export function serviceSpec(cfg: RuntimeConfig): k8s.types.input.core.v1.ServiceSpec {
  const ports: k8s.types.input.core.v1.ServicePort[] = [{ name: "api", port: PORTS.api, targetPort: "api", protocol: "TCP" }];
  if (cfg.agent.enabled) ports.push({ name: "agent", port: PORTS.agent, targetPort: "agent", protocol: "TCP" });
  return { type: cfg.kubernetes.serviceType, selector: podSelector(cfg), ports };
}

export function cacheClaimSpec(cfg: RuntimeConfig): k8s.types.input.core.v1.PersistentVolumeClaimSpec {
  return {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: `${cfg.kubernetes.cacheSizeGb}Gi` } },
    ...(cfg.kubernetes.storageClass ? { storageClassName: cfg.kubernetes.storageClass } : {}),
  };
}

/** In-cluster URLs of the Service, and how to reach it from the machine running Pulumi. */
export function kubernetesEndpoints(cfg: RuntimeConfig) {
  const n = objectNames(cfg);
  const host = `${n.service}.${n.namespace}.svc.cluster.local`;
  const forwards = [`${PORTS.api}:${PORTS.api}`, ...(cfg.agent.enabled ? [`${PORTS.agent}:${PORTS.agent}`] : [])];
  return {
    apiUrl: `http://${host}:${PORTS.api}`,
    agentUrl: cfg.agent.enabled ? `http://${host}:${PORTS.agent}` : undefined,
    portForwardCommand: `kubectl port-forward --namespace ${n.namespace} service/${n.service} ${forwards.join(" ")}`,
  };
}

/** What `pulumi destroy` leaves in the cluster, as the `keptOnDestroy` output lists it. */
export function kubernetesKeptOnDestroy(cfg: RuntimeConfig): string[] {
  const k = cfg.kubernetes;
  const kept: string[] = [];
  if (cfg.cache.keepOnDestroy) kept.push(`persistentvolumeclaim ${k.namespace}/${objectNames(cfg).cacheClaim}`);
  // Deleting a namespace deletes what is in it: it stays while it holds a kept claim.
  if (!k.createNamespace || cfg.cache.keepOnDestroy) kept.push(`namespace ${k.namespace}`);
  return kept;
}
