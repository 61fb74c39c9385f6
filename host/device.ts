// Which device a stack runs on, decided from what the Docker host reports. No Pulumi import:
// the caller passes the report and whether this is a preview.
import { RuntimesReport } from "./engine";

export const NVIDIA_HELP =
  "install the NVIDIA driver and the NVIDIA Container Toolkit on the Docker host, then run " +
  "`nvidia-ctk runtime configure --runtime=docker` and restart dockerd";

export interface DeviceDecision {
  device: "cpu" | "gpu";
  /** Shown as warnings: why auto chose what it chose, or why a GPU stack will fail at `up`. */
  notes: string[];
  /** Set when `up` must stop before creating anything: what is missing and how to add it. */
  refusal?: string;
}

/**
 * `auto` follows the host; `gpu` on a host without the NVIDIA runtime is refused before anything
 * is created on `up`, but only warns on preview, so GPU stacks can be previewed anywhere.
 */
export function resolveDevice(
  requested: "cpu" | "gpu" | "auto",
  runtime: "mock" | "vllm",
  report: () => RuntimesReport,
  isPreview: boolean,
): DeviceDecision {
  if (requested === "cpu") return { device: "cpu", notes: [] };
  if (requested === "auto" && runtime === "mock") {
    return { device: "cpu", notes: ['device "auto" with runtime "mock": running on cpu'] };
  }
  const host = report();
  if (requested === "auto") {
    return {
      device: host.nvidiaRuntime ? "gpu" : "cpu",
      notes: [`device "auto" chose ${host.nvidiaRuntime ? "gpu" : "cpu"} (${host.detail})`],
    };
  }
  if (host.nvidiaRuntime) return { device: "gpu", notes: [] };
  const message = `device "gpu" needs the NVIDIA container runtime, which this Docker host lacks (${host.detail}): ${NVIDIA_HELP}`;
  if (isPreview) return { device: "gpu", notes: [`${message}. \`pulumi up\` will stop here.`] };
  return { device: "gpu", notes: [], refusal: message };
}
