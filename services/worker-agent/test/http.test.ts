import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import type { RunningAgent } from "../src/main";
import { FakeModelServer, freePort, getJson, INSTANCE_ID, startAgentProcess, startTestAgent, waitFor } from "./helpers";
import { bundled } from "../../../test/lib/bundle";

describe("agent endpoints (standalone)", () => {
  let agent: RunningAgent;
  let model: FakeModelServer;

  before(async () => {
    model = await FakeModelServer.start({ models: ["m"], waiting: 2 });
    agent = await startTestAgent({ VLLM_BASE_URL: model.url, MODEL_ID: "m", WORKER_ID: "w1", WORKER_SIMULATE_GPU_COUNT: "1" });
    await waitFor("ready", async () => (await fetch(`${agent.url}/readyz`)).status === 200);
  });
  after(async () => {
    await agent.close();
    await model.close();
  });

  test("/healthz and /readyz answer JSON; HEAD works", async () => {
    assert.deepEqual(await getJson(`${agent.url}/healthz`), { status: 200, body: { status: "ok" } });
    assert.deepEqual(await getJson(`${agent.url}/readyz`), { status: 200, body: { status: "ready", model_id: "m" } });
    const head = await fetch(`${agent.url}/healthz`, { method: "HEAD" });
    assert.equal(head.status, 200);
  });

  test("/info reports identity, build and readiness without a control plane", async () => {
    const { status, body } = await getJson(`${agent.url}/info`);
    assert.equal(status, 200);
    assert.equal(body.agent_version, "0.1.0");
    assert.match(body.agent_checksum, /^[0-9a-f]{64}$/);
    assert.equal(body.worker_id, "w1");
    assert.equal(body.instance_id, null);
    assert.equal(body.model_id, "m");
    assert.equal(body.vllm_ready, true);
    assert.equal(body.control_plane_url, null);
    assert.equal(body.registered, false);
    assert.equal(body.gpu_source, "simulated");
  });

  test("/metrics is Prometheus text with the inventiv_worker_ series", async () => {
    const res = await fetch(`${agent.url}/metrics`);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^inventiv_worker_queue_depth 2$/m);
    assert.match(text, /^inventiv_worker_vllm_ready 1$/m);
    assert.match(text, /^inventiv_worker_gpu_utilization_by_gpu\{gpu_index="0"\} \d/m);
  });

  test("/logs?tail=N returns the newest N events; bad N is a 400", async () => {
    const all = await getJson(`${agent.url}/logs`);
    assert.ok(all.body.events.some((e: { event: string }) => e.event === "agent.started"));
    const one = await getJson(`${agent.url}/logs?tail=1`);
    assert.equal(one.body.events.length, 1);
    assert.deepEqual(one.body.events[0], all.body.events.at(-1));
    assert.equal((await getJson(`${agent.url}/logs?tail=-1`)).status, 400);
    assert.equal((await getJson(`${agent.url}/logs?tail=abc`)).status, 400);
  });

  test("anything else is a JSON 404; other methods a 405", async () => {
    assert.deepEqual(await getJson(`${agent.url}/nope`), { status: 404, body: { error: "not found", path: "/nope" } });
    const post = await fetch(`${agent.url}/healthz`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.deepEqual(await post.json(), { error: "method not allowed" });
  });
});

describe("what the agent reports", () => {
  test("/info shows the control plane's URL without the credentials embedded in it", async () => {
    const port = await freePort();
    const agent = await startTestAgent({
      CONTROL_PLANE_URL: `http://ops:s3cret@127.0.0.1:${port}/`,
      INSTANCE_ID,
      VLLM_BASE_URL: `http://127.0.0.1:${port}`,
    });
    try {
      const { body } = await getJson(`${agent.url}/info`);
      assert.equal(body.control_plane_url, `http://127.0.0.1:${port}`);
      assert.doesNotMatch(JSON.stringify(body), /s3cret|ops@/);
    } finally {
      await agent.close();
    }
  });

  test("/metrics says NaN, not 0, for what the last cycle could not observe", async () => {
    const agent = await startTestAgent({ VLLM_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    try {
      await waitFor("a cycle observed", () => agent.agent.state.snapshot !== null);
      const text = await (await fetch(`${agent.url}/metrics`)).text();
      assert.match(text, /^inventiv_worker_vllm_ready 0$/m);
      assert.match(text, /^inventiv_worker_queue_depth NaN$/m);
      assert.match(text, /^inventiv_worker_gpu_utilization NaN$/m);
    } finally {
      await agent.close();
    }
  });
});

describe("the agent as a process", () => {
  const main = bundled("services/worker-agent/src/main.ts");

  test("serves, passes its own --probe, and exits 0 on SIGTERM", async () => {
    const { child, port, stdout, exited } = await startAgentProcess();
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      const probe = spawn(process.execPath, [main, "--probe", `http://127.0.0.1:${port}/healthz`], { stdio: "ignore" });
      assert.equal(await new Promise((r) => probe.on("exit", r)), 0);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      const lines = stdout()
        .trim()
        .split("\n")
        .map((l: string) => JSON.parse(l) as { event: string });
      assert.ok(lines.some((l) => l.event === "agent.stopping"));
      assert.equal(lines.at(-1)!.event, "agent.stopped");
    } finally {
      clearTimeout(killer);
      child.kill("SIGKILL");
    }
  });
});
