import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { engineEnvironment } from "../host/engine";
import { deployScript, gateTimeout, ROOT_DIR } from "../program/deployScripts";

export interface HealthGateArgs {
  /** The container to wait for; the wait reruns whenever it is replaced (its ID changes). */
  container: docker.Container;
  /** How long to wait for a passing healthcheck, in seconds. */
  timeoutSeconds: number;
  /** Engine address for the docker CLI when it comes from `docker:host`. */
  dockerHost?: string;
}

/**
 * Holds back everything that depends on a container until the container passes its healthcheck
 * (scripts/wait-healthy.ts). Unlike the provider's own `wait`, it fails within seconds when the
 * container exits or restarts, and every failure carries the container's last log lines, probe
 * outputs, exit code and restart count.
 */
export class HealthGate extends pulumi.ComponentResource {
  /** What the wait printed: the container and how long it took to become healthy. */
  public readonly result: pulumi.Output<string>;

  constructor(name: string, args: HealthGateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:HealthGate", name, {}, opts);
    const wait = new command.local.Command(
      `${name}-wait`,
      {
        create: deployScript("wait-healthy", this),
        dir: ROOT_DIR,
        environment: {
          ...engineEnvironment(args.dockerHost),
          WAIT_CONTAINER: args.container.name,
          WAIT_TIMEOUT_S: String(args.timeoutSeconds),
        },
        triggers: [args.container.id],
      },
      {
        parent: this,
        customTimeouts: { create: gateTimeout(args.timeoutSeconds) },
      },
    );
    this.result = wait.stdout;
    this.registerOutputs({ result: this.result });
  }
}
