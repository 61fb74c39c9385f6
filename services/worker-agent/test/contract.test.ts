import assert from "node:assert/strict";
import { isIP } from "node:net";
import { after, before, describe, test } from "node:test";
import type { RunningAgent } from "../src/main";
import { FakeControlPlane, FakeModelServer, INSTANCE_ID, startTestAgent, waitFor, type Call } from "./helpers";

// The package ships no types: its one function, typed as it is used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheus = require("parse-prometheus-text-format") as (
  text: string,
) => { name: string; metrics: { value: string; labels?: Record<string, string> }[] }[];

const TOKEN = "s3cret-token-value";
const isNum = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);

function assertGpu(g: any): void {
  assert.ok(Number.isInteger(g.index), "gpus[].index is an integer");
  for (const k of ["gpu_utilization", "gpu_mem_used_mb", "gpu_mem_total_mb", "gpu_temp_c", "gpu_power_w", "gpu_power_limit_w"]) {
    assert.ok(isNumOrNull(g[k]), `gpus[].${k} is a number or null`);
  }
}

/** The host figures a heartbeat carries in metadata.system, each also a gauge of its own. */
const SYSTEM_FIELDS = [
  "cpu_usage_pct",
  "load1",
  "mem_used_bytes",
  "mem_total_bytes",
  "disk_used_bytes",
  "disk_total_bytes",
  "net_rx_bps",
  "net_tx_bps",
];

function assertSystem(s: any, firstCycle = false): void {
  for (const k of SYSTEM_FIELDS) {
    assert.ok(k in s, `metadata.system.${k} present`);
    assert.ok(isNumOrNull(s[k]), `metadata.system.${k} is a number or null`);
  }
  // On Linux the agent reads /proc, so these must be real figures, not placeholders.
  if (process.platform === "linux") {
    // CPU % is a delta of 100 Hz counters: the first cycle may come too soon after start to have one.
    const sampled = ["load1", "mem_total_bytes", "mem_used_bytes", "disk_total_bytes", "net_rx_bps"];
    for (const k of firstCycle ? sampled : [...sampled, "cpu_usage_pct"]) {
      assert.ok(isNum(s[k]), `metadata.system.${k} sampled from /proc`);
    }
  }
}

function assertCommon(call: Call): void {
  assert.equal(call.method, "POST");
  assert.match(call.contentType ?? "", /^application\/json/);
  assert.equal(typeof call.body, "object", "body is JSON");
  assert.equal(call.auth, `Bearer ${TOKEN}`);
  assert.equal(call.body.instance_id, INSTANCE_ID);
  assert.equal(call.body.worker_id, "worker-under-test");
  assert.equal(call.body.model_id, "m");
  assert.equal(call.body.ip_address, "10.1.2.3");
}

