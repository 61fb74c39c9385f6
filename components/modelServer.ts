import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { RuntimeConfig } from "../config/defaults";
import { EngineFeatures } from "../host/engine";
import { HealthGate } from "./healthGate";
import { RuntimeSecrets } from "../config/load";
import { SERVER_ENV } from "../contract";
import { withSecretEnv } from "../program/secretEnv";
import {
  containerNames,
  deviceRequests,
  healthcheck,
  hostSettings,
  labels,
  logSettings,
  modelServerEnv,
  modelServerLabels,
  publishedPorts,
  serveArgs,
} from "../spec/containers";

export interface ModelServerArgs {
  /** The resolved stack configuration. */
  config: RuntimeConfig;
  /** Image ID of vLLM or mock-vllm; both take the same `vllm serve` arguments. */
  image: pulumi.Input<string>;
  /** Cache volumes and their mount points (Hugging Face cache, compile cache). */
  mounts: pulumi.Input<pulumi.Input<{ volumeName: string; containerPath: string }>[]>;
  /** Networks to join besides the stack's own (e.g. the control plane's); never created here. */
  externalNetworks: pulumi.Input<string>[];
  /** Secrets passed as environment variables (HF token, API key); kept secret in state. */
  secrets: RuntimeSecrets;
  /** What the engine supports (start interval) and how commands reach it. */
  engine: EngineFeatures;
}

/**
 * The model server container (vLLM or mock-vllm). `pulumi up` waits for its healthcheck, with a
 * timeout sized for model loading, before anything that depends on `ready` is created.
 */
export class ModelServer extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** The stack's own network (the agent shares the server's namespace, so it is on it too). */
  public readonly network: docker.Network;
  /** Container name (stable across replacements, derived from project and stack). */
  public readonly containerName: pulumi.Output<string>;
  /** Container ID; changes whenever the server is replaced. */
  public readonly containerId: pulumi.Output<string>;
  /** The server's IP address on each network it joins, by network name. */
  public readonly ips: pulumi.Output<Record<string, string>>;
  /** Passes once the container is healthy; depend on it, not on the container. */
  public readonly ready: HealthGate;

  constructor(name: string, args: ModelServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:ModelServer", name, {}, opts);
    const cfg = args.config;
    const waitSeconds = cfg.healthcheck.waitTimeoutSeconds;
    // A child of this component rather than of the runtime: the engine schedules deletes by depth,
    // and at the depth of the cache volumes both are removed at once instead of one after the other.
    this.network = new docker.Network(`${name}-network`, { name: cfg.network.name, labels: labels(cfg, "network") }, { parent: this });
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: containerNames(cfg).modelServer,
        image: args.image,
        command: serveArgs(cfg),
        envs: withSecretEnv(modelServerEnv(cfg), [
          // Older Hugging Face tooling reads the second name.
          [SERVER_ENV.hfToken, args.secrets.hfToken],
          [SERVER_ENV.hfHubToken, args.secrets.hfToken],
          [SERVER_ENV.apiKey, args.secrets.apiKey],
        ]),
        labels: modelServerLabels(cfg),
        volumes: args.mounts,
        networksAdvanced: [this.network.name, ...args.externalNetworks].map((n) => ({ name: n })),
        ports: publishedPorts(cfg),
        deviceRequests: deviceRequests(cfg),
        ...hostSettings(cfg),
        ...logSettings(cfg),
        healthcheck: healthcheck(cfg, args.engine),
        restart: cfg.server.restart,
        stopTimeout: cfg.server.stopTimeoutSeconds,
        destroyGraceSeconds: cfg.server.stopTimeoutSeconds,
        // The health gate below waits instead: the provider's wait cannot fail early or say why.
        wait: false,
        logs: false,
        mustRun: true,
      },
      {
        parent: this,
        // A fixed name and fixed host ports would clash if the new container started first.
        deleteBeforeReplace: true,
        // A refresh that finds the container stopped sets mustRun false: replace it, so the
        // health gate and the smoke test run again on the new container.
        replaceOnChanges: ["mustRun"],
      },
    );
    this.containerName = this.container.name;
    this.containerId = this.container.id;
    this.ips = this.container.networkDatas.apply((nets) =>
      Object.fromEntries((nets ?? []).map((n) => [n.networkName ?? "", n.ipAddress ?? ""])),
    );
    this.ready = new HealthGate(
      `${name}-ready`,
      { container: this.container, timeoutSeconds: waitSeconds, engine: args.engine.target },
      { parent: this },
    );
    this.registerOutputs({ containerName: this.containerName, containerId: this.containerId, ips: this.ips, ready: this.ready.result });
  }
}
