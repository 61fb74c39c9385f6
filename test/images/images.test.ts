// The service images on the real Docker engine, run with exactly the command line, environment
// and healthchecks the Pulumi program declares for the dev stack: mock-vllm must become healthy
// and serve the official client; the agent, in its network namespace, must report ready.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import OpenAI from "openai";
import { parseStackConfig, resolveConfig } from "../../config/defaults";
import { agentHealthcheck, healthcheck, modelServerEnv, serveArgs, workerAgentEnv } from "../../spec/containers";
import { ROOT, stackConfig } from "../unit/harness";
import { engineHealthcheck, inspect, removeContainer, runContainer } from "./dockerApi";

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run("docker", args, { timeout: 60_000 })).stdout.trim();

// Built here under a tag of this run's own, and removed afterwards: the stacks own their tags.
const TAG = `imgtest-${process.pid}`;
const images = { server: `inference-runtime/mock-vllm:${TAG}`, agent: `inference-runtime/worker-agent:${TAG}` };
const cfg = resolveConfig(parseStackConfig(stackConfig("dev"), "inference-runtime"), { project: "inference-runtime", stack: "dev" }, "cpu");
const names = { server: `imgtest-${process.pid}-server`, agent: `imgtest-${process.pid}-agent` };

async function waitHealthy(name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let status = "";
  while (Date.now() < deadline) {
    status = (await inspect(name)).State.Health?.Status ?? "none";
    if (status === "healthy") return;
    await new Promise((r) => setTimeout(r, 500));
  }
  const logs = await docker("logs", "--tail", "20", name).catch(() => "");
  assert.fail(`${name} is ${status} after ${timeoutMs} ms; last logs:\n${logs}`);
}

describe("service images on the real engine", () => {
  let apiUrl = "";
  let agentUrl = "";

  before(async () => {
    await run("bash", ["scripts/build-services.sh", "--images"], { cwd: ROOT, timeout: 300_000, env: { ...process.env, IMAGE_TAG: TAG } });
    await runContainer(names.server, {
      Image: images.server,
      Cmd: serveArgs(cfg),
      Env: modelServerEnv(cfg),
      // Probe every second here so the test does not wait out the production interval.
      Healthcheck: { ...engineHealthcheck(healthcheck(cfg, { startInterval: false })), Interval: 1e9 },
      ExposedPorts: { "8000/tcp": {}, "8080/tcp": {} },
      HostConfig: {
        PortBindings: { "8000/tcp": [{ HostIp: "127.0.0.1" }], "8080/tcp": [{ HostIp: "127.0.0.1" }] },
      },
    });
    await waitHealthy(names.server);
    await runContainer(names.agent, {
      Image: images.agent,
      Env: workerAgentEnv(cfg),
      Healthcheck: { ...engineHealthcheck(agentHealthcheck({ startInterval: false })), Interval: 1e9 },
      HostConfig: { NetworkMode: `container:${names.server}` },
    });
    await waitHealthy(names.agent);
    const ports = (await inspect(names.server)).NetworkSettings.Ports;
    apiUrl = `http://127.0.0.1:${ports["8000/tcp"][0].HostPort}`;
    agentUrl = `http://127.0.0.1:${ports["8080/tcp"][0].HostPort}`;
  });

  after(async () => {
    await removeContainer(names.agent);
    await removeContainer(names.server);
    await docker("image", "rm", images.server, images.agent).catch(() => "");
  });

  it("builds both images on the locally made base image, labelled as images", async () => {
    for (const image of [images.server, images.agent]) {
      const role = await docker("image", "inspect", "--format", '{{index .Config.Labels "io.inference-runtime.role"}}', image);
      assert.equal(role, "image");
    }
  });

  it("serves the official client on the published loopback port under the served name", async () => {
    const client = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: "unused" });
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      [cfg.model.servedName],
    );
    const reply = await client.chat.completions.create({
      model: cfg.model.servedName,
      messages: [{ role: "user", content: "ping from the image test" }],
      max_tokens: 32,
    });
    assert.match(reply.choices[0].message.content ?? "", /ping from the image test/);
  });

  it("passes the post-deploy smoke test, which fails with the reason on a wrong model name", async () => {
    const smoke = (model: string) =>
      run("node", ["--import", "tsx", "deploy/smoke-test.ts"], {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, SMOKE_API_URL: apiUrl, SMOKE_AGENT_URL: agentUrl, SMOKE_MODEL: model, SMOKE_TIMEOUT_S: "3" },
      });
    const ok = await smoke(cfg.model.servedName);
    assert.equal(JSON.parse(ok.stdout).ok, true);
    await assert.rejects(smoke("no-such-model"), (err: { stderr: string }) => {
      assert.match(err.stderr, /smoke test failed: chat completion at http:\/\/127\.0\.0\.1:\d+: .*no-such-model/);
      return true;
    });
  });

  it("runs the agent in the server's network namespace and reports ready", async () => {
    const ready = await fetch(`${agentUrl}/readyz`);
    assert.equal(ready.status, 200);
    const info = await (await fetch(`${agentUrl}/info`)).text();
    assert.ok(info.includes(cfg.model.servedName), info);
  });
});
