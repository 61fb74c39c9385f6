// The rollout gate's verdict (deploy/wait-rollout.ts) from one look at a Deployment and its pods.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deployment, judgeRollout, Pod } from "../../deploy/wait-rollout";

const deployment = (status: Deployment["status"], replicas = 1, generation = 2): Deployment => ({
  metadata: { generation },
  spec: { replicas },
  status,
});
const ready = { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 };
const pod = (statuses: any[], extra: Partial<Pod["metadata"]> = {}): Pod => ({
  metadata: { name: "p-1", ...extra },
  status: { phase: "Running", containerStatuses: statuses },
});
const running = { name: "model-server", ready: true, restartCount: 0, state: { running: {} } };

describe("rollout verdict", () => {
  it("is ready only when the current generation's replicas are all updated, ready and available", () => {
    assert.equal(judgeRollout(deployment(ready), [pod([running])]).kind, "ready");
    assert.equal(judgeRollout(deployment({ ...ready, observedGeneration: 1 }), [pod([running])]).kind, "wait", "old generation");
    assert.equal(judgeRollout(deployment({ ...ready, readyReplicas: 0 }), [pod([running])]).kind, "wait");
    assert.equal(judgeRollout(deployment(ready, 2), [pod([running])]).kind, "wait", "one of two");
    assert.equal(judgeRollout(deployment({ ...ready, replicas: 2 }), [pod([running])]).kind, "wait", "an old pod still there");
  });

  it("fails at once on a container that crash-loops, with its last exit code", () => {
    const crashing = {
      name: "model-server",
      ready: false,
      restartCount: 2,
      state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 20s" } },
      lastState: { terminated: { exitCode: 2, reason: "Error" } },
    };
    const verdict = judgeRollout(deployment({}), [pod([crashing])]);
    assert.equal(verdict.kind, "failed");
    assert.deepEqual(verdict.kind === "failed" && verdict.failures, [
      { pod: "p-1", container: "model-server", reason: "CrashLoopBackOff, last exit code 2 (Error): back-off 20s", restarted: true },
    ]);
  });

  it("fails on a container that exited and was restarted, before the kubelet backs off", () => {
    const restarted = { ...running, restartCount: 1, lastState: { terminated: { exitCode: 1 } } };
    const verdict = judgeRollout(deployment({}), [pod([restarted])]);
    assert.equal(verdict.kind, "failed");
  });

  it("fails on an image that cannot be had, without a restart", () => {
    const pull = {
      name: "worker-agent",
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: "ErrImageNeverPull", message: "not present" } },
    };
    const verdict = judgeRollout(deployment({}), [pod([pull])]);
    assert.ok(verdict.kind === "failed" && !verdict.failures[0].restarted);
  });

  it("keeps waiting for a pod that is being created or pending, and ignores pods being deleted", () => {
    const creating = { name: "model-server", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } };
    assert.equal(judgeRollout(deployment({}), [pod([creating])]).kind, "wait");
    assert.equal(judgeRollout(deployment({}), [{ metadata: { name: "p" }, status: { phase: "Pending" } }]).kind, "wait");
    const crashing = { ...running, restartCount: 3, state: { waiting: { reason: "CrashLoopBackOff" } } };
    assert.equal(judgeRollout(deployment({}), [pod([crashing], { deletionTimestamp: "2026-12-01T00:00:00Z" })]).kind, "wait");
  });
});
