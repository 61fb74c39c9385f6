// The scripts `pulumi up` runs through commands (health gate, smoke test), as bundled by
// scripts/build-services.sh: plain `node` starts them in a tenth of a second, tsx in half a second.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root, where the commands run. */
export const ROOT_DIR = path.join(__dirname, "..");

/** How long Pulumi lets a gate that waits `waitSeconds` run: the wait, rounded up to minutes, plus 5 (the gate's own timeout fires first, with its diagnosis). */
export function gateTimeout(waitSeconds: number): string {
  return `${Math.ceil(waitSeconds / 60) + 5}m`;
}

/** The command line of scripts/<name>.ts's bundle; at `up`, the bundle must exist. */
export function deployScript(name: "wait-healthy" | "wait-rollout" | "smoke-test", resource: pulumi.Resource): string {
  const bundle = path.join("dist", "scripts", `${name}.js`);
  if (!pulumi.runtime.isDryRun() && !fs.existsSync(path.join(ROOT_DIR, bundle))) {
    throw new pulumi.ResourceError(`${bundle} is missing: run \`npm run build:services\` (or \`npm run up\`, which does) first`, resource);
  }
  return `node ${bundle}`;
}