describe("worker protocol over HTTP", () => {
  let cp: FakeControlPlane;
  let model: FakeModelServer;
  let agent: RunningAgent;

  before(async () => {
    cp = await FakeControlPlane.start();
    model = await FakeModelServer.start({ models: ["m"], waiting: 7, running: 2 });
    agent = await startTestAgent({
      CONTROL_PLANE_URL: cp.url + "/",
      INSTANCE_ID,
      WORKER_ID: "worker-under-test",
      WORKER_AUTH_TOKEN: TOKEN,
      MODEL_ID: "m",
      VLLM_BASE_URL: model.url,
      WORKER_VLLM_PORT: "8000",
      WORKER_SIMULATE_GPU_COUNT: "2",
      WORKER_SIMULATE_GPU_VRAM_MB: "24576",
    });
    await waitFor("8 heartbeats", () => cp.of("heartbeat").length >= 8);
  });

  after(async () => {
    await agent?.close();
    await cp?.close();
    await model?.close();
  });

  test("against a model server with 7 waiting requests, heartbeats carry queue_depth 7 and status ready", () => {
    const hb = cp.of("heartbeat").at(-1)!;
    assert.equal(hb.body.queue_depth, 7);
    assert.equal(hb.body.status, "ready");
  });

  test("only the two documented paths are called, trailing slash of CONTROL_PLANE_URL ignored", () => {
    const paths = new Set(cp.calls.map((c) => c.path));
    assert.deepEqual([...paths].sort(), ["/internal/worker/heartbeat", "/internal/worker/register"]);
  });

  test("registration happens once, first, with every documented field", () => {
    const regs = cp.of("register");
    assert.equal(regs.length, 1, "a 2xx ends registration");
    assert.ok(regs[0]!.at <= cp.of("heartbeat")[0]!.at, "registration precedes the first heartbeat");
    const r = regs[0]!;
    assertCommon(r);
    assert.equal(r.body.vllm_port, 8000);
    assert.equal(r.body.health_port, Number(new URL(agent.url).port));
    assert.equal(typeof r.body.metadata, "object");
    assert.equal(r.body.metadata.gpus.length, 2);
    r.body.metadata.gpus.forEach(assertGpu);
    assertSystem(r.body.metadata.system, true);
    assert.equal(r.body.metadata.vllm.ready, true);
    assert.deepEqual(r.body.metadata.vllm.models, ["m"]);
  });

  test("heartbeat bodies carry every documented field with its type", () => {
    cp.of("heartbeat").forEach((hb, i) => {
      assertCommon(hb);
      const b = hb.body;
      assert.ok(b.status === "ready" || b.status === "starting");
      assert.ok(Number.isInteger(b.queue_depth));
      assert.ok(isNum(b.gpu_utilization));
      assert.ok(isNum(b.gpu_mem_used_mb));
      assert.equal(b.agent_info.version, "0.1.0");
      assert.ok(b.agent_info.build_date === null || !Number.isNaN(Date.parse(b.agent_info.build_date)));
      assert.match(b.agent_info.checksum, /^[0-9a-f]{64}$/);
      assert.equal(b.metadata.gpus.length, 2);
      b.metadata.gpus.forEach(assertGpu);
      assert.equal(b.metadata.gpu_source, "simulated");
      assertSystem(b.metadata.system, i === 0);
      assert.equal(b.metadata.vllm.requests_waiting, 7);
      assert.equal(b.metadata.vllm.requests_running, 2);
    });
  });

  test("heartbeats keep the configured cadence without bursts", () => {
    const at = cp.of("heartbeat").map((c) => c.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    const mean = (at.at(-1)! - at[0]!) / gaps.length;
    // Deadlines come from a fixed grid, so the mean gap is the interval even on a noisy machine.
    // A stall skips ticks rather than adding them, so it can only lengthen the mean.
    assert.ok(mean > 170 && mean < 400, `mean gap ${mean.toFixed(1)} ms, expected ~200`);
    // A late run may be followed closely by the next tick, but never by a catch-up burst: any
    // two consecutive gaps together span at least most of an interval.
    const pairs = gaps.slice(1).map((g, i) => g + gaps[i]!);
    assert.ok(Math.min(...pairs) > 150, `no burst: two consecutive gaps shortest ${Math.min(...pairs).toFixed(1)} ms`);
  });

  test("/metrics reports the same simulated GPU figures and load as the heartbeat", async () => {
    const res = await fetch(`${agent.url}/metrics`);
    assert.equal(res.status, 200);
    const families = new Map(parsePrometheus(await res.text()).map((f) => [f.name, f.metrics]));
    const one = (name: string, labels?: Record<string, string>) => {
      const m = families.get(name)?.find((s) => !labels || JSON.stringify(s.labels) === JSON.stringify(labels));
      assert.ok(m, `${name} exported`);
      return Number(m.value);
    };
    const hb = cp.of("heartbeat").at(-1)!.body;
    assert.equal(one("inventiv_worker_up"), 1);
    assert.equal(one("inventiv_worker_vllm_ready"), 1);
    assert.equal(one("inventiv_worker_queue_depth"), 7);
    assert.equal(one("inventiv_worker_requests_waiting"), 7);
    assert.equal(one("inventiv_worker_requests_running"), 2);
    assert.equal(one("inventiv_worker_gpu_utilization"), hb.gpu_utilization);
    assert.equal(one("inventiv_worker_gpu_mem_used_mb"), hb.gpu_mem_used_mb);
    assert.equal(one("inventiv_worker_gpu_mem_total_mb"), hb.metadata.gpu_mem_total_mb);
    for (const g of hb.metadata.gpus) {
      assert.equal(one("inventiv_worker_gpu_utilization_by_gpu", { gpu_index: String(g.index) }), g.gpu_utilization);
      assert.equal(one("inventiv_worker_gpu_mem_used_mb_by_gpu", { gpu_index: String(g.index) }), g.gpu_mem_used_mb);
    }
    for (const name of SYSTEM_FIELDS) {
      assert.ok(families.has(`inventiv_worker_${name}`), `inventiv_worker_${name} exported`);
    }
    assert.ok(one("inventiv_worker_heartbeats_total", { outcome: "ok" }) >= 8);
  });

  test("no event, endpoint or log line carries the token", async () => {
    const logs = await (await fetch(`${agent.url}/logs?tail=1000`)).text();
    const infoText = await (await fetch(`${agent.url}/info`)).text();
    assert.ok(!logs.includes(TOKEN));
    assert.ok(!infoText.includes(TOKEN));
  });
});

describe("model server variants", () => {
  test("the vllm_* metric family is read too, an unlisted MODEL_ID means starting, the IP is discovered", async () => {
    const cp = await FakeControlPlane.start();
    const model = await FakeModelServer.start({ models: ["other"], waiting: 3, running: 1, family: "underscore" });
    const agent = await startTestAgent({
      CONTROL_PLANE_URL: cp.url,
      INSTANCE_ID,
      WORKER_AUTH_TOKEN: TOKEN,
      MODEL_ID: "m",
      VLLM_BASE_URL: model.url,
      WORKER_ADVERTISE_IP: "",
    });
    try {
      const hb = await waitFor("a heartbeat", () => cp.of("heartbeat")[0]);
      assert.ok(hb.body.ip_address === null || isIP(hb.body.ip_address) !== 0, "a discovered address, or null");
      assert.equal(hb.body.queue_depth, 3);
      assert.equal(hb.body.metadata.vllm.requests_running, 1);
      assert.equal(hb.body.status, "starting");
      assert.equal(hb.body.gpu_utilization, null, "no GPU and no simulation: null, not a made-up 0");
      assert.deepEqual(hb.body.metadata.gpus, []);
      assert.equal((await fetch(`${agent.url}/readyz`)).status, 503);
    } finally {
      await agent.close();
      await cp.close();
      await model.close();
    }
  });
});
