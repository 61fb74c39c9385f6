// Failed deploys on the real engine say why, fast, and leave nothing half-created: a server that
// crash-loops, a taken host port, an engine that does not answer, a GPU stack without GPUs.
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { docker, failure, freePort, labelled, lifecycleBlocker, ScratchProject } from "./stacks";

const skip = lifecycleBlocker();
const ID = `${process.pid}`;

function assertCleanError(text: string): void {
  assert.doesNotMatch(text, /unhandled exception|\n\s+at .*\.(ts|js):\d+/, "expected the message alone, without a stack trace");
  assert.ok(!text.includes("\x1b["), "expected no colour codes");
}

describe("failed deploys on the real engine", () => {
  const project = new ScratchProject();
  const stacks: string[] = [];
  after(async () => {
    if (skip) return project.remove();
    for (const s of stacks) await project.cleanup(s);
    project.remove();
  });

  it("fails a replacement whose server crash-loops within seconds, with its logs, exit code and restarts", { skip }, async () => {
    const name = `e2e-${ID}-crash`;
    stacks.push(name);
    const stack = await project.stack(name, "dev", { "healthcheck.waitTimeoutSeconds": "600" });
    await stack.up({ refresh: true });
    await stack.setConfig("inference-runtime:model.extraArgs[0]", { value: "--no-such-flag" }, true);
    const started = Date.now();
    const text = await failure(stack.up({ refresh: true }));
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 120, `took ${seconds} s, while the wait allows 600 s`);
    assert.match(text, /this update replaces the model server inference-runtime-e2e-\d+-crash-model-server: the API is down/);
    assert.match(
      text,
      /container inference-runtime-e2e-\d+-crash-model-server did not become healthy: it (exited \(exit code 2\) and is being restarted|is exited \(exit code 2\)); waited \d+\.\d s/,
    );
    assert.match(text, /restart count \d+(, exit codes so far 2)?/);
    assert.match(text, /last 30 log lines:/);
    assert.match(text, /vllm serve: error: unrecognized arguments: --no-such-flag/);
    // Put right, the next up converges.
    await stack.removeConfig("inference-runtime:model.extraArgs", true);
    const up = await stack.up({ refresh: true });
    assert.equal(JSON.parse(up.outputs.smokeTestResult.value).ok, true);
  });

  it("refuses a taken host port before creating anything, naming the key, port and address", { skip }, async () => {
    const holder = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => holder.listen(port, "127.0.0.1", () => r()));
    try {
      const name = `e2e-${ID}-port`;
      stacks.push(name);
      const stack = await project.stack(name, "dev", { "network.apiPort": String(port) });
      const text = await failure(stack.up({ refresh: true }));
      assert.match(
        text,
        new RegExp(`inference-runtime:network\\.apiPort: host port ${port} on 127\\.0\\.0\\.1 is already in use by another process`),
      );
      assertCleanError(text);
      assert.deepEqual(await labelled(name), []);
      const state = await stack.exportStack();
      assert.deepEqual(
        (state.deployment.resources ?? []).filter((r: { type: string }) => r.type !== "pulumi:pulumi:Stack"),
        [],
      );
    } finally {
      holder.close();
    }
  });

  it("names the engine it tried when no engine answers, at preview", { skip }, async () => {
    const unreachable = new ScratchProject();
    unreachable.env.DOCKER_HOST = `unix:///tmp/inference-runtime-no-engine-${ID}.sock`;
    try {
      const stack = await unreachable.stack(`e2e-${ID}-noengine`, "dev");
      const text = await failure(stack.preview());
      assert.match(
        text,
        new RegExp(`cannot reach the Docker engine at unix:///tmp/inference-runtime-no-engine-${ID}\\.sock \\(from DOCKER_HOST\\)`),
      );
      assertCleanError(text);
    } finally {
      unreachable.remove();
    }
  });

  it("previews the gpu stack here, and stops its up before any pull, naming the NVIDIA Container Toolkit", { skip }, async () => {
    const name = `e2e-${ID}-gpu`;
    stacks.push(name);
    const stack = await project.stack(name, "gpu");
    const preview = await stack.preview();
    assert.ok((preview.changeSummary.create ?? 0) > 0);
    assert.match(preview.stdout, /NVIDIA container runtime/);
    const text = await failure(stack.up());
    assert.match(text, /device "gpu" needs the NVIDIA container runtime, which this Docker host lacks .*NVIDIA Container Toolkit/);
    assertCleanError(text);
    assert.deepEqual(await labelled(name), []);
    assert.equal(await docker("images", "-q", "vllm/vllm-openai"), "");
  });
});
