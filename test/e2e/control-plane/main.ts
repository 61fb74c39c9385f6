// A stand-in for the control plane, written from the worker contract
// (POST /internal/worker/register and /internal/worker/heartbeat, bearer token, 401/400 answers),
// run as a container on the network the instances join. It records every call, and fetches URLs
// from inside that network on request, so a test can see what an instance reported and whether
// the address it reported answers. The test bundles it (esbuild) into its image's context.
//   GET /records            {"registrations": [...], "heartbeats": [...]}
//   GET /fetch?url=<url>    {"status": N, "body": "..."} as seen from this container
// Environment: PORT (default 8003), WORKER_AUTH_TOKEN (the token the calls must carry).
import * as http from "node:http";

/** What the stand-in keeps of one call. */
export interface WorkerCall {
  at: string;
  instance_id: string;
  worker_id: string;
  model_id: string | null;
  ip_address: string;
  vllm_port?: number;
  health_port?: number;
  status?: string;
}

const port = Number(process.env.PORT || 8003);
const token = process.env.WORKER_AUTH_TOKEN || "";
const records: { registrations: WorkerCall[]; heartbeats: WorkerCall[] } = { registrations: [], heartbeats: [] };

const REQUIRED = {
  register: ["instance_id", "worker_id", "vllm_port", "health_port", "ip_address"],
  heartbeat: ["instance_id", "worker_id", "status", "ip_address"],
};

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof body === "object" && body !== null ? body : undefined;
  } catch {
    return undefined;
  }
}

async function worker(kind: "register" | "heartbeat", req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (token === "" || req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: "unauthorized" });
  const body = await readJson(req);
  const missing = body ? REQUIRED[kind].filter((k) => body[k] === undefined || body[k] === null) : ["(body)"];
  if (!body || missing.length > 0) return send(res, 400, { error: `missing ${missing.join(", ")}` });
  records[kind === "register" ? "registrations" : "heartbeats"].push({
    at: new Date().toISOString(),
    instance_id: String(body.instance_id),
    worker_id: String(body.worker_id),
    model_id: typeof body.model_id === "string" ? body.model_id : null,
    ip_address: String(body.ip_address),
    vllm_port: body.vllm_port as number | undefined,
    health_port: body.health_port as number | undefined,
    status: body.status as string | undefined,
  });
  send(res, 200, { ok: true });
}

async function fetchFromHere(target: string, res: http.ServerResponse): Promise<void> {
  try {
    const answer = await fetch(target, { signal: AbortSignal.timeout(5000) });
    send(res, 200, { status: answer.status, body: await answer.text() });
  } catch (err) {
    const e = err as Error & { cause?: Error };
    send(res, 200, { status: 0, body: e.cause?.message ?? e.message });
  }
}

http
  .createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    if (req.method === "POST" && url.pathname === "/internal/worker/register") return void worker("register", req, res);
    if (req.method === "POST" && url.pathname === "/internal/worker/heartbeat") return void worker("heartbeat", req, res);
    if (req.method === "GET" && url.pathname === "/records") return send(res, 200, records);
    if (req.method === "GET" && url.pathname === "/fetch") return void fetchFromHere(url.searchParams.get("url") ?? "", res);
    send(res, 404, { error: "not found" });
  })
  .listen(port, "0.0.0.0");
process.on("SIGTERM", () => process.exit(0));
