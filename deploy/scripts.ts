// The deploy-time scripts `pulumi up` runs through commands (health gate, rollout gate, smoke test),
// run as bundles with plain `node`: it starts them in a tenth of a second, tsx in half a second.
import * as pulumi from "@pulumi/pulumi";
import { engineEnvironment, EngineTarget } from "../host/engineTarget";
import { bundle, DeployScript, ROOT_DIR, scriptFile, writeIfChanged } from "./bundles";

export { ROOT_DIR };

/** How long Pulumi lets a gate that waits `waitSeconds` run: the wait, rounded up to minutes, plus 5 (the gate's own timeout fires first, with its diagnosis). */
export function gateTimeout(waitSeconds: number): string {
  return `${Math.ceil(waitSeconds / 60) + 5}m`;
}

/**
 * The command line that runs deploy/<name>.ts, from the repository root. During an update its
 * bundle is made from the sources first (a preview runs nothing, so it writes nothing).
 */
export function deployScript(name: DeployScript): string {
  const file = scriptFile(name);
  if (!pulumi.runtime.isDryRun()) writeIfChanged(file, bundle(`deploy/${name}.ts`));
  return `node ${file}`;
}

/**
 * The environment that points a command's docker CLI at the program's engine. TLS key material
 * stays a secret in the state (the commands need it again at destroy, when no program runs).
 */
export function engineCommandEnvironment(target: EngineTarget): Record<string, pulumi.Input<string>> {
  const env: Record<string, pulumi.Input<string>> = engineEnvironment(target);
  for (const key of Object.keys(env)) if (key.endsWith("_MATERIAL")) env[key] = pulumi.secret(env[key]);
  return env;
}
