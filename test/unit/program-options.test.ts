// Settings that only show in a resource's inputs or options, each with the config that turns it
// on, so a test fails when the program stops honouring it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Declared, labelsOf, runProgram, stackConfig } from "./harness";

const containerOf = (resources: Declared[], role: string) =>
  resources.find((r) => r.type === "docker:index/container:Container" && labelsOf(r)["io.inference-runtime.role"] === role);
const CACHE_VOLUMES = ["runtime-cache-hf", "runtime-cache-compile"];

describe("settings that reach resources", () => {
  it("keeps the cache volumes on destroy only with cache.keepOnDestroy", async () => {
    const kept = await runProgram("dev", stackConfig("dev", { cache: { keepOnDestroy: true } }));
    const dropped = await runProgram("dev", stackConfig("dev"));
    for (const name of CACHE_VOLUMES) {
      assert.equal(kept.options[name].retainOnDelete, true, name);
      assert.equal(dropped.options[name].retainOnDelete, false, name);
    }
    // The agent's state volume is the stack's own, whatever the cache does.
    assert.equal(kept.options["runtime-agent-state"].retainOnDelete, false);
  });

  it("passes the mock's settings to its container and none to vLLM's", async () => {
    const { resources } = await runProgram(
      "dev",
      stackConfig("dev", { mock: { ttftMs: 33, itlMs: 7, mode: "generate", failureRate: 0.25 } }),
    );
    const envs: string[] = containerOf(resources, "model-server")!.inputs.envs;
    for (const e of [
      "MOCK_VLLM_TTFT_MS=33",
      "MOCK_VLLM_ITL_MS=7",
      "MOCK_VLLM_MODE=generate",
      "MOCK_VLLM_FAILURE_RATE=0.25",
      "MOCK_VLLM_VLLM_VERSION=0.31.0",
    ])
      assert.ok(envs.includes(e), e);
  });

  it("sets logs.maxSizeMb and logs.maxFiles as json-file rotation on both containers, and counts them in the server's spec digest", async () => {
    const { resources, outputs } = await runProgram("gpu", stackConfig("gpu", { logs: { maxSizeMb: 10, maxFiles: 2 } }));
    for (const role of ["model-server", "worker-agent"]) {
      const { logDriver, logOpts } = containerOf(resources, role)!.inputs;
      assert.equal(logDriver, "json-file", role);
      assert.deepEqual(logOpts, { "max-size": "10m", "max-file": "2" }, role);
    }
    const defaults = await runProgram("gpu", stackConfig("gpu"));
    assert.notEqual(outputs.modelServerSpecDigest, defaults.outputs.modelServerSpecDigest);
  });

  it("joins network.external as well as its own network, without declaring it", async () => {
    const { resources } = await runProgram("dev", stackConfig("dev", { network: { external: "controlplane" } }));
    const server = containerOf(resources, "model-server")!;
    assert.deepEqual(
      server.inputs.networksAdvanced.map((n: { name: string }) => n.name),
      ["inference-runtime-dev-net", "controlplane"],
    );
    assert.deepEqual(
      resources.filter((r) => r.type === "docker:index/network:Network").map((r) => r.inputs.name),
      ["inference-runtime-dev-net"],
    );
  });

  it("gives the HF token under both names the Hugging Face tools read", async () => {
    const { resources } = await runProgram("dev", stackConfig("dev", { hfToken: "hf_x" }), ["hfToken"]);
    const envs = containerOf(resources, "model-server")!.inputs.envs;
    const text = JSON.stringify(envs);
    assert.match(text, /HF_TOKEN=hf_x/);
    assert.match(text, /HUGGING_FACE_HUB_TOKEN=hf_x/);
  });

  it("runs no agent, publishes no agent port and smoke-tests without it when agent.enabled is false", async () => {
    const { resources } = await runProgram("dev", stackConfig("dev", { agent: { enabled: false } }));
    assert.equal(containerOf(resources, "worker-agent"), undefined);
    assert.deepEqual(
      containerOf(resources, "model-server")!.inputs.ports.map((p: { internal: number }) => p.internal),
      [8000],
    );
    const smoke = resources.find((r) => r.name === "runtime-smoke-test-command")!;
    assert.equal(smoke.inputs.environment.SMOKE_AGENT_URL, undefined);
  });

  it("hands the agent its control plane, instance id and advertised IP", async () => {
    const agent = { controlPlaneUrl: "http://cp:9000", instanceId: "3f1c2b9e-8d4a-4c7e-9b2a-1e5f6a7b8c9d", advertiseIp: "192.0.2.10" };
    const { resources } = await runProgram("dev", stackConfig("dev", { agent }));
    const envs: string[] = containerOf(resources, "worker-agent")!.inputs.envs;
    for (const e of [
      `CONTROL_PLANE_URL=${agent.controlPlaneUrl}`,
      `INSTANCE_ID=${agent.instanceId}`,
      `WORKER_ADVERTISE_IP=${agent.advertiseIp}`,
    ]) {
      assert.ok(envs.includes(e), e);
    }
  });
});
