import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { EngineTarget } from "../host/engineTarget";
import { deployScript, engineCommandEnvironment, gateTimeout, ROOT_DIR } from "../deploy/scripts";

export interface HealthGateArgs {
  /** The container to wait for; the wait reruns whenever it is replaced (its ID changes). */
  container: docker.Container;
  /** How long to wait for a passing healthcheck, in seconds. */
  timeoutSeconds: number;
  /** The engine the container runs on (the docker provider's). */
  engine: EngineTarget;
}

/**
 * Holds back everything that depends on a container until the container passes its healthcheck
 * (deploy/wait-healthy.ts). Unlike the provider's own `wait`, it fails within seconds when the
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
        create: deployScript("wait-healthy"),
        dir: ROOT_DIR,
        environment: {
          ...engineCommandEnvironment(args.engine),
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
