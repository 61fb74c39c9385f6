import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ContainerImage, ContainerImageArgs } from "./containerImage";
import { RuntimeConfig } from "../config/defaults";
import { EngineFeatures } from "../host/engine";
import { RuntimeSecrets } from "../config/load";
import { ModelCache } from "./modelCache";
import { ModelServer } from "./modelServer";
import { replacementDigest } from "../program/replacementNotice";
import { SmokeTest } from "./smokeTest";
import { endpoints, serverReplacementSpec } from "../spec/containers";
import { WorkerAgent } from "./workerAgent";

export interface InferenceRuntimeArgs {
  /** The resolved stack configuration (device already decided: cpu or gpu). */
  config: RuntimeConfig;
  /** HF token, worker token and API key, each a secret Output when set. */
  secrets: RuntimeSecrets;
  /** What the Docker engine supports and how commands reach it (see host/engine.ts). */
  engine: EngineFeatures;
}

/**
 * One inference instance on a Docker host: the model cache, the model server (vLLM or mock-vllm)
 * on a network of its own, and the worker-agent sidecar sharing its network namespace.
 */
export class InferenceRuntime extends pulumi.ComponentResource {
  /** OpenAI-compatible API base URL (without /v1). */
  public readonly apiUrl: string;
  /** Worker-agent base URL (/healthz, /readyz, /metrics), when the agent is enabled. */
  public readonly agentUrl: string | undefined;
  /** The model name clients must send; equals the agent's MODEL_ID by construction. */
  public readonly servedModelName: string;
  /** A ready-to-paste chat completion request against apiUrl. */
  public readonly curlCommand: string;
  public readonly modelServer: ModelServer;
  public readonly workerAgent: WorkerAgent | undefined;
  public readonly cache: ModelCache;
  /** The post-deploy smoke test, unless `smokeTest` is false. */
  public readonly smokeTest: SmokeTest | undefined;
  /** Digest of what replaces the model server when it changes (see program/replacementNotice.ts). */
  public readonly serverSpecDigest: string;

  constructor(name: string, args: InferenceRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:InferenceRuntime", name, {}, opts);
    const cfg = args.config;
    const child = { parent: this };

    const externalNetworks: pulumi.Input<string>[] = [];
    if (cfg.network.external) {
      // Looked up rather than declared: the control plane owns that network, destroy must not touch it.
      externalNetworks.push(docker.getNetworkOutput({ name: cfg.network.external }, child).name);
    }

    this.cache = new ModelCache(`${name}-cache`, { config: cfg }, child);

    const serverImage = new ContainerImage(
      `${name}-server-image`,
      cfg.runtime === "vllm"
        ? { config: cfg, image: cfg.device === "gpu" ? cfg.images.vllmGpu : cfg.images.vllmCpu }
        : serviceImage(cfg, cfg.images.mockVllm, "mock-vllm", args.engine),
      child,
    );
    this.modelServer = new ModelServer(
      `${name}-server`,
      { config: cfg, image: serverImage.ref, mounts: this.cache.mounts, externalNetworks, secrets: args.secrets, engine: args.engine },
      child,
    );

    if (cfg.agent.enabled) {
      const agentImage = new ContainerImage(
        `${name}-agent-image`,
        serviceImage(cfg, cfg.images.workerAgent, "worker-agent", args.engine),
        child,
      );
      this.workerAgent = new WorkerAgent(
        `${name}-agent`,
        {
          config: cfg,
          image: agentImage.ref,
          modelServer: this.modelServer.container,
          serverReady: this.modelServer.ready,
          secrets: args.secrets,
          engine: args.engine,
        },
        child,
      );
    }

    const urls = endpoints(cfg, args.secrets.apiKey !== undefined);
    if (cfg.smokeTest) {
      this.smokeTest = new SmokeTest(
        `${name}-smoke-test`,
        {
          apiUrl: urls.apiUrl,
          agentUrl: urls.agentUrl,
          model: cfg.model.servedName,
          secrets: args.secrets,
          // Rerun whenever a container is replaced or recreated (also after repairing drift).
          triggers: [this.modelServer.containerId, ...(this.workerAgent ? [this.workerAgent.container.id] : [])],
          dependsOn: [this.workerAgent?.ready ?? this.modelServer.ready],
        },
        child,
      );
    }
    const secretNames = Object.keys(args.secrets).filter((k) => k !== "workerAuthToken");
    this.serverSpecDigest = replacementDigest(serverReplacementSpec(cfg, serverImage.source, secretNames));
    this.apiUrl = urls.apiUrl;
    this.agentUrl = urls.agentUrl;
    this.curlCommand = urls.curlCommand;
    this.servedModelName = cfg.model.servedName;
    this.registerOutputs({
      apiUrl: this.apiUrl,
      agentUrl: this.agentUrl,
      servedModelName: this.servedModelName,
      curlCommand: this.curlCommand,
    });
  }
}

/** A prebuilt image when the config names one, else a local build of the service. */
function serviceImage(
  config: RuntimeConfig,
  image: string | undefined,
  service: "mock-vllm" | "worker-agent",
  engine: EngineFeatures,
): ContainerImageArgs {
  return image ? { config, image } : { config, service, engine: engine.target };
}
