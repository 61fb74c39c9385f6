// cache.keepOnDestroy for real: the model cache survives `pulumi destroy`, is listed as kept,
// and the next `up` mounts the same data again.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Stack } from "@pulumi/pulumi/automation";
import { docker, engineSnapshot, labelled, lifecycleBlocker, ScratchProject } from "./stacks";

const skip = lifecycleBlocker();

describe("a kept model cache on the real engine", () => {
  const project = new ScratchProject();
  const name = `e2e-${process.pid}-cache`;
  const server = `inference-runtime-${name}-model-server`;
  const volumes = [`inference-runtime-${name}-hf-cache`, `inference-runtime-${name}-hf-cache-vllm`];
  const marker = "/root/.cache/huggingface/e2e-marker";
  let before_: Record<string, string[]>;
  let stack: Stack;

  before(async () => {
    if (skip) return;
    before_ = await engineSnapshot();
    stack = await project.stack(name, "dev", { "cache.keepOnDestroy": "true" });
  });
  after(async () => {
    if (skip) return project.remove();
    await project.cleanup(name);
    for (const v of volumes) await docker("volume", "rm", "-f", v).catch(() => undefined);
    project.remove();
  });

  it("survives destroy, is listed as kept, and is mounted again by the next up", { skip }, async () => {
    const first = await stack.up({ refresh: true });
    assert.deepEqual(
      first.outputs.keptOnDestroy.value,
      volumes.map((v) => `volume ${v}`),
    );
    await docker("exec", server, "node", "-e", `require("fs").writeFileSync(${JSON.stringify(marker)}, "weights")`);

    await stack.destroy();
    assert.deepEqual(await labelled(name), volumes.map((v) => `volume:${v}`).sort());

    await stack.up({ refresh: true });
    assert.equal(
      await docker("exec", server, "node", "-e", `process.stdout.write(require("fs").readFileSync(${JSON.stringify(marker)}, "utf8"))`),
      "weights",
    );
    await stack.destroy();
    for (const v of volumes) await docker("volume", "rm", v);
    assert.deepEqual(await engineSnapshot(), before_);
  });
});
