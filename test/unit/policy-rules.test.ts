// Each rule of the policy pack against a compliant and a violating resource, as the engine sends
// them (encoded secrets and unknowns included), and the decoding the pack relies on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CONTAINER,
  COMMAND,
  dockerLabels,
  gpuCacheRetained,
  gpuMemoryUtilization,
  hostPortsLoopback,
  imagesPinned,
  modelServerStartPeriod,
  REMOTE_IMAGE,
  secretEnvValues,
  STACK,
  unpinnedReason,
  VOLUME,
} from "../../policy/rules";
import { decodeProperties, durationSeconds, ResourceView, UNKNOWN } from "../../policy/view";

const SIG = "4dabf18193072939515e22adb298388d";
const secret = (value: unknown) => ({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value });
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A resource of stack `s1` as the pack sees it, from properties encoded as the engine sends them. */
function resource(type: string, name: string, encoded: Record<string, unknown>): ResourceView {
  return { type, name, urn: `urn:pulumi:s1::inference-runtime::${type}::${name}`, ...decodeProperties(encoded) };
}
const labels = (role: string, stack = "s1") => [
  { label: "io.inference-runtime.stack", value: stack },
  { label: "io.inference-runtime.role", value: role },
];
const gpuServer = (extra: Record<string, unknown> = {}) =>
  resource(CONTAINER, "runtime-server-container", {
    name: "inference-runtime-s1-model-server",
    image: unknown,
    command: ["Qwen/Qwen2.5-0.5B-Instruct", "--gpu-memory-utilization", "0.6"],
    envs: secret(["HF_HOME=/root/.cache/huggingface", "HF_TOKEN=hf_x", "HUGGING_FACE_HUB_TOKEN=hf_x"]),
    labels: labels("model-server"),
    deviceRequests: [{ driver: "nvidia", count: -1, capabilities: ["gpu"] }],
    healthcheck: { tests: ["CMD", "python3", "-c", "..."], startPeriod: "10m0s" },
    ports: [{ internal: 8000, external: 8000, ip: "127.0.0.1", protocol: "tcp" }],
    ...extra,
  });

describe("policy pack: decoding what the engine sends", () => {
  it("keeps where the secrets were and marks unknowns, with the values themselves plain", () => {
    const { props, secretPaths } = decodeProperties({ a: secret(["X=1"]), b: [1, secret("s")], c: unknown, d: { e: secret(2) } });
    assert.deepEqual(props, { a: ["X=1"], b: [1, "s"], c: UNKNOWN, d: { e: 2 } });
    assert.deepEqual([...secretPaths].sort(), ["a", "b[1]", "d.e"]);
  });

  it("reads Docker durations", () => {
    assert.equal(durationSeconds("10m0s"), 600);
    assert.equal(durationSeconds("1h30m"), 5400);
    assert.equal(durationSeconds("90s"), 90);
    assert.equal(durationSeconds("ten minutes"), undefined);
  });
});

describe("policy pack: host-ports-loopback", () => {
  it("passes ports on 127.0.0.1 and fails 0.0.0.0 or a missing address, naming the port and the keys to change", () => {
    assert.deepEqual(hostPortsLoopback(gpuServer()), []);
    const [open] = hostPortsLoopback(gpuServer({ ports: [{ internal: 8000, external: 18000, ip: "0.0.0.0" }] }));
    assert.match(
      open,
      /container inference-runtime-s1-model-server .*host port 18000 .* on 0\.0\.0\.0: bind it to 127\.0\.0\.1 \(config network\.bindAddress\).*host-ports-loopback\.allowedAddresses/,
    );
    assert.equal(hostPortsLoopback(gpuServer({ ports: [{ internal: 8000, external: 18000 }] })).length, 1);
  });

  it("passes an address the stack's policy config allows", () => {
    const lan = gpuServer({ ports: [{ internal: 8000, external: 18000, ip: "10.0.0.5" }] });
    assert.equal(hostPortsLoopback(lan).length, 1);
    assert.deepEqual(hostPortsLoopback(lan, ["127.0.0.1", "10.0.0.5"]), []);
  });
});

