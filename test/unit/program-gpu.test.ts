// The gpu stack (real vLLM on NVIDIA GPUs) as the real program declares it, under Pulumi's mocks.
// This machine has no GPU: in preview the program must still plan the full GPU stack.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { byType, configProblems, Declared, labelsOf, runProgram, stackConfig } from "./harness";

describe("gpu stack", () => {
  let resources: Declared[];
  let outputs: Record<string, any>;
  const container = (role: string) =>
    byType(resources, "docker:index/container:Container").find((c) => labelsOf(c)["io.inference-runtime.role"] === role)!;

  before(async () => {
    ({ resources, outputs } = await runProgram("gpu", stackConfig("gpu")));
  });

  it("pulls the pinned vLLM image, keeps it on destroy, and builds only the agent", () => {
    const remote = byType(resources, "docker:index/remoteImage:RemoteImage");
    assert.deepEqual(
      remote.map((r) => [r.inputs.name, r.inputs.keepLocally]),
      [["vllm/vllm-openai:v0.31.0", true]],
    );
    const builds = byType(resources, "command:local:Command").filter((c) => c.name.endsWith("-build"));
    assert.deepEqual(
      builds.map((b) => b.inputs.environment.IMAGE_TAG),
      ["inference-runtime/worker-agent:gpu"],
    );
    assert.deepEqual(outputs.keptOnDestroy, [
      "volume inference-runtime-gpu-hf-cache",
      "volume inference-runtime-gpu-hf-cache-vllm",
      "image vllm/vllm-openai:v0.31.0",
    ]);
    assert.equal(container("model-server").inputs.image, "sha256:runtime-server-image-remote");
  });

  it("passes the model first (positional, as `vllm serve` wants it) and its settings as flags, not environment variables", () => {
    assert.deepEqual(container("model-server").inputs.command, [
      "Qwen/Qwen2.5-0.5B-Instruct",
      "--served-model-name",
      "qwen2.5-0.5b-instruct",
      "--host",
      "0.0.0.0",
      "--port",
      "8000",
      "--max-model-len",
      "4096",
      "--max-num-seqs",
      "64",
      "--dtype",
      "auto",
      "--gpu-memory-utilization",
      "0.6",
      "--tensor-parallel-size",
      "1",
      "--shutdown-timeout",
      "30",
    ]);
    assert.ok(!container("model-server").inputs.envs.some((e: string) => /^(MODEL|MAX_MODEL_LEN|MOCK_VLLM_\w+)=/.test(e)));
  });

  it("requests as many NVIDIA GPUs as the tensor-parallel size (1), with capability gpu, and shares the host IPC namespace", () => {
    const server = container("model-server");
    assert.deepEqual(server.inputs.deviceRequests, [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }]);
    assert.equal(server.inputs.ipcMode, "host");
  });

  it("lets the agent see the same GPUs for monitoring only (utility: nvidia-smi, no compute)", () => {
    assert.deepEqual(container("worker-agent").inputs.deviceRequests, [{ driver: "nvidia", count: 1, capabilities: ["utility"] }]);
  });

  it("gives model loading the whole wait the user allows (30 min) and probes with python3, within healthcheck.timeout", () => {
    const { healthcheck, stopTimeout } = container("model-server").inputs;
    assert.equal(healthcheck.startPeriod, "30m0s");
    assert.equal(healthcheck.tests[1], "python3");
    assert.match(healthcheck.tests[3], /urlopen\('http:\/\/127\.0\.0\.1:8000\/health', timeout=5\)/);
    assert.equal(healthcheck.timeout, "5s");
    const gate = byType(resources, "command:local:Command").find((c) => c.name === "runtime-server-ready-wait")!;
    const waitS = Number(gate.inputs.environment.WAIT_TIMEOUT_S);
    assert.ok(waitS >= 600, `the health gate's ${waitS} s is shorter than model loading`);
    assert.ok(stopTimeout > 30, "stop timeout must exceed the server's own shutdown timeout");
  });

  it("mounts the Hugging Face cache and keeps it on destroy", () => {
    const server = container("model-server");
    assert.deepEqual(server.inputs.volumes[0], {
      volumeName: "inference-runtime-gpu-hf-cache",
      containerPath: "/root/.cache/huggingface",
    });
    assert.ok(server.inputs.envs.includes("HF_HOME=/root/.cache/huggingface"));
    assert.equal(outputs.cacheKeptOnDestroy, true);
  });

  it("binds host ports to 127.0.0.1 and names everything after the gpu stack", () => {
    for (const port of container("model-server").inputs.ports) assert.equal(port.ip, "127.0.0.1");
    assert.equal(container("model-server").inputs.name, "inference-runtime-gpu-model-server");
    assert.equal(container("worker-agent").inputs.name, "inference-runtime-gpu-worker-agent");
    assert.equal(outputs.device, "gpu");
  });

  it("does not simulate GPUs in the agent of a real GPU stack", () => {
    assert.ok(container("worker-agent").inputs.envs.includes("WORKER_SIMULATE_GPU_COUNT=0"));
  });
});

describe("gpu stack: which GPUs", () => {
  const serverOf = (resources: Declared[]) =>
    byType(resources, "docker:index/container:Container").find((c) => labelsOf(c)["io.inference-runtime.role"] === "model-server")!;
  const gpuStack = (overrides: Record<string, unknown>) => runProgram("gpu", stackConfig("gpu", overrides));

  it("requests model.tensorParallelSize GPUs when gpu.count is unset", async () => {
    const { resources } = await gpuStack({ model: { tensorParallelSize: 2 } });
    assert.deepEqual(serverOf(resources).inputs.deviceRequests, [{ driver: "nvidia", count: 2, capabilities: ["gpu"] }]);
    assert.ok(serverOf(resources).inputs.command.join(" ").includes("--tensor-parallel-size 2"));
  });

  it("requests every GPU of the host (count -1) for gpu.count all", async () => {
    const { resources } = await gpuStack({ gpu: { count: "all" } });
    assert.deepEqual(serverOf(resources).inputs.deviceRequests, [{ driver: "nvidia", count: -1, capabilities: ["gpu"] }]);
  });

  it("requests the listed GPUs for gpu.deviceIds", async () => {
    const { resources } = await gpuStack({ gpu: { deviceIds: ["1"] } });
    assert.deepEqual(serverOf(resources).inputs.deviceRequests, [{ driver: "nvidia", deviceIds: ["1"], capabilities: ["gpu"] }]);
  });

  it("refuses fewer GPUs than the tensor-parallel size at preview, naming the keys", () => {
    const byCount = configProblems(stackConfig("gpu", { gpu: { count: 1 }, model: { tensorParallelSize: 2 } }));
    assert.ok(
      byCount.some((p) => /^inference-runtime:gpu\.count: 1 GPU\(s\) is fewer than model\.tensorParallelSize \(2\)/.test(p)),
      byCount.join("\n"),
    );
    const byIds = configProblems(stackConfig("gpu", { gpu: { deviceIds: ["0"] }, model: { tensorParallelSize: 2 } }));
    assert.ok(
      byIds.some((p) => /^inference-runtime:gpu\.deviceIds: 1 device\(s\) is fewer than model\.tensorParallelSize \(2\)/.test(p)),
      byIds.join("\n"),
    );
    assert.deepEqual(configProblems(stackConfig("gpu", { gpu: { count: "all" }, model: { tensorParallelSize: 4 } })), []);
    assert.deepEqual(configProblems(stackConfig("gpu", { gpu: { count: 2 }, model: { tensorParallelSize: 2 } })), []);
  });
});
