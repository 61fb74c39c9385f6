// The Compose side's compose file, written from the same pure spec builders the program uses
// (spec/containers.ts, config/defaults.ts) so both sides run the same containers: the model
// server with the `vllm serve` arguments, environment, healthcheck, host ports on 127.0.0.1, the
// two cache volumes and the stack network; the worker-agent in the server's network namespace
// (`network_mode: service:`), started once the server is healthy, with its own healthcheck and
// state volume. Engine API 1.41 knows no healthcheck start interval, so neither side gets one.
import * as fs from "node:fs";
import * as path from "node:path";
import yaml from "js-yaml";
import { parseStackConfig, resolveConfig, RuntimeConfig } from "../../config/defaults";
import {
  AGENT_STATE_DIR,
  agentHealthcheck,
  containerNames,
  healthcheck,
  HF_HOME,
  hostSettings,
  labels,
  modelServerEnv,
  publishedPorts,
  Role,
  serveArgs,
  VLLM_CACHE_ROOT,
  workerAgentEnv,
} from "../../spec/containers";
import { PROJECT } from "./common";

/** The dev stack's config as the program would read it, with the given stack name and ports. */
export function devConfig(root: string, stack: string, apiPort: number, agentPort: number): RuntimeConfig {
  const file = yaml.load(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config?: Record<string, unknown> };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.config ?? {})) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
  }
  const network = { ...((raw.network as object | undefined) ?? {}), apiPort, agentPort };
  const parsed = parseStackConfig({ ...raw, network }, PROJECT);
  // The dev stack is the mock on cpu; "auto" also means cpu for the mock.
  return resolveConfig(parsed, { project: PROJECT, stack }, "cpu");
}

const hc = (h: { tests: string[]; interval: string; timeout: string; startPeriod: string; retries: number }) => ({
  test: h.tests,
  interval: h.interval,
  timeout: h.timeout,
  start_period: h.startPeriod,
  retries: h.retries,
});

/** The compose file (as YAML) for a config and the two images. */
export function composeFile(cfg: RuntimeConfig, images: { server: string; agent: string }): string {
  const names = containerNames(cfg);
  const labelMap = (role: Role) => Object.fromEntries(labels(cfg, role).map((l) => [l.label, l.value]));
  const host = hostSettings(cfg);
  const server: Record<string, unknown> = {
    image: images.server,
    container_name: names.modelServer,
    command: serveArgs(cfg),
    environment: modelServerEnv(cfg),
    labels: labelMap("model-server"),
    healthcheck: hc(healthcheck(cfg, { startInterval: false })),
    ports: publishedPorts(cfg).map((p) => `${p.ip}:${p.external}:${p.internal}/${p.protocol}`),
    volumes: [`hf-cache:${HF_HOME}`, `compile-cache:${VLLM_CACHE_ROOT}`],
    networks: ["runtime"],
    restart: cfg.server.restart,
    stop_grace_period: `${cfg.server.stopTimeoutSeconds}s`,
  };
  // None of these is set for the mock on cpu; kept so the file follows the program if that changes.
  if (host.ipcMode) server.ipc = host.ipcMode;
  if (host.shmSize) server.shm_size = `${host.shmSize}m`;
  if (host.memory) server.mem_limit = `${host.memory}m`;
  if (host.capabilities) server.cap_add = host.capabilities.adds;
  if (host.securityOpts) server.security_opt = host.securityOpts;
  const services: Record<string, unknown> = { server };
  const volumes: Record<string, unknown> = {
    "hf-cache": { name: cfg.cache.volumeName, labels: labelMap("model-cache") },
    "compile-cache": { name: cfg.cache.compileVolumeName, labels: labelMap("model-cache") },
  };
  if (cfg.agent.enabled) {
    services.agent = {
      image: images.agent,
      container_name: names.workerAgent,
      environment: workerAgentEnv(cfg),
      labels: labelMap("worker-agent"),
      network_mode: "service:server",
      depends_on: { server: { condition: "service_healthy" } },
      volumes: [`agent-state:${AGENT_STATE_DIR}`],
      healthcheck: hc(agentHealthcheck({ startInterval: false })),
      restart: cfg.server.restart,
      stop_grace_period: "10s",
    };
    volumes["agent-state"] = { name: `${names.workerAgent}-state`, labels: labelMap("worker-agent") };
  }
  const spec = { services, networks: { runtime: { name: cfg.network.name, labels: labelMap("network") } }, volumes };
  return `# Written by scripts/bench-lifecycle/composeFile.ts from spec/containers.ts\n${yaml.dump(spec, { lineWidth: 200 })}`;
}
