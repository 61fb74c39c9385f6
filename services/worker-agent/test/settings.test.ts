import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { loadSettings } from "../src/settings";
import { bundled } from "../../../test/lib/bundle";

const ok = (env: Record<string, string>) => {
  const r = loadSettings(env);
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.settings;
};
const errors = (env: Record<string, string>) => {
  const r = loadSettings(env);
  assert.equal(r.ok, false, "expected invalid settings");
  return r.ok ? [] : r.errors;
};

describe("settings", () => {
  test("defaults: standalone, documented ports and interval, random worker id", () => {
    const s = ok({});
    assert.equal(s.controlPlaneUrl, null);
    assert.equal(s.vllmBaseUrl, "http://127.0.0.1:8000");
    assert.equal(s.vllmMetricsUrl, "http://127.0.0.1:8000/metrics");
    assert.equal(s.healthPort, 8080);
    assert.equal(s.vllmPort, 8000);
    assert.equal(s.heartbeatIntervalMs, 5000);
    assert.equal(s.simulateGpuCount, 0);
    assert.equal(s.simulateGpuVramMb, 24576);
    assert.match(s.workerId, /^[0-9a-f-]{36}$/);
    assert.notEqual(ok({}).workerId, s.workerId);
  });

  test("empty strings count as unset and trailing slashes are dropped", () => {
    const s = ok({ CONTROL_PLANE_URL: "", WORKER_HEALTH_PORT: " ", VLLM_BASE_URL: "http://vllm:8000/", MODEL_ID: "" });
    assert.equal(s.controlPlaneUrl, null);
    assert.equal(s.healthPort, 8080);
    assert.equal(s.vllmBaseUrl, "http://vllm:8000");
    assert.equal(s.vllmMetricsUrl, "http://vllm:8000/metrics");
    assert.equal(s.modelId, null);
  });

  test("sub-second heartbeat intervals are accepted", () => {
    assert.equal(ok({ WORKER_HEARTBEAT_INTERVAL_S: "0.2" }).heartbeatIntervalMs, 200);
  });

  test("CONTROL_PLANE_URL without INSTANCE_ID is refused, naming INSTANCE_ID", () => {
    const e = errors({ CONTROL_PLANE_URL: "http://cp:8003" });
    assert.deepEqual(e, ["INSTANCE_ID: required when CONTROL_PLANE_URL is set"]);
  });

  test("every problem is reported at once, each naming its variable", () => {
    const e = errors({
      CONTROL_PLANE_URL: "cp:8003",
      INSTANCE_ID: "not-a-uuid",
      WORKER_HEALTH_PORT: "80a",
      WORKER_HEARTBEAT_INTERVAL_S: "0",
      WORKER_SIMULATE_GPU_COUNT: "-1",
      WORKER_ADVERTISE_IP: "10.0.0",
      WORKER_LOG_LEVEL: "loud",
    });
    for (const name of [
      "CONTROL_PLANE_URL",
      "INSTANCE_ID",
      "WORKER_HEALTH_PORT",
      "WORKER_HEARTBEAT_INTERVAL_S",
      "WORKER_SIMULATE_GPU_COUNT",
      "WORKER_ADVERTISE_IP",
      "WORKER_LOG_LEVEL",
    ]) {
      assert.ok(
        e.some((m) => m.startsWith(`${name}: `)),
        `${name} reported in ${JSON.stringify(e)}`,
      );
    }
    assert.ok(
      e.some((m) => m.includes('"80a"')),
      "the offending value is shown",
    );
  });

  test("secret values are never echoed in errors", () => {
    const e = errors({ WORKER_AUTH_TOKEN: "x", VLLM_API_KEY: "y", WORKER_VLLM_PORT: "0" });
    assert.equal(e.length, 1);
    const badKey = loadSettings({ VLLM_BASE_URL: "nope", VLLM_API_KEY: "super-secret" });
    assert.ok(!JSON.stringify(badKey).includes("super-secret"));
  });

  test("a full control-plane configuration parses", () => {
    const s = ok({
      CONTROL_PLANE_URL: "https://cp.example/api/",
      INSTANCE_ID: "6F1C2A52-8D1E-4C57-9A55-0F3E2B7C9D10",
      WORKER_AUTH_TOKEN: "tok",
      WORKER_ID: "w-1",
      MODEL_ID: "Qwen/Qwen2.5-0.5B-Instruct",
      VLLM_METRICS_URL: "http://127.0.0.1:9000/metrics",
      WORKER_ADVERTISE_IP: "fd00::1",
      WORKER_SIMULATE_GPU_COUNT: "4",
    });
    assert.equal(s.controlPlaneUrl, "https://cp.example/api");
    assert.equal(s.workerId, "w-1");
    assert.equal(s.vllmMetricsUrl, "http://127.0.0.1:9000/metrics");
    assert.equal(s.advertiseIp, "fd00::1");
    assert.equal(s.simulateGpuCount, 4);
  });
});

describe("the agent process", () => {
  const main = bundled("services/worker-agent/src/main.ts");

  function run(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [main, ...args], {
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 20000);
      child.on("error", reject);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
  }

  test("exits non-zero at once on bad settings, naming the variables", async () => {
    const r = await run({ CONTROL_PLANE_URL: "http://cp:8003", WORKER_HEALTH_PORT: "99999" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /INSTANCE_ID: required when CONTROL_PLANE_URL is set/);
    assert.match(r.stderr, /WORKER_HEALTH_PORT: must be a whole number between 0 and 65535/);
  });

  test("--probe exits 1 when nothing answers", async () => {
    const r = await run({}, ["--probe", "http://127.0.0.1:1/healthz"]);
    assert.equal(r.code, 1);
  });
});
