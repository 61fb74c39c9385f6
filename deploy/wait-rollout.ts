// Waits, for `pulumi up` (a @pulumi/command resource), until a Deployment's current revision is
// rolled out and every replica is ready, and fails fast with a diagnosis otherwise: a container of
// the new pods that exits, crash-loops or cannot get its image fails within a poll or two, and the
// failure carries each such container's last log lines (of its previous run when it restarted),
// its exit code and the pod's events. Pods that cannot be scheduled are not failed early (a node
// may be on its way); they are described when the wait times out.
//
// Environment: ROLLOUT_NAMESPACE, ROLLOUT_DEPLOYMENT (required), WAIT_TIMEOUT_S (default 120),
// KUBECONFIG and KUBE_CONTEXT (which cluster, as for kubectl), or KUBECONFIG_CONTENT (the
// kubeconfig itself, as the provider's `kubernetes:kubeconfig` may hold it).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const POLL_MS = 1000;
const LOG_LINES = 30;

/** Waiting reasons that do not clear up by waiting. */
const FATAL_WAITING = new Set([
  "CrashLoopBackOff",
  "ErrImagePull",
  "ImagePullBackOff",
  "ErrImageNeverPull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode: number; reason?: string } };
  lastState?: { terminated?: { exitCode: number; reason?: string } };
}
export interface Pod {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatus[];
  };
}
export interface Deployment {
  metadata: { generation?: number; annotations?: Record<string, string> };
  spec: { replicas?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
}

export interface ContainerFailure {
  pod: string;
  container: string;
  reason: string;
  /** Its previous run is the one that failed. */
  restarted: boolean;
}
export type RolloutVerdict = { kind: "ready" } | { kind: "wait"; status: string } | { kind: "failed"; failures: ContainerFailure[] };

/** One look at the Deployment and the pods of its current revision. */
export function judgeRollout(d: Deployment, pods: Pod[]): RolloutVerdict {
  const failures: ContainerFailure[] = [];
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    for (const c of pod.status?.containerStatuses ?? []) {
      const waiting = c.state?.waiting;
      const last = c.lastState?.terminated ?? c.state?.terminated;
      if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
        const exit = last ? `, last exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ""}` : "";
        failures.push({
          pod: pod.metadata.name,
          container: c.name,
          reason: `${waiting.reason}${exit}: ${waiting.message ?? ""}`.trim(),
          restarted: c.restartCount > 0,
        });
      } else if (c.restartCount > 0 && last) {
        failures.push({
          pod: pod.metadata.name,
          container: c.name,
          reason: `it exited with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ""} and was restarted`,
          restarted: true,
        });
      }
    }
  }
  if (failures.length > 0) return { kind: "failed", failures };
  const want = d.spec.replicas ?? 1;
  const s = d.status ?? {};
  const current = (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
  if (current && s.updatedReplicas === want && s.readyReplicas === want && (s.replicas ?? 0) === want && s.availableReplicas === want) {
    return { kind: "ready" };
  }
  return {
    kind: "wait",
    status: `${s.readyReplicas ?? 0}/${want} ready, ${s.updatedReplicas ?? 0} updated${current ? "" : ", not yet observed"}`,
  };
}

function kubectlArgs(args: string[]): string[] {
  const context = process.env.KUBE_CONTEXT;
  return [...(context ? ["--context", context] : []), "--namespace", process.env.ROLLOUT_NAMESPACE ?? "default", ...args];
}

async function kubectl(args: string[]): Promise<string> {
  return (await run("kubectl", kubectlArgs(args), { timeout: 30_000, maxBuffer: 32 * 1024 * 1024 })).stdout;
}

/** The pods of the Deployment's current revision (its newest ReplicaSet's pod-template-hash). */
async function currentPods(name: string, d: Deployment): Promise<Pod[]> {
  const revision = d.metadata.annotations?.["deployment.kubernetes.io/revision"];
  const sets = JSON.parse(await kubectl(["get", "replicasets", "-o", "json"])).items as {
    metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { name: string; kind: string }[] };
  }[];
  const current = sets.find(
    (rs) =>
      rs.metadata.ownerReferences?.some((o) => o.kind === "Deployment" && o.name === name) &&
      rs.metadata.annotations?.["deployment.kubernetes.io/revision"] === revision,
  );
  const hash = current?.metadata.labels?.["pod-template-hash"];
  if (!hash) return [];
  return JSON.parse(await kubectl(["get", "pods", "-l", `pod-template-hash=${hash}`, "-o", "json"])).items as Pod[];
}

async function tryKubectl(args: string[]): Promise<string> {
  try {
    return (await kubectl(args)).trimEnd();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return `(kubectl ${args.join(" ")} failed: ${(e.stderr ?? e.message).trim().split("\n")[0]})`;
  }
}

