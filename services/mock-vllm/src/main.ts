import { CommandLineError, helpText, parseCommandLine } from "./cli";
import { configFromCommandLine, summarize } from "./config";
import { localUrl, PATHS, PORTS, PROBE_FLAGS } from "../../../contract";
import { probe } from "../../shared/probe";
import { RunningServer, startServer } from "./server";

function stamp(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function log(message: string): void {
  console.log(`INFO ${stamp()} [mock_vllm] ${message}`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === PROBE_FLAGS.mockVllm) {
    process.exit(await probe(argv[1] ?? localUrl("127.0.0.1", PORTS.api, PATHS.serverHealth), 5000));
  }
  let parsed;
  let config;
  try {
    parsed = parseCommandLine(argv, process.env);
    for (const warning of parsed.warnings) console.error(`WARNING ${stamp()} [mock_vllm] ${warning}`);
    if (parsed.help) {
      console.log(helpText());
      return;
    }
    config = configFromCommandLine(parsed);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(e instanceof CommandLineError ? e.exitCode : 2);
  }
  // Signal handlers go in before anything is started, not once the server is up. In the
  // container this process is PID 1, and the kernel drops SIGTERM/SIGINT sent to PID 1 when no
  // handler is installed; startServer does not return until the simulated model is loaded (in
  // closed mode), so `docker stop` during loading used to wait out the whole stop timeout.
  // eslint-disable-next-line prefer-const -- set once loading is done; the handlers below read it before.
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    if (!server) {
      // Still loading with the port closed (or not listening yet): no request can be in flight.
      log(`${signal} received while loading the model: exiting`);
      process.exit(0);
    }
    log(`${signal} received: draining in-flight requests (up to ${config.shutdownTimeoutS} s)`);
    server.close().then(() => {
      log("Shutdown complete.");
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  for (const line of summarize(config, parsed)) log(line);
  if (config.mock.startupMs > 0)
    log(
      `Loading model weights (simulated: ${config.mock.startupMs} ms, port ${config.mock.startupMode === "closed" ? "closed" : "open, /health 503"} meanwhile)`,
    );

  // In unhealthy mode this returns once the port is open, while loading goes on; a signal then
  // takes the drain path in stop(), and close() also cancels the load.
  server = await startServer(config);
  log(`Starting vLLM API server 0 on http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${server.port}`);
  log(
    "Available routes are: /health, /ping, /version, /load, /metrics, /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings, /tokenize, /detokenize",
  );
  server.ready.then(() => log("Application startup complete."));
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`ERROR ${(e as Error).stack ?? e}`);
  process.exit(1);
});
