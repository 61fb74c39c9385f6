// The local Kubernetes cluster (scripts/cluster/) for real: `npm run cluster:up` brings up a node
// that runs a pod of the locally built mock-vllm image, which answers its health path through
// `kubectl port-forward` on 127.0.0.1; `npm run cluster:down` then leaves nothing of the cluster
// on the host (processes, containers, the bridge, the iptables rule, mounts, directories).
// Skips with env.sh's reason where the cluster cannot run, and when one is up already (this test
// brings up and removes its own).
import assert from "node:assert/strict";
import { ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { PATHS, PORTS } from "../../contract";
import { clusterShell } from "../../scripts/lib/localCluster";

const ROOT = path.join(__dirname, "..", "..");
const run = promisify(execFile);
const sh = async (script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, timeout = 600_000) =>
  (await run("bash", [path.join(ROOT, script), ...args], { cwd: ROOT, timeout, env: { ...process.env, ...env } })).stdout.trim();

/** The cluster's names and paths, as scripts/cluster/lib.sh defines them. */
const NAMES = [
  "CLUSTER_DIR",
  "CLUSTER_BIN",
  "CLUSTER_BRIDGE",
  "CLUSTER_CONTEXT",
  "CLUSTER_KUBECONFIG",
  "CLUSTER_CONTAINERD_SOCK",
  "CLUSTER_CNI_NETWORK",
  "CLUSTER_HOST_KUBELET",
  "CLUSTER_HOST_CNI",
  "CLUSTER_HOST_NETNS",
  "CLUSTER_HOST_CONTAINER_LOGS",
  "CLUSTER_HOST_HOSTPATH_PV",
] as const;
type Facts = Record<(typeof NAMES)[number], string>;
function clusterFacts(): Facts {
  const script = `source scripts/cluster/lib.sh && printf '%s\\n' ${NAMES.map((n) => `"$${n}"`).join(" ")}`;
  const values = spawnSync("bash", ["-c", script], { cwd: ROOT, encoding: "utf8" }).stdout.split("\n");
  return Object.fromEntries(NAMES.map((n, i) => [n, values[i]])) as Facts;
}

/** Why the test cannot run here, or undefined. */
function blocker(): string | undefined {
  const why = clusterShell("cluster_blocker");
  if (why.status !== 0) return why.stdout.trim() || why.stderr.trim() || "cluster_blocker failed";
  if (clusterShell("cluster_running").status === 0)
    return "a local cluster is up already: this test brings up and removes its own (npm run cluster:down first)";
  if (spawnSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 }).status !== 0)
    return "no Docker engine answers `docker info` (the pod's image is built there)";
  return undefined;
}

const skip = blocker();
const facts = clusterFacts();
const IMAGE_TAG = `cluster-${process.pid}`;
const IMAGE = `inference-runtime/mock-vllm:${IMAGE_TAG}`;

const list = (dir: string): string[] => {
  try {
    return fs.readdirSync(dir).map((e) => path.join(dir, e));
  } catch {
    return [];
  }
};
const under = (p: string, dir: string) => p === dir || p.startsWith(dir + "/");

/**
 * What of the cluster can be seen on the host: its processes (by binary, directory or socket),
 * its bridge and what is attached to it, iptables rules naming the bridge, mounts under its
 * directories and /run/netns, the host directories it writes to (with their entries), the
 * kubelet's pod cgroups.
 */
function hostTraces(): Record<string, string[]> {
  const processes: string[] = [];
  for (const pid of list("/proc").map((p) => path.basename(p))) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const exe = fs.readlinkSync(`/proc/${pid}/exe`);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (under(exe, facts.CLUSTER_BIN) || cmdline.includes(facts.CLUSTER_DIR)) processes.push(`${pid} ${cmdline}`);
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  const links = spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.includes(`${facts.CLUSTER_BRIDGE}:`) || l.includes(`master ${facts.CLUSTER_BRIDGE} `))
    .map((l) => l.split(":")[1].trim());
  const iptables = spawnSync("iptables", ["-S"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.includes(facts.CLUSTER_BRIDGE));
  const watched = [facts.CLUSTER_DIR, facts.CLUSTER_HOST_KUBELET, facts.CLUSTER_HOST_NETNS];
  const mounts = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m) => m && watched.some((d) => under(m, d)));
  const dirs = [
    facts.CLUSTER_DIR,
    facts.CLUSTER_HOST_KUBELET,
    facts.CLUSTER_HOST_CNI,
    facts.CLUSTER_HOST_NETNS,
    facts.CLUSTER_HOST_CONTAINER_LOGS,
    facts.CLUSTER_HOST_HOSTPATH_PV,
  ];
  const paths = dirs.flatMap((d) => (fs.existsSync(d) ? [d, ...list(d)] : []));
  paths.push(...list(path.join(facts.CLUSTER_HOST_CNI, "results")));
  const cgroups = list("/sys/fs/cgroup").flatMap((c) => (fs.existsSync(`${c}/kubepods`) ? [`${c}/kubepods`] : []));
  return { processes, links, iptables, mounts, paths: paths.sort(), cgroups };
}

