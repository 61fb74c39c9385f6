// The program and the services agree without Docker: what the program passes to each container
// (command line, environment, healthcheck) is what the service's own parser accepts and means.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseStackConfig, resolveConfig, RuntimeConfig } from "../../config/defaults";
import { AGENT_HEALTHCHECK, PATHS, PORTS, PROBE_FLAGS } from "../../contract";
import { agentHealthcheck, healthcheck, modelServerEnv, serveArgs, workerAgentEnv } from "../../spec/containers";
import { parseCommandLine } from "../../services/mock-vllm/src/cli";
import { configFromCommandLine } from "../../services/mock-vllm/src/config";
import { loadSettings } from "../../services/worker-agent/src/settings";
import { bundled } from "../lib/bundle";
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
  [
    "vllm with extras",
    resolved(
      "gpu",
      { model: { revision: "main", quantization: "awq", trustRemoteCode: true, extraArgs: ["--enable-prefix-caching"] } },
      "gpu",
    ),
  ],
];

describe("program and services agree", () => {
  for (const [name, cfg] of CASES) {
    it(`mock-vllm accepts the ${name} stack's vllm serve command line and environment, meaning the same`, () => {
      const env = envOf(modelServerEnv(cfg));
      const config = configFromCommandLine(parseCommandLine(serveArgs(cfg), env), env);
      assert.deepEqual(config.servedModelNames, [cfg.model.servedName]);
      assert.equal(config.port, PORTS.api);
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
      assert.equal(result.settings.healthPort, PORTS.agent);
      assert.equal(result.settings.vllmPort, PORTS.api);
      assert.equal(result.settings.heartbeatIntervalMs, cfg.agent.heartbeatIntervalSeconds * 1000);
    });
  }

  it("gives the agent the same healthcheck as its image", () => {
    const dockerfile = read("services", "worker-agent", "Dockerfile");
    const flags = Object.fromEntries([...dockerfile.matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const h = agentHealthcheck({ startInterval: true });
    const { interval, timeout, startPeriod, retries } = AGENT_HEALTHCHECK;
    assert.deepEqual(
      { interval: flags.interval, timeout: flags.timeout, startPeriod: flags["start-period"], retries: Number(flags.retries) },
      { interval, timeout, startPeriod, retries },
    );
    assert.deepEqual({ ...h, tests: undefined }, { ...AGENT_HEALTHCHECK, tests: undefined });
    assert.match(dockerfile, new RegExp(`CMD \\["node", "/app/main.js", "${PROBE_FLAGS.workerAgent}"\\]`));
  });

  it("has the images expose the contract's ports and the agent listen on its own", () => {
    assert.match(read("services", "mock-vllm", "Dockerfile"), new RegExp(`^EXPOSE ${PORTS.api}$`, "m"));
    const agent = read("services", "worker-agent", "Dockerfile");
    assert.match(agent, new RegExp(`^EXPOSE ${PORTS.agent}$`, "m"));
    assert.match(agent, new RegExp(`WORKER_HEALTH_PORT=${PORTS.agent}\\b`));
  });

  it("probes the paths the services serve, with the flags their entrypoints answer", () => {
    const dev = resolved("dev", {}, "cpu");
    assert.deepEqual(healthcheck(dev, { startInterval: false }).tests, [
      "CMD",
      "node",
      "/app/main.js",
      PROBE_FLAGS.mockVllm,
      `http://127.0.0.1:${PORTS.api}${PATHS.serverHealth}`,
    ]);
    assert.equal(agentHealthcheck({ startInterval: false }).tests.at(-1), `http://127.0.0.1:${PORTS.agent}${PATHS.agentHealth}`);
  });

  for (const [service, flag] of [
    ["mock-vllm", PROBE_FLAGS.mockVllm],
    ["worker-agent", PROBE_FLAGS.workerAgent],
  ] as const) {
    it(`${service} answers its probe flag: exit 0 on a 2xx, 1 on a 503 or a refused port`, async () => {
      let status = 200;
      const server = http.createServer((_req, res) => res.writeHead(status).end()).listen(0, "127.0.0.1");
      await once(server, "listening");
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATHS.serverHealth}`;
      const main = bundled(`services/${service}/src/main.ts`);
      const exitCode = async (target: string) => {
        const child = spawn(process.execPath, [main, flag, target], { stdio: "ignore" });
        return (await once(child, "exit"))[0];
      };
      try {
        assert.equal(await exitCode(url), 0);
        status = 503;
        assert.equal(await exitCode(url), 1);
      } finally {
        server.close();
      }
      assert.equal(await exitCode(url), 1);
    });
  }
});

const read = (...parts: string[]) => fs.readFileSync(path.join(ROOT, ...parts), "utf8");