/**
 * The failed run's log lines: of the previous run after a restart, else (or when the runtime has
 * already dropped that one, as it may while the next run starts) of the current one; a few tries.
 */
async function containerLogs(f: ContainerFailure): Promise<{ logs: string; run: string }> {
  const base = ["logs", f.pod, "-c", f.container, "--tail", String(LOG_LINES)];
  const attempts: { args: string[]; run: string }[] = [{ args: base, run: "" }];
  if (f.restarted) attempts.unshift({ args: [...base, "--previous"], run: " of its previous run" });
  let last = "";
  for (let i = 0; i < 3; i++) {
    for (const { args, run } of attempts) {
      const out = await tryKubectl(args);
      // Empty may be a run that has only just started: try again, and say "(none)" in the end.
      if (out !== "" && !out.startsWith("(kubectl ") && !/unable to retrieve container logs/.test(out)) return { logs: out, run };
      last = out;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { logs: last, run: "" };
}

async function podEvents(pod: string): Promise<string> {
  const out = await tryKubectl(["get", "events", "--field-selector", `involvedObject.name=${pod}`, "--sort-by", ".lastTimestamp"]);
  return out.split("\n").slice(-10).join("\n");
}

/** Everything a person needs to see why the rollout did not complete. */
export async function rolloutDiagnosis(name: string, headline: string, failures: ContainerFailure[], pods: Pod[]): Promise<string> {
  const lines = [headline];
  for (const f of failures) {
    lines.push(`pod ${f.pod}, container ${f.container}: ${f.reason}`);
    const { logs, run } = await containerLogs(f);
    lines.push(`last ${LOG_LINES} log lines${run}:`, logs === "" ? "  (none)" : logs.replace(/^/gm, "  "));
  }
  const described = new Set(failures.map((f) => f.pod));
  for (const pod of pods) {
    if (failures.length === 0) {
      const unready = (pod.status?.conditions ?? []).filter((c) => c.status !== "True" && c.message).map((c) => `${c.type}: ${c.message}`);
      lines.push(`pod ${pod.metadata.name}: ${pod.status?.phase ?? "unknown"}${unready.length ? `; ${unready.join("; ")}` : ""}`);
      described.add(pod.metadata.name);
    }
  }
  for (const pod of described) lines.push(`events of pod ${pod}:`, (await podEvents(pod)).replace(/^/gm, "  "));
  if (pods.length === 0)
    lines.push(
      `no pods of the current revision yet; events of deployment ${name}:`,
      (await tryKubectl(["describe", "deployment", name])).split("\n").slice(-10).join("\n"),
    );
  return lines.join("\n");
}

/** Points kubectl at a kubeconfig given as content, in a private file removed at exit. */
function useKubeconfigContent(): void {
  const content = process.env.KUBECONFIG_CONTENT;
  if (!content) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wait-rollout-"));
  const file = path.join(dir, "kubeconfig");
  fs.writeFileSync(file, content, { mode: 0o600 });
  process.env.KUBECONFIG = file;
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
}

async function main(): Promise<void> {
  useKubeconfigContent();
  const name = process.env.ROLLOUT_DEPLOYMENT;
  const timeoutS = Number(process.env.WAIT_TIMEOUT_S ?? "120");
  if (!name) throw new Error("ROLLOUT_DEPLOYMENT: expected the name of the Deployment to wait for");
  if (!process.env.ROLLOUT_NAMESPACE) throw new Error("ROLLOUT_NAMESPACE: expected the namespace of the Deployment");
  if (!(timeoutS > 0)) throw new Error(`WAIT_TIMEOUT_S: expected a positive number of seconds, got "${process.env.WAIT_TIMEOUT_S}"`);
  const started = Date.now();
  const where = `deployment ${process.env.ROLLOUT_NAMESPACE}/${name}`;
  for (;;) {
    const d = JSON.parse(await kubectl(["get", "deployment", name, "-o", "json"])) as Deployment;
    const pods = await currentPods(name, d);
    const verdict = judgeRollout(d, pods);
    const waited = ((Date.now() - started) / 1000).toFixed(1);
    if (verdict.kind === "ready") {
      console.log(`${where} ready (${d.spec.replicas ?? 1} replica(s)) after ${waited} s`);
      return;
    }
    if (verdict.kind === "failed") {
      throw new Error(
        await rolloutDiagnosis(name, `${where} did not become ready: a container failed; waited ${waited} s`, verdict.failures, pods),
      );
    }
    if (Date.now() - started > timeoutS * 1000) {
      throw new Error(await rolloutDiagnosis(name, `${where} did not become ready within ${timeoutS} s (${verdict.status})`, [], pods));
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
