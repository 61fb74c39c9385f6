import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Agent } from "./agent";
import { TokenStore } from "./controlPlane";
import { Ticker } from "./cycle";
import { EventLog } from "./events";
import { createAgentServer } from "./http";
import { AgentMetrics } from "./metrics";
import { localUrl, PROBE_FLAGS } from "../../../contract";
import { probe } from "../../shared/probe";
import { defaultProbeUrl } from "./probe";
import { loadSettings, type Settings } from "./settings";
import { AGENT_VERSION, loadAgentInfo } from "./version";

export interface StartOptions {
  /** JSON lines on stdout; tests turn it off. */
  stdout?: boolean;
  /** File whose sha256 identifies the running code; defaults to the entry script. */
  agentFile?: string;
}

export interface RunningAgent {
  url: string;
  agent: Agent;
  log: EventLog;
  close(): Promise<void>;
}

export async function startAgent(settings: Settings, opts: StartOptions = {}): Promise<RunningAgent> {
  const startedAt = performance.now();
  const log = new EventLog({ capacity: settings.logBuffer, level: settings.logLevel, stdout: opts.stdout ?? true, file: settings.logFile });
  const agentInfo = await loadAgentInfo(opts.agentFile);
  const ids = { workerId: settings.workerId, instanceId: settings.instanceId, modelId: settings.modelId };
  const metrics = new AgentMetrics(agentInfo, ids);
  const tokens = await TokenStore.load(settings.authToken, settings.authTokenFile, log);
  const identity = { ...ids, vllmPort: settings.vllmPort, healthPort: settings.healthPort, vllmBaseUrl: settings.vllmBaseUrl };
  const agent = new Agent(settings, identity, agentInfo, tokens, metrics, log);
  // Primed as early as possible: CPU % needs a few clock ticks between samples to mean anything.
  await agent.prime();

  // Serve health endpoints before the first cycle: liveness must never wait on the model server.
  const server = createAgentServer({
    state: agent.state,
    metrics,
    log,
    agentInfo,
    ids,
    controlPlaneUrl: settings.controlPlaneUrl,
    startedAt,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.healthPort, settings.healthHost, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // Port 0 (tests) binds an ephemeral port; the control plane must be told the real one.
  identity.healthPort = port;

  const ticker = new Ticker(settings.heartbeatIntervalMs, (signal) => agent.runCycle(signal), {
    onOverrun: (skipped) => log.state("cycle", "warn", "cycle.overrun", { skipped_ticks: skipped }),
    onError: (err) => log.error("cycle.failed", { error: (err as Error)?.stack ?? String(err) }),
  });
  log.info("agent.started", {
    version: agentInfo.version,
    checksum: agentInfo.checksum,
    worker_id: settings.workerId,
    instance_id: settings.instanceId,
    model_id: settings.modelId,
    mode: settings.controlPlaneUrl ? "control-plane" : "standalone",
    control_plane_url: settings.controlPlaneUrl ? new URL(settings.controlPlaneUrl).origin : null,
    vllm_base_url: settings.vllmBaseUrl,
    health_port: port,
    heartbeat_interval_s: settings.heartbeatIntervalMs / 1000,
    has_token: tokens.token !== null,
  });
  ticker.start();

  let closing: Promise<void> | null = null;
  return {
    url: localUrl(settings.healthHost, port),
    agent,
    log,
    close: () =>
      (closing ??= (async () => {
        await ticker.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        log.info("agent.stopped");
        await log.close();
      })()),
  };
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === PROBE_FLAGS.workerAgent) {
    process.exitCode = await probe(argv[1] ?? defaultProbeUrl(), 3000);
    return;
  }
  const { values } = parseArgs({
    args: argv,
    options: { version: { type: "boolean" } },
  });
  if (values.version) {
    process.stdout.write(AGENT_VERSION + "\n");
    return;
  }

  const loaded = loadSettings(process.env);
  if (!loaded.ok) {
    process.stderr.write(`worker-agent: invalid settings:\n${loaded.errors.map((e) => `  - ${e}`).join("\n")}\n`);
    process.exit(2);
  }
  const running = await startAgent(loaded.settings);

  // The sidecar must never be why an instance looks dead: stray errors are logged, not fatal.
  process.on("unhandledRejection", (err) => running.log.error("process.unhandled_rejection", { error: String(err) }));
  process.on("uncaughtException", (err) => running.log.error("process.uncaught_exception", { error: err.stack ?? String(err) }));

  const shutdown = (signal: string) => {
    running.log.info("agent.stopping", { signal });
    // Bounded: a hung socket must not turn `docker stop` into a SIGKILL.
    setTimeout(() => process.exit(0), 5000).unref();
    void running.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`worker-agent: failed to start: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  });
}
