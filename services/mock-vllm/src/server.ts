import { IncomingMessage, Server, ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { localUrl, PATHS } from "../../../contract";
import { Config } from "./config";
import { Context } from "./context";
import { ConnectionGuard } from "../../shared/connections";
import { ApiError, METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY, UNAUTHORIZED_BODY, errorBody } from "./errors";
import { readBody, sendError, sendJson } from "./http";
import { HttpMetrics } from "./httpMetrics";
import { handleEmbeddings } from "./routes/embeddings";
import { handleChat, handleCompletion } from "./routes/generate";
import { handleHealth, handleLoad, handleMetrics, handleVersion, modelsBody } from "./routes/info";
import { handleDetokenize, handleTokenize } from "./routes/tokenize";

type BodyHandler = (ctx: Context, req: IncomingMessage, res: ServerResponse, body: string) => void;
type Handler = (ctx: Context, req: IncomingMessage, res: ServerResponse) => void;
interface Route {
  get?: Handler;
  post?: BodyHandler;
  /** Served only for a generative model, or only for a pooling (embedding) one, as vLLM registers them. */
  task?: "generate" | "pooling";
}

const health: Handler = (ctx, _req, res) => handleHealth(ctx, res);
const ROUTES: Record<string, Route> = {
  [PATHS.serverHealth]: { get: health },
  "/ping": { get: health, post: (ctx, _req, res) => handleHealth(ctx, res) },
  "/version": { get: (ctx, _req, res) => handleVersion(ctx, res) },
  "/load": { get: (ctx, _req, res) => handleLoad(ctx, res) },
  [PATHS.serverMetrics]: { get: (ctx, _req, res) => handleMetrics(ctx, res) },
  "/v1/models": { get: (ctx, _req, res) => sendJson(res, 200, modelsBody(ctx)) },
  "/v1/chat/completions": { post: handleChat, task: "generate" },
  "/v1/completions": { post: handleCompletion, task: "generate" },
  "/v1/embeddings": { post: handleEmbeddings, task: "pooling" },
  "/tokenize": { post: (ctx, _req, res, body) => handleTokenize(ctx, res, body) },
  "/detokenize": { post: (ctx, _req, res, body) => handleDetokenize(ctx, res, body) },
};

// While loading (unhealthy start-up mode) or draining, only these still answer normally.
const ALWAYS_OPEN = new Set([PATHS.serverHealth, "/ping", PATHS.serverMetrics, "/version", "/load"]);

export interface RunningServer {
  /** http://host:port of the listening socket. */
  readonly url: string;
  readonly port: number;
  readonly context: Context;
  /** Resolves when the simulated model is loaded (the port is open before that in unhealthy mode). */
  readonly ready: Promise<void>;
  /** Graceful stop: refuse new work, let in-flight requests finish within --shutdown-timeout, cut the rest. */
  close(): Promise<void>;
}

// vLLM's AuthenticationMiddleware (vllm/entrypoints/openai/server_utils.py, with --api-key)
// guards these prefixes only, lets CORS preflights (OPTIONS) through, and reads the scheme of
// `Authorization: <scheme> <token>` case-insensitively.
const PROTECTED_PREFIXES = ["/v1", "/v2", "/inference", "/cohere"];
function isProtected(path: string): boolean {
  for (const p of PROTECTED_PREFIXES) if (path.startsWith(p)) return true;
  return false;
}

function authorized(keys: readonly string[], header: string | undefined): boolean {
  if (!header) return false;
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space).toLowerCase() !== "bearer") return false;
  return keys.includes(header.slice(space + 1));
}

