import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AgentState } from "./agent";
import { ConnectionGuard } from "../../shared/connections";
import type { EventLog } from "./events";
import type { AgentMetrics } from "./metrics";
import type { AgentInfo } from "./version";
import { PATHS } from "../../../contract";

export interface HttpContext {
  state: AgentState;
  metrics: AgentMetrics;
  log: EventLog;
  agentInfo: AgentInfo;
  ids: { workerId: string; instanceId: string | null; modelId: string | null };
  controlPlaneUrl: string | null;
  startedAt: number;
}

const DEFAULT_TAIL = 100;

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown): void =>
  send(res, status, JSON.stringify(value) + "\n", "application/json; charset=utf-8");

// Credentials embedded in the URL (user:pass@) must not leak through /info.
function safeUrl(url: string | null): string | null {
  if (!url) return null;
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.toString().replace(/\/$/, "");
}

export function info(ctx: HttpContext): Record<string, unknown> {
  const s = ctx.state.snapshot;
  return {
    agent_version: ctx.agentInfo.version,
    agent_build_date: ctx.agentInfo.build_date,
    agent_checksum: ctx.agentInfo.checksum,
    node_version: process.version,
    worker_id: ctx.ids.workerId,
    instance_id: ctx.ids.instanceId,
    model_id: ctx.ids.modelId,
    vllm_ready: s?.readiness.ready ?? false,
    not_ready_reason: s ? s.readiness.reason : "no observation yet",
    control_plane_url: safeUrl(ctx.controlPlaneUrl),
    registered: ctx.state.registered,
    last_heartbeat: ctx.state.lastHeartbeat,
    last_registration: ctx.state.lastRegistration,
    gpu_source: s?.gpu.source ?? null,
    uptime_s: Math.round((performance.now() - ctx.startedAt) / 1000),
  };
}

// RFC 3986 origin-form (path and query characters, %-escapes) or an absolute http(s) URL.
const ORIGIN_FORM = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

/** The request target's path and query, or null when it is not a valid URL. */
export function parseTarget(target: string): { path: string; query: URLSearchParams } | null {
  let pathAndQuery = target;
  if (!target.startsWith("/")) {
    // Absolute form (`GET http://host/healthz`), which HTTP/1.1 servers must accept.
    if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) return null;
    const u = new URL(target);
    pathAndQuery = u.pathname + u.search;
  }
  if (!ORIGIN_FORM.test(pathAndQuery)) return null;
  // Not normalised (`//healthz` is not `/healthz`), as routes are matched exactly.
  const q = pathAndQuery.indexOf("?");
  return q < 0
    ? { path: pathAndQuery, query: new URLSearchParams() }
    : { path: pathAndQuery.slice(0, q), query: new URLSearchParams(pathAndQuery.slice(q + 1)) };
}

async function route(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // `new URL()` threw on targets such as `///` and `//[`, which were answered 500.
  const url = parseTarget(req.url ?? "/");
  if (!url) return json(res, 400, { error: "malformed request target" });
  const known = [PATHS.agentHealth, PATHS.agentReady, "/metrics", "/info", "/logs"].includes(url.path);
  if (!known) return json(res, 404, { error: "not found", path: url.path.length > 200 ? `${url.path.slice(0, 200)}…` : url.path });
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return json(res, 405, { error: "method not allowed" });
  }
  switch (url.path) {
    case PATHS.agentHealth:
      return json(res, 200, { status: "ok" });
    case PATHS.agentReady: {
      const r = ctx.state.snapshot?.readiness;
      return r?.ready
        ? json(res, 200, { status: "ready", model_id: ctx.ids.modelId })
        : json(res, 503, { status: "starting", reason: r ? r.reason : "no observation yet" });
    }
    case "/metrics":
      return send(res, 200, await ctx.metrics.render(), ctx.metrics.contentType);
    case "/info":
      return json(res, 200, info(ctx));
    case "/logs": {
      const raw = url.query.get("tail");
      const n = raw === null ? DEFAULT_TAIL : Number(raw);
      if (!Number.isInteger(n) || n < 0) return json(res, 400, { error: "tail must be a non-negative integer" });
      const events = ctx.log.tail(n);
      return json(res, 200, { events, total_events: events.length, capacity: ctx.log.capacity, log_file: ctx.log.filePath });
    }
  }
}

// Probes send a handful of short headers.
const MAX_HEADER_COUNT = 64;

export function createAgentServer(ctx: HttpContext): Server {
  const server = createServer({
    // Probes are tiny; a slow or stuck client should not hold sockets for long. Node checks the
    // timeouts every connectionsCheckingInterval (30 s by default, so a 5 s timeout cut at 5–35 s).
    requestTimeout: 10_000,
    headersTimeout: 5_000,
    connectionsCheckingInterval: 250,
    maxHeaderSize: 8 * 1024,
    insecureHTTPParser: false,
    // The guard checks Host itself, answering with a JSON body like every other error.
    requireHostHeader: false,
  });
  server.maxHeadersCount = MAX_HEADER_COUNT + 1;
  const guard = new ConnectionGuard(server, {
    errorBody: (_status, message) => JSON.stringify({ error: message }) + "\n",
    headers: { "cache-control": "no-store" },
    maxHeaderCount: MAX_HEADER_COUNT,
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!guard.admit(req, res)) return;
    route(ctx, req, res).catch((err: unknown) => {
      ctx.log.error("http.handler_failed", { path: req.url?.slice(0, 200), error: (err as Error).message });
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  return server;
}