describe("policy pack: images-pinned", () => {
  it("passes a release tag or a digest and fails latest or no tag", () => {
    assert.equal(unpinnedReason("vllm/vllm-openai:v0.18.0"), undefined);
    assert.equal(unpinnedReason(`vllm/vllm-openai@sha256:${"a".repeat(64)}`), undefined);
    assert.equal(unpinnedReason("registry:5000/vllm/vllm-openai:v0.18.0"), undefined);
    assert.match(unpinnedReason("registry:5000/vllm/vllm-openai") ?? "", /no tag/);
    assert.match(unpinnedReason("vllm/vllm-openai:latest") ?? "", /latest/);
  });

  it("checks pulled images and container images, and passes image IDs", () => {
    assert.deepEqual(
      imagesPinned(resource(REMOTE_IMAGE, "runtime-server-image-remote", { name: "vllm/vllm-openai:v0.18.0", keepLocally: true })),
      [],
    );
    const [pulled] = imagesPinned(resource(REMOTE_IMAGE, "runtime-server-image-remote", { name: "vllm/vllm-openai" }));
    assert.match(pulled, /^image vllm\/vllm-openai \(runtime-server-image-remote\) has no tag.*pin a release tag .*images\.vllmGpu/);
    assert.deepEqual(imagesPinned(gpuServer({ image: `sha256:${"b".repeat(64)}` })), []);
    assert.match(imagesPinned(gpuServer({ image: "vllm/vllm-openai:latest" }))[0], /image vllm\/vllm-openai:latest is tagged `latest`/);
  });

  it("passes a local build tagged per stack with its content digest as trigger, and fails latest or no trigger", () => {
    const build = (tag: string, triggers: unknown[]) =>
      resource(COMMAND, "runtime-agent-image-build", { environment: { IMAGE_TAG: tag, STACK: "s1" }, triggers, create: "docker build" });
    assert.deepEqual(imagesPinned(build("inference-runtime/worker-agent:s1", ["0123456789abcdef"])), []);
    assert.match(
      imagesPinned(build("inference-runtime/worker-agent:latest", ["0123"]))[0],
      /build tag inference-runtime\/worker-agent:latest is tagged `latest`.*with the stack name/,
    );
    assert.match(imagesPinned(build("inference-runtime/worker-agent:s1", []))[0], /without a content digest in its triggers/);
  });
});

describe("policy pack: secret-env-values", () => {
  it("passes tokens inside a secret list or as secret entries", () => {
    assert.deepEqual(secretEnvValues(gpuServer()), []);
    assert.deepEqual(secretEnvValues(gpuServer({ envs: ["HF_HOME=/x", secret("WORKER_AUTH_TOKEN=t")] })), []);
  });

  it("fails each plain-text token by name, never repeating its value", () => {
    const found = secretEnvValues(gpuServer({ envs: ["HF_HOME=/x", "HF_TOKEN=hf_plain", "VLLM_API_KEY=key_plain", "OTHER=1"] }));
    assert.equal(found.length, 2);
    assert.match(found[0], /inference-runtime-s1-model-server .*sets HF_TOKEN in plain text.*pulumi config set --secret/);
    assert.match(found[1], /sets VLLM_API_KEY in plain text/);
    assert.doesNotMatch(found.join("\n"), /hf_plain|key_plain/);
  });
});

describe("policy pack: model-server-start-period", () => {
  it("passes vLLM on GPU from 10 min and fails below, naming healthcheck.startPeriod", () => {
    assert.deepEqual(modelServerStartPeriod(gpuServer()), []);
    const [short] = modelServerStartPeriod(gpuServer({ healthcheck: { tests: ["CMD", "true"], startPeriod: "5m0s" } }));
    assert.match(
      short,
      /runs vLLM on a GPU with a healthcheck start period of 5m0s, shorter than the 10m0s.*healthcheck\.startPeriod or healthcheck\.waitTimeoutSeconds .* to at least 10m0s/,
    );
  });

  it("wants 30 min for vLLM on a CPU, nothing more than a healthcheck for mock-vllm, and fails a server without one", () => {
    const cpu = (startPeriod: string, envs = ["VLLM_CPU_KVCACHE_SPACE=4"]) =>
      gpuServer({ deviceRequests: undefined, envs, healthcheck: { tests: ["CMD", "true"], startPeriod } });
    assert.deepEqual(modelServerStartPeriod(cpu("30m0s")), []);
    assert.match(modelServerStartPeriod(cpu("10m0s"))[0], /vLLM on a CPU .* 30m0s/);
    assert.deepEqual(modelServerStartPeriod(cpu("30s", ["MOCK_VLLM_MODE=echo"])), []);
    assert.match(modelServerStartPeriod(gpuServer({ healthcheck: undefined }))[0], /has no healthcheck/);
  });

  it("leaves other containers alone", () => {
    assert.deepEqual(modelServerStartPeriod(gpuServer({ labels: labels("worker-agent"), healthcheck: undefined })), []);
  });
});

