// The inference-runtime program: read and validate the stack config, decide the device, declare
// the runtime, export where to reach it.
import * as pulumi from "@pulumi/pulumi";
import { resolveConfig } from "./components/defaults";
import { inspectDockerHost, resolveDevice } from "./components/gpuHost";
import { InferenceRuntime } from "./components/inferenceRuntime";
import { loadConfig } from "./components/loadConfig";

const { config: stackConfig, secrets } = loadConfig();
const decision = resolveDevice(
  stackConfig.device ?? "auto",
  stackConfig.runtime ?? "mock",
  inspectDockerHost,
  pulumi.runtime.isDryRun(),
);
decision.notes.forEach((note) => pulumi.log.warn(note));

const config = resolveConfig(stackConfig, { project: pulumi.getProject(), stack: pulumi.getStack() }, decision.device);
const runtime = new InferenceRuntime("runtime", { config, secrets });

export const apiUrl = runtime.apiUrl;
export const agentUrl = runtime.agentUrl;
export const servedModelName = runtime.servedModelName;
export const curlCommand = runtime.curlCommand;
export const runtimeKind = config.runtime;
export const device = config.device;
export const modelServerContainer = runtime.modelServer.containerName;
export const workerAgentContainer = runtime.workerAgent?.containerName;
export const cacheVolume = runtime.cache.volumeName;
export const cacheKeptOnDestroy = runtime.cache.keptOnDestroy;
export const smokeTestResult = runtime.smokeTest?.result;
