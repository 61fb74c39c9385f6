// The program's refusals before anything is declared: an engine that does not answer (named,
// with where its address came from), an engine too old, and a GPU stack on a host without the
// NVIDIA runtime at `up`. Each is a RunError, which Pulumi prints alone, without a stack trace.
// The engine is test/unit/fake-docker/docker; each case runs the program in a process of its own.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runIsolated, stackConfig } from "./harness";

/** Runs the program once with the fake engine's answers set by `env`: its refusal, if any. */
function refusal(stack: string, mode: "preview" | "up", env: Record<string, string>) {
  const r = runIsolated(stack, stackConfig(stack), [], mode, env);
  return { runError: r.error?.runError ?? false, message: r.error?.message ?? "", resources: r.resources.length };
}

describe("refusals before anything is declared", () => {
  it("names the engine address and its source when the engine does not answer, at preview", async () => {
    const r = refusal("dev", "preview", { FAKE_DOCKER_DOWN: "1", DOCKER_HOST: "" });
    assert.ok(r.runError, r.message);
    assert.match(
      r.message,
      /^cannot reach the Docker engine at unix:\/\/\/var\/run\/docker\.sock \(the default socket; set DOCKER_HOST or `docker:host`/,
    );
    assert.match(r.message, /Cannot connect to the Docker daemon/);
    assert.match(r.message, /Check that dockerd is running there/);
    assert.equal(r.resources, 0);
  });

  it("says DOCKER_HOST when that is where the address came from", async () => {
    const r = refusal("dev", "preview", { FAKE_DOCKER_DOWN: "1", DOCKER_HOST: "tcp://engine.example:2375" });
    assert.match(r.message, /^cannot reach the Docker engine at tcp:\/\/engine\.example:2375 \(from DOCKER_HOST\)/);
  });

  it("refuses an engine older than API 1.41 with the minimum version", async () => {
    const r = refusal("dev", "preview", { FAKE_DOCKER_API: "1.40" });
    assert.ok(r.runError);
    assert.match(r.message, /speaks API 1\.40 .*needs API 1\.41 or later \(Docker Engine 20\.10\+\)/);
  });

  it("stops the gpu stack at up on a host without the NVIDIA runtime, naming the toolkit", async () => {
    const r = refusal("gpu", "up", { FAKE_DOCKER_RUNTIMES: "runc" });
    assert.ok(r.runError, r.message);
    assert.match(
      r.message,
      /^device "gpu" needs the NVIDIA container runtime, which this Docker host lacks \(engine runtimes: runc\): install .*NVIDIA Container Toolkit/,
    );
    assert.equal(r.resources, 0);
  });
});
