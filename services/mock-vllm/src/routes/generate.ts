import type { IncomingMessage, ServerResponse } from "node:http";
import { lastUserText, renderChat } from "../chatTemplate";
import { Context } from "../context";
import { EngineRequest } from "../engine";
import { ApiError, errorBody } from "../errors";
import { FaultPlan } from "../faults";
import { Generation, generate } from "../generator";
import { sendError, sendJson, startEventStream } from "../http";
import { checkBestOf, checkLogprobs, checkN, checkPromptCount, checkResponseTokens, checkStop } from "../limits";
import { Rng, createRng, hashString } from "../rng";
import { CompletionRequest, chatRequest, completionRequest, parseBody } from "../schemas";
import { VOCAB_SIZE, countTokens, detokenize, isValidTokenId } from "../tokenizer";

/** A request fully decided (text, lengths, options) before any simulated time passes. */
interface Prepared {
  kind: "chat" | "completion";
  id: string;
  created: number;
  model: string;
  promptTokens: number;
  outputs: Generation[];
  /** Completions with `echo`: the prompt text each choice starts with. */
  echoPrefixes: string[] | null;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  maxTokensParam: number;
  n: number;
}

interface Sampling {
  n?: number | null;
  best_of?: number | null;
  prompt_logprobs?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  ignore_eos?: boolean | null;
  include_stop_str_in_output?: boolean | null;
  min_tokens?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null; continuous_usage_stats?: boolean | null } | null;
}

function checkStreamOptions(body: Sampling): void {
  if (body.stream_options != null && !body.stream) {
    throw new ApiError(400, "Stream options can only be defined when `stream=True`.", "stream_options");
  }
}

/** The bounds that do not depend on the prompt, before anything is counted or generated. */
function checkSampling(ctx: Context, body: Sampling, maxTokens: number | null | undefined): number {
  const l = ctx.config.limits;
  const n = body.n ?? 1;
  checkN(l, body.n, "n");
  checkBestOf(l, body.best_of, n);
  checkStop(l, body.stop);
  checkLogprobs(l, body.prompt_logprobs, "prompt", "prompt_logprobs", VOCAB_SIZE);
  if (maxTokens != null && body.min_tokens != null && body.min_tokens > maxTokens) {
    throw new ApiError(400, `min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${body.min_tokens}.`, "min_tokens");
  }
  return n;
}

/**
 * A prompt's token count, or vLLM's context-length error. A text longer than three characters
 * per token of context is over for sure (a token covers at most three), and is only counted, so
 * a 16 MB prompt is refused without building its token ids and cache blocks.
 */
function countPrompt(ctx: Context, prompt: string, maxTokens: number | null | undefined, what: string): number {
  const over = prompt.length > 3 * ctx.config.maxModelLen;
  const count = over ? countTokens(prompt) : countPrefix(ctx, prompt);
  const lengthError = ctx.contextLengthError(count, maxTokens, what);
  if (lengthError) throw lengthError;
  return count;
}

/** The most tokens one choice can carry (stop strings only shorten it), known before generating. */
function choiceBound(ctx: Context, body: Sampling, budget: number, echoText: string): number {
  const sim = ctx.config.mock;
  if (sim.mode === "echo") return Math.min(budget, countTokens(echoText));
  return body.ignore_eos ? budget : Math.min(budget, Math.max(sim.outputLen, body.min_tokens ?? 0));
}

function requestRng(ctx: Context, seed: number | null | undefined): Rng {
  // With a request seed the same request always gets the same text, as with a real sampler.
  return seed == null ? ctx.rng : createRng(hashString(String(seed), ctx.config.mock.seed >>> 0));
}

function generateChoices(ctx: Context, body: Sampling, echoText: string, budget: number, n: number, rng: Rng, into: Generation[]): void {
  const sim = ctx.config.mock;
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  for (let i = 0; i < n; i++) {
    into.push(
      generate({
        mode: sim.mode,
        echoText,
        maxTokens: budget,
        naturalLength: Math.max(sim.outputLen, body.min_tokens ?? 0),
        ignoreEos: body.ignore_eos === true,
        stop,
        includeStopStr: body.include_stop_str_in_output === true,
        rng,
      }),
    );
  }
}

function countPrefix(ctx: Context, prompt: string): number {
  const info = ctx.prompts.get(prompt);
  if (ctx.prefixCache) {
    ctx.metrics.prefixQueries.inc(info.tokens);
    ctx.metrics.prefixHits.inc(ctx.prefixCache.lookupBlocks(info.blocks));
  }
  return info.tokens;
}

