// Which device a stack runs on, decided from what the Docker host reports. No Pulumi import:
// the caller passes the report and whether this is a preview.
import { execFileSync } from "node:child_process";

export interface DockerHostReport {
  /** True when the engine lists an `nvidia` runtime (NVIDIA Container Toolkit configured). */
  nvidiaRuntime: boolean;
  /** What was seen, for messages: the runtimes listed, or why the engine could not be asked. */
  detail: string;
}

/** Asks the Docker engine (DOCKER_HOST or the local socket) which runtimes it has. */
export function inspectDockerHost(): DockerHostReport {
  try {
    const out = execFileSync("docker", ["info", "--format", "{{json .Runtimes}}"], {
      encoding: "utf8",
      timeout: 15_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const runtimes = Object.keys(JSON.parse(out) ?? {});
    return { nvidiaRuntime: runtimes.includes("nvidia"), detail: `engine runtimes: ${runtimes.join(", ") || "none"}` };
  } catch (err) {
    const reason = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    return { nvidiaRuntime: false, detail: `could not ask the Docker engine (${reason.split("\n")[0]})` };
  }
}

export const NVIDIA_HELP =
  "install the NVIDIA driver and the NVIDIA Container Toolkit on the Docker host, then run " +
  "`nvidia-ctk runtime configure --runtime=docker` and restart dockerd";

export interface DeviceDecision {
  device: "cpu" | "gpu";
  /** Shown as warnings: why auto chose what it chose, or why a GPU stack will fail at `up`. */
  notes: string[];
}

/**
 * `auto` follows the host; `gpu` on a host without the NVIDIA runtime fails before anything is
 * created on `up`, but only warns on preview, so GPU stacks can be previewed anywhere.
 */
export function resolveDevice(
  requested: "cpu" | "gpu" | "auto",
  runtime: "mock" | "vllm",
  report: () => DockerHostReport,
  isPreview: boolean,
): DeviceDecision {
  if (requested === "cpu") return { device: "cpu", notes: [] };
  if (requested === "auto" && runtime === "mock") {
    return { device: "cpu", notes: ['device "auto" with runtime "mock": running on cpu'] };
  }
  const host = report();
  if (requested === "auto") {
    return { device: host.nvidiaRuntime ? "gpu" : "cpu", notes: [`device "auto" chose ${host.nvidiaRuntime ? "gpu" : "cpu"} (${host.detail})`] };
  }
  if (host.nvidiaRuntime) return { device: "gpu", notes: [] };
  const message = `device "gpu" needs the NVIDIA container runtime, which this Docker host lacks (${host.detail}): ${NVIDIA_HELP}`;
  if (isPreview) return { device: "gpu", notes: [`${message}. \`pulumi up\` will stop here.`] };
  throw new Error(message);
}
