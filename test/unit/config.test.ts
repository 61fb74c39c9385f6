// The stack config contract: every class of bad input is rejected with its key path, all at
// once; valid configs resolve to fully-defaulted runtime configs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseStackConfig, resolveConfig } from "../../config/defaults";
import { belowVllmFloor, pinnedVllmVersion } from "../../config/imageFloor";
import { configProblems, stackConfig } from "./harness";

const NS = "inference-runtime";
const id = { project: NS, stack: "test" };

const problems = configProblems;

describe("stack config validation", () => {
  const cases: [string, unknown, RegExp][] = [
    ["unknown runtime", { runtime: "foo" }, /^inference-runtime:runtime: .*"mock"/],
    ["unknown device", { device: "tpu" }, /^inference-runtime:device: /],
    ["unknown top-level key", { runtimes: "mock" }, /^inference-runtime:\(root\): unknown key\(s\) runtimes/],
    ["unknown nested key", { model: { maxLen: 10 } }, /^inference-runtime:model: unknown key\(s\) maxLen/],
    ["wrong type", { model: { maxModelLen: "long" } }, /^inference-runtime:model\.maxModelLen: .*number/],
    ["wrong boolean", { model: { trustRemoteCode: "yes" } }, /^inference-runtime:model\.trustRemoteCode: .*boolean/],
    ["fraction above 1", { model: { gpuMemoryUtilization: 1.5 } }, /model\.gpuMemoryUtilization: expected a fraction in \(0, 1\]/],
    ["fraction of 0", { model: { gpuMemoryUtilization: 0 } }, /model\.gpuMemoryUtilization: expected a fraction/],
    ["negative sequences", { model: { maxNumSeqs: -1 } }, /model\.maxNumSeqs/],
    ["fractional length", { model: { maxModelLen: 10.5 } }, /model\.maxModelLen: expected a whole number/],
    ["unknown dtype", { model: { dtype: "int3" } }, /model\.dtype/],
    ["unknown quantization", { model: { quantization: "zip" } }, /model\.quantization/],
    ["extra arg with a space", { model: { extraArgs: ["--foo bar"] } }, /model\.extraArgs\.0: expected one argument/],
    ["port out of range", { network: { apiPort: 70000 } }, /network\.apiPort/],
    ["bad bind address", { network: { bindAddress: "localhost" } }, /network\.bindAddress: expected an IPv4 address/],
    ["same host ports", { network: { apiPort: 9000, agentPort: 9000 } }, /network\.agentPort: expected a host port different/],
    ["bad volume name", { cache: { volumeName: "my cache" } }, /cache\.volumeName: expected a Docker object name/],
    ["bad duration", { healthcheck: { startPeriod: "ten minutes" } }, /healthcheck\.startPeriod: expected a duration/],
    ["bad URL", { agent: { controlPlaneUrl: "ftp://cp" } }, /agent\.controlPlaneUrl: expected an http\(s\) URL/],
    [
      "control plane without instance",
      { agent: { controlPlaneUrl: "http://cp:8003" } },
      /agent\.instanceId: required when agent\.controlPlaneUrl/,
    ],
    ["bad instance id", { agent: { controlPlaneUrl: "http://cp", instanceId: "abc" } }, /agent\.instanceId: expected a UUID/],
    [
      "smoke test without published ports",
      { network: { publish: false }, smokeTest: true },
      /^inference-runtime:smokeTest: runs where Pulumi runs/,
    ],
    ["mock on gpu", { runtime: "mock", device: "gpu" }, /^inference-runtime:device: runtime "mock" simulates/],
    ["gpu block for the mock", { gpu: { count: 1 } }, /^inference-runtime:gpu: only applies to runtime "vllm"/],
    ["mock block for vllm", { runtime: "vllm", mock: { ttftMs: 5 } }, /^inference-runtime:mock: only applies to runtime "mock"/],
    [
      "count and deviceIds",
      { runtime: "vllm", gpu: { count: 1, deviceIds: ["0"] } },
      /^inference-runtime:gpu: expected either count or deviceIds/,
    ],
    [
      "tensor parallel above GPUs",
      { runtime: "vllm", gpu: { count: 2 }, model: { tensorParallelSize: 4 } },
      /^inference-runtime:gpu\.count: 2 GPU\(s\) is fewer than model\.tensorParallelSize \(4\)/,
    ],
    [
      "tensor parallel above the listed GPUs",
      { runtime: "vllm", gpu: { deviceIds: ["0", "1"] }, model: { tensorParallelSize: 4 } },
      /^inference-runtime:gpu\.deviceIds: 2 device\(s\) is fewer than model\.tensorParallelSize \(4\)/,
    ],
    [
      "tensor parallel on cpu",
      { runtime: "vllm", device: "cpu", model: { tensorParallelSize: 2 } },
      /model\.tensorParallelSize: expected 1 on device "cpu"/,
    ],
  ];
  for (const [name, raw, expected] of cases) {
    it(`rejects ${name}`, () => {
      const found = problems(raw);
      assert.ok(
        found.some((p) => expected.test(p)),
        `no problem matched ${expected}; got:\n${found.join("\n")}`,
      );
    });
  }

  it("reports field and cross-field problems together", () => {
    const found = problems({
      runtime: "foo",
      model: { gpuMemoryUtilization: 1.5 },
      network: { apiPort: 9000, agentPort: 9000 },
      agent: { controlPlaneUrl: "http://cp" },
    });
    assert.equal(found.length, 4, found.join("\n"));
  });

  it("property: any gpuMemoryUtilization outside (0, 1] is rejected with its key", () => {
    const outside = fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 1.0000001, noNaN: true }));
    fc.assert(
      fc.property(outside, (value) =>
        problems({ model: { gpuMemoryUtilization: value } }).some((p) => p.startsWith(`${NS}:model.gpuMemoryUtilization:`)),
      ),
    );
  });

  it("property: valid configs parse and resolve with their values kept", () => {
    const valid = fc.record({
      runtime: fc.constantFrom("mock", "vllm"),
      model: fc.record({
        maxModelLen: fc.integer({ min: 16, max: 131072 }),
        gpuMemoryUtilization: fc.double({ min: 0.01, max: 1, noNaN: true }),
        maxNumSeqs: fc.integer({ min: 1, max: 1024 }),
        servedName: fc.stringMatching(/^[a-z][a-z0-9.-]{0,30}$/),
      }),
      network: fc.record({ apiPort: fc.integer({ min: 1024, max: 30000 }), agentPort: fc.integer({ min: 30001, max: 65535 }) }),
    });
    fc.assert(
      fc.property(valid, (raw) => {
        const cfg = resolveConfig(parseStackConfig(raw, NS), id, "cpu");
        return (
          cfg.runtime === raw.runtime &&
          cfg.model.maxModelLen === raw.model.maxModelLen &&
          cfg.model.gpuMemoryUtilization === raw.model.gpuMemoryUtilization &&
          cfg.model.servedName === raw.model.servedName &&
          cfg.network.apiPort === raw.network.apiPort
        );
      }),
    );
  });
});

