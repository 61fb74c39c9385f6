import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { FakeControlPlane, FakeModelServer, INSTANCE_ID, sleep, startTestAgent, waitFor } from "./helpers";

let dir: string;
let model: FakeModelServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "worker-agent-token-"));
  model = await FakeModelServer.start({ models: ["m"] });
});

after(async () => {
  await model.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (cp: FakeControlPlane, extra: Record<string, string>) => ({
  CONTROL_PLANE_URL: cp.url,
  INSTANCE_ID,
  MODEL_ID: "m",
  VLLM_BASE_URL: model.url,
  ...extra,
});

test("without a token: registers unauthenticated, adopts the bootstrap token, persists it, then heartbeats with it", async () => {
  const tokenFile = join(dir, "nested", "worker-token");
  const cp = await FakeControlPlane.start();
  cp.respond = (c) =>
    c.path.endsWith("/register")
      ? { status: 200, json: { ok: true, bootstrap_token: "granted-1", bootstrap_token_prefix: "gra" } }
      : { status: 200, json: {} };
  const agent = await startTestAgent(env(cp, { WORKER_AUTH_TOKEN_FILE: tokenFile }));
  try {
    await waitFor("two heartbeats", () => cp.of("heartbeat").length >= 2);
    const [reg] = cp.of("register");
    assert.equal(reg!.auth, undefined, "bootstrap registration carries no Authorization header");
    assert.equal(cp.of("register").length, 1);
    for (const hb of cp.of("heartbeat")) assert.equal(hb.auth, "Bearer granted-1");
    assert.equal((await readFile(tokenFile, "utf8")).trim(), "granted-1");
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600, "token file readable by its owner only");
    const events = (await (await fetch(`${agent.url}/logs?tail=100`)).json()) as { events: { event: string }[] };
    assert.ok(events.events.some((e) => e.event === "token.persisted"));
    assert.ok(!JSON.stringify(events).includes("granted-1"), "the token never reaches the event log");
  } finally {
    await agent.close();
    await cp.close();
  }
});

test("before any token or registration, no heartbeat is sent; they start once registration succeeds", async () => {
  const cp = await FakeControlPlane.start();
  let open = false;
  cp.respond = (c) =>
    c.path.endsWith("/register") && !open ? { status: 502, json: { error: "backend down" } } : { status: 200, json: {} };
  const agent = await startTestAgent(env(cp, {}));
  try {
    await waitFor("two failed registrations", () => cp.of("register").length >= 2);
    assert.equal(cp.of("heartbeat").length, 0);
    open = true;
    await waitFor("a heartbeat", () => cp.of("heartbeat").length >= 1);
    assert.equal(cp.of("heartbeat")[0]!.auth, undefined, "no token was ever granted");
  } finally {
    await agent.close();
    await cp.close();
  }
});

test("a token persisted by an earlier run is read at start and a new bootstrap token does not replace it", async () => {
  const tokenFile = join(dir, "existing-token");
  await writeFile(tokenFile, "from-file\n");
  const cp = await FakeControlPlane.start();
  cp.respond = (c) => (c.path.endsWith("/register") ? { status: 201, json: { bootstrap_token: "newer" } } : { status: 200, json: {} });
  const agent = await startTestAgent(env(cp, { WORKER_AUTH_TOKEN_FILE: tokenFile }));
  try {
    await waitFor("a heartbeat", () => cp.of("heartbeat").length >= 2);
    assert.equal(cp.of("register")[0]!.auth, "Bearer from-file");
    for (const hb of cp.of("heartbeat")) assert.equal(hb.auth, "Bearer from-file");
    assert.equal((await readFile(tokenFile, "utf8")).trim(), "from-file");
  } finally {
    await agent.close();
    await cp.close();
  }
});

test("WORKER_AUTH_TOKEN wins over the token file", async () => {
  const tokenFile = join(dir, "ignored-token");
  await writeFile(tokenFile, "from-file\n");
  const cp = await FakeControlPlane.start();
  const agent = await startTestAgent(env(cp, { WORKER_AUTH_TOKEN: "from-env", WORKER_AUTH_TOKEN_FILE: tokenFile }));
  try {
    await waitFor("a heartbeat", () => cp.of("heartbeat")[0]);
    assert.equal(cp.of("register")[0]!.auth, "Bearer from-env");
    assert.equal(cp.of("heartbeat")[0]!.auth, "Bearer from-env");
  } finally {
    await agent.close();
    await cp.close();
  }
});

test("an unwritable token file is logged; the granted token is still used", async () => {
  const blocker = join(dir, "a-file");
  await writeFile(blocker, "x");
  const cp = await FakeControlPlane.start();
  cp.respond = (c) =>
    c.path.endsWith("/register") ? { status: 200, json: { bootstrap_token: "kept-in-memory" } } : { status: 200, json: {} };
  // A path below a regular file can never be created.
  const agent = await startTestAgent(env(cp, { WORKER_AUTH_TOKEN_FILE: join(blocker, "token") }));
  try {
    await waitFor("a heartbeat", () => cp.of("heartbeat")[0]);
    assert.equal(cp.of("heartbeat")[0]!.auth, "Bearer kept-in-memory");
    const { events } = (await (await fetch(`${agent.url}/logs`)).json()) as { events: { event: string }[] };
    assert.ok(events.some((e) => e.event === "token.persist_failed"));
    await sleep(300);
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);
  } finally {
    await agent.close();
    await cp.close();
  }
});
