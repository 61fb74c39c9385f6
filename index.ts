// The inference-runtime program: read and validate the stack config, check the Docker engine,
// decide the device, declare the runtime, export where to reach it. Every refusal is a RunError:
// Pulumi prints its message alone, and nothing has been created.
import * as pulumi from "@pulumi/pulumi";
import { resolveConfig } from "./config/defaults";
import { DEFAULT_DEVICE, DEFAULT_RUNTIME } from "./config/schema";
import { engineFeatures, engineProblem, engineTarget, inspectEngine, inspectRuntimes } from "./host/engine";
import { resolveDevice } from "./host/device";
import { takenPorts } from "./host/ports";
import { InferenceRuntime } from "./components/inferenceRuntime";
import { loadConfig } from "./config/load";
import { warnIfServerReplaced } from "./program/replacementNotice";
import { containerNames, keptOnDestroy, publishedPortKeys } from "./spec/containers";

export = async () => {
  const { namespace, config: stackConfig, secrets } = loadConfig();
  const isPreview = pulumi.runtime.isDryRun();

  const target = engineTarget(new pulumi.Config("docker").get("host"));
  const engine = inspectEngine(target);
  const problem = engineProblem(engine);
  if (problem) throw new pulumi.RunError(problem);

  const requested = { device: stackConfig.device ?? DEFAULT_DEVICE, runtime: stackConfig.runtime ?? DEFAULT_RUNTIME };
  const decision = resolveDevice(requested.device, requested.runtime, () => inspectRuntimes(target), isPreview);
  decision.notes.forEach((note) => pulumi.log.warn(note));
  if (decision.refusal) throw new pulumi.RunError(decision.refusal);

  const config = resolveConfig(stackConfig, { project: pulumi.getProject(), stack: pulumi.getStack() }, decision.device);
  if (!isPreview) {
    const taken = await takenPorts(target, publishedPortKeys(config), [containerNames(config).modelServer], namespace);
    if (taken.length > 0) throw new pulumi.RunError(taken.join("\n"));
  }

  const runtime = new InferenceRuntime("runtime", { config, secrets, engine: engineFeatures(engine) });
  warnIfServerReplaced(runtime.serverSpecDigest, containerNames(config).modelServer, config.healthcheck.waitTimeoutSeconds);
  return {
    apiUrl: runtime.apiUrl,
    agentUrl: runtime.agentUrl,
    servedModelName: runtime.servedModelName,
    curlCommand: runtime.curlCommand,
    runtimeKind: config.runtime,
    device: config.device,
    modelServerContainer: runtime.modelServer.containerName,
    modelServerIps: runtime.modelServer.ips,
    workerAgentContainer: runtime.workerAgent?.containerName,
    cacheVolume: runtime.cache.volumeName,
    cacheKeptOnDestroy: runtime.cache.keptOnDestroy,
    keptOnDestroy: keptOnDestroy(config),
    smokeTestResult: runtime.smokeTest?.result,
    modelServerSpecDigest: runtime.serverSpecDigest,
  };
};
