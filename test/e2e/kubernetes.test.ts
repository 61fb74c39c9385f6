// Platform "kubernetes" for real: the dev stack's mock runtime on the local one-node cluster
// (scripts/cluster/), driven by the real Pulumi CLI and the Kubernetes provider. Up to a served
// completion through a port-forward (official openai client), a second preview with no changes,
// scale to 2 replicas, a crash-looping server failing the update fast with its logs (and the fix
// converging), destroy leaving nothing labelled with the stack; the gpu stack previewed with its
// GPU limits. Brings the cluster up when none is, and takes down only one it brought up.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import OpenAI from "openai";
import { Stack } from "@pulumi/pulumi/automation";
import { PATHS } from "../../contract";
import { K8S_LABELS } from "../../spec/kubernetes";
import { ScratchProject } from "./stacks";
import { forwardPort, kubernetesBlocker, localCluster, LocalCluster } from "../../scripts/lib/localCluster";

const run = promisify(execFile);
const skip = kubernetesBlocker();
const SUFFIX = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const STACK = `k8s-${SUFFIX}`;
const NAMESPACE = `ir-e2e-${SUFFIX}`;

describe("kubernetes platform on a real cluster", { timeout: 1_500_000 }, () => {
  let cluster: LocalCluster;
  let project: ScratchProject;
  let stack: Stack;
  const kubectl = async (...args: string[]) =>
    (await run("kubectl", args, { env: { ...process.env, ...cluster.env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
  const labelledObjects = async () =>
    (
      await kubectl(
        "get",
        "all,pvc,secret,configmap",
        "--namespace",
        NAMESPACE,
        "-l",
        `${K8S_LABELS.stack}=${STACK}`,
        "-o",
        "name",
        "--ignore-not-found",
      )
    )
      .split("\n")
      .filter(Boolean);

  before(async () => {
    if (skip) return;
    cluster = await localCluster();
    project = new ScratchProject();
    Object.assign(project.env, cluster.env);
    stack = await project.stack(
      STACK,
      "dev",
      {
        platform: "kubernetes",
        "images.mockVllm": cluster.images.mockVllm,
        "images.workerAgent": cluster.images.workerAgent,
        "kubernetes.namespace": NAMESPACE,
        "kubernetes.imagePullPolicy": "Never",
        "kubernetes.storageClass": cluster.storageClass,
      },
      { hostPorts: false },
    );
  });

  after(async () => {
    if (skip) return;
    await project?.cleanup(STACK);
    await kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true").catch(() => undefined);
    project?.remove();
    await cluster?.release();
  });

  it("brings the dev stack up to a served completion through a port-forward", { skip }, async () => {
    const result = await stack.up({ onOutput: () => undefined });
    const out = result.outputs;
    assert.equal(out.platform.value, "kubernetes");
    assert.equal(out.namespace.value, NAMESPACE);
    assert.match(out.rolloutResult.value, /ready \(1 replica\(s\)\)/);
    assert.match(out.portForwardCommand.value, new RegExp(`kubectl port-forward --namespace ${NAMESPACE} service/`));
    const forward = await forwardPort(cluster, NAMESPACE, `service/${out.serviceName.value}`, [8000, 8080]);
    try {
      const client = new OpenAI({ baseURL: `${forward.urls[0]}/v1`, apiKey: "unused", maxRetries: 0 });
      const reply = await client.chat.completions.create({
        model: out.servedModelName.value,
        messages: [{ role: "user", content: "hello from the cluster" }],
        max_tokens: 16,
      });
      assert.equal(reply.choices[0].message.content, "hello from the cluster");
      const ready = await fetch(`${forward.urls[1]}${PATHS.agentReady}`);
      assert.equal(ready.status, 200, "the agent in the pod is ready");
    } finally {
      forward.stop();
    }
  });

  it("previews no changes when nothing changed", { skip }, async () => {
    const preview = await stack.preview({ onOutput: () => undefined });
    const changed = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
    assert.deepEqual(changed, []);
  });

  it("scales to 2 replicas, each pod ready", { skip }, async () => {
    await stack.setConfig("inference-runtime:kubernetes.replicas", { value: "2" }, true);
    const result = await stack.up({ onOutput: () => undefined });
    assert.match(result.outputs.rolloutResult.value, /ready \(2 replica\(s\)\)/);
    const ready = await kubectl(
      "get",
      "deployment",
      result.outputs.deploymentName.value,
      "--namespace",
      NAMESPACE,
      "-o",
      "jsonpath={.status.readyReplicas}",
    );
    assert.equal(ready, "2");
    await stack.setConfig("inference-runtime:kubernetes.replicas", { value: "1" }, true);
  });

  it("fails an update whose server crash-loops within a minute, with its logs, and converges once fixed", { skip }, async () => {
    // mock-vllm refuses an unknown `vllm serve` flag and exits, as vLLM does.
    await stack.setConfig("inference-runtime:model.extraArgs[0]", { value: "--no-such-flag" }, true);
    const started = Date.now();
    const failure = await stack.up({ onOutput: () => undefined }).then(
      () => undefined,
      (err: Error) => err,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.ok(failure, "the update succeeded with a crash-looping server");
    const message = String(failure.message);
    assert.match(message, /did not become ready: a container failed/);
    assert.match(message, /container model-server/);
    assert.match(message, /no-such-flag/, "the server's own log line is in the failure");
    assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
    await stack.removeConfig("inference-runtime:model.extraArgs", true);
    const fixed = await stack.up({ onOutput: () => undefined });
    assert.match(fixed.outputs.rolloutResult.value, /ready \(1 replica\(s\)\)/);
  });

  it("destroys every object labelled with the stack, and the namespace it created", { skip }, async () => {
    assert.ok((await labelledObjects()).length > 0, "nothing labelled before destroy: the check would pass vacuously");
    await stack.destroy({ onOutput: () => undefined });
    assert.deepEqual(await labelledObjects(), []);
    const ns = await kubectl("get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name");
    assert.equal(ns, "", "the namespace the stack created is gone");
  });

  it("previews the gpu stack on the cluster with its GPU limit, a memory /dev/shm and the vLLM image", { skip }, async () => {
    const gpu = await project.stack(
      `${STACK}-gpu`,
      "gpu",
      { platform: "kubernetes", "images.workerAgent": cluster.images.workerAgent, "kubernetes.namespace": `${NAMESPACE}-gpu` },
      { hostPorts: false },
    );
    const { stdout, code, stderr } = await project.pulumi("preview", "--json", "--stack", gpu.name);
    assert.equal(code, 0, stderr);
    const steps = JSON.parse(stdout).steps as { newState?: { type: string; inputs: any } }[];
    const deployment = steps.find((s) => s.newState?.type === "kubernetes:apps/v1:Deployment")!.newState!.inputs;
    const pod = deployment.spec.template.spec;
    assert.deepEqual(pod.containers[0].resources.limits, { "nvidia.com/gpu": "1" });
    assert.equal(pod.containers[0].image, "vllm/vllm-openai:v0.31.0");
    assert.ok(pod.volumes.some((v: any) => v.name === "dshm" && v.emptyDir.medium === "Memory"));
  });
});
