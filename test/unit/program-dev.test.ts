// The dev stack (mock-vllm on CPU) as the real program declares it, under Pulumi's mocks.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { byType, Declared, labelsOf, runProgram, stackConfig } from "./harness";

describe("dev stack", () => {
  let resources: Declared[];
  let outputs: Record<string, any>;
  let parents: Record<string, string>;
  const container = (role: string) =>
    byType(resources, "docker:index/container:Container").find((c) => labelsOf(c)["io.inference-runtime.role"] === role)!;

  before(async () => {
    ({ resources, outputs, parents } = await runProgram("dev", stackConfig("dev")));
  });

  it("declares the component tree with every child parented", () => {
    const types = resources.map((r) => r.type).sort();
    assert.deepEqual(types, [
      "command:local:Command",
      "docker:index/container:Container",
      "docker:index/container:Container",
      "docker:index/image:Image",
      "docker:index/image:Image",
      "docker:index/network:Network",
      "docker:index/volume:Volume",
      "docker:index/volume:Volume",
      "docker:index/volume:Volume",
      "inference-runtime:index:ContainerImage",
      "inference-runtime:index:ContainerImage",
      "inference-runtime:index:InferenceRuntime",
      "inference-runtime:index:ModelCache",
      "inference-runtime:index:ModelServer",
      "inference-runtime:index:SmokeTest",
      "inference-runtime:index:WorkerAgent",
    ]);
    assert.deepEqual(parents, {
      runtime: "(stack)",
      "runtime-network": "runtime",
      "runtime-cache": "runtime",
      "runtime-cache-hf": "runtime-cache",
      "runtime-cache-compile": "runtime-cache",
      "runtime-server-image": "runtime",
      "runtime-server-image-build": "runtime-server-image",
      "runtime-server": "runtime",
      "runtime-server-container": "runtime-server",
      "runtime-agent-image": "runtime",
      "runtime-agent-image-build": "runtime-agent-image",
      "runtime-agent": "runtime",
      "runtime-agent-state": "runtime-agent",
      "runtime-agent-container": "runtime-agent",
      "runtime-smoke-test": "runtime",
      "runtime-smoke-test-command": "runtime-smoke-test",
    });
  });

  it("labels every Docker object with the stack and its role", () => {
    const roles = resources
      .filter((r) => r.type.startsWith("docker:") && r.type !== "docker:index/image:Image")
      .map((r) => labelsOf(r));
    assert.ok(roles.every((l) => l["io.inference-runtime.stack"] === "dev"));
    assert.deepEqual(
      roles.map((l) => l["io.inference-runtime.role"]).sort(),
      ["model-cache", "model-cache", "model-server", "network", "worker-agent", "worker-agent"],
    );
  });

  it("builds both service images from services/ with the configured base image", () => {
    const images = byType(resources, "docker:index/image:Image");
    assert.deepEqual(images.map((i) => i.inputs.imageName).sort(), [
      "inference-runtime/mock-vllm:dev",
      "inference-runtime/worker-agent:dev",
    ]);
    for (const image of images) {
      assert.equal(image.inputs.skipPush, true);
      assert.equal(image.inputs.build.args.BASE_IMAGE, "inference-runtime/node-base:20");
      assert.equal(image.inputs.build.args.STACK, "dev");
      assert.match(image.inputs.build.context, /services\/(mock-vllm|worker-agent)$/);
    }
  });

  it("runs mock-vllm with the vLLM command line and no GPU settings", () => {
    const server = container("model-server");
    assert.equal(server.inputs.name, "inference-runtime-dev-model-server");
    assert.deepEqual(server.inputs.command.slice(0, 4), ["--model", "Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen2.5-0.5b-instruct"]);
    assert.deepEqual(server.inputs.deviceRequests ?? [], []);
    assert.equal(server.inputs.ipcMode, undefined);
    assert.equal(server.inputs.image, "sha256:runtime-server-image-build");
  });

  it("waits for a mock-sized healthcheck whose probe exists in the image", () => {
    const server = container("model-server");
    assert.deepEqual(server.inputs.healthcheck.tests, ["CMD", "node", "/app/main.js", "--mock-probe", "http://127.0.0.1:8000/health"]);
    assert.equal(server.inputs.healthcheck.startPeriod, "30s");
    assert.equal(server.inputs.wait, true);
    assert.equal(server.inputs.waitTimeout, 120);
  });

  it("mounts the cache at the Hugging Face path with HF_HOME set", () => {
    const server = container("model-server");
    assert.deepEqual(server.inputs.volumes, [
      { volumeName: "inference-runtime-dev-hf-cache", containerPath: "/root/.cache/huggingface" },
      { volumeName: "inference-runtime-dev-hf-cache-vllm", containerPath: "/root/.cache/vllm" },
    ]);
    assert.ok(server.inputs.envs.includes("HF_HOME=/root/.cache/huggingface"));
  });

  it("publishes API and agent ports on loopback only", () => {
    assert.deepEqual(container("model-server").inputs.ports, [
      { internal: 8000, external: 8000, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    assert.equal(container("worker-agent").inputs.ports, undefined);
  });

  it("puts the agent in the server's network namespace with MODEL_ID equal to the served name", () => {
    const agent = container("worker-agent");
    const server = container("model-server");
    assert.equal(agent.inputs.networkMode, `container:${server.id}`);
    assert.ok(agent.inputs.envs.includes("MODEL_ID=qwen2.5-0.5b-instruct"));
    // The image's token file lives on a volume of its own, so a granted token survives replacement.
    assert.deepEqual(agent.inputs.volumes, [{ volumeName: "inference-runtime-dev-worker-agent-state", containerPath: "/var/lib/worker-agent" }]);
    assert.ok(agent.inputs.envs.includes("VLLM_BASE_URL=http://127.0.0.1:8000"));
    assert.ok(agent.inputs.envs.includes("WORKER_SIMULATE_GPU_COUNT=1"));
    assert.ok(!agent.inputs.envs.some((e: string) => e.startsWith("CONTROL_PLANE_URL=")));
  });

  it("smoke-tests the deployed API and agent, again whenever the server is replaced", () => {
    const [smoke] = byType(resources, "command:local:Command");
    assert.equal(smoke.inputs.create, "node --import tsx scripts/smoke-test.ts");
    assert.deepEqual(smoke.inputs.triggers, [container("model-server").id]);
    assert.deepEqual(smoke.inputs.environment, {
      SMOKE_API_URL: "http://127.0.0.1:8000",
      SMOKE_AGENT_URL: "http://127.0.0.1:8080",
      SMOKE_MODEL: "qwen2.5-0.5b-instruct",
    });
  });

  it("drops the cache on destroy for dev and says so", () => {
    assert.equal(outputs.cacheKeptOnDestroy, false);
    assert.equal(outputs.cacheVolume, "inference-runtime-dev-hf-cache");
  });

  it("exports where to reach the runtime", () => {
    assert.equal(outputs.apiUrl, "http://127.0.0.1:8000");
    assert.equal(outputs.agentUrl, "http://127.0.0.1:8080");
    assert.equal(outputs.servedModelName, "qwen2.5-0.5b-instruct");
    assert.equal(outputs.device, "cpu");
    assert.match(outputs.curlCommand, /^curl -s http:\/\/127\.0\.0\.1:8000\/v1\/chat\/completions .*"model":"qwen2\.5-0\.5b-instruct"/);
    assert.equal(outputs.modelServerContainer, "inference-runtime-dev-model-server");
    assert.equal(outputs.workerAgentContainer, "inference-runtime-dev-worker-agent");
  });
});
