// Platform "kubernetes" in the stack config: what a cluster cannot do is refused with its key, and
// what it needs (images it can pull) is required; the Docker target's keys keep their meaning.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, resolveConfig } from "../../config/defaults";
import { configProblems } from "./harness";

const NS = "inference-runtime";
const IMAGES = { mockVllm: "m:1", workerAgent: "w:1" };

const problems = configProblems;

describe("kubernetes config validation", () => {
  const cases: [string, unknown, RegExp][] = [
    ["unknown platform", { platform: "nomad" }, /^inference-runtime:platform: .*"docker"/],
    [
      "kubernetes settings on docker",
      { kubernetes: { replicas: 2 } },
      /^inference-runtime:kubernetes: only applies to platform "kubernetes"/,
    ],
    [
      "mock image missing",
      { platform: "kubernetes", images: { workerAgent: "w:1" } },
      /^inference-runtime:images\.mockVllm: required on platform "kubernetes"/,
    ],
    [
      "agent image missing",
      { platform: "kubernetes", images: { mockVllm: "m:1" } },
      /^inference-runtime:images\.workerAgent: required on platform "kubernetes"/,
    ],
    [
      "docker network settings",
      { platform: "kubernetes", images: IMAGES, network: { apiPort: 9000 } },
      /^inference-runtime:network: Docker host settings.*kubernetes\.serviceType/,
    ],
    [
      "restart policy",
      { platform: "kubernetes", images: IMAGES, server: { restart: "always" } },
      /^inference-runtime:server\.restart: a Docker restart policy/,
    ],
    [
      "log rotation (the kubelet's)",
      { platform: "kubernetes", images: IMAGES, logs: { maxSizeMb: 10 } },
      /^inference-runtime:logs: Docker's json-file log rotation; on platform "kubernetes" the kubelet rotates .*containerLogMaxSize/,
    ],
    [
      "device ids",
      { platform: "kubernetes", runtime: "vllm", device: "gpu", images: IMAGES, gpu: { deviceIds: ["0"] } },
      /^inference-runtime:gpu\.deviceIds: .*use gpu\.count/,
    ],
    [
      "bad namespace",
      { platform: "kubernetes", images: IMAGES, kubernetes: { namespace: "My_NS" } },
      /^inference-runtime:kubernetes\.namespace: expected a Kubernetes name/,
    ],
    ["zero replicas", { platform: "kubernetes", images: IMAGES, kubernetes: { replicas: 0 } }, /^inference-runtime:kubernetes\.replicas: /],
    [
      "service type",
      { platform: "kubernetes", images: IMAGES, kubernetes: { serviceType: "External" } },
      /^inference-runtime:kubernetes\.serviceType: .*"ClusterIP"/,
    ],
    [
      "toleration effect",
      { platform: "kubernetes", images: IMAGES, kubernetes: { tolerations: [{ key: "a", effect: "Never" }] } },
      /^inference-runtime:kubernetes\.tolerations\.0\.effect: /,
    ],
    [
      "unknown kubernetes key",
      { platform: "kubernetes", images: IMAGES, kubernetes: { context: "kind" } },
      /^inference-runtime:kubernetes: unknown key\(s\) context/,
    ],
  ];
  for (const [what, raw, expected] of cases) {
    it(`rejects ${what}`, () => {
      const found = problems(raw);
      assert.ok(
        found.some((p) => expected.test(p)),
        `no problem matched ${expected}: ${JSON.stringify(found)}`,
      );
    });
  }

  it("accepts the dev stack's settings on a cluster, with the images named, and the project's empty defaults", () => {
    assert.deepEqual(
      problems({ platform: "kubernetes", runtime: "mock", images: IMAGES, network: {}, logs: {}, kubernetes: {}, smokeTest: true }),
      [],
    );
  });

  it("resolves cluster defaults, and never runs the smoke test there", () => {
    const cfg = resolveConfig(parseStackConfig({ platform: "kubernetes", images: IMAGES }, NS), { project: NS, stack: "dev" }, "cpu");
    assert.equal(cfg.platform, "kubernetes");
    assert.equal(cfg.smokeTest, false);
    assert.deepEqual(cfg.kubernetes, {
      namespace: "inference-runtime-dev",
      createNamespace: true,
      storageClass: undefined,
      cacheSizeGb: 1,
      serviceType: "ClusterIP",
      nodeSelector: {},
      tolerations: [],
      replicas: 1,
      runtimeClassName: undefined,
      imagePullPolicy: "IfNotPresent",
    });
    const docker = resolveConfig(parseStackConfig({}, NS), { project: NS, stack: "dev" }, "cpu");
    assert.equal(docker.platform, "docker");
    assert.equal(docker.smokeTest, true);
  });
});
