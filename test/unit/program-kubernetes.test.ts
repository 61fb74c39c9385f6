// Platform "kubernetes": the objects the real program declares for the dev and gpu stacks, under
// Pulumi's mocks. The containers must be the Docker target's (same arguments, environment, ports).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { byType, Declared, DeclaredOptions, runProgram, stackConfig } from "./harness";

const ON_CLUSTER = {
  platform: "kubernetes",
  images: { mockVllm: "inference-runtime/mock-vllm:local", workerAgent: "inference-runtime/worker-agent:local" },
};
const TYPES = {
  namespace: "kubernetes:core/v1:Namespace",
  claim: "kubernetes:core/v1:PersistentVolumeClaim",
  deployment: "kubernetes:apps/v1:Deployment",
  service: "kubernetes:core/v1:Service",
  secret: "kubernetes:core/v1:Secret",
};

describe("kubernetes platform, dev stack", () => {
  let resources: Declared[];
  let outputs: Record<string, any>;
  let options: Record<string, DeclaredOptions>;
  let dockerCommand: string[];
  let pod: any;
  const one = (type: string) => {
    const found = byType(resources, type);
    assert.equal(found.length, 1, `expected one ${type}, got ${found.length}`);
    return found[0];
  };
  const container = (name: string) => pod.containers.find((c: any) => c.name === name);

  before(async () => {
    const docker = await runProgram("dev", stackConfig("dev"));
    dockerCommand = docker.resources.find((r) => r.name === "runtime-server-container")!.inputs.command;
    ({ resources, outputs, options } = await runProgram("dev", stackConfig("dev", ON_CLUSTER), [], "up"));
    pod = one(TYPES.deployment).inputs.spec.template.spec;
  });

  it("declares a namespace, a cache claim, a Deployment, a Service and a rollout gate, and nothing of Docker", () => {
    assert.deepEqual(
      resources.filter((r) => r.type.startsWith("docker:")),
      [],
    );
    for (const type of [TYPES.namespace, TYPES.claim, TYPES.deployment, TYPES.service]) one(type);
    assert.deepEqual(byType(resources, TYPES.secret), [], "no Secret without secrets");
    const gate = resources.find((r) => r.name === "runtime-rollout-wait")!;
    assert.match(gate.inputs.create, /wait-rollout/);
    assert.equal(gate.inputs.environment.ROLLOUT_DEPLOYMENT, "inference-runtime-dev");
    assert.equal(gate.inputs.environment.ROLLOUT_NAMESPACE, "inference-runtime-dev");
    assert.equal(gate.inputs.environment.WAIT_TIMEOUT_S, "120");
  });

  it("puts the model server and the agent in one pod, with the Docker target's arguments and ports", () => {
    assert.deepEqual(
      pod.containers.map((c: any) => c.name),
      ["model-server", "worker-agent"],
    );
    assert.deepEqual(container("model-server").args, dockerCommand);
    assert.equal(container("model-server").image, "inference-runtime/mock-vllm:local");
    assert.deepEqual(container("model-server").ports, [{ name: "api", containerPort: 8000, protocol: "TCP" }]);
    assert.deepEqual(container("worker-agent").ports, [{ name: "agent", containerPort: 8080, protocol: "TCP" }]);
    const agentEnv = Object.fromEntries(container("worker-agent").env.map((e: any) => [e.name, e.value]));
    assert.equal(agentEnv.VLLM_BASE_URL, "http://127.0.0.1:8000", "the agent reaches the server inside the pod");
    assert.equal(agentEnv.MODEL_ID, "qwen2.5-0.5b-instruct");
    const serverEnv = Object.fromEntries(container("model-server").env.map((e: any) => [e.name, e.value]));
    assert.equal(serverEnv.HF_HOME, "/root/.cache/huggingface");
    assert.equal(serverEnv.MOCK_VLLM_MODE, "echo");
  });

  it("sizes the startup probe for loading: failureThreshold × period covers the wait the user allows up (120 s)", () => {
    const probe = container("model-server").startupProbe;
    assert.deepEqual(probe.httpGet, { path: "/health", port: "api" });
    assert.ok(probe.failureThreshold * probe.periodSeconds >= 120, JSON.stringify(probe));
    assert.deepEqual(container("model-server").readinessProbe.httpGet, { path: "/health", port: "api" });
    assert.deepEqual(container("model-server").livenessProbe.httpGet, { path: "/health", port: "api" });
    assert.deepEqual(container("worker-agent").readinessProbe.httpGet, { path: "/readyz", port: "agent" });
  });

  it("mounts the cache claim at HF_HOME and deletes it on destroy (dev does not keep the cache)", () => {
    const claim = one(TYPES.claim);
    assert.equal(claim.inputs.metadata.name, "inference-runtime-dev-hf-cache");
    assert.deepEqual(claim.inputs.spec.resources.requests, { storage: "1Gi" });
    assert.deepEqual(pod.volumes[0], { name: "cache", persistentVolumeClaim: { claimName: "inference-runtime-dev-hf-cache" } });
    assert.deepEqual(container("model-server").volumeMounts[0], {
      name: "cache",
      mountPath: "/root/.cache/huggingface",
      subPath: "huggingface",
    });
    assert.equal(options["runtime-cache"].retainOnDelete, false);
    assert.equal(options["runtime-namespace"].retainOnDelete, false);
    assert.deepEqual(outputs.keptOnDestroy, []);
    assert.equal(pod.containers[0].resources, undefined, "no GPU on cpu");
    assert.ok(!pod.volumes.some((v: any) => v.name === "dshm"), "/dev/shm volume is vLLM's");
  });

  it("labels every object with the stack and its role, and the Service selects the pods", () => {
    for (const r of resources.filter((x) => x.type.startsWith("kubernetes:"))) {
      assert.equal(r.inputs.metadata.labels["inference-runtime.io/stack"], "dev", r.name);
      assert.ok(r.inputs.metadata.labels["inference-runtime.io/role"], r.name);
    }
    const selector = one(TYPES.deployment).inputs.spec.selector.matchLabels;
    assert.deepEqual(one(TYPES.service).inputs.spec.selector, selector);
    const podLabels = one(TYPES.deployment).inputs.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(selector)) assert.equal(podLabels[k], v);
    assert.deepEqual(
      one(TYPES.service).inputs.spec.ports.map((p: any) => [p.name, p.port]),
      [
        ["api", 8000],
        ["agent", 8080],
      ],
    );
  });

  it("leaves waiting to the rollout gate, not the provider's await", () => {
    for (const type of [TYPES.deployment, TYPES.claim, TYPES.service]) {
      assert.equal(one(type).inputs.metadata.annotations["pulumi.com/skipAwait"], "true", type);
    }
    assert.ok(options["runtime-rollout-wait"] || resources.some((r) => r.name === "runtime-rollout-wait"));
  });

  it("exports in-cluster URLs and the port-forward command", () => {
    assert.equal(outputs.platform, "kubernetes");
    assert.equal(outputs.apiUrl, "http://inference-runtime-dev.inference-runtime-dev.svc.cluster.local:8000");
    assert.equal(outputs.agentUrl, "http://inference-runtime-dev.inference-runtime-dev.svc.cluster.local:8080");
    assert.equal(
      outputs.portForwardCommand,
      "kubectl port-forward --namespace inference-runtime-dev service/inference-runtime-dev 8000:8000 8080:8080",
    );
    assert.equal(outputs.servedModelName, "qwen2.5-0.5b-instruct");
    assert.equal(outputs.deploymentName, "inference-runtime-dev");
    assert.equal(outputs.cacheKeptOnDestroy, false);
  });
});

