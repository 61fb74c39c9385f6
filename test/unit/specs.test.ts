// Pure pieces: duration formatting, device decisions, and spec details not covered by the stacks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, resolveConfig } from "../../config/defaults";
import { formatGoDuration, parseDurationMs } from "../../config/duration";
import { resolveDevice } from "../../host/device";
import { deviceRequests, endpoints, healthcheck, hostSettings, loadingGrace, publishedPorts, serveArgs } from "../../spec/containers";

const cfgOf = (raw: unknown, device: "cpu" | "gpu" = "cpu") =>
  resolveConfig(parseStackConfig(raw, "inference-runtime"), { project: "inference-runtime", stack: "t" }, device);

describe("the wait for a loading model server", () => {
  it("lets probes fail uncounted until the longer of the start period and waitTimeoutSeconds", () => {
    assert.equal(loadingGrace(cfgOf({ healthcheck: { startPeriod: "15s", waitTimeoutSeconds: 90 } })), "1m30s");
    assert.equal(loadingGrace(cfgOf({ healthcheck: { startPeriod: "5m", waitTimeoutSeconds: 90 } })), "5m0s");
    const h = healthcheck(cfgOf({ healthcheck: { startPeriod: "15s", waitTimeoutSeconds: 90 } }), { startInterval: true });
    assert.equal(h.startPeriod, "1m30s");
  });

  it("gives vLLM's probe the configured healthcheck.timeout", () => {
    const h = healthcheck(cfgOf({ runtime: "vllm", healthcheck: { timeout: "12s" } }), { startInterval: false });
    assert.match(h.tests[3], /timeout=12\)$/);
  });
});

describe("durations", () => {
  it("formats like Go's time.Duration", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [500, "500ms"],
      [10_000, "10s"],
      [90_000, "1m30s"],
      [600_000, "10m0s"],
      [3_600_000, "1h0m0s"],
      [1_500, "1.5s"],
    ];
    for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text);
  });
  it("parses unit strings and seconds, and refuses anything else", () => {
    assert.equal(parseDurationMs("1h30m"), 5_400_000);
    assert.equal(parseDurationMs("250ms"), 250);
    assert.equal(parseDurationMs(2.5), 2_500);
    assert.equal(parseDurationMs("10 minutes"), undefined);
    assert.equal(parseDurationMs(-1), undefined);
  });
});

describe("device decision", () => {
  const withNvidia = () => ({ nvidiaRuntime: true, detail: "engine runtimes: nvidia, runc" });
  const without = () => ({ nvidiaRuntime: false, detail: "engine runtimes: runc" });
  it("auto follows the host for vLLM and is always cpu for the mock", () => {
    assert.equal(resolveDevice("auto", "vllm", withNvidia, false).device, "gpu");
    assert.equal(resolveDevice("auto", "vllm", without, false).device, "cpu");
    assert.equal(resolveDevice("auto", "mock", withNvidia, false).device, "cpu");
  });
  it("gpu without the NVIDIA runtime warns in preview and stops up with what to install", () => {
    const preview = resolveDevice("gpu", "vllm", without, true);
    assert.equal(preview.device, "gpu");
    assert.match(preview.notes[0], /NVIDIA container runtime/);
    assert.match(resolveDevice("gpu", "vllm", without, false).refusal ?? "", /NVIDIA Container Toolkit/);
  });
});

describe("spec details", () => {
  it("adds revision, quantization, trust-remote-code and extra args to the command line", () => {
    const args = serveArgs(
      cfgOf({
        runtime: "vllm",
        model: { revision: "abc", quantization: "awq", trustRemoteCode: true, extraArgs: ["--enable-prefix-caching"] },
      }),
    );
    assert.deepEqual(args.slice(-6), ["--revision", "abc", "--quantization", "awq", "--trust-remote-code", "--enable-prefix-caching"]);
  });
  it("requests a count of GPUs or specific device ids", () => {
    assert.deepEqual(deviceRequests(cfgOf({ runtime: "vllm", gpu: { count: 2 } }, "gpu")), [
      { driver: "nvidia", count: 2, capabilities: ["gpu"] },
    ]);
    assert.deepEqual(deviceRequests(cfgOf({ runtime: "vllm", gpu: { deviceIds: ["1", "3"] } }, "gpu")), [
      { driver: "nvidia", deviceIds: ["1", "3"], capabilities: ["gpu"] },
    ]);
    assert.equal(deviceRequests(cfgOf({ runtime: "vllm" }, "cpu")), undefined);
  });
  it("gives vLLM on cpu its documented container settings", () => {
    const s = hostSettings(cfgOf({ runtime: "vllm" }, "cpu"));
    assert.deepEqual(
      [s.ipcMode, s.shmSize, s.capabilities, s.securityOpts],
      [undefined, 4096, { adds: ["SYS_NICE"] }, ["seccomp=unconfined"]],
    );
  });
  it("publishes nothing when asked, and then points at the container on its network", () => {
    const cfg = cfgOf({ network: { publish: false } });
    assert.deepEqual(publishedPorts(cfg), []);
    assert.equal(endpoints(cfg, false).apiUrl, "http://inference-runtime-t-model-server:8000");
  });
});
