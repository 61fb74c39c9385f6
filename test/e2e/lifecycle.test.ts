// The product's main job, for real: `pulumi up` of the dev stack to a served completion, a
// second preview with no changes, drift repaired by the next up, an interrupted up that
// converges, two stacks side by side, and destroy back to exactly the engine it started from.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { Stack } from "@pulumi/pulumi/automation";
import { docker, engineSnapshot, labelled, lifecycleBlocker, ScratchProject } from "./stacks";

const skip = lifecycleBlocker();
const ID = `${process.pid}`;

async function assertServes(stack: Stack, prompt: string): Promise<void> {
  const outputs = await stack.outputs();
  const client = new OpenAI({ baseURL: `${outputs.apiUrl.value}/v1`, apiKey: "unused", maxRetries: 0 });
  const reply = await client.chat.completions.create({
    model: outputs.servedModelName.value,
    messages: [{ role: "user", content: prompt }],
    max_tokens: 32,
  });
  assert.match(reply.choices[0].message.content ?? "", new RegExp(prompt));
  const ready = await fetch(`${outputs.agentUrl.value}/readyz`);
  assert.equal(ready.status, 200, await ready.text());
}

/** What `npm run up` would add to `pulumi up` for this stack: `--refresh` or nothing. */
const refreshFlag = (stack: string) =>
  execFileSync("bash", ["scripts/lib/refresh-flag.sh", stack], { cwd: `${__dirname}/../..`, encoding: "utf8" }).trim();

const changes = (summary: Record<string, number> | undefined) => Object.entries(summary ?? {}).filter(([op, n]) => op !== "same" && n > 0);

describe("the dev stack's lifecycle on the real engine", () => {
  const project = new ScratchProject();
  const names = { a: `e2e-${ID}-a`, b: `e2e-${ID}-b` };
  let before_: Record<string, string[]>;
  let a: Stack;

  before(async () => {
    if (skip) return;
    before_ = await engineSnapshot();
    a = await project.stack(names.a, "dev");
  });
  after(async () => {
    if (skip) return project.remove();
    await project.cleanup(names.a);
    await project.cleanup(names.b);
    project.remove();
  });

  it("deploys to a served completion through apiUrl, with the agent ready and the smoke test passed", { skip }, async () => {
    const up = await a.up({ refresh: true });
    assert.equal(up.summary.result, "succeeded");
    assert.equal(JSON.parse(up.outputs.smokeTestResult.value).ok, true);
    assert.equal(up.outputs.cacheKeptOnDestroy.value, false);
    assert.deepEqual(up.outputs.keptOnDestroy.value, []);
    assert.match(up.outputs.modelServerIps.value[`inference-runtime-${names.a}-net`], /^\d+\.\d+\.\d+\.\d+$/);
    await assertServes(a, "hello from the lifecycle test");
  });

  it("plans no change on a second preview", { skip }, async () => {
    const preview = await a.preview({ expectNoChanges: true, refresh: true });
    assert.deepEqual(changes(preview.changeSummary), []);
  });

  it("lets `npm run up` skip the refresh while everything runs, and not once a container is gone", { skip }, async () => {
    assert.equal(refreshFlag(names.a), "");
    await docker("rm", "-f", `inference-runtime-${names.a}-worker-agent`);
    assert.equal(refreshFlag(names.a), "--refresh");
    const up = await a.up({ refresh: true });
    assert.match(up.stdout, /runtime-agent-container created/);
    assert.match(up.stdout, /runtime-smoke-test-command (created|replaced)/);
    assert.equal(refreshFlag(names.a), "");
  });

  it("restores a removed model server on the next up and reruns the smoke test", { skip }, async () => {
    await docker("rm", "-f", `inference-runtime-${names.a}-model-server`);
    assert.equal(refreshFlag(names.a), "--refresh");
    const up = await a.up({ refresh: true });
    assert.ok(
      (up.summary.resourceChanges?.create ?? 0) + (up.summary.resourceChanges?.replace ?? 0) > 0,
      JSON.stringify(up.summary.resourceChanges),
    );
    assert.match(up.stdout, /smoke-test-command/);
    await assertServes(a, "back after removal");
  });

  it("restores a stopped model server on the next up", { skip }, async () => {
    await docker("stop", "-t", "1", `inference-runtime-${names.a}-model-server`);
    assert.equal(refreshFlag(names.a), "--refresh");
    const up = await a.up({ refresh: true });
    assert.ok((up.summary.resourceChanges?.replace ?? 0) > 0, JSON.stringify(up.summary.resourceChanges));
    await assertServes(a, "back after a stop");
    const preview = await a.preview({ expectNoChanges: true, refresh: true });
    assert.deepEqual(changes(preview.changeSummary), []);
  });

  it("converges when an up is interrupted with SIGINT", { skip }, async () => {
    await a.setConfig("inference-runtime:mock.ttftMs", { value: "25" }, true);
    const cli = project.cli(["up", "--yes", "--skip-preview", "--stack", names.a]);
    let output = "";
    cli.stdout!.on("data", (d) => (output += d));
    cli.stderr!.on("data", (d) => (output += d));
    // Interrupt once the update is under way (resources are being replaced).
    await new Promise<void>((resolve) => {
      const started = setInterval(() => {
        if (/replacing|deleting|creating/.test(output)) {
          clearInterval(started);
          resolve();
        }
      }, 100);
    });
    cli.kill("SIGINT");
    await new Promise((r) => cli.once("exit", r));
    const up = await a.up({ refresh: true });
    assert.equal(up.summary.result, "succeeded", output);
    await assertServes(a, "after an interrupted up");
    const preview = await a.preview({ expectNoChanges: true, refresh: true });
    assert.deepEqual(changes(preview.changeSummary), []);
  });

  it("runs a second stack beside the first, and destroying it leaves the first serving", { skip }, async () => {
    const b = await project.stack(names.b, "dev");
    await b.up({ refresh: true });
    await assertServes(b, "from the second stack");
    await b.destroy();
    await b.workspace.removeStack(names.b);
    assert.deepEqual(await labelled(names.b), []);
    await assertServes(a, "the first stack still serves");
  });

  it("destroys back to exactly the containers, images, volumes and networks it started from", { skip }, async () => {
    await a.destroy();
    assert.deepEqual(await labelled(names.a), []);
    assert.deepEqual(await engineSnapshot(), before_);
  });
});