describe("kubernetes platform, secrets", () => {
  let resources: Declared[];
  let outputs: Record<string, any>;
  before(async () => {
    const config = stackConfig("dev", { ...ON_CLUSTER, hfToken: "hf_SECRET", apiKey: "sk-SECRET", workerAuthToken: "wt-SECRET" });
    ({ resources, outputs } = await runProgram("dev", config, ["hfToken", "apiKey", "workerAuthToken"]));
  });

  it("puts them in one Secret, sent to the engine as secrets, and refers to it from the containers", () => {
    const secret = byType(resources, TYPES.secret)[0];
    const envelope = secret.inputs.stringData;
    assert.equal(envelope?.[specialSigKey], specialSecretSig, "stringData sent as plain text");
    assert.deepEqual(envelope.value, { "hf-token": "hf_SECRET", "api-key": "sk-SECRET", "worker-auth-token": "wt-SECRET" });
    const pod = byType(resources, TYPES.deployment)[0].inputs.spec.template.spec;
    const text = JSON.stringify(pod);
    assert.ok(!/SECRET/.test(text), "a secret value is in the pod spec");
    const server = pod.containers[0].env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.secretKeyRef.key]);
    assert.deepEqual(server, [
      ["HF_TOKEN", "hf-token"],
      ["HUGGING_FACE_HUB_TOKEN", "hf-token"],
      ["VLLM_API_KEY", "api-key"],
    ]);
    const agent = pod.containers[1].env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.secretKeyRef.key]);
    assert.deepEqual(agent, [
      ["WORKER_AUTH_TOKEN", "worker-auth-token"],
      ["VLLM_API_KEY", "api-key"],
    ]);
    assert.ok(!/SECRET/.test(JSON.stringify(outputs)), "an output leaks a secret");
  });
});

