import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { deployScript, ROOT_DIR } from "../deploy/scripts";
import { RuntimeSecrets } from "../config/load";

export interface SmokeTestArgs {
  /** Base URL of the OpenAI-compatible API, reachable from where Pulumi runs. */
  apiUrl: string;
  /** Worker-agent base URL whose /readyz must answer 200; omitted when the agent is disabled. */
  agentUrl?: string;
  /** The served model name the completion is requested for. */
  model: string;
  /** The API key, when the server requires one (kept secret in state). */
  secrets: RuntimeSecrets;
  /** Reruns the test whenever one of these changes: the containers' IDs. */
  triggers: pulumi.Input<string>[];
  /** Resources that must be up first (the agent container). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * A post-deploy check run by `pulumi up`: one real chat completion through the official client and
 * the agent's readiness (deploy/smoke-test.ts). It reruns whenever the model server is replaced.
 */
export class SmokeTest extends pulumi.ComponentResource {
  /** What the test printed: the answer and token usage. */
  public readonly result: pulumi.Output<string>;

  constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:SmokeTest", name, {}, opts);
    const environment: Record<string, pulumi.Input<string>> = { SMOKE_API_URL: args.apiUrl, SMOKE_MODEL: args.model };
    if (args.agentUrl) environment.SMOKE_AGENT_URL = args.agentUrl;
    if (args.secrets.apiKey) environment.SMOKE_API_KEY = args.secrets.apiKey;
    const run = new command.local.Command(
      `${name}-command`,
      {
        create: deployScript("smoke-test"),
        dir: ROOT_DIR,
        environment,
        triggers: args.triggers,
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    this.result = run.stdout;
    this.registerOutputs({ result: this.result });
  }
}
