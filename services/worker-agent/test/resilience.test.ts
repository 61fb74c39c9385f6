import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import type { RunningAgent } from "../src/main";
import {
  closeServer,
  FakeControlPlane,
  FakeModelServer,
  freePort,
  listen,
  getJson,
  INSTANCE_ID,
  sleep,
  startTestAgent,
  waitFor,
} from "./helpers";

let model: FakeModelServer;
before(async () => {
  model = await FakeModelServer.start({ models: ["m"], waiting: 1 });
});
after(async () => {
  await model.close();
});

const env = (cpUrl: string, extra: Record<string, string> = {}) => ({
  CONTROL_PLANE_URL: cpUrl,
  INSTANCE_ID,
  WORKER_AUTH_TOKEN: "t",
  MODEL_ID: "m",
  VLLM_BASE_URL: model.url,
  ...extra,
});

async function events(agent: RunningAgent): Promise<{ event: string; [k: string]: unknown }[]> {
  return (await getJson(`${agent.url}/logs?tail=1000`)).body.events;
}

/** The agent answers its own endpoints promptly whatever the control plane does. */
async function assertServing(agent: RunningAgent): Promise<void> {
  const t0 = performance.now();
  assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${agent.url}/metrics`)).status, 200);
  // Readiness is about the model server, so only its promptness matters here.
  assert.ok([200, 503].includes((await fetch(`${agent.url}/readyz`)).status));
  assert.ok(performance.now() - t0 < 2000, "endpoints answer without waiting on the control plane");
  await waitFor("ready", async () => (await fetch(`${agent.url}/readyz`)).status === 200);
}

test("control plane unreachable at start: keeps serving, then registers and heartbeats once it appears", async () => {
  const port = await freePort();
  const agent = await startTestAgent(env(`http://127.0.0.1:${port}`));
  let cp: FakeControlPlane | null = null;
  try {
    await waitFor("failed registrations", async () => (await events(agent)).some((e) => e.event === "register.failed"));
    await assertServing(agent);
    cp = await FakeControlPlane.start(port);
    await waitFor("registration", () => cp!.of("register").length >= 1);
    await waitFor("heartbeats", () => cp!.of("heartbeat").length >= 2);
    assert.equal((await getJson(`${agent.url}/info`)).body.registered, true);
  } finally {
    await agent.close();
    await cp?.close();
  }
});

test("slow control plane: calls time out, endpoints stay responsive, heartbeats resume when it speeds up", async () => {
  const cp = await FakeControlPlane.start();
  let slow = true;
  cp.respond = () => (slow ? { status: 200, delayMs: 3000, json: {} } : { status: 200, json: {} });
  const agent = await startTestAgent(env(cp.url, { WORKER_HTTP_TIMEOUT_S: "0.8" }));
  try {
    await waitFor("a timed-out call", async () => (await events(agent)).some((e) => e.outcome === "timeout"));
    await assertServing(agent);
    slow = false;
    const before = cp.of("heartbeat").length;
    await waitFor("heartbeats after recovery", () => cp.of("heartbeat").length >= before + 3);
    await waitFor("an ok heartbeat", () => agent.agent.state.lastHeartbeat?.ok);
  } finally {
    await agent.close();
    await cp.close();
  }
});

// 401: the token was revoked; 404: the control plane forgot the worker (restart, expiry).
for (const status of [401, 404]) {
  test(`${status} on heartbeats: logged, registration redone, recovers when heartbeats are accepted again`, async () => {
    const cp = await FakeControlPlane.start();
    let reject = false;
    cp.respond = (c) => (reject && c.path.endsWith("/heartbeat") ? { status, json: { error: "refused" } } : { status: 200, json: {} });
    const agent = await startTestAgent(env(cp.url));
    try {
      await waitFor("registered", () => agent.agent.state.registered);
      reject = true;
      await waitFor(`a ${status} logged`, async () =>
        (await events(agent)).some((e) => e.event === "heartbeat.failed" && e.outcome === `http_${status}`),
      );
      await waitFor("re-registration", () => cp.of("register").length >= 2);
      await assertServing(agent);
      reject = false;
      await waitFor("an ok heartbeat", () => agent.agent.state.lastHeartbeat?.ok);
      assert.ok((await events(agent)).some((e) => e.event === "heartbeat.ok"));
    } finally {
      await agent.close();
      await cp.close();
    }
  });
}

