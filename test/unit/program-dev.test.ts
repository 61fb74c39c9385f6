// The dev stack (mock-vllm on CPU) as the real program declares it, under Pulumi's mocks.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { byType, Declared, DeclaredOptions, labelsOf, runProgram, stackConfig } from "./harness";

describe("dev stack", () => {
  let resources: Declared[];
  let outputs: Record<string, any>;
  let parents: Record<string, string>;
  let options: Record<string, DeclaredOptions>;
  const container = (role: string) =>
    byType(resources, "docker:index/container:Container").find((c) => labelsOf(c)["io.inference-runtime.role"] === role)!;

  before(async () => {
    ({ resources, outputs, parents, options } = await runProgram("dev", stackConfig("dev")));
  });

  it("declares the component tree with every child parented", () => {
    const types = resources.map((r) => r.type).sort();
    assert.deepEqual(types, [
      "command:local:Command",
      "command:local:Command",
      "command:local:Command",
      "command:local:Command",
      "command:local:Command",
      "docker:index/container:Container",
      "docker:index/container:Container",
      "docker:index/network:Network",
      "docker:index/volume:Volume",
      "docker:index/volume:Volume",
      "docker:index/volume:Volume",
      "inference-runtime:index:ContainerImage",
      "inference-runtime:index:ContainerImage",
      "inference-runtime:index:HealthGate",
      "inference-runtime:index:HealthGate",
      "inference-runtime:index:InferenceRuntime",
      "inference-runtime:index:ModelCache",
      "inference-runtime:index:ModelServer",
      "inference-runtime:index:SmokeTest",
      "inference-runtime:index:WorkerAgent",
      // Reads the last update's outputs, to warn when this one replaces the model server.
      "pulumi:pulumi:StackReference",
    ]);
    assert.deepEqual(parents, {
      runtime: "(stack)",
      "runtime-server-network": "runtime-server",
      "runtime-cache": "runtime",
      "runtime-cache-hf": "runtime-cache",
      "runtime-cache-compile": "runtime-cache",
      "runtime-server-image": "runtime",
      "runtime-server-image-build": "runtime-server-image",
      "runtime-server": "runtime",
      "runtime-server-container": "runtime-server",
      "runtime-server-ready": "runtime-server",
      "runtime-server-ready-wait": "runtime-server-ready",
      "runtime-agent-image": "runtime",
      "runtime-agent-image-build": "runtime-agent-image",
      "runtime-agent": "runtime",
      "runtime-agent-state": "runtime-agent",
      "runtime-agent-container": "runtime-agent",
      "runtime-agent-ready": "runtime-agent",
      "runtime-agent-ready-wait": "runtime-agent-ready",
      "runtime-smoke-test": "runtime",
      "runtime-smoke-test-command": "runtime-smoke-test",
    });
  });

  it("labels every Docker object with the stack and its role", () => {
    const roles = resources.filter((r) => r.type.startsWith("docker:")).map((r) => labelsOf(r));
    assert.ok(roles.every((l) => l["io.inference-runtime.stack"] === "dev"));
    assert.deepEqual(roles.map((l) => l["io.inference-runtime.role"]).sort(), [
      "model-cache",
      "model-cache",
      "model-server",
      "network",
      "worker-agent",
      "worker-agent",
    ]);
  });

  it("builds both service images with the CLI, tagged per stack, and removes them on destroy", () => {
    const builds = byType(resources, "command:local:Command").filter((c) => c.name.endsWith("-build"));
    assert.deepEqual(builds.map((b) => b.inputs.environment.IMAGE_TAG).sort(), [
      "inference-runtime/mock-vllm:dev",
      "inference-runtime/worker-agent:dev",
    ]);
    for (const build of builds) {
      assert.match(build.inputs.create, /^docker build -q .*--label io\.inference-runtime\.stack="\$STACK" .*-t "\$IMAGE_TAG" \.$/m);
      // The project's local base is made first when the engine lacks it (a fresh host).
      assert.equal(build.inputs.environment.LOCAL_BASE_SCRIPT, "../../deploy/base-image.sh");
      assert.match(build.inputs.create, /bash "\$LOCAL_BASE_SCRIPT"[^\n]*\ndocker build/);
      // The docker CLI goes to the provider's engine (here: the default socket).
      assert.equal(build.inputs.environment.DOCKER_HOST, "unix:///var/run/docker.sock");
      assert.match(build.inputs.delete, /target="\$IMAGE_TAG"[\s\S]*docker image rm "\$target"/);
      assert.equal(build.inputs.environment.BASE_IMAGE, "inference-runtime/node-base:20");
      assert.equal(build.inputs.environment.STACK, "dev");
      assert.equal(build.inputs.environment.DOCKER_BUILDKIT, "0");
      assert.match(build.inputs.dir, /services\/(mock-vllm|worker-agent)$/);
      assert.match(build.inputs.triggers[0], /^[0-9a-f]{16}$/);
      // A changed build is a new image: the old one's delete removes it.
      assert.ok(options[build.name].replaceOnChanges.includes("*"));
    }
  });

  it("runs mock-vllm with the vLLM command line and no GPU settings", () => {
    const server = container("model-server");
    assert.equal(server.inputs.name, "inference-runtime-dev-model-server");
    assert.deepEqual(server.inputs.command.slice(0, 3), ["Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen2.5-0.5b-instruct"]);
    assert.ok(!server.inputs.command.includes("--model"), "the model goes positionally; vLLM deprecated --model");
    assert.deepEqual(server.inputs.deviceRequests ?? [], []);
    assert.deepEqual(container("worker-agent").inputs.deviceRequests ?? [], [], "no GPU access for the agent on cpu");
    assert.equal(server.inputs.ipcMode, undefined);
    assert.equal(server.inputs.image, "sha256:runtime-server-image-build");
  });

  it("rotates both containers' logs with the json-file driver (50 MB × 5 by default)", () => {
    for (const role of ["model-server", "worker-agent"]) {
      const { logDriver, logOpts } = container(role).inputs;
      assert.equal(logDriver, "json-file", role);
      assert.deepEqual(logOpts, { "max-size": "50m", "max-file": "5" }, role);
    }
  });

  it("waits for a mock-sized healthcheck whose probe exists in the image, through the health gate", () => {
    const server = container("model-server");
    assert.deepEqual(server.inputs.healthcheck.tests, ["CMD", "node", "/app/main.js", "--mock-probe", "http://127.0.0.1:8000/health"]);
    // The start period (30s) stretched to the wait the user allows `up` (waitTimeoutSeconds 120).
    assert.equal(server.inputs.healthcheck.startPeriod, "2m0s");
    // The fake engine speaks API 1.41, which refuses a start interval.
    assert.equal(server.inputs.healthcheck.startInterval, undefined);
    assert.equal(server.inputs.wait, false);
    const gate = byType(resources, "command:local:Command").find((c) => c.name === "runtime-server-ready-wait")!;
    assert.equal(gate.inputs.create, "node dist/scripts/wait-healthy.js");
    assert.deepEqual(gate.inputs.environment, {
      DOCKER_HOST: "unix:///var/run/docker.sock",
      WAIT_CONTAINER: "inference-runtime-dev-model-server",
      WAIT_TIMEOUT_S: "120",
    });
    assert.deepEqual(gate.inputs.triggers, [server.id]);
    assert.equal(options["runtime-server-ready-wait"].customTimeouts.create, "7m");
  });

  it("replaces rather than clashes: fixed names delete first, a stopped container is replaced", () => {
    for (const name of ["runtime-server-container", "runtime-agent-container"]) {
      assert.equal(options[name].deleteBeforeReplace, true, name);
      assert.deepEqual(options[name].replaceOnChanges, ["mustRun"], name);
    }
  });

  it("starts the agent only once the server passed its health gate, and smoke-tests after the agent's", () => {
    // A dependency on a component is a dependency on its children: the gate's wait command.
    assert.ok(options["runtime-agent-container"].dependsOn.includes("runtime-server-ready-wait"));
    assert.ok(options["runtime-smoke-test-command"].dependsOn.includes("runtime-agent-ready-wait"));
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
    assert.deepEqual(agent.inputs.volumes, [
      { volumeName: "inference-runtime-dev-worker-agent-state", containerPath: "/var/lib/worker-agent" },
    ]);
    assert.ok(agent.inputs.envs.includes("VLLM_BASE_URL=http://127.0.0.1:8000"));
    assert.ok(agent.inputs.envs.includes("WORKER_SIMULATE_GPU_COUNT=1"));
    assert.ok(!agent.inputs.envs.some((e: string) => e.startsWith("CONTROL_PLANE_URL=")));
  });

  it("smoke-tests the deployed API and agent, again whenever the server is replaced", () => {
    const smoke = byType(resources, "command:local:Command").find((c) => c.name === "runtime-smoke-test-command")!;
    assert.equal(smoke.inputs.create, "node dist/scripts/smoke-test.js");
    assert.deepEqual(smoke.inputs.triggers, [container("model-server").id, container("worker-agent").id]);
    assert.deepEqual(smoke.inputs.environment, {
      SMOKE_API_URL: "http://127.0.0.1:8000",
      SMOKE_AGENT_URL: "http://127.0.0.1:8080",
      SMOKE_MODEL: "qwen2.5-0.5b-instruct",
    });
  });

  it("drops the cache on destroy for dev and says so", () => {
    assert.equal(outputs.cacheKeptOnDestroy, false);
    assert.deepEqual(outputs.keptOnDestroy, []);
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
