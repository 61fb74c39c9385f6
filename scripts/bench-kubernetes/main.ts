// Kubernetes benchmark: the dev stack on the local one-node cluster (scripts/cluster/) beside the
// same stack on the Docker engine, through the Automation API and the real CLI. `npm run
// bench:kubernetes [-- --runs N]`.
//
// Three measures per target, rounds alternated (which target goes first alternates too):
//   up     from nothing to a served chat completion: on Docker the program's own smoke test is the
//          completion; on the cluster the update ends at the rollout gate, then one completion
//          goes through `kubectl port-forward` (its start counted);
//   no-op  the same up again with nothing changed;
//   down   `pulumi destroy` back to nothing.
// Reported are medians and the cluster/Docker ratio. The cluster is brought up when none is (and
// taken down at the end); the time that takes is reported apart, once.
import { Stack } from "@pulumi/pulumi/automation";
import * as os from "node:os";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { forwardPort, kubernetesBlocker, localCluster } from "../lib/localCluster";
import { median } from "../lib/median";
import { lifecycleBlocker, ScratchProject } from "../../test/e2e/stacks";

type Target = "docker" | "kubernetes";
type Round = { up: number; noop: number; down: number };
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const quiet = { onOutput: () => undefined };

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number ≥ 1, got "${values.runs}"`);
  const blocked = kubernetesBlocker() ?? lifecycleBlocker();
  if (blocked) throw new Error(`cannot run here: ${blocked}`);

  const t0 = performance.now();
  const cluster = await localCluster();
  const readyMs = performance.now() - t0;
  const project = new ScratchProject();
  Object.assign(project.env, cluster.env);
  const stacks: Record<Target, Stack> = {
    docker: await project.stack("bench-docker", "dev"),
    kubernetes: await project.stack(
      "bench-k8s",
      "dev",
      {
        platform: "kubernetes",
        "images.mockVllm": cluster.images.mockVllm,
        "images.workerAgent": cluster.images.workerAgent,
        "kubernetes.namespace": "inference-runtime-bench",
        "kubernetes.imagePullPolicy": "Never",
        "kubernetes.storageClass": cluster.storageClass,
      },
      { hostPorts: false },
    ),
  };

  async function completion(stack: Stack): Promise<void> {
    const out = await stack.outputs();
    const forward = await forwardPort(cluster, out.namespace.value, `service/${out.serviceName.value}`, [8000]);
    try {
      const client = new OpenAI({ baseURL: `${forward.urls[0]}/v1`, apiKey: "unused", maxRetries: 0 });
      await client.chat.completions.create({
        model: out.servedModelName.value,
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 8,
      });
    } finally {
      forward.stop();
    }
  }
  async function round(target: Target): Promise<Round> {
    const stack = stacks[target];
    const up = await timed(async () => {
      await stack.up(quiet);
      if (target === "kubernetes") await completion(stack);
    });
    const noop = await timed(() => stack.up(quiet));
    const down = await timed(() => stack.destroy(quiet));
    return { up, noop, down };
  }

  const results: Record<Target, Round[]> = { docker: [], kubernetes: [] };
  try {
    for (let i = 0; i < runs; i++) {
      const order: Target[] = i % 2 === 0 ? ["kubernetes", "docker"] : ["docker", "kubernetes"];
      for (const target of order) {
        const r = await round(target);
        results[target].push(r);
        console.error(`round ${i + 1}/${runs} ${target}: up ${seconds(r.up)}, no-op ${seconds(r.noop)}, down ${seconds(r.down)}`);
      }
    }
  } finally {
    for (const name of ["bench-docker", "bench-k8s"]) await project.cleanup(name);
    project.remove();
    await cluster.release();
  }

  const m = (t: Target, k: keyof Round) => median(results[t].map((r) => r[k]));
  console.log(
    `bench:kubernetes, dev stack (mock-vllm + worker-agent), medians of ${runs}; ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log("| measure | kubernetes (local cluster) | docker | ratio |");
  console.log("|---|---|---|---|");
  for (const [k, label] of [
    ["up", "up to a served completion"],
    ["noop", "no-op up"],
    ["down", "destroy"],
  ] as const) {
    console.log(
      `| ${label} | ${seconds(m("kubernetes", k))} | ${seconds(m("docker", k))} | ${(m("kubernetes", k) / m("docker", k)).toFixed(2)}× |`,
    );
  }
  console.log(`cluster ready (with the images built and imported) in ${seconds(readyMs)}, once, not in the rounds`);
}

main().catch((err: Error) => {
  console.error(`bench:kubernetes: ${err.message}`);
  process.exit(1);
});