describe("kubernetes platform, gpu stack", () => {
  let resources: Declared[];
  let options: Record<string, DeclaredOptions>;
  let outputs: Record<string, any>;
  let pod: any;
  before(async () => {
    ({ resources, options, outputs } = await runProgram(
      "gpu",
      stackConfig("gpu", { platform: "kubernetes", images: { workerAgent: "registry.example/worker-agent:1" } }),
    ));
    pod = byType(resources, TYPES.deployment)[0].inputs.spec.template.spec;
  });

  it("asks for the GPUs vLLM uses, a memory /dev/shm, and replaces pods in place", () => {
    assert.deepEqual(pod.containers[0].resources, { limits: { "nvidia.com/gpu": "1" } });
    assert.equal(pod.containers[0].image, "vllm/vllm-openai:v0.31.0");
    assert.deepEqual(
      pod.volumes.find((v: any) => v.name === "dshm"),
      { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "2048Mi" } },
    );
    assert.ok(pod.containers[0].volumeMounts.some((m: any) => m.mountPath === "/dev/shm"));
    assert.deepEqual(byType(resources, TYPES.deployment)[0].inputs.spec.strategy, { type: "Recreate" });
  });

  it("asks for model.tensorParallelSize GPUs by default and for gpu.count all, and for a numeric gpu.count", async () => {
    const limitOf = async (overrides: Record<string, unknown>) => {
      const { resources } = await runProgram(
        "gpu",
        stackConfig("gpu", { platform: "kubernetes", images: { workerAgent: "registry.example/worker-agent:1" }, ...overrides }),
      );
      return byType(resources, TYPES.deployment)[0].inputs.spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"];
    };
    assert.equal(await limitOf({ model: { tensorParallelSize: 2 } }), "2");
    assert.equal(await limitOf({ gpu: { count: "all" }, model: { tensorParallelSize: 2 } }), "2");
    assert.equal(await limitOf({ gpu: { count: 3 }, model: { tensorParallelSize: 2 } }), "3");
  });

  it("gives vLLM the model first, positionally (the image's entrypoint is `vllm serve`)", () => {
    assert.equal(pod.containers[0].args[0], "Qwen/Qwen2.5-0.5B-Instruct");
    assert.equal(pod.containers[0].args[1], "--served-model-name");
    assert.ok(!pod.containers[0].args.includes("--model"));
    assert.equal(pod.containers[0].command, undefined, "the image's entrypoint runs; no `serve` repeated");
  });

  it("sizes the startup probe for vLLM's loading: the whole wait the user allows (30 minutes)", () => {
    const probe = pod.containers[0].startupProbe;
    assert.ok(probe.failureThreshold * probe.periodSeconds >= 1800, JSON.stringify(probe));
  });

  it("keeps the cache claim and its namespace on destroy", () => {
    assert.equal(options["runtime-cache"].retainOnDelete, true);
    assert.equal(options["runtime-namespace"].retainOnDelete, true);
    assert.deepEqual(byType(resources, TYPES.claim)[0].inputs.spec.resources.requests, { storage: "50Gi" });
    assert.deepEqual(outputs.keptOnDestroy, [
      "persistentvolumeclaim inference-runtime-gpu/inference-runtime-gpu-hf-cache",
      "namespace inference-runtime-gpu",
    ]);
  });
});

describe("kubernetes platform, settings", () => {
  it("passes node selector, tolerations, runtime class, replicas, service type and storage class through", async () => {
    const kubernetes = {
      namespace: "llm",
      createNamespace: false,
      storageClass: "fast-ssd",
      serviceType: "LoadBalancer",
      nodeSelector: { "nvidia.com/gpu.present": "true" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      replicas: 3,
      runtimeClassName: "nvidia",
      imagePullPolicy: "Always",
    };
    const { resources } = await runProgram(
      "gpu",
      stackConfig("gpu", { platform: "kubernetes", images: { workerAgent: "w:1" }, kubernetes }),
    );
    assert.deepEqual(byType(resources, TYPES.namespace), [], "an existing namespace is not declared");
    const d = byType(resources, TYPES.deployment)[0].inputs;
    assert.equal(d.metadata.namespace, "llm");
    assert.equal(d.spec.replicas, 3);
    assert.deepEqual(d.spec.template.spec.nodeSelector, kubernetes.nodeSelector);
    assert.deepEqual(d.spec.template.spec.tolerations, kubernetes.tolerations);
    assert.equal(d.spec.template.spec.runtimeClassName, "nvidia");
    assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, "Always");
    assert.equal(byType(resources, TYPES.service)[0].inputs.spec.type, "LoadBalancer");
    assert.equal(byType(resources, TYPES.claim)[0].inputs.spec.storageClassName, "fast-ssd");
  });
});
