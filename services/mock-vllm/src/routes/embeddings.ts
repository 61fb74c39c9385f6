import type { IncomingMessage, ServerResponse } from "node:http";
import { Context } from "../context";
import { EngineRequest } from "../engine";
import { ApiError } from "../errors";
import { sendError, sendJson } from "../http";
import { checkPromptCount } from "../limits";
import { createRng, hashString } from "../rng";
import { embeddingRequest, parseBody } from "../schemas";
import { countTokens, detokenize, isValidTokenId } from "../tokenizer";

/** A unit vector derived from the text alone: equal inputs embed equally, across restarts. */
function embed(text: string, dim: number): number[] {
  const rng = createRng(hashString(text));
  const v = new Array<number>(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    v[i] = rng() * 2 - 1;
    norm += v[i] * v[i];
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dim; i++) v[i] /= norm;
  return v;
}

export function handleEmbeddings(ctx: Context, req: IncomingMessage, res: ServerResponse, text: string): void {
  const body = parseBody(embeddingRequest, text, "EmbeddingRequest", ctx.config.limits.maxJsonValues);
  const model = ctx.resolveModel(body.model);
  const maxDim = ctx.config.mock.embeddingDim;
  // The model's hidden size is the most a matryoshka model can return (--mock-embedding-dim).
  if (body.dimensions != null && body.dimensions > maxDim) {
    throw new ApiError(
      400,
      `dimensions must be at most ${maxDim} for model "${model}" (--mock-embedding-dim), got ${body.dimensions}.`,
      "dimensions",
    );
  }
  const input = body.input;
  if (typeof input !== "string" && typeof input[0] !== "number") checkPromptCount(ctx.config.limits, input.length, "input");
  const limit = ctx.config.maxModelLen;
  const tooLong = (count: number) =>
    new ApiError(
      400,
      `This model's maximum context length is ${limit} tokens. However, you requested ${count} tokens in the input for embedding generation. Please reduce the length of the input.`,
      "input",
    );
  let texts: string[];
  if (typeof input === "string") texts = [input];
  else if (typeof input[0] === "string") texts = input as string[];
  else {
    const lists = typeof input[0] === "number" ? [input as number[]] : (input as number[][]);
    for (const ids of lists) {
      if (ids.length > limit) throw tooLong(ids.length);
      for (const id of ids) if (!isValidTokenId(id)) throw new ApiError(400, `Token id ${id} is out of vocabulary`, "input");
    }
    texts = lists.map(detokenize);
  }
  let promptTokens = 0;
  for (const t of texts) {
    const count = countTokens(t);
    if (count > limit) throw tooLong(count);
    promptTokens += count;
  }
  const plan = ctx.faults.plan(req.headers, 0);
  if (plan && plan.failStatus >= 0) return sendError(res, new ApiError(plan.failStatus, "Injected failure (mock-vllm fault injection)"));
  if (!ctx.scheduler.hasRoom()) return sendError(res, new ApiError(429, "The server is busy: the waiting queue is full."));

  const dim = body.dimensions ?? ctx.config.mock.embeddingDim;
  const base64 = body.encoding_format === "base64";
  let finished = false;
  const r: EngineRequest = {
    promptTokens,
    cachedTokens: 0,
    outputs: [],
    stream: false,
    maxTokensParam: 1,
    n: 1,
    kvTokens: promptTokens,
    stallAfterTokens: -1,
    stallMs: plan && plan.stallMs > 0 ? plan.stallMs : 0,
    onDone: (aborted) => {
      finished = true;
      if (aborted || (plan && plan.dropAfterTokens >= 0)) return void res.destroy();
      if (plan && plan.errorAfterTokens >= 0) return sendError(res, new ApiError(500, "Injected failure (mock-vllm fault injection)"));
      const data = texts.map((t, index) => {
        const v = embed(t, dim);
        const embedding = base64 ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v;
        return { index, object: "embedding", embedding };
      });
      sendJson(
        res,
        200,
        JSON.stringify({
          id: ctx.requestId("embd-"),
          object: "list",
          created: Math.floor(Date.now() / 1000),
          model,
          data,
          usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0, prompt_tokens_details: null },
        }),
      );
    },
  };
  ctx.engine.submit(r);
  if (!finished) res.on("close", () => finished || ctx.engine.abort(r));
}