export function handleChat(ctx: Context, req: IncomingMessage, res: ServerResponse, text: string): void {
  const body = parseBody(chatRequest, text, "ChatCompletionRequest", ctx.config.limits.maxJsonValues);
  const model = ctx.resolveModel(body.model);
  checkStreamOptions(body);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const n = checkSampling(ctx, body, maxTokens);
  if (body.logprobs) checkLogprobs(ctx.config.limits, body.top_logprobs, "sample", "top_logprobs", VOCAB_SIZE);
  const limit = ctx.config.maxModelLen;
  if (body.messages.length >= limit) {
    // Each message renders to at least one token: these cannot fit, whatever their text.
    throw new ApiError(400, `This model's maximum context length is ${limit} tokens. However, your request has ${body.messages.length} messages, at least one token each. Please reduce the length of the messages.`, "messages");
  }
  const promptTokens = countPrompt(ctx, renderChat(body.messages), maxTokens, "messages");
  const budget = maxTokens ?? limit - promptTokens;
  const echoText = lastUserText(body.messages);
  const l = ctx.config.limits;
  if (n * budget > l.maxResponseTokens) {
    const per = choiceBound(ctx, body, budget, echoText);
    checkResponseTokens(l, n * per, `n=${n} choices of up to ${per} tokens`, n > 1 ? "n" : "max_tokens");
  }
  const outputs: Generation[] = [];
  generateChoices(ctx, body, echoText, budget, n, requestRng(ctx, body.seed), outputs);
  serve(ctx, req, res, {
    kind: "chat",
    id: ctx.requestId("chatcmpl-"),
    created: Math.floor(Date.now() / 1000),
    model,
    promptTokens,
    outputs,
    echoPrefixes: null,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    continuousUsage: body.stream_options?.continuous_usage_stats === true,
    maxTokensParam: budget,
    n,
  });
}

function promptTexts(ctx: Context, prompt: CompletionRequest["prompt"], maxTokens: number | null | undefined): string[] {
  if (typeof prompt === "string") return [prompt];
  if (typeof prompt[0] !== "number") checkPromptCount(ctx.config.limits, prompt.length, "prompt");
  if (typeof prompt[0] === "string") return prompt as string[];
  const lists = typeof prompt[0] === "number" ? [prompt as number[]] : (prompt as number[][]);
  return lists.map((ids) => {
    // Token ids are the prompt as vLLM counts it: over the context, refused before decoding.
    const lengthError = ids.length > ctx.config.maxModelLen ? ctx.contextLengthError(ids.length, maxTokens, "prompt") : null;
    if (lengthError) throw lengthError;
    for (const id of ids) if (!isValidTokenId(id)) throw new ApiError(400, `Token id ${id} is out of vocabulary`, "prompt");
    return detokenize(ids);
  });
}

export function handleCompletion(ctx: Context, req: IncomingMessage, res: ServerResponse, text: string): void {
  const body = parseBody(completionRequest, text, "CompletionRequest", ctx.config.limits.maxJsonValues);
  const model = ctx.resolveModel(body.model);
  checkStreamOptions(body);
  const n = checkSampling(ctx, body, body.max_tokens);
  const l = ctx.config.limits;
  checkLogprobs(l, body.logprobs, "sample", "logprobs", VOCAB_SIZE);
  const prompts = promptTexts(ctx, body.prompt, body.max_tokens);
  const counts = prompts.map((p) => countPrompt(ctx, p, body.max_tokens, "prompt"));
  const budgets = counts.map((c) => body.max_tokens ?? ctx.config.maxModelLen - c);
  // Everything the response would carry, echoed prompts included, before any of it is made.
  let bound = 0;
  for (let i = 0; i < prompts.length; i++) bound += n * ((body.echo ? counts[i] : 0) + budgets[i]);
  if (bound > l.maxResponseTokens) {
    bound = 0;
    for (let i = 0; i < prompts.length; i++) bound += n * ((body.echo ? counts[i] : 0) + choiceBound(ctx, body, budgets[i], prompts[i]));
    const what = `${prompts.length} prompt${prompts.length === 1 ? "" : "s"} × n=${n}${body.echo ? ", echoed prompts included" : ""}`;
    checkResponseTokens(l, bound, what, n > 1 ? "n" : prompts.length > 1 ? "prompt" : "max_tokens");
  }
  const rng = requestRng(ctx, body.seed);
  const outputs: Generation[] = [];
  const echoPrefixes: string[] | null = body.echo ? [] : null;
  let promptTokens = 0;
  // Several prompts are served as one request; choices are numbered prompt-major as in vLLM.
  for (let i = 0; i < prompts.length; i++) {
    promptTokens += counts[i];
    generateChoices(ctx, body, prompts[i], budgets[i], n, rng, outputs);
    if (echoPrefixes) for (let k = 0; k < n; k++) echoPrefixes.push(prompts[i]);
  }
  serve(ctx, req, res, {
    kind: "completion",
    id: ctx.requestId("cmpl-"),
    created: Math.floor(Date.now() / 1000),
    model,
    promptTokens,
    outputs,
    echoPrefixes,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    continuousUsage: body.stream_options?.continuous_usage_stats === true,
    maxTokensParam: Math.max(...budgets),
    n,
  });
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
    const end = finish ? `"finish_reason":"${finish.finishReason}","stop_reason":${finish.stopReason === null ? "null" : JSON.stringify(finish.stopReason)}` : `"finish_reason":null`;
    if (this.p.kind === "chat") return `${this.head}${i},"delta":{"content":${JSON.stringify(text)}},"logprobs":null,${end}}${this.tail()}`;
    return `${this.head}${i},"text":${JSON.stringify(text)},"logprobs":null,${end}${finish ? "" : ',"stop_reason":null'}}${this.tail()}`;
  }
  finalUsage(): string {
    const object = this.p.kind === "chat" ? "chat.completion.chunk" : "text_completion";
    return `data: {"id":"${this.p.id}","object":"${object}","created":${this.p.created},"model":${JSON.stringify(this.p.model)},"choices":[],"usage":${usage(this.p, completionTokens(this.p))}}\n\n`;
  }
}

