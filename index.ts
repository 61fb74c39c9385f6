// The inference-runtime program: read and validate the stack config, then declare the runtime on
// the platform it names (a Docker host, or a Kubernetes cluster) and export where to reach it.
// Every refusal is a RunError: Pulumi prints its message alone, and nothing has been created.
import { loadConfig } from "./config/load";
import { DEFAULT_PLATFORM } from "./config/schema";

export = async () => {
  const loaded = loadConfig();
  // Each platform's program loads only its own provider SDK (each takes a while to load).
  if ((loaded.config.platform ?? DEFAULT_PLATFORM) === "kubernetes")
    return (await import("./program/kubernetes")).kubernetesProgram(loaded);
  return (await import("./program/docker")).dockerProgram(loaded);
};
