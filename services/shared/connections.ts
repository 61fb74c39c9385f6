import { IncomingMessage, STATUS_CODES, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * HTTP/1.1 hygiene that node:http leaves to the application. Node answers a parse error
 * or a timeout by destroying the socket at once: the answers still owed to requests pipelined
 * before the bad one are lost, their responses never emit 'close' (so shutdown waited for them),
 * and the error has no body. Here, per connection, requests are answered in order; the first bad
 * one (a parse error, a timeout, or a request `refusal` rejects) gets a JSON error after those
 * answers, the connection is closed, and nothing after it is served (no smuggled requests).
 *
 * Shared by mock-vllm and the worker-agent (their bundles inline it).
 */
export interface GuardOptions {
  /** The JSON body of an error response. */
  errorBody(status: number, message: string): string;
  /** Extra headers on guard-made error responses (e.g. `server`). */
  headers?: Record<string, string>;
  /** Most header lines a request may have: 431 beyond. */
  maxHeaderCount: number;
  /** Called once per admitted response: finished, or its connection gone. */
  onDone?(res: ServerResponse): void;
}

interface Conn {
  socket: Socket;
  /** Admitted responses not done yet, in request order. */
  open: ServerResponse[];
  /** Condemned: no further request on this connection is served. */
  failed: boolean;
  /** An error response still to write once the owed answers are out. */
  error: Buffer | null;
  /** The response of a request cut short by the error: the error answers it. */
  broken: ServerResponse | null;
}

const kConn = Symbol("connection-guard");
type GuardedSocket = Socket & { [kConn]?: Conn; parser?: { incoming?: IncomingMessage | null } | null };

// How long a condemned connection stays half-closed for the client to read the error and close.
const LINGER_MS = 2000;

/** What about a request (before its handler runs) makes it one not to serve, as [status, message]. */
export function refusal(req: IncomingMessage, maxHeaderCount: number): [number, string] | null {
  // llhttp accepts HTTP/0.9 ("GET /") and HTTP/2.0 request lines and reports them as such.
  if (req.httpVersionMajor !== 1) return [505, `HTTP version ${req.httpVersion} is not supported: use HTTP/1.1 or HTTP/1.0.`];
  const raw = req.rawHeaders;
  if (raw.length > 2 * maxHeaderCount) return [431, `Too many header lines: at most ${maxHeaderCount}.`];
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === "host") hosts++;
  // Node keeps the first of several Host headers; a proxy may have routed by another one.
  if (hosts > 1) return [400, `Duplicate Host header (${hosts} of them).`];
  if (hosts === 0 && req.httpVersionMinor === 1) return [400, "Missing Host header."];
  const te = req.headers["transfer-encoding"];
  // llhttp decodes chunked framing only; a body in any other coding would be read as it arrived.
  if (te !== undefined && te.trim().toLowerCase() !== "chunked") {
    return [501, `Transfer-Encoding ${JSON.stringify(te.slice(0, 64))} is not supported: only chunked.`];
  }
  return null;
}

function statusOf(err: NodeJS.ErrnoException): number {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return 431;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return 413;
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408;
    case "HPE_INVALID_VERSION":
      return 505;
    default:
      return 400;
  }
}

export class ConnectionGuard {
  /** Admitted responses not done yet, over all connections. */
  inflight = 0;

  constructor(
    server: Server,
    private readonly opts: GuardOptions,
  ) {
    server.on("connection", (socket: GuardedSocket) => {
      const conn: Conn = { socket, open: [], failed: false, error: null, broken: null };
      socket[kConn] = conn;
      // Responses still queued behind others never emit 'close' when the socket goes.
      socket.once("close", () => {
        for (const res of conn.open.splice(0)) this.done(res);
      });
    });
    server.on("clientError", (err: NodeJS.ErrnoException, socket: GuardedSocket) => this.onClientError(err, socket));
    // CONNECT (and upgrades, which no route accepts): Node hands over the raw socket.
    server.on("connect", (_req: IncomingMessage, socket: GuardedSocket) => this.fail(socket, 405, "Method Not Allowed."));
  }

  /**
   * Called first for every request: false when it must not be served (the guard answered it, or
   * its connection is condemned). An admitted response is tracked until it is done.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const conn = (req.socket as GuardedSocket)[kConn];
    if (!conn || conn.failed) return false;
    conn.open.push(res);
    this.inflight++;
    // `on`, not `once`: 'close' comes once anyway, and once's wrapper showed in the benchmark.
    res.on("close", () => this.release(conn, res));
    const refused = refusal(req, this.opts.maxHeaderCount);
    if (!refused) return true;
    conn.failed = true;
    // Answered in its turn, after the earlier pipelined requests; `connection: close` ends it.
    const body = this.opts.errorBody(refused[0], refused[1]);
    res.writeHead(refused[0], {
      ...this.opts.headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      connection: "close",
    });
    res.end(body);
    return false;
  }

  private release(conn: Conn, res: ServerResponse): void {
    const i = conn.open.indexOf(res);
    if (i < 0) return;
    conn.open.splice(i, 1);
    this.done(res);
    if (conn.error || (conn.failed && conn.broken === null && conn.open.length === 0)) this.settle(conn);
  }

  private done(res: ServerResponse): void {
    this.inflight--;
    this.opts.onDone?.(res);
  }

  private onClientError(err: NodeJS.ErrnoException, socket: GuardedSocket): void {
    const conn = socket[kConn];
    if (conn?.failed) return; // already answering an earlier problem (the parser repeats its error)
    if (!conn || !socket.writable || err.code === "ECONNRESET" || err.code === "EPIPE") {
      socket.destroy();
      return;
    }
    const status = statusOf(err);
    const reason = (err as { reason?: string }).reason;
    const message =
      status === 408
        ? "Request timed out: the request did not arrive in time."
        : `Invalid HTTP request received${reason ? `: ${reason}` : ""}.`;
    this.fail(socket, status, message);
  }

  /** Condemns the connection: the owed answers go out, then this error, then the connection closes. */
  private fail(socket: GuardedSocket, status: number, message: string): void {
    const conn = socket[kConn];
    if (!conn) return void socket.destroy();
    conn.failed = true;
    // A request whose head or body was still arriving will never complete: the error answers it,
    // unless its handler already answered (then the connection just closes after that answer).
    const incoming = socket.parser?.incoming;
    const cutShort = incoming != null && !incoming.complete;
    const cut = cutShort ? conn.open.find((r) => r.req === incoming) : undefined;
    if (cutShort && (!cut || cut.writableEnded)) {
      conn.error = null;
    } else {
      conn.broken = cut ?? null;
      const body = this.opts.errorBody(status, message);
      const head = Object.entries({
        ...this.opts.headers,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        connection: "close",
      });
      conn.error = Buffer.from(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`,
      );
    }
    this.settle(conn);
  }

  private settle(conn: Conn): void {
    for (const r of conn.open) if (r !== conn.broken) return; // answers still owed, in order
    const { socket } = conn;
    if (conn.error && socket.writable && !(conn.broken?.headersSent ?? false)) socket.write(conn.error);
    conn.error = null;
    conn.broken = null;
    for (const r of conn.open.splice(0)) this.done(r);
    // Half-close and keep reading until the client closes too: destroying a socket with unread
    // bytes sends a reset, which can discard the error response before the client reads it.
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }
}
