import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { CounterSeries, FastCounter, FastHistogram, FastSummary, HistogramSeries, SummarySeries } from "./fastMetrics";

/**
 * The `http_*` family vLLM's /metrics carries from prometheus-fastapi-instrumentator's default
 * metrics (vLLM mounts it with `Instrumentator(excluded_handlers=[...]).add().instrument(app)`):
 * requests by handler, method and status class; request and response sizes (Content-Length) by
 * handler; latency by handler and method (buckets 0.1, 0.5, 1) and, without labels, at high
 * resolution. Paths no route serves are the handler "none", as the instrumentator groups them.
 */
const EXCLUDED = new Set(["/metrics", "/health", "/load", "/ping", "/version", "/server_info"]);
const HIGHR_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60];
const LOWR_BUCKETS = [0.1, 0.5, 1];

interface HandlerSeries {
  requestSize: SummarySeries;
  responseSize: SummarySeries;
  byMethod: Map<string, { duration: HistogramSeries; byStatus: Map<string, CounterSeries> }>;
}

const kStarted = Symbol("http-metrics-started");
const kBytes = Symbol("http-metrics-content-length");
type Timed = ServerResponse & { [kStarted]?: number; [kBytes]?: number };

/** The Content-Length a response was sent with (headers given to writeHead are not readable back). */
export function noteContentLength(res: ServerResponse, bytes: number): void {
  (res as Timed)[kBytes] = bytes;
}

export class HttpMetrics {
  private readonly requests: FastCounter;
  private readonly requestSize: FastSummary;
  private readonly responseSize: FastSummary;
  private readonly duration: FastHistogram;
  private readonly highr: HistogramSeries;
  private readonly handlers = new Map<string, HandlerSeries>();

  constructor(
    registry: Registry,
    private readonly routes: ReadonlySet<string>,
  ) {
    this.requests = new FastCounter("http_requests_total", "Total number of requests by method, status and handler.").register(registry);
    this.requestSize = new FastSummary(
      "http_request_size_bytes",
      "Content length of incoming requests by handler. Only value of header is respected. Otherwise 0.",
    ).register(registry);
    this.responseSize = new FastSummary(
      "http_response_size_bytes",
      "Content length of outgoing responses by handler. Only value of header is respected. Otherwise 0.",
    ).register(registry);
    this.highr = new FastHistogram(
      "http_request_duration_highr_seconds",
      "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
      HIGHR_BUCKETS,
    )
      .register(registry)
      .child({});
    this.duration = new FastHistogram(
      "http_request_duration_seconds",
      "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
      LOWR_BUCKETS,
    ).register(registry);
  }

  /** Marks the start of a request that counts (all but the excluded handlers). */
  start(path: string, res: ServerResponse): void {
    if (!EXCLUDED.has(path)) (res as Timed)[kStarted] = performance.now();
  }

  /** Records a response once it is done (finished, or its connection gone). */
  done(res: ServerResponse): void {
    const started = (res as Timed)[kStarted];
    if (started === undefined) return;
    const req = res.req as IncomingMessage;
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const handler = this.routes.has(path) ? path : "none";
    const method = req.method ?? "GET";
    const seconds = (performance.now() - started) / 1000;
    const h = this.handler(handler);
    let m = h.byMethod.get(method);
    if (!m) {
      m = { duration: this.duration.child({ handler, method }), byStatus: new Map() };
      h.byMethod.set(method, m);
    }
    const status = `${Math.floor(res.statusCode / 100)}xx`;
    let c = m.byStatus.get(status);
    if (!c) {
      c = this.requests.child({ handler, method, status });
      m.byStatus.set(status, c);
    }
    c.inc();
    m.duration.observe(seconds);
    this.highr.observe(seconds);
    h.requestSize.observe(Number(req.headers["content-length"] ?? 0) || 0);
    h.responseSize.observe((res as Timed)[kBytes] ?? 0);
  }

  private handler(handler: string): HandlerSeries {
    let h = this.handlers.get(handler);
    if (!h) {
      h = { requestSize: this.requestSize.child({ handler }), responseSize: this.responseSize.child({ handler }), byMethod: new Map() };
      this.handlers.set(handler, h);
    }
    return h;
  }
}