describe("defaults per runtime and device", () => {
  it("gives the dev stack a mock on cpu with a fast healthcheck and a disposable cache", () => {
    const cfg = resolveConfig(parseStackConfig(stackConfig("dev"), NS), id, "cpu");
    assert.equal(cfg.runtime, "mock");
    assert.equal(cfg.healthcheck.startPeriod, "30s");
    assert.equal(cfg.cache.keepOnDestroy, false);
    assert.equal(cfg.agent.simulateGpuCount, 1);
  });

  it("requests one GPU per tensor-parallel rank unless gpu says otherwise", () => {
    const gpuOf = (raw: unknown) => resolveConfig(parseStackConfig(raw, NS), id, "gpu").gpu;
    assert.deepEqual(gpuOf({ runtime: "vllm" }), { count: 1, deviceIds: undefined });
    assert.deepEqual(gpuOf({ runtime: "vllm", model: { tensorParallelSize: 4 } }), { count: 4, deviceIds: undefined });
    assert.deepEqual(gpuOf({ runtime: "vllm", gpu: { count: "all" }, model: { tensorParallelSize: 2 } }).count, "all");
    assert.deepEqual(gpuOf({ runtime: "vllm", gpu: { deviceIds: ["0", "3"] } }), { count: 2, deviceIds: ["0", "3"] });
  });

  it("gives vLLM on gpu at least 10 minutes to load and keeps its cache", () => {
    const cfg = resolveConfig(parseStackConfig({ runtime: "vllm" }, NS), id, "gpu");
    assert.equal(cfg.healthcheck.startPeriod, "10m0s");
    assert.ok(cfg.healthcheck.waitTimeoutSeconds >= 600);
    assert.equal(cfg.cache.keepOnDestroy, true);
    assert.equal(cfg.server.shmSizeMb, undefined);
  });

  it("gives vLLM on cpu longer still, bfloat16, shared memory and a KV cache size", () => {
    const cfg = resolveConfig(parseStackConfig({ runtime: "vllm" }, NS), id, "cpu");
    assert.equal(cfg.healthcheck.startPeriod, "30m0s");
    assert.equal(cfg.model.dtype, "bfloat16");
    assert.equal(cfg.server.shmSizeMb, 4096);
    assert.equal(cfg.server.cpuKvCacheSpaceGb, 4);
  });

  it("normalizes healthcheck overrides to the form Docker reads back", () => {
    const cfg = resolveConfig(parseStackConfig({ healthcheck: { startPeriod: "15m", interval: 90 } }, NS), id, "cpu");
    assert.equal(cfg.healthcheck.startPeriod, "15m0s");
    assert.equal(cfg.healthcheck.interval, "1m30s");
  });

  it("reads numbers and booleans that `pulumi config set --path` stored as text", () => {
    const cfg = resolveConfig(
      parseStackConfig({ model: { maxModelLen: "4096", gpuMemoryUtilization: "0.5", trustRemoteCode: "true" } }, NS),
      id,
      "cpu",
    );
    assert.deepEqual([cfg.model.maxModelLen, cfg.model.gpuMemoryUtilization, cfg.model.trustRemoteCode], [4096, 0.5, true]);
    assert.match(problems({ model: { gpuMemoryUtilization: "1.5" } })[0], /gpuMemoryUtilization: expected a fraction/);
  });

  it("serves the model under its id when no served name is given", () => {
    const cfg = resolveConfig(parseStackConfig({}, NS), id, "cpu");
    assert.equal(cfg.model.servedName, "Qwen/Qwen2.5-0.5B-Instruct");
  });
});