function dispatch(ctx: Context, req: IncomingMessage, res: ServerResponse): void {
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);

  if (ctx.phase !== "ready" && !ALWAYS_OPEN.has(path)) {
    const message = ctx.phase === "loading" ? "The model is still loading." : "The server is shutting down.";
    return sendError(res, new ApiError(503, message), ctx.phase === "draining" ? { connection: "close" } : undefined);
  }
  if (
    ctx.config.apiKeys.length > 0 &&
    req.method !== "OPTIONS" &&
    isProtected(path) &&
    !authorized(ctx.config.apiKeys, req.headers.authorization)
  ) {
    return sendJson(res, 401, UNAUTHORIZED_BODY);
  }
  const route = ROUTES[path];
  if (!route || (route.task !== undefined && (route.task === "pooling") !== ctx.config.pooling)) return sendJson(res, 404, NOT_FOUND_BODY);
  const method = req.method;
  if ((method === "GET" || method === "HEAD") && route.get) return route.get(ctx, req, res);
  if (method === "POST" && route.post) {
    const post = route.post;
    return readBody(req, ctx.config.mock.maxBodyBytes, (err, body) => {
      if (err) return sendError(res, err, { connection: "close" });
      try {
        post(ctx, req, res, body);
      } catch (e) {
        if (e instanceof ApiError) return sendError(res, e);
        console.error(e);
        sendError(res, new ApiError(500, `Internal server error: ${(e as Error).message}`));
      }
    });
  }
  return sendJson(res, 405, METHOD_NOT_ALLOWED_BODY, { allow: [route.get && "GET", route.post && "POST"].filter(Boolean).join(", ") });
}

export async function startServer(config: Config): Promise<RunningServer> {
  const ctx = new Context(config);
  let drained: (() => void) | null = null;
  const log = config.mock.logRequests;
  const sim = config.mock;
  const requestTimeout = Math.round(sim.requestTimeoutS * 1000);

  const server: Server = createServer({
    keepAliveTimeout: 5000,
    // A request's head, and the whole request with its body, must arrive in time (408 and close);
    // Node checks every connectionsCheckingInterval, so that bounds how late the cut comes.
    requestTimeout,
    headersTimeout: Math.min(Math.round(sim.headersTimeoutS * 1000), requestTimeout),
    connectionsCheckingInterval: 250,
    maxHeaderSize: config.maxHeaderBytes,
    insecureHTTPParser: false,
    // The guard checks Host itself, answering with a JSON body like every other error.
    requireHostHeader: false,
  });
  // Node drops header lines past this count silently; one more than allowed lets the guard see them.
  server.maxHeadersCount = config.maxHeaderCount + 1;
  const http = new HttpMetrics(ctx.metrics.registry, new Set(Object.keys(ROUTES)));
  const guard = new ConnectionGuard(server, {
    errorBody,
    headers: { server: "uvicorn" },
    maxHeaderCount: config.maxHeaderCount,
    onDone: (res) => {
      http.done(res);
      if (drained) {
        server.closeIdleConnections();
        if (guard.inflight === 0) drained();
      }
    },
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!guard.admit(req, res)) return;
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    http.start(q < 0 ? url : url.slice(0, q), res);
    if (log) {
      const started = performance.now();
      res.on("close", () => console.log(`INFO ${req.method} ${req.url} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`));
    }
    dispatch(ctx, req, res);
  });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      // uvicorn's accept backlog: a burst of connections must not overflow into SYN retries.
      server.listen({ port: config.port, host: config.host, backlog: 2048 }, () => {
        server.off("error", reject);
        resolve();
      });
    });

  let loadTimer: NodeJS.Timeout | undefined;
  const loaded = () => new Promise<void>((resolve) => (loadTimer = setTimeout(resolve, sim.startupMs)));
  let ready: Promise<void>;
  if (sim.startupMs > 0 && sim.startupMode === "closed") {
    // Like vLLM: nothing listens until the model is loaded.
    await loaded();
    await listen();
    ctx.phase = "ready";
    ready = Promise.resolve();
  } else {
    await listen();
    if (sim.startupMs > 0) {
      ready = loaded().then(() => {
        if (ctx.phase === "loading") ctx.phase = "ready";
      });
    } else {
      ctx.phase = "ready";
      ready = Promise.resolve();
    }
  }

  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;

  const close = () => {
    closing ??= (async () => {
      clearTimeout(loadTimer);
      ctx.phase = "draining";
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (guard.inflight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.shutdownTimeoutS * 1000);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      // Whatever is still running past the bound is cut, and counted as aborted.
      server.closeAllConnections();
      await stopped;
    })();
    return closing;
  };

  return { url: localUrl(host, address.port), port: address.port, context: ctx, ready, close };
}
