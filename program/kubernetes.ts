// Platform "kubernetes": decide the device from the config alone (a cluster's GPUs are the
// scheduler's business), declare the runtime on the cluster the Kubernetes provider is configured
// for (`kubernetes:kubeconfig` / `kubernetes:context`, else KUBECONFIG), return the outputs.
import * as pulumi from "@pulumi/pulumi";
import { resolveConfig } from "../config/defaults";
import { LoadedConfig } from "../config/load";
import { DEFAULT_DEVICE, DEFAULT_RUNTIME } from "../config/schema";
import { KubernetesRuntime } from "../components/kubernetesRuntime";

export async function kubernetesProgram({ config: stackConfig, secrets }: LoadedConfig) {
  const runtime = stackConfig.runtime ?? DEFAULT_RUNTIME;
  const requested = stackConfig.device ?? DEFAULT_DEVICE;
  const device = requested === "auto" ? (runtime === "vllm" ? "gpu" : "cpu") : requested;
  if (requested === "auto") pulumi.log.warn(`device "auto" on platform "kubernetes" with runtime "${runtime}": ${device}`);
  const config = resolveConfig(stackConfig, { project: pulumi.getProject(), stack: pulumi.getStack() }, device);

  const provider = new pulumi.Config("kubernetes");
  const kubeconfig = provider.get("kubeconfig");
  const images = {
    // The schema requires the mock's and the agent's images on this platform.
    modelServer: config.runtime === "vllm" ? (device === "gpu" ? config.images.vllmGpu : config.images.vllmCpu) : config.images.mockVllm!,
    workerAgent: config.agent.enabled ? config.images.workerAgent : undefined,
  };
  const k8sRuntime = new KubernetesRuntime("runtime", {
    config,
    secrets,
    images,
    cluster: { kubeconfig: kubeconfig ? pulumi.secret(kubeconfig) : undefined, context: provider.get("context") },
  });
  return {
    platform: config.platform,
    apiUrl: k8sRuntime.apiUrl,
    agentUrl: k8sRuntime.agentUrl,
    portForwardCommand: k8sRuntime.portForwardCommand,
    serviceAddress: k8sRuntime.serviceAddress,
    servedModelName: k8sRuntime.servedModelName,
    runtimeKind: config.runtime,
    device: config.device,
    namespace: k8sRuntime.namespace,
    deploymentName: k8sRuntime.deploymentName,
    serviceName: k8sRuntime.serviceName,
    cacheClaim: k8sRuntime.cacheClaimName,
    cacheKeptOnDestroy: k8sRuntime.cacheKeptOnDestroy,
    keptOnDestroy: k8sRuntime.keptOnDestroy,
    rolloutResult: k8sRuntime.rollout.result,
  };
}
