import { localUrl, PATHS, PORTS } from "../../../contract";

/** The agent's own /healthz, from the same variables the agent binds with. */
export function defaultProbeUrl(env: NodeJS.ProcessEnv = process.env): string {
  const port = Number(env.WORKER_HEALTH_PORT?.trim() || PORTS.agent);
  const host = env.WORKER_HEALTH_HOST?.trim() || "0.0.0.0";
  return localUrl(host, Number.isInteger(port) && port > 0 ? port : PORTS.agent, PATHS.agentHealth);
}
