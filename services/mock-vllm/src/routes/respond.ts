import type { IncomingMessage, ServerResponse } from "node:http";
import { Context } from "../context";
import { EngineRequest } from "../engine";
import { ApiError, errorBody } from "../errors";
import { FaultPlan } from "../faults";
import { Generation } from "../generator";
import { sendError, sendJson, startEventStream } from "../http";

/** A request fully decided (text, lengths, options) before any simulated time passes. */
export interface Prepared {
  kind: "chat" | "completion";
  id: string;
  created: number;
  model: string;
  promptTokens: number;
  /** Prompt tokens the prefix cache already held. */
  cachedTokens: number;
  outputs: Generation[];
  /** Completions with `echo`: the prompt text each choice starts with. */
  echoPrefixes: string[] | null;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  maxTokensParam: number;
  n: number;
}

function usage(p: Prepared, completionTokens: number): string {
  return `{"prompt_tokens":${p.promptTokens},"total_tokens":${p.promptTokens + completionTokens},"completion_tokens":${completionTokens},"prompt_tokens_details":null}`;
}

function completionTokens(p: Prepared): number {
  let c = 0;
  for (const o of p.outputs) c += o.tokens.length;
  return c;
}

function fullResponse(p: Prepared): string {
  const u = usage(p, completionTokens(p));
  const head = `{"id":"${p.id}","object":"${p.kind === "chat" ? "chat.completion" : "text_completion"}","created":${p.created},"model":${JSON.stringify(p.model)},"choices":[`;
  let choices = "";
  for (let i = 0; i < p.outputs.length; i++) {
    const o = p.outputs[i];
    const stop = o.stopReason === null ? "null" : JSON.stringify(o.stopReason);
    if (i > 0) choices += ",";
    if (p.kind === "chat") {
      choices += `{"index":${i},"message":{"role":"assistant","content":${JSON.stringify(o.text)},"refusal":null,"annotations":null,"audio":null,"function_call":null,"tool_calls":[],"reasoning_content":null},"logprobs":null,"finish_reason":"${o.finishReason}","stop_reason":${stop}}`;
    } else {
      const text = p.echoPrefixes ? p.echoPrefixes[i] + o.text : o.text;
      choices += `{"index":${i},"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":"${o.finishReason}","stop_reason":${stop},"prompt_logprobs":null}`;
    }
  }
  return `${head}${choices}],"service_tier":null,"system_fingerprint":null,"usage":${u},"prompt_logprobs":null,"kv_transfer_params":null}`;
}

/** Server-Sent Events in vLLM's chunk format, built from per-request string templates. */
class StreamWriter {
  private readonly head: string;
  private emitted = 0;
  constructor(private readonly p: Prepared) {
    const object = p.kind === "chat" ? "chat.completion.chunk" : "text_completion";
    this.head = `data: {"id":"${p.id}","object":"${object}","created":${p.created},"model":${JSON.stringify(p.model)},"choices":[{"index":`;
  }
  private tail(): string {
    return this.p.continuousUsage && this.p.includeUsage ? `],"usage":${usage(this.p, this.emitted)}}\n\n` : "]}\n\n";
  }
  role(i: number): string {
    return `${this.head}${i},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}${this.tail()}`;
  }
  token(i: number, text: string, finish: Generation | null): string {
    this.emitted++;
    const end = finish
      ? `"finish_reason":"${finish.finishReason}","stop_reason":${finish.stopReason === null ? "null" : JSON.stringify(finish.stopReason)}`
      : `"finish_reason":null`;
    if (this.p.kind === "chat") return `${this.head}${i},"delta":{"content":${JSON.stringify(text)}},"logprobs":null,${end}}${this.tail()}`;
    return `${this.head}${i},"text":${JSON.stringify(text)},"logprobs":null,${end}${finish ? "" : ',"stop_reason":null'}}${this.tail()}`;
  }
  finalUsage(): string {
    const object = this.p.kind === "chat" ? "chat.completion.chunk" : "text_completion";
    return `data: {"id":"${this.p.id}","object":"${object}","created":${this.p.created},"model":${JSON.stringify(this.p.model)},"choices":[],"usage":${usage(this.p, completionTokens(this.p))}}\n\n`;
  }
}

const INJECTED = "Injected failure (mock-vllm fault injection)";

/** Answers a prepared request: fault injection first, then a slot in the simulated engine. */
export function serve(ctx: Context, req: IncomingMessage, res: ServerResponse, p: Prepared): void {
  let longest = 0;
  for (const o of p.outputs) if (o.tokens.length > longest) longest = o.tokens.length;
  const plan = ctx.faults.plan(req.headers, longest);
  if (plan) {
    if (plan.failStatus >= 0) return sendError(res, new ApiError(plan.failStatus, INJECTED));
    if (plan.dropAfterTokens === 0) {
      req.socket.destroy();
      return;
    }
    if (plan.stallMs > 0 && plan.stallAfterTokens < 0) {
      const timer = setTimeout(() => Delivery.start(ctx, res, p, plan), plan.stallMs);
      res.on("close", () => clearTimeout(timer));
      return;
    }
  }
  Delivery.start(ctx, res, p, plan);
}

/**
 * One request on its way through the engine to the client: the engine calls the hooks below as
 * its steps fall due, and this turns them into SSE chunks (or one JSON body) on `res`. The
 * engine's bookkeeping fields are declared here so every request has the same shape.
 */
