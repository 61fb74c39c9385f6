// `healthcheck.waitTimeoutSeconds` bounds the wait for a model server that is alive and still
// loading, first download included: a server that takes 40 s to start, with a start period and
// retries that would give up after about 15 s, is waited for when the user allows 90 s, and fails
// at about the bound, with its last log lines, when the user allows 20 s. (A crash still fails at
// once: failures.test.ts.)
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { failure, labelled, lifecycleBlocker, ScratchProject } from "./stacks";

const skip = lifecycleBlocker();
const ID = `${process.pid}`;

// 5 s start period, then 5 failures 2 s apart: Docker alone would mark it unhealthy at about 15 s.
const SLOW = {
  "mock.startupMs": "40000",
  "healthcheck.startPeriod": "5s",
  "healthcheck.interval": "2s",
  "healthcheck.retries": "5",
};

describe("the wait for a slow model server, bounded by healthcheck.waitTimeoutSeconds", () => {
  const project = new ScratchProject();
  const stacks: string[] = [];
  after(() => project.cleanupAll(skip ? [] : stacks));

  it("waits for a 40 s start when the user allows 90 s", { skip }, async () => {
    const name = `e2e-${ID}-slow`;
    stacks.push(name);
    const stack = await project.stack(name, "dev", { ...SLOW, "healthcheck.waitTimeoutSeconds": "90" });
    const started = Date.now();
    const up = await stack.up();
    const seconds = (Date.now() - started) / 1000;
    assert.equal(up.summary.result, "succeeded");
    assert.ok(seconds >= 40, `up took ${seconds} s, less than the server's 40 s start`);
    assert.equal(JSON.parse(up.outputs.smokeTestResult.value).ok, true);
  });

  it("fails at about the bound, with the server's last log lines, when the user allows 20 s", { skip }, async () => {
    const name = `e2e-${ID}-bound`;
    stacks.push(name);
    const stack = await project.stack(name, "dev", { ...SLOW, "healthcheck.waitTimeoutSeconds": "20" });
    const started = Date.now();
    const text = await failure(stack.up());
    const seconds = (Date.now() - started) / 1000;
    assert.match(text, new RegExp(`container inference-runtime-${name}-model-server did not become healthy: .*waited 2\\d\\.\\d s`));
    assert.match(text, /last 30 log lines:/);
    assert.ok(seconds < 40, `the failure came after ${seconds} s, not at the 20 s bound`);
    await project.cleanup(name);
    assert.deepEqual(await labelled(name), []);
  });
});
