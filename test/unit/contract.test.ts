// The program and the services agree without Docker: what the program passes to each container
// (command line, environment, healthcheck) is what the service's own parser accepts and means.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { CONTAINER_AGENT_PORT, CONTAINER_API_PORT, parseStackConfig, resolveConfig, RuntimeConfig } from "../../config/defaults";
import { agentHealthcheck, modelServerEnv, serveArgs, workerAgentEnv } from "../../spec/containers";
import { parseCommandLine } from "../../services/mock-vllm/src/cli";
import { configFromCommandLine } from "../../services/mock-vllm/src/config";
import { loadSettings } from "../../services/worker-agent/src/settings";
import { ROOT, stackConfig } from "./harness";

const envOf = (list: string[]) => Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
const resolved = (stack: string, overrides: Record<string, unknown>, device: "cpu" | "gpu") =>
  resolveConfig(parseStackConfig(stackConfig(stack, overrides), "inference-runtime"), { project: "inference-runtime", stack }, device);

/** Every committed stack on every device it can run on, and the other runtime too. */
const CASES: [string, RuntimeConfig][] = [
  ["dev", resolved("dev", {}, "cpu")],
  ["dev with generated text and startup", resolved("dev", { mock: { mode: "generate", startupMs: 1500, failureRate: 0.1 } }, "cpu")],
  ["gpu", resolved("gpu", {}, "gpu")],
  ["gpu on cpu", resolved("gpu", { gpu: {}, device: "cpu" }, "cpu")],
  ["vllm with extras", resolved("gpu", { model: { revision: "main", quantization: "awq", trustRemoteCode: true, extraArgs: ["--enable-prefix-caching"] } }, "gpu")],
];

describe("program and services agree", () => {
  for (const [name, cfg] of CASES) {
    it(`mock-vllm accepts the ${name} stack's vllm serve command line and environment, meaning the same`, () => {
      const env = envOf(modelServerEnv(cfg));
      const config = configFromCommandLine(parseCommandLine(serveArgs(cfg), env), env);
      assert.deepEqual(config.servedModelNames, [cfg.model.servedName]);
      assert.equal(config.port, CONTAINER_API_PORT);
      assert.equal(config.maxModelLen, cfg.model.maxModelLen);
      if (cfg.runtime === "mock") {
        assert.equal(config.mock.ttftMs, cfg.mock.ttftMs);
        assert.equal(config.mock.startupMs, cfg.mock.startupMs);
      }
    });

    it(`the worker-agent accepts the ${name} stack's environment, meaning the same`, () => {
      const result = loadSettings(envOf(workerAgentEnv(cfg)));
      assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
      assert.equal(result.settings.modelId, cfg.model.servedName);
      assert.equal(result.settings.healthPort, CONTAINER_AGENT_PORT);
      assert.equal(result.settings.vllmPort, CONTAINER_API_PORT);
      assert.equal(result.settings.heartbeatIntervalMs, cfg.agent.heartbeatIntervalSeconds * 1000);
    });
  }

  it("gives the agent the same healthcheck timings as its image", () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, "services", "worker-agent", "Dockerfile"), "utf8");
    const flags = Object.fromEntries([...dockerfile.matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const h = agentHealthcheck({ startInterval: false });
    assert.deepEqual(
      { interval: flags.interval, timeout: flags.timeout, startPeriod: flags["start-period"], retries: Number(flags.retries) },
      { interval: h.interval, timeout: h.timeout, startPeriod: h.startPeriod, retries: h.retries },
    );
  });
});
