// The old way, for comparison: one Docker Compose project per instance, `mockrt-<id12>`, as the
// replaced control plane ran it, with a compose file written from the same spec builders as the
// program's containers (scripts/bench-lifecycle/composeFile.ts) and the control plane's network
// joined as an external network. The images are the program's own, built once before the rounds.
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import yaml from "js-yaml";
import { resolveConfig } from "../../config/defaults";
import { planInstance, PROJECT } from "../../instances/options";
import { composeFile } from "../bench-lifecycle/composeFile";
import { containerNames } from "../../spec/containers";

const run = promisify(execFile);
export const COMPOSE_TAG = "bench-instances";
export const IMAGES = { server: `${PROJECT}/mock-vllm:${COMPOSE_TAG}`, agent: `${PROJECT}/worker-agent:${COMPOSE_TAG}` };

export const composeProject = (id: string) => `mockrt-${id.replace(/-/g, "").slice(0, 12)}`;
/** The compose side's stack label, so its objects are told apart from the program's. */
export const composeStack = (id: string) => `c-${id.replace(/-/g, "").slice(0, 12)}`;

export function composeCommand(root: string): string[] {
  return execFileSync("bash", [path.join(root, "tools/offline/compose.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Writes the instance's compose file into `dir`; returns its path and the container names. */
export function writeComposeFile(dir: string, id: string, network: string): { file: string; containers: string[] } {
  const plan = planInstance(id, { network });
  const cfg = resolveConfig(plan.config, { project: PROJECT, stack: composeStack(id) }, "cpu");
  const spec = yaml.load(composeFile(cfg, IMAGES)) as {
    services: Record<string, { networks?: string[] }>;
    networks: Record<string, unknown>;
  };
  spec.services.server.networks = ["runtime", "controlplane"];
  spec.networks.controlplane = { name: network, external: true };
  const file = path.join(dir, `${composeProject(id)}.yaml`);
  fs.writeFileSync(file, `# Written by scripts/bench-instances/compose.ts\n${yaml.dump(spec, { lineWidth: 200 })}`);
  const names = containerNames(cfg);
  return { file, containers: [names.modelServer, names.workerAgent] };
}

export async function compose(command: string[], id: string, file: string, args: string[]): Promise<void> {
  const [cmd, ...pre] = command;
  await run(cmd, [...pre, "-p", composeProject(id), "-f", file, ...args], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
}