describe("the vLLM release floor (config/imageFloor.ts)", () => {
  it("reads the release from version tags, with or without a suffix, and nothing else", () => {
    assert.deepEqual(pinnedVllmVersion("vllm/vllm-openai:v0.31.0"), { major: 0, minor: 31, patch: 0 });
    assert.deepEqual(pinnedVllmVersion("vllm/vllm-openai:v0.31.0-cu129"), { major: 0, minor: 31, patch: 0 });
    assert.deepEqual(pinnedVllmVersion("registry:5000/vllm/vllm-openai:v0.6.3.post1"), { major: 0, minor: 6, patch: 3 });
    assert.deepEqual(pinnedVllmVersion("vllm/vllm-openai-cpu:0.17.1"), { major: 0, minor: 17, patch: 1 });
    for (const notAVersion of [
      "vllm/vllm-openai:latest",
      "vllm/vllm-openai:nightly",
      "vllm/vllm-openai",
      "registry:5000/vllm/vllm-openai",
      `vllm/vllm-openai@sha256:${"a".repeat(64)}`,
      `vllm/vllm-openai:v0.10.0@sha256:${"a".repeat(64)}`,
      "my/vllm:patched-2026",
    ])
      assert.equal(pinnedVllmVersion(notAVersion), undefined, notAVersion);
  });

  it("refuses a release older than v0.18.0 and passes the floor, later releases and non-versions", () => {
    assert.match(belowVllmFloor("vllm/vllm-openai:v0.17.1") ?? "", /vLLM 0\.17\.1, older than v0\.18\.0.*--shutdown-timeout/);
    assert.match(belowVllmFloor("vllm/vllm-openai:v0.10.1.1-cu129") ?? "", /older than v0\.18\.0/);
    for (const ok of ["vllm/vllm-openai:v0.18.0", "vllm/vllm-openai:v0.31.0-cu129", "vllm/vllm-openai:v1.0.0", "custom/vllm:mine"])
      assert.equal(belowVllmFloor(ok), undefined, ok);
  });

  it("refuses an old pin at preview, naming images.vllmGpu / images.vllmCpu and the floor, with the other problems", () => {
    const found = problems({
      runtime: "vllm",
      images: { vllmGpu: "vllm/vllm-openai:v0.17.0", vllmCpu: "vllm/vllm-openai-cpu:v0.9.2" },
      network: { apiPort: 70000 },
    });
    assert.ok(
      found.some((p) => /^inference-runtime:images\.vllmGpu: vllm\/vllm-openai:v0\.17\.0 .*older than v0\.18\.0/.test(p)),
      found.join("\n"),
    );
    assert.ok(
      found.some((p) => /^inference-runtime:images\.vllmCpu: .*v0\.9\.2 .*older than v0\.18\.0/.test(p)),
      found.join("\n"),
    );
    assert.ok(
      found.some((p) => p.startsWith("inference-runtime:network.apiPort:")),
      found.join("\n"),
    );
  });

  it("lets digests, custom tags and the committed pins through", () => {
    assert.deepEqual(problems({ runtime: "vllm", images: { vllmGpu: `vllm/vllm-openai@sha256:${"b".repeat(64)}` } }), []);
    assert.deepEqual(problems({ runtime: "vllm", images: { vllmGpu: "registry.example/vllm:ours" } }), []);
    assert.deepEqual(problems(stackConfig("gpu")), []);
  });
});
