import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startAgent, type RunningAgent } from "../src/main";
import { loadSettings, type Settings } from "../src/settings";
import { bundled } from "../../../test/lib/bundle";
import { freePort } from "../../../scripts/lib/freePort";

/** Settings for agents under test: loopback, ephemeral port, fast cadence, no real nvidia-smi. */
export function testSettings(env: Record<string, string> = {}): Settings {
  const r = loadSettings({
    WORKER_HEALTH_HOST: "127.0.0.1",
    WORKER_HEALTH_PORT: "0",
    WORKER_HEARTBEAT_INTERVAL_S: "0.2",
    WORKER_HTTP_TIMEOUT_S: "1",
    WORKER_REGISTER_BACKOFF_MAX_S: "0.4",
    WORKER_NVIDIA_SMI: "/nonexistent/nvidia-smi",
    WORKER_ADVERTISE_IP: "10.1.2.3",
    ...env,
  });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.settings;
}

export const INSTANCE_ID = "6f1c2a52-8d1e-4c57-9a55-0f3e2b7c9d10";

export async function startTestAgent(env: Record<string, string> = {}): Promise<RunningAgent> {
  return startAgent(testSettings(env), { stdout: false });
}

export async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export { freePort };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export interface Call {
  method: string;
  path: string;
  auth: string | undefined;
  contentType: string | undefined;
  body: any;
  at: number;
}

export type Reply = { status?: number; json?: unknown; raw?: string; delayMs?: number; destroy?: boolean };
export type Responder = (call: Call) => Reply;

export const okResponder: Responder = () => ({ status: 200, json: { ok: true } });

/** A control plane inside the test: records every call and answers as `respond` says. */
export class FakeControlPlane {
  readonly calls: Call[] = [];
  respond: Responder = okResponder;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(port = 0): Promise<FakeControlPlane> {
    const cp = new FakeControlPlane();
    cp.port = await listen(cp.server, port);
    return cp;
  }

  of(path: "register" | "heartbeat"): Call[] {
    return this.calls.filter((c) => c.path === `/internal/worker/${path}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Left as text: the contract test asserts it was JSON.
    }
    const call: Call = {
      method: req.method ?? "",
      path: req.url ?? "",
      auth: req.headers.authorization,
      contentType: req.headers["content-type"],
      body,
      at: performance.now(),
    };
    this.calls.push(call);
    const reply = this.respond(call);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (reply.destroy) {
      req.socket.destroy();
      return;
    }
    if (res.destroyed) return;
    const payload = reply.raw ?? JSON.stringify(reply.json ?? {});
    res.writeHead(reply.status ?? 200, { "content-type": reply.raw ? "text/html" : "application/json" });
    res.end(payload);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

export interface ModelServerState {
  models: string[];
  waiting: number;
  running: number;
  family: "colon" | "underscore";
  modelsStatus: number;
}

/** A stand-in vLLM: `/v1/models` and `/metrics` only, stoppable and restartable on its port. */
export class FakeModelServer {
  state: ModelServerState;
  private server: Server;
  port = 0;

  private constructor(state: Partial<ModelServerState>) {
    this.state = { models: ["m"], waiting: 0, running: 0, family: "colon", modelsStatus: 200, ...state };
    this.server = this.create();
  }

  static async start(state: Partial<ModelServerState> = {}): Promise<FakeModelServer> {
    const m = new FakeModelServer(state);
    m.port = await listen(m.server);
    return m;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private create(): Server {
    return createServer((req, res) => {
      const s = this.state;
      if (req.url === "/v1/models") {
        res.writeHead(s.modelsStatus, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: s.models.map((id) => ({ id, object: "model", owned_by: "vllm" })) }));
      } else if (req.url === "/metrics") {
        const sep = s.family === "colon" ? ":" : "_";
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(
          [
            `# HELP vllm${sep}num_requests_waiting Number of requests waiting to be processed.`,
            `# TYPE vllm${sep}num_requests_waiting gauge`,
            `vllm${sep}num_requests_waiting{engine="0",model_name="${s.models[0] ?? "m"}"} ${s.waiting}`,
            `# TYPE vllm${sep}num_requests_running gauge`,
            `vllm${sep}num_requests_running{engine="0",model_name="${s.models[0] ?? "m"}"} ${s.running}`,
            `vllm${sep}prompt_tokens_total{model_name="${s.models[0] ?? "m"}"} 1234`,
            "",
          ].join("\n"),
        );
      } else {
        res.writeHead(404).end();
      }
    });
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }

  /** Back on the same port, as a restarted container would be. */
  async restart(): Promise<void> {
    this.server = this.create();
    await listen(this.server, this.port);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The agent as its own process (the bundle the image runs), on loopback, once it has logged its start. */
export async function startAgentProcess(): Promise<{
  child: ChildProcess;
  port: number;
  stdout: () => string;
  exited: Promise<number | null>;
}> {
  const port = await freePort();
  const child = spawn(process.execPath, [bundled("services/worker-agent/src/main.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      WORKER_HEALTH_PORT: String(port),
      WORKER_HEALTH_HOST: "127.0.0.1",
      VLLM_BASE_URL: `http://127.0.0.1:${await freePort()}`,
      WORKER_HEARTBEAT_INTERVAL_S: "0.2",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout!.on("data", (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await waitFor("the agent listening", () => stdout.includes('"agent.started"'), 20_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return { child, port, stdout: () => stdout, exited };
}
