import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deployScript, gateTimeout, ROOT_DIR } from "../deploy/scripts";

/** Which cluster kubectl talks to: the Kubernetes provider's own settings, as Pulumi users give them. */
export interface ClusterAccess {
  /** `kubernetes:kubeconfig`: a path or the kubeconfig itself; `KUBECONFIG` or ~/.kube/config when unset. */
  kubeconfig?: pulumi.Output<string>;
  /** `kubernetes:context`; the kubeconfig's current context when unset. */
  context?: string;
}

export interface RolloutGateArgs {
  /** The Deployment to wait for; the wait reruns whenever its spec changes (its generation moves). */
  deployment: k8s.apps.v1.Deployment;
  /** How long to wait for every replica to be ready, in seconds. */
  timeoutSeconds: number;
  /** The cluster, as the provider reaches it. */
  cluster: ClusterAccess;
}

/**
 * Holds back `pulumi up` until the Deployment's current revision is ready (deploy/wait-rollout.ts).
 * Unlike the provider's own await, it fails within seconds when a container crash-loops or cannot
 * get its image, and the failure carries the container's last log lines and the pod's events.
 */
export class RolloutGate extends pulumi.ComponentResource {
  /** What the wait printed: the Deployment and how long it took to be ready. */
  public readonly result: pulumi.Output<string>;

  constructor(name: string, args: RolloutGateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:RolloutGate", name, {}, opts);
    const d = args.deployment;
    const environment: Record<string, pulumi.Input<string>> = {
      ROLLOUT_NAMESPACE: d.metadata.namespace,
      ROLLOUT_DEPLOYMENT: d.metadata.name,
      WAIT_TIMEOUT_S: String(args.timeoutSeconds),
    };
    if (args.cluster.context) environment.KUBE_CONTEXT = args.cluster.context;
    if (args.cluster.kubeconfig) {
      // A kubeconfig may hold credentials: as content it travels as a secret.
      environment.KUBECONFIG_CONTENT = args.cluster.kubeconfig.apply((k) => (isKubeconfigContent(k) ? k : ""));
      environment.KUBECONFIG = args.cluster.kubeconfig.apply((k) => (isKubeconfigContent(k) ? "" : k));
    }
    const wait = new command.local.Command(
      `${name}-wait`,
      {
        create: deployScript("wait-rollout"),
        dir: ROOT_DIR,
        environment,
        triggers: [d.metadata.uid, d.metadata.generation],
      },
      { parent: this, customTimeouts: { create: gateTimeout(args.timeoutSeconds) } },
    );
    this.result = wait.stdout;
    this.registerOutputs({ result: this.result });
  }
}

/** The provider accepts either; content is YAML or JSON with more than one line or a brace. */
export function isKubeconfigContent(value: string): boolean {
  return value.includes("\n") || value.trimStart().startsWith("{") || /^\s*apiVersion\s*:/.test(value);
}
