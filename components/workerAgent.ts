import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { RuntimeConfig } from "../config/defaults";
import { EngineFeatures } from "../host/engine";
import { HealthGate } from "./healthGate";
import { RuntimeSecrets } from "../config/load";
import { AGENT_ENV } from "../contract";
import { withSecretEnv } from "../program/secretEnv";
import {
  AGENT_STATE_DIR,
  agentDeviceRequests,
  agentHealthcheck,
  containerNames,
  labels,
  logSettings,
  workerAgentEnv,
} from "../spec/containers";

export interface WorkerAgentArgs {
  /** The resolved stack configuration (`agent` settings, served model name). */
  config: RuntimeConfig;
  /** Image ID of the worker-agent. */
  image: pulumi.Input<string>;
  /** The model server container whose network namespace the agent joins (one IP: 8000 and 8080). */
  modelServer: docker.Container;
  /** The agent starts once this passes: the model server's health gate. */
  serverReady: pulumi.Resource;
  /** Worker token for the control plane, and the API key the agent needs to query the server. */
  secrets: RuntimeSecrets;
  /** What the engine supports (start interval) and how commands reach it. */
  engine: EngineFeatures;
}

/**
 * The worker-agent sidecar: registers the instance with the control plane, heartbeats, and serves
 * /healthz, /readyz and /metrics on port 8080 of the model server's network namespace.
 */
export class WorkerAgent extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** Container name, derived from project and stack. */
  public readonly containerName: pulumi.Output<string>;
  /** Passes once the agent is healthy. */
  public readonly ready: HealthGate;

  constructor(name: string, args: WorkerAgentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:WorkerAgent", name, {}, opts);
    const cfg = args.config;
    // The bootstrap token a control plane grants is written here; a volume keeps it across
    // replacements of the agent container, so a new container does not register from scratch.
    const state = new docker.Volume(
      `${name}-state`,
      { name: `${containerNames(cfg).workerAgent}-state`, labels: labels(cfg, "worker-agent") },
      { parent: this },
    );
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: containerNames(cfg).workerAgent,
        image: args.image,
        envs: withSecretEnv(workerAgentEnv(cfg), [
          [AGENT_ENV.authToken, args.secrets.workerAuthToken],
          [AGENT_ENV.vllmApiKey, args.secrets.apiKey],
        ]),
        labels: labels(cfg, "worker-agent"),
        // Sharing the namespace by ID makes a replaced server replace the agent too.
        networkMode: pulumi.interpolate`container:${args.modelServer.id}`,
        volumes: [{ volumeName: state.name, containerPath: AGENT_STATE_DIR }],
        healthcheck: agentHealthcheck(args.engine),
        deviceRequests: agentDeviceRequests(cfg),
        ...logSettings(cfg),
        restart: cfg.server.restart,
        stopTimeout: 10,
        wait: false,
        logs: false,
        mustRun: true,
      },
      // Created only once the server is healthy, so the agent's first readiness check can pass.
      { parent: this, dependsOn: [args.serverReady], deleteBeforeReplace: true, replaceOnChanges: ["mustRun"] },
    );
    this.containerName = this.container.name;
    this.ready = new HealthGate(
      `${name}-ready`,
      { container: this.container, timeoutSeconds: 60, engine: args.engine.target },
      { parent: this },
    );
    this.registerOutputs({ containerName: this.containerName, ready: this.ready.result });
  }
}