/** The host pids of the cluster's containers and the sockets their shims listen on. */
async function containerTraces(): Promise<{ pids: number[]; sockets: string[] }> {
  const ctr = async (...args: string[]) =>
    (await run("ctr", ["--address", facts.CLUSTER_CONTAINERD_SOCK, "-n", "k8s.io", ...args], { timeout: 30_000 })).stdout;
  // TASK  PID  STATUS
  const pids = (await ctr("tasks", "ls"))
    .split("\n")
    .slice(1)
    .map((l) => Number(l.trim().split(/\s+/)[1]))
    .filter((p) => p > 0);
  // containerd 1.6 puts a shim's socket at /run/containerd/s/<sha256 of address/namespace/id>.
  const sockets = (await ctr("containers", "ls", "-q"))
    .split("\n")
    .filter(Boolean)
    .map((id) => `/run/containerd/s/${createHash("sha256").update(`${facts.CLUSTER_CONTAINERD_SOCK}/k8s.io/${id}`).digest("hex")}`);
  return { pids, sockets };
}

const POD = "mock-vllm";
/** A second pod of the same image, from which the first is reached by its pod IP. */
const PEER = "peer";
const podManifest = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: "model-server",
        image: IMAGE,
        imagePullPolicy: "Never",
        args: ["--host", "0.0.0.0", "--port", String(PORTS.api)],
        ports: [{ containerPort: PORTS.api }],
        readinessProbe: { httpGet: { path: PATHS.serverHealth, port: PORTS.api }, periodSeconds: 1 },
      },
    ],
  },
});
const manifests = JSON.stringify({ apiVersion: "v1", kind: "List", items: [podManifest(POD), podManifest(PEER)] });

/** Starts `kubectl port-forward` on 127.0.0.1 and resolves with the local port it chose. */
function portForward(kubectl: string, kubeconfig: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(kubectl, ["--kubeconfig", kubeconfig, "port-forward", "--address", "127.0.0.1", `pod/${POD}`, `:${PORTS.api}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`port-forward printed no port in 30 s: ${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`port-forward exited (${code}): ${out}`)));
  });
}

describe("the local Kubernetes cluster", () => {
  let before_: Record<string, string[]>;
  let forward: ChildProcess | undefined;

  before(async () => {
    if (skip) return;
    // The binaries first: once built this returns at once; cold it builds for many minutes.
    await sh("tools/offline/kubernetes-binaries.sh", [], {}, 3_600_000);
    await sh("scripts/build-services.sh", ["--images", "mock-vllm"], { IMAGE_TAG });
    before_ = hostTraces();
  });
  after(async () => {
    if (skip) return;
    forward?.kill();
    await sh("scripts/cluster/down.sh").catch(() => undefined);
    await run("docker", ["rmi", "-f", IMAGE]).catch(() => undefined);
  });

  it("runs a pod of the local image, reachable through port-forward, and cluster:down leaves no trace", { skip }, async () => {
    const kubeconfig = await sh("scripts/cluster/up.sh");
    assert.equal(kubeconfig, facts.CLUSTER_KUBECONFIG);
    const kubectl = path.join(facts.CLUSTER_BIN, "kubectl");
    const k = async (...args: string[]) => (await run(kubectl, ["--kubeconfig", kubeconfig, ...args], { timeout: 180_000 })).stdout.trim();
    assert.equal(await k("config", "current-context"), facts.CLUSTER_CONTEXT);
    assert.equal(await k("get", "node", "-o", "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"), "True");
    // A second up finds it running and changes nothing.
    assert.equal(await sh("scripts/cluster/up.sh"), kubeconfig);

    assert.match(await sh("scripts/cluster/load-images.sh", [IMAGE]), new RegExp(`^imported ${IMAGE} `));
    await new Promise<void>((resolve, reject) => {
      const child = spawn(kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", "-"], { stdio: ["pipe", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`kubectl apply: ${err}`))));
      child.stdin.end(manifests);
    });
    await k("wait", "--for=condition=Ready", `pod/${POD}`, `pod/${PEER}`, "--timeout=120s");
    const podIp = await k("get", "pod", POD, "-o", "jsonpath={.status.podIP}");
    assert.match(podIp, /^10\.77\.0\.\d+$/);
    // Pod to pod over the bridge, past the host's FORWARD chain.
    const probe = `fetch("http://${podIp}:${PORTS.api}${PATHS.serverHealth}", { signal: AbortSignal.timeout(5000) }).then((r) => console.log(r.status), (e) => console.log(e.name))`;
    assert.equal(await k("exec", PEER, "--", "node", "-e", probe), "200");

    const pf = await portForward(kubectl, kubeconfig);
    forward = pf.child;
    const res = await fetch(`http://127.0.0.1:${pf.port}${PATHS.serverHealth}`);
    assert.equal(res.status, 200);
    forward.kill();

    const up = hostTraces();
    assert.notDeepEqual(up.links, before_.links, "the bridge is there while the cluster is up");
    assert.notDeepEqual(up.iptables, before_.iptables, "the FORWARD rule is there while the cluster is up");
    const containers = await containerTraces();
    assert.ok(containers.pids.length >= 2, `the pod's sandbox and container run: ${containers.pids.join(",")}`);

    await sh("scripts/cluster/down.sh");
    assert.deepEqual(hostTraces(), before_);
    assert.deepEqual(
      containers.pids.filter((p) => fs.existsSync(`/proc/${p}`)),
      [],
      "the pods' processes are gone",
    );
    assert.deepEqual(
      containers.sockets.filter((s) => fs.existsSync(s)),
      [],
      "the shims' sockets are gone",
    );
    // And a second down finds nothing and succeeds.
    await sh("scripts/cluster/down.sh");
  });
});