class Delivery implements EngineRequest {
  readonly promptTokens: number;
  readonly cachedTokens: number;
  readonly outputs: readonly Generation[];
  readonly stream: boolean;
  readonly maxTokensParam: number;
  readonly n: number;
  readonly kvTokens: number;
  readonly stallAfterTokens: number;
  readonly stallMs: number;
  state?: number;
  admit?: () => void;
  arrivalAt?: number;
  admittedAt?: number;
  firstTokenAt?: number;
  lastTokenAt?: number;
  nextAt?: number;
  itlMs?: number;
  step?: number;
  steps?: number;
  timer?: NodeJS.Timeout;
  tickFn?: () => void;

  private readonly writer: StreamWriter | null;
  /** Chunks of steps already due, not yet written: steps due together leave in one write. */
  private pending = "";
  private finished = false;
  /** The connection is being cut on purpose (fault injection) once the last chunk is out. */
  private cutting = false;

  /** Admits the request, or answers 429 when the waiting queue is full. */
  static start(ctx: Context, res: ServerResponse, p: Prepared, plan: FaultPlan | null): void {
    if (res.destroyed) return;
    if (!ctx.scheduler.hasRoom()) return sendError(res, new ApiError(429, "The server is busy: the waiting queue is full."));
    const d = new Delivery(ctx, res, p, plan);
    if (d.writer) startEventStream(res);
    ctx.engine.submit(d);
    // Still running after submit: a client that goes away aborts the request, as in vLLM.
    if (!d.finished) res.on("close", () => d.finished || ctx.engine.abort(d));
  }

  private constructor(
    private readonly ctx: Context,
    private readonly res: ServerResponse,
    private readonly p: Prepared,
    private readonly plan: FaultPlan | null,
  ) {
    this.promptTokens = p.promptTokens;
    this.cachedTokens = p.cachedTokens;
    this.outputs = p.outputs;
    this.stream = p.stream;
    this.maxTokensParam = p.maxTokensParam;
    this.n = p.n;
    let kv = p.promptTokens;
    for (const o of p.outputs) kv += o.tokens.length;
    this.kvTokens = kv;
    this.stallAfterTokens = plan && plan.stallMs > 0 ? plan.stallAfterTokens : -1;
    this.stallMs = plan && plan.stallAfterTokens >= 0 ? plan.stallMs : 0;
    this.writer = p.stream ? new StreamWriter(p) : null;
  }

  onStep(step: number): void {
    const head = step === 0 ? this.roleChunks() : "";
    if (this.plan && this.plan.errorAfterTokens === step) return this.failMidStream(head);
    const out = head + this.tokenChunks(step);
    if (this.plan && this.plan.dropAfterTokens === step + 1) return this.cutAfter(out);
    this.pending += out;
  }

  onFlush(): void {
    if (this.pending === "") return;
    this.res.write(this.pending);
    this.pending = "";
  }

  backlog(): number {
    return this.pending.length;
  }

  congested(): boolean {
    return this.res.writableNeedDrain;
  }

  whenWritable(fn: () => void): void {
    if (this.res.writableNeedDrain) this.res.once("drain", fn);
    else setImmediate(fn);
  }

  onDone(aborted: boolean): void {
    this.finished = true;
    const res = this.res;
    const plan = this.plan;
    if (aborted) {
      if (!res.writableEnded && !this.cutting) res.destroy();
    } else if (this.writer) {
      this.endStream();
    } else if (plan && plan.dropAfterTokens > 0) {
      res.destroy();
    } else if (plan && plan.errorAfterTokens >= 0) {
      sendError(res, new ApiError(500, INJECTED));
    } else {
      sendJson(res, 200, fullResponse(this.p));
    }
  }

  /** Chat streams open each choice with a role-only delta. */
  private roleChunks(): string {
    if (this.p.kind !== "chat") return "";
    let out = "";
    for (let i = 0; i < this.outputs.length; i++) out += this.writer!.role(i);
    return out;
  }

  /** One chunk per choice that still has a token at `step`; its last token carries the finish. */
  private tokenChunks(step: number): string {
    const p = this.p;
    let out = "";
    for (let i = 0; i < p.outputs.length; i++) {
      const o = p.outputs[i];
      if (step >= o.tokens.length) continue;
      const text = step === 0 && p.echoPrefixes ? p.echoPrefixes[i] + o.tokens[step] : o.tokens[step];
      out += this.writer!.token(i, text, step === o.tokens.length - 1 ? o : null);
    }
    return out;
  }

  /** vLLM's in-stream error: an error event, then [DONE]. */
  private failMidStream(head: string): void {
    this.res.end(`${this.pending}${head}data: ${errorBody(500, INJECTED)}\n\ndata: [DONE]\n\n`);
    this.ctx.engine.abort(this);
  }

  /** Cut only once these tokens are on the wire, so the client sees exactly that many. */
  private cutAfter(out: string): void {
    this.cutting = true;
    this.res.write(this.pending + out, () => this.res.destroy());
    this.ctx.engine.abort(this);
  }

  private endStream(): void {
    const p = this.p;
    const w = this.writer!;
    let out = this.pending;
    // Choices with no token at all still get their role and finish chunks.
    for (let i = 0; i < p.outputs.length; i++) {
      const o = p.outputs[i];
      if (o.tokens.length > 0) continue;
      if (p.kind === "chat" && this.steps === 0) out += w.role(i);
      out += w.token(i, p.echoPrefixes ? p.echoPrefixes[i] : "", o);
    }
    if (p.includeUsage) out += w.finalUsage();
    this.res.end(out + "data: [DONE]\n\n");
  }
}