test("5xx on registration: retries back off (growing gaps, capped) while heartbeats keep their cadence", async () => {
  const cp = await FakeControlPlane.start();
  let failing = true;
  cp.respond = (c) =>
    failing && c.path.endsWith("/register") ? { status: 502, json: { error: "bad gateway" } } : { status: 200, json: {} };
  // Interval 0.1 s, cap 0.8 s: delays ~0.1, 0.2, 0.4, 0.8, 0.8 (each jittered down to half).
  const agent = await startTestAgent(env(cp.url, { WORKER_HEARTBEAT_INTERVAL_S: "0.1", WORKER_REGISTER_BACKOFF_MAX_S: "0.8" }));
  try {
    await waitFor("6 registration attempts", () => cp.of("register").length >= 6, 15000);
    const at = cp.of("register").map((c) => c.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.ok(gaps.at(-1)! > gaps[0]! * 1.5, `gaps grow: ${gaps.map((g) => g.toFixed(0)).join(", ")} ms`);
    assert.ok(Math.max(...gaps) < 800 + 500, "the cap holds");
    // With a token, heartbeats do not wait for registration.
    const hbs = cp.of("heartbeat").map((c) => c.at);
    const span = hbs.at(-1)! - hbs[0]!;
    assert.ok(hbs.length >= 10 && span / (hbs.length - 1) < 180, `heartbeats every ~100 ms (${hbs.length} in ${span.toFixed(0)} ms)`);
    failing = false;
    await waitFor("registered", () => agent.agent.state.registered, 5000);
  } finally {
    await agent.close();
    await cp.close();
  }
});

test("400 on heartbeats (body refused) is logged and the next cycle tries again", async () => {
  const cp = await FakeControlPlane.start();
  let refuse = true;
  cp.respond = (c) =>
    refuse && c.path.endsWith("/heartbeat") ? { status: 400, json: { error: "invalid body" } } : { status: 200, json: {} };
  const agent = await startTestAgent(env(cp.url));
  try {
    await waitFor("three refused heartbeats", () => cp.of("heartbeat").length >= 3);
    const failed = (await events(agent)).find((e) => e.event === "heartbeat.failed");
    assert.equal(failed?.outcome, "http_400");
    assert.equal(failed?.error, "invalid body");
    refuse = false;
    await waitFor("an ok heartbeat", () => agent.agent.state.lastHeartbeat?.ok);
    assert.equal(cp.of("register").length, 1, "a 400 is not a reason to register again");
  } finally {
    await agent.close();
    await cp.close();
  }
});

test("garbage answers (HTML, truncated JSON, reset connections) are survived", async () => {
  const cp = await FakeControlPlane.start();
  let n = 0;
  cp.respond = (c) => {
    n++;
    if (c.path.endsWith("/register"))
      return n < 3 ? { status: 500, raw: "<html><body>Internal Server Error</body></html>" } : { status: 200, raw: "<html>ok?</html>" };
    return n % 2 === 0 ? { status: 200, raw: '{"ok": tr' } : { destroy: true };
  };
  const agent = await startTestAgent(env(cp.url));
  try {
    await waitFor("registered despite an HTML 200", () => agent.agent.state.registered);
    await waitFor("several heartbeats", () => cp.of("heartbeat").length >= 4);
    await assertServing(agent);
    const ev = await events(agent);
    assert.ok(ev.some((e) => e.event === "register.failed" && e.error === "<html><body>Internal Server Error</body></html>"));
    assert.ok(ev.some((e) => e.event === "heartbeat.failed" && e.outcome === "network"));
  } finally {
    await agent.close();
    await cp.close();
  }
});

test("model server stopping and restarting flips /readyz and the heartbeat status", async () => {
  const cp = await FakeControlPlane.start();
  const own = await FakeModelServer.start({ models: ["m"], waiting: 0 });
  const agent = await startTestAgent(env(cp.url, { VLLM_BASE_URL: own.url }));
  try {
    await waitFor("ready", async () => (await fetch(`${agent.url}/readyz`)).status === 200);
    await own.stop();
    await waitFor("not ready", async () => (await fetch(`${agent.url}/readyz`)).status === 503);
    const stoppedAt = performance.now();
    await waitFor("a starting heartbeat", () => cp.of("heartbeat").some((c) => c.at > stoppedAt && c.body.status === "starting"));
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200, "liveness does not depend on the model server");
    const ready = await getJson(`${agent.url}/readyz`);
    assert.equal(ready.body.status, "starting");
    await own.restart();
    await waitFor("ready again", async () => (await fetch(`${agent.url}/readyz`)).status === 200);
    const backAt = performance.now();
    await waitFor("a ready heartbeat", () => cp.of("heartbeat").some((c) => c.at > backAt && c.body.status === "ready"));
    const ev = (await events(agent)).map((e) => e.event);
    assert.ok(ev.includes("model_server.not_ready") && ev.lastIndexOf("model_server.ready") > ev.indexOf("model_server.not_ready"));
  } finally {
    await agent.close();
    await cp.close();
    await own.close();
  }
});

test("a model server answering 500 counts as not ready until it answers 200", async () => {
  const own = await FakeModelServer.start({ models: ["m"], modelsStatus: 500 });
  const agent = await startTestAgent({ VLLM_BASE_URL: own.url, MODEL_ID: "m" });
  try {
    await waitFor("an observation", () => agent.agent.state.snapshot);
    const r = await getJson(`${agent.url}/readyz`);
    assert.equal(r.status, 503);
    assert.match(r.body.reason, /500/);
    own.state.modelsStatus = 200;
    await waitFor("ready", async () => (await fetch(`${agent.url}/readyz`)).status === 200);
    await sleep(100);
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  } finally {
    await agent.close();
    await own.close();
  }
});

test("a hanging model server times out as not ready without stalling the agent's endpoints", async () => {
  // Accepts connections and never answers, like a process wedged while loading.
  const hang = createServer(() => {});
  const port = await listen(hang);
  const agent = await startTestAgent({ VLLM_BASE_URL: `http://127.0.0.1:${port}`, WORKER_HTTP_TIMEOUT_S: "0.3" });
  try {
    await waitFor("an observation", () => agent.agent.state.snapshot);
    const t0 = performance.now();
    const r = await getJson(`${agent.url}/readyz`);
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(r.status, 503);
    assert.equal(r.body.reason, "timeout");
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  } finally {
    await agent.close();
    await closeServer(hang);
  }
});