const INJECTED = "Injected failure (mock-vllm fault injection)";

function serve(ctx: Context, req: IncomingMessage, res: ServerResponse, p: Prepared): void {
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
      const timer = setTimeout(() => start(ctx, res, p, plan), plan.stallMs);
      res.on("close", () => clearTimeout(timer));
      return;
    }
  }
  start(ctx, res, p, plan);
}

function start(ctx: Context, res: ServerResponse, p: Prepared, plan: FaultPlan | null): void {
  if (res.destroyed) return;
  if (!ctx.scheduler.hasRoom()) {
    return sendError(res, new ApiError(429, "The server is busy: the waiting queue is full."));
  }
  let kvTokens = p.promptTokens;
  for (const o of p.outputs) kvTokens += o.tokens.length;
  const writer = p.stream ? new StreamWriter(p) : null;
  let finished = false;
  let dropping = false;
  let pending = "";
  const r: EngineRequest = {
    promptTokens: p.promptTokens,
    outputs: p.outputs,
    stream: p.stream,
    maxTokensParam: p.maxTokensParam,
    n: p.n,
    kvTokens,
    stallAfterTokens: plan && plan.stallMs > 0 ? plan.stallAfterTokens : -1,
    stallMs: plan && plan.stallAfterTokens >= 0 ? plan.stallMs : 0,
    admit: noop,
    onStep: writer ? (step) => onStep(step) : undefined,
    onFlush: writer ? () => flush() : undefined,
    backlog: writer ? () => pending.length : undefined,
    congested: writer ? () => res.writableNeedDrain : undefined,
    whenWritable: writer ? (fn) => (res.writableNeedDrain ? res.once("drain", fn) : setImmediate(fn)) : undefined,
    onDone: (aborted) => {
      finished = true;
      if (aborted) {
        if (!res.writableEnded && !dropping) res.destroy();
      } else if (writer) {
        endStream();
      } else if (plan && plan.dropAfterTokens > 0) {
        res.destroy();
      } else if (plan && plan.errorAfterTokens >= 0) {
        sendError(res, new ApiError(500, INJECTED));
      } else {
        sendJson(res, 200, fullResponse(p));
      }
    },
  };

  const onStep = (step: number) => {
    let out = "";
    if (step === 0 && p.kind === "chat") for (let i = 0; i < p.outputs.length; i++) out += writer!.role(i);
    if (plan && plan.errorAfterTokens === step) {
      res.end(`${pending}${out}data: ${errorBody(500, INJECTED)}\n\ndata: [DONE]\n\n`);
      ctx.engine.abort(r);
      return;
    }
    for (let i = 0; i < p.outputs.length; i++) {
      const o = p.outputs[i];
      if (step >= o.tokens.length) continue;
      let text = o.tokens[step];
      if (step === 0 && p.echoPrefixes) text = p.echoPrefixes[i] + text;
      out += writer!.token(i, text, step === o.tokens.length - 1 ? o : null);
    }
    if (plan && plan.dropAfterTokens === step + 1) {
      // Cut only once those tokens are on the wire, so the client sees exactly that many.
      dropping = true;
      res.write(pending + out, () => res.destroy());
      ctx.engine.abort(r);
      return;
    }
    // Steps due together (zero latency, or a late timer) leave in one write, as vLLM's output
    // processor also hands over whatever accumulated since the last read.
    pending += out;
  };
  const flush = () => {
    if (pending === "") return;
    res.write(pending);
    pending = "";
  };

  const endStream = () => {
    let out = pending;
    // Choices with no token at all still get their role and finish chunks.
    for (let i = 0; i < p.outputs.length; i++) {
      const o = p.outputs[i];
      if (o.tokens.length > 0) continue;
      if (p.kind === "chat" && r.steps === 0) out += writer!.role(i);
      out += writer!.token(i, p.echoPrefixes ? p.echoPrefixes[i] : "", o);
    }
    if (p.includeUsage) out += writer!.finalUsage();
    res.end(out + "data: [DONE]\n\n");
  };

  if (writer) startEventStream(res);
  ctx.engine.submit(r);
  // Still running after submit: a client that goes away aborts the request, as in vLLM.
  if (!finished) res.on("close", () => finished || ctx.engine.abort(r));
}

function noop(): void {}
