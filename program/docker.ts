// Platform "docker": check the engine, decide the device from what it reports, refuse taken host
// ports, declare the runtime, and return the stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { resolveConfig } from "../config/defaults";
import { LoadedConfig } from "../config/load";
import { DEFAULT_DEVICE, DEFAULT_RUNTIME } from "../config/schema";
import { engineFeatures, engineProblem, engineTarget, inspectEngine, inspectRuntimes } from "../host/engine";
import { DockerSettings } from "../host/engineTarget";
import { resolveDevice } from "../host/device";
import { takenPorts } from "../host/ports";
import { InferenceRuntime } from "../components/inferenceRuntime";
import { warnIfServerReplaced } from "./replacementNotice";
import { containerNames, keptOnDestroy, publishedPortKeys } from "../spec/containers";

export async function dockerProgram({ namespace, config: stackConfig, secrets }: LoadedConfig) {
  const isPreview = pulumi.runtime.isDryRun();
  const target = engineTarget(dockerSettings());
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
    platform: config.platform,
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
}

/** The docker provider's own settings that name the engine; secret ones read without a warning. */
function dockerSettings(): DockerSettings {
  const keys = ["host", "certPath", "caMaterial", "certMaterial", "keyMaterial"] as const;
  return Object.fromEntries(keys.map((key) => [key, pulumi.runtime.getConfig(`docker:${key}`)]).filter(([, v]) => v !== undefined));
}
