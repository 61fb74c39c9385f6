// The local one-node cluster (scripts/cluster/) as the Kubernetes end-to-end tests and the
// benchmark use it: why it cannot run here, bringing it up (or using one that is up) with the
// project's images imported, and port-forwards to what runs in it.
import { ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { missingPlugins } from "./plugins";

const ROOT = path.join(__dirname, "..", "..");
const run = promisify(execFile);
/** The storage class scripts/cluster/up.sh makes (hostPath volumes provisioned on demand). */
export const LOCAL_STORAGE_CLASS = "local-hostpath";

/** Runs `script` after sourcing scripts/cluster/env.sh (its functions and KUBECONFIG/PATH). */
export function clusterShell(script: string) {
  return spawnSync("bash", ["-c", `source scripts/cluster/env.sh && ${script}`], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

/**
 * Why the Kubernetes end-to-end tests cannot run here, or undefined: they need the kubernetes and
 * command resource plugins at the pinned versions, a Docker engine to build the images, and a host
 * where scripts/cluster/up.sh can bring a cluster up.
 */
export function kubernetesBlocker(): string | undefined {
  const plugins = missingPlugins(["kubernetes", "command"]);
  if ("failed" in plugins) return plugins.failed;
  if (plugins.missing.length > 0) {
    const list = plugins.missing.join(", ");
    return `resource plugin(s) ${list} not installed: \`bash tools/offline/kubernetes-provider.sh\` builds the kubernetes one, or \`npm run pulumi -- plugin install resource <name> <version>\``;
  }
  if (spawnSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 }).status !== 0) return "no Docker engine answers `docker info`";
  const why = clusterShell("cluster_blocker");
  if (why.status !== 0) return why.stdout.trim() || why.stderr.trim() || "cluster_blocker failed";
  return undefined;
}

export interface LocalCluster {
  /** KUBECONFIG and PATH (with its kubectl) for the CLI, the provider and kubectl. */
  env: Record<string, string>;
  storageClass: string;
  /** The project's images, built for this run and imported into the cluster's containerd. */
  images: { mockVllm: string; workerAgent: string };
  /** Removes the images, and takes the cluster down if it was brought up here. */
  release(): Promise<void>;
}

export async function localCluster(): Promise<LocalCluster> {
  const startedHere = clusterShell("cluster_running").status !== 0;
  const sh = (script: string, args: string[], env: Record<string, string> = {}) =>
    run("bash", [script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 1_800_000, maxBuffer: 16 * 1024 * 1024 });
  if (startedHere) await sh("scripts/cluster/up.sh", []);
  const vars = clusterShell('printf "%s\\n%s\\n" "$KUBECONFIG" "$PATH"').stdout.split("\n");
  const env = { KUBECONFIG: vars[0], PATH: vars[1] };
  const tag = `k8s-e2e-${process.pid}`;
  const images = { mockVllm: `inference-runtime/mock-vllm:${tag}`, workerAgent: `inference-runtime/worker-agent:${tag}` };
  await sh("scripts/build-services.sh", ["--images"], { IMAGE_TAG: tag });
  await sh("scripts/cluster/load-images.sh", [images.mockVllm, images.workerAgent]);
  return {
    env,
    storageClass: LOCAL_STORAGE_CLASS,
    images,
    async release() {
      await run("docker", ["rmi", images.mockVllm, images.workerAgent]).catch(() => undefined);
      if (startedHere) await sh("scripts/cluster/down.sh", []);
    },
  };
}

export interface Forward {
  /** `http://127.0.0.1:<local port>` for each remote port, in order. */
  urls: string[];
  stop(): void;
}

/** `kubectl port-forward` to `target` (e.g. service/x) on free local ports of 127.0.0.1. */
export function forwardPort(cluster: LocalCluster, namespace: string, target: string, ports: number[]): Promise<Forward> {
  const child: ChildProcess = spawn(
    "kubectl",
    ["port-forward", "--namespace", namespace, "--address", "127.0.0.1", target, ...ports.map((p) => `:${p}`)],
    { env: { ...process.env, ...cluster.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    const local = new Map<number, number>();
    let output = "";
    const timer = setTimeout(() => fail(new Error(`port-forward did not start in 30 s: ${output}`)), 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)) local.set(Number(m[2]), Number(m[1]));
      if (ports.every((p) => local.has(p))) {
        clearTimeout(timer);
        resolve({ urls: ports.map((p) => `http://127.0.0.1:${local.get(p)}`), stop: () => child.kill() });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => fail(new Error(`port-forward exited (${code}): ${output}`)));
  });
}
