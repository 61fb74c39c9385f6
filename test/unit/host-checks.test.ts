// The pure parts of the engine and host checks, and the port check against real sockets.
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import { parseStackConfig, resolveConfig } from "../../config/defaults";
import { apiAtLeast, engineFeatures, engineTarget } from "../../host/engine";
import { takenPorts } from "../../host/ports";
import { agentHealthcheck, healthcheck } from "../../spec/containers";
import { ContainerState, judge, probeCommand } from "../../deploy/wait-healthy";
import { useFakeDocker } from "./harness";

useFakeDocker();

const cfg = resolveConfig(parseStackConfig({}, "inference-runtime"), { project: "inference-runtime", stack: "t" }, "cpu");

describe("engine features", () => {
  it("compares API versions numerically", () => {
    assert.ok(apiAtLeast("1.44", "1.44") && apiAtLeast("1.45", "1.44") && apiAtLeast("2.0", "1.44"));
    assert.ok(!apiAtLeast("1.41", "1.44") && !apiAtLeast("1.9", "1.41"));
  });
  it("sends a start interval only to engines from API 1.44 on", () => {
    const target = engineTarget({}, {});
    const old = engineFeatures({ target, apiVersion: "1.41" });
    const current = engineFeatures({ target, apiVersion: "1.47" });
    assert.equal("startInterval" in healthcheck(cfg, old), false);
    assert.equal("startInterval" in agentHealthcheck(old), false);
    assert.equal(healthcheck(cfg, current).startInterval, "1s");
    assert.equal(agentHealthcheck(current).startInterval, "1s");
  });
  it("takes the engine address from docker:host, then DOCKER_HOST, then the default socket", () => {
    assert.deepEqual(engineTarget({ host: "ssh://a" }, { DOCKER_HOST: "tcp://b:2375" }), { host: "ssh://a", source: "docker:host" });
    assert.deepEqual(engineTarget({}, { DOCKER_HOST: "tcp://b:2375" }), { host: "tcp://b:2375", source: "DOCKER_HOST" });
    assert.equal(engineTarget({}, {}).source, "default socket");
    assert.equal(engineFeatures({ target: engineTarget({ host: "ssh://a" }), apiVersion: "1.41" }).target.host, "ssh://a");
  });
});

describe("health gate verdicts", () => {
  const state = (s: Partial<ContainerState["State"]>, restarts = 0): ContainerState => ({
    State: { Status: "running", Running: true, Restarting: false, ExitCode: 0, ...s },
    RestartCount: restarts,
    Config: {},
  });
  it("keeps waiting while the container runs and is starting", () => {
    assert.deepEqual(judge(state({ Health: { Status: "starting" } })), { kind: "wait" });
  });
  it("fails at once on an exit, a restart or an unhealthy mark", () => {
    assert.match((judge(state({ Status: "exited", Running: false, ExitCode: 2 })) as any).reason, /exited \(exit code 2\)/);
    assert.match(
      (judge(state({ Restarting: true, Running: false, ExitCode: 2 })) as any).reason,
      /exited \(exit code 2\) and is being restarted/,
    );
    // Running again after a restart: the state shows 0, the engine's events the real code.
    assert.match((judge(state({}, 1), 2) as any).reason, /exited \(exit code 2\) and is being restarted/);
    assert.match((judge(state({ Health: { Status: "unhealthy" } })) as any).reason, /unhealthy/);
  });
  it("runs the container's own probe: CMD as is, CMD-SHELL through sh", () => {
    assert.deepEqual(probeCommand(["CMD", "node", "/app/main.js", "--probe"]), ["node", "/app/main.js", "--probe"]);
    assert.deepEqual(probeCommand(["CMD-SHELL", "curl -f x"]), ["/bin/sh", "-c", "curl -f x"]);
    assert.equal(probeCommand(["NONE"]), undefined);
  });
});

describe("host port check", () => {
  let holder: net.Server;
  let port = 0;
  before(async () => {
    holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
    port = (holder.address() as net.AddressInfo).port;
  });
  after(() => holder.close());

  it("names the key, the port and the address of a port another process holds", async () => {
    const problems = await takenPorts(
      engineTarget({}, {}),
      [{ key: "network.apiPort", port, address: "127.0.0.1" }],
      [],
      "inference-runtime",
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      new RegExp(`^inference-runtime:network\\.apiPort: host port ${port} on 127\\.0\\.0\\.1 is already in use by another process`),
    );
  });
  it("passes a free port", async () => {
    holder.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      await takenPorts(engineTarget({}, {}), [{ key: "network.apiPort", port, address: "127.0.0.1" }], [], "inference-runtime"),
      [],
    );
  });
});
