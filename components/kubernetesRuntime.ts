import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { RuntimeConfig } from "../config/defaults";
import { RuntimeSecrets, SecretKey } from "../config/load";
import { ClusterAccess, RolloutGate } from "./rolloutGate";
import {
  cacheClaimSpec,
  deploymentSpec,
  k8sLabels,
  kubernetesEndpoints,
  kubernetesKeptOnDestroy,
  objectNames,
  PodImages,
  SECRET_DATA_KEYS,
  serviceSpec,
} from "../spec/kubernetes";

export interface KubernetesRuntimeArgs {
  /** The resolved stack configuration, platform "kubernetes" (device already decided: cpu or gpu). */
  config: RuntimeConfig;
  /** HF token, worker token and API key, each a secret Output when set; they become one Kubernetes Secret. */
  secrets: RuntimeSecrets;
  /** Images the nodes pull (or have imported): the model server's and, with the agent, the agent's. */
  images: PodImages;
  /** The cluster, as the Kubernetes provider reaches it (for the rollout gate's kubectl). */
  cluster: ClusterAccess;
}

// The provider's own await would hold a crash-looping Deployment for its whole timeout and say
// little; the rollout gate fails in seconds with logs. A claim bound on first use (a common
// storage class mode) would never be Bound before its pod exists, so it is not awaited either.
const SKIP_AWAIT = { "pulumi.com/skipAwait": "true" };

/**
 * One inference instance on a Kubernetes cluster: a Deployment of pods each holding the model
 * server and its worker-agent (one network namespace, as on Docker), a claim for the model cache,
 * a Service for 8000 and 8080, a Secret for the secrets, and a gate that waits for the rollout.
 */
export class KubernetesRuntime extends pulumi.ComponentResource {
  /** OpenAI-compatible API base URL inside the cluster (without /v1). */
  public readonly apiUrl: string;
  /** Worker-agent base URL inside the cluster, when the agent is enabled. */
  public readonly agentUrl: string | undefined;
  /** How to reach the Service from the machine running Pulumi. */
  public readonly portForwardCommand: string;
  /** The model name clients must send; equals the agent's MODEL_ID by construction. */
  public readonly servedModelName: string;
  public readonly namespace: pulumi.Output<string>;
  public readonly deploymentName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  public readonly cacheClaimName: pulumi.Output<string>;
  /** The Service's external address (LoadBalancer ingress, or node ports), when its type has one. */
  public readonly serviceAddress: pulumi.Output<string | undefined>;
  /** What destroy leaves in the cluster. */
  public readonly keptOnDestroy: string[];
  /** True when destroy leaves the cache claim (and the weights on it). */
  public readonly cacheKeptOnDestroy: boolean;
  public readonly rollout: RolloutGate;

  constructor(name: string, args: KubernetesRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:KubernetesRuntime", name, {}, opts);
    const cfg = args.config;
    const names = objectNames(cfg);
    const keep = cfg.cache.keepOnDestroy;
    const child = { parent: this };

    let namespace: pulumi.Output<string> = pulumi.output(names.namespace);
    const inNamespace: pulumi.Resource[] = [];
    if (cfg.kubernetes.createNamespace) {
      // Kept with the cache: deleting a namespace deletes the claim in it.
      const ns = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        { metadata: { name: names.namespace, labels: k8sLabels(cfg, "namespace") } },
        { ...child, retainOnDelete: keep },
      );
      namespace = ns.metadata.name;
      inNamespace.push(ns);
    }
    const meta = (objectName: string, role: Parameters<typeof k8sLabels>[1], annotations?: Record<string, string>) => ({
      name: objectName,
      namespace,
      labels: k8sLabels(cfg, role),
      ...(annotations ? { annotations } : {}),
    });

    const present = (Object.keys(args.secrets) as SecretKey[]).filter((k) => args.secrets[k] !== undefined);
    const dependsOn: pulumi.Resource[] = [...inNamespace];
    if (present.length > 0) {
      const stringData: Record<string, pulumi.Output<string>> = {};
      for (const key of present) stringData[SECRET_DATA_KEYS[key]] = args.secrets[key]!;
      dependsOn.push(
        new k8s.core.v1.Secret(`${name}-secrets`, { metadata: meta(names.secret, "secrets"), type: "Opaque", stringData }, child),
      );
    }

    const claim = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-cache`,
      { metadata: meta(names.cacheClaim, "model-cache", SKIP_AWAIT), spec: cacheClaimSpec(cfg) },
      { ...child, retainOnDelete: keep, dependsOn: inNamespace },
    );
    dependsOn.push(claim);

    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      { metadata: meta(names.deployment, "model-server", SKIP_AWAIT), spec: deploymentSpec(cfg, args.images, present) },
      { ...child, dependsOn },
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: meta(names.service, "service", SKIP_AWAIT), spec: serviceSpec(cfg) },
      { ...child, dependsOn: inNamespace },
    );
    this.rollout = new RolloutGate(
      `${name}-rollout`,
      { deployment, timeoutSeconds: cfg.healthcheck.waitTimeoutSeconds, cluster: args.cluster },
      child,
    );

    const urls = kubernetesEndpoints(cfg);
    this.apiUrl = urls.apiUrl;
    this.agentUrl = urls.agentUrl;
    this.portForwardCommand = urls.portForwardCommand;
    this.servedModelName = cfg.model.servedName;
    this.namespace = namespace;
    this.deploymentName = deployment.metadata.name;
    this.serviceName = service.metadata.name;
    this.cacheClaimName = claim.metadata.name;
    this.serviceAddress = pulumi.all([service.spec, service.status]).apply(([spec, status]) => serviceAddress(spec, status));
    this.keptOnDestroy = kubernetesKeptOnDestroy(cfg);
    this.cacheKeptOnDestroy = keep;
    this.registerOutputs({
      apiUrl: this.apiUrl,
      agentUrl: this.agentUrl,
      portForwardCommand: this.portForwardCommand,
      servedModelName: this.servedModelName,
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      rollout: this.rollout.result,
    });
  }
}

function serviceAddress(spec: k8s.types.output.core.v1.ServiceSpec, status: k8s.types.output.core.v1.ServiceStatus | undefined) {
  const ingress = status?.loadBalancer?.ingress?.[0];
  if (ingress) return ingress.hostname ?? ingress.ip;
  if (spec.type === "NodePort") return spec.ports.map((p) => `<node address>:${p.nodePort} (${p.name})`).join(", ");
  return undefined;
}
