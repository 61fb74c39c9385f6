// The real Pulumi CLI and language host running this program, against the real Docker engine.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { lifecycleBlocker, ScratchProject } from "../e2e/stacks";

const dockerObjects = (stack: string) =>
  ["ps -a", "volume ls", "network ls"].flatMap((cmd) =>
    execFileSync("docker", [...cmd.split(" "), "-q", "--filter", `label=io.inference-runtime.stack=${stack}`], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean),
  );

describe("pulumi preview with the real CLI", () => {
  let project: ScratchProject;
  before(() => {
    project = new ScratchProject();
  });
  after(() => project.remove());

  it("stops a stack with runtime foo and gpuMemoryUtilization 1.5 with one message naming both, creating nothing", async () => {
    const stack = `bad-${process.pid}`;
    assert.equal((await project.pulumi("stack", "init", stack)).code, 0);
    await project.pulumi("config", "set", "runtime", "foo", "--stack", stack);
    await project.pulumi("config", "set", "--path", "model.gpuMemoryUtilization", "1.5", "--stack", stack);

    const result = await project.pulumi("preview", "--stack", stack);
    const output = result.stdout + result.stderr;
    assert.notEqual(result.code, 0, output);
    // One diagnostic (the progress display echoes it on the resource's line, which is not a second error).
    const diagnostics = output.split("\n").filter((line) => /^\s+error: invalid stack configuration \(2 problems\)/.test(line));
    assert.equal(diagnostics.length, 1, output);
    assert.doesNotMatch(output, /unhandled exception| {4}at /, "expected a clean error without a stack trace");
    assert.match(output, /inference-runtime:runtime: .*"mock".*"vllm"/);
    assert.match(output, /inference-runtime:model\.gpuMemoryUtilization: expected a fraction in \(0, 1\]/);
    assert.deepEqual(dockerObjects(stack), []);
    const exported = JSON.parse((await project.pulumi("stack", "export", "--stack", stack)).stdout);
    assert.deepEqual(exported.deployment.resources ?? [], []);
  });

  const skip = lifecycleBlocker();
  for (const stack of ["dev", "gpu"]) {
    it(`plans the ${stack} stack against the real engine`, { skip }, async () => {
      assert.equal((await project.pulumi("stack", "init", stack)).code, 0);
      const result = await project.pulumi("preview", "--stack", stack, "--json");
      assert.equal(result.code, 0, result.stderr);
      const steps: any[] = JSON.parse(result.stdout).steps;
      const containers = steps.filter((s) => s.newState?.type === "docker:index/container:Container");
      const server = containers.find((c) => c.newState.inputs.name === `inference-runtime-${stack}-model-server`);
      assert.ok(server, "no model server planned");
      // The engine adds `__defaults` bookkeeping to planned inputs; it is not part of the program's.
      const inputs = JSON.parse(JSON.stringify(server.newState.inputs, (key, value) => (key === "__defaults" ? undefined : value)));
      assert.equal(inputs.command[0], "Qwen/Qwen2.5-0.5B-Instruct");
      assert.ok(!inputs.command.includes("--model"));
      assert.ok(inputs.command.includes("--served-model-name") && inputs.command.includes("--max-model-len"));
      assert.ok(inputs.ports.every((p: any) => p.ip === "127.0.0.1"));
      assert.equal(inputs.volumes[0].containerPath, "/root/.cache/huggingface");
      assert.deepEqual(inputs.logOpts, { "max-size": "50m", "max-file": "5" });
      const planned = containers.find((c) => c.newState.inputs.name === `inference-runtime-${stack}-worker-agent`);
      assert.ok(planned, "no worker-agent planned");
      const agent = JSON.parse(JSON.stringify(planned.newState.inputs, (key, value) => (key === "__defaults" ? undefined : value)));
      if (stack === "gpu") {
        assert.deepEqual(inputs.deviceRequests, [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }]);
        // Monitoring only: nvidia-smi and NVML, no compute.
        assert.deepEqual(agent.deviceRequests, [{ driver: "nvidia", count: 1, capabilities: ["utility"] }]);
        // The start period stretched to the whole wait the gpu stack allows (waitTimeoutSeconds 1800).
        assert.equal(inputs.healthcheck.startPeriod, "30m0s");
      } else {
        assert.equal(inputs.deviceRequests, undefined);
        assert.equal(agent.deviceRequests, undefined);
      }
      assert.deepEqual(dockerObjects(stack), []);
    });
  }
});
