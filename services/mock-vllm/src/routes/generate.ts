import type { IncomingMessage, ServerResponse } from "node:http";
import { lastUserText, renderChat } from "../chatTemplate";
import { Context } from "../context";
import { ApiError } from "../errors";
import { Generation, generate } from "../generator";
import { checkBestOf, checkLogprobs, checkN, checkPromptCount, checkResponseTokens, checkStop } from "../limits";
import { Rng, createRng, hashString } from "../rng";
import { CompletionRequest, chatRequest, completionRequest, parseBody } from "../schemas";
import { VOCAB_SIZE, countTokens, detokenize, isValidTokenId } from "../tokenizer";
import { serve } from "./respond";

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
function countPrompt(ctx: Context, prompt: string, maxTokens: number | null | undefined, what: string, cached: { tokens: number }): number {
  const over = prompt.length > 3 * ctx.config.maxModelLen;
  const count = over ? countTokens(prompt) : countPrefix(ctx, prompt, cached);
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

/** Counts the prompt's tokens and adds those served from the prefix cache to `cached`. */
function countPrefix(ctx: Context, prompt: string, cached: { tokens: number }): number {
  const info = ctx.prompts.get(prompt);
  if (ctx.prefixCache) {
    const hits = ctx.prefixCache.lookupBlocks(info.blocks);
    ctx.metrics.prefixQueries.inc(info.tokens);
    ctx.metrics.prefixHits.inc(hits);
    cached.tokens += hits;
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
    throw new ApiError(
      400,
      `This model's maximum context length is ${limit} tokens. However, your request has ${body.messages.length} messages, at least one token each. Please reduce the length of the messages.`,
      "messages",
    );
  }
  const cached = { tokens: 0 };
  const promptTokens = countPrompt(ctx, renderChat(body.messages), maxTokens, "messages", cached);
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
    cachedTokens: cached.tokens,
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
  const cached = { tokens: 0 };
  const counts = prompts.map((p) => countPrompt(ctx, p, body.max_tokens, "prompt", cached));
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
    cachedTokens: cached.tokens,
    outputs,
    echoPrefixes,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    continuousUsage: body.stream_options?.continuous_usage_stats === true,
    maxTokensParam: Math.max(...budgets),
    n,
  });
}