describe("policy pack: docker-labels", () => {
  it("passes objects labelled with their own stack and a role, and fails a missing or foreign label", () => {
    assert.deepEqual(dockerLabels(gpuServer()), []);
    assert.deepEqual(dockerLabels(resource(VOLUME, "runtime-cache-hf", { name: "v", labels: labels("model-cache") })), []);
    const bare = dockerLabels(resource(VOLUME, "runtime-cache-hf", { name: "inference-runtime-s1-hf-cache" }));
    assert.equal(bare.length, 2);
    assert.match(bare[0], /volume inference-runtime-s1-hf-cache \(runtime-cache-hf\) lacks the label io\.inference-runtime\.stack=s1/);
    assert.match(bare[1], /lacks a io\.inference-runtime\.role label/);
    assert.match(dockerLabels(gpuServer({ labels: labels("model-server", "other") }))[0], /stack=s1 \(it has other\)/);
  });

  it("wants the labels on the program's image builds", () => {
    const build = (create: string, stack = "s1") =>
      resource(COMMAND, "runtime-agent-image-build", {
        environment: { IMAGE_TAG: "inference-runtime/worker-agent:s1", STACK: stack },
        create,
      });
    const labelled = 'docker build --label io.inference-runtime.stack="$STACK" --label io.inference-runtime.role=image -t "$IMAGE_TAG" .';
    assert.deepEqual(dockerLabels(build(labelled)), []);
    assert.match(dockerLabels(build('docker build -t "$IMAGE_TAG" .'))[0], /without the labels/);
    assert.match(dockerLabels(build(labelled, "dev"))[0], /labels its image with stack dev, not s1/);
  });
});

describe("policy pack: gpu-cache-retained", () => {
  const volumes = [
    resource(VOLUME, "runtime-cache-hf", { name: "inference-runtime-s1-hf-cache", labels: labels("model-cache") }),
    resource(VOLUME, "runtime-cache-compile", { name: "inference-runtime-s1-hf-cache-vllm", labels: labels("model-cache") }),
    resource(VOLUME, "runtime-agent-state", { name: "inference-runtime-s1-worker-agent-state", labels: labels("worker-agent") }),
  ];
  const stack = (keptOnDestroy: unknown) => resource(STACK, "inference-runtime-s1", { keptOnDestroy });

  it("passes a GPU stack that keeps both cache volumes", () => {
    const kept = stack(["volume inference-runtime-s1-hf-cache", "volume inference-runtime-s1-hf-cache-vllm"]);
    assert.deepEqual(gpuCacheRetained([gpuServer(), ...volumes, kept]), []);
  });

  it("fails each cache volume a GPU stack would delete, on the volume, naming cache.keepOnDestroy", () => {
    const found = gpuCacheRetained([gpuServer(), ...volumes, stack(["volume inference-runtime-s1-hf-cache"])]);
    assert.equal(found.length, 1);
    assert.equal(found[0].urn, volumes[1].urn);
    assert.match(found[0].message, /volume inference-runtime-s1-hf-cache-vllm .*GPU stack would be deleted .*cache\.keepOnDestroy: true/);
    assert.equal(gpuCacheRetained([gpuServer(), ...volumes, stack([])]).length, 2);
  });

  it("does not apply to a CPU stack", () => {
    const cpu = gpuServer({ deviceRequests: undefined, envs: ["MOCK_VLLM_MODE=echo"] });
    assert.deepEqual(gpuCacheRetained([cpu, ...volumes, stack([])]), []);
  });
});

describe("policy pack: gpu-memory-utilization (advisory)", () => {
  it("passes 0.9 and below, warns above", () => {
    const at = (v: string) => gpuServer({ command: ["m", "--gpu-memory-utilization", v] });
    assert.deepEqual(gpuMemoryUtilization(at("0.9")), []);
    assert.match(gpuMemoryUtilization(at("0.95"))[0], /95% of each GPU's memory.*model\.gpuMemoryUtilization <= 0\.9/);
    assert.deepEqual(gpuMemoryUtilization(at("0.95"), 0.97), []);
  });
});
