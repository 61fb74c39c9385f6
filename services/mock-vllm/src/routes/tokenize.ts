import type { ServerResponse } from "node:http";
import { renderChat } from "../chatTemplate";
import { Context } from "../context";
import { ApiError } from "../errors";
import { sendJson } from "../http";
import { checkResponseTokens } from "../limits";
import { ChatMessage, detokenizeRequest, parseBody, tokenizeRequest } from "../schemas";

type ChatTokenize = { messages: ChatMessage[]; add_generation_prompt?: boolean | null };
import { countTokens, detokenize, isValidTokenId, tokenize } from "../tokenizer";

export function handleTokenize(ctx: Context, res: ServerResponse, text: string): void {
  const body = parseBody(tokenizeRequest, text, "TokenizeRequest", ctx.config.limits.maxJsonValues);
  ctx.resolveModel(body.model);
  // Chat input is rendered exactly as /v1/chat/completions renders it, so counts agree.
  const prompt =
    "prompt" in body && typeof body.prompt === "string"
      ? body.prompt
      : renderChat((body as ChatTokenize).messages, (body as ChatTokenize).add_generation_prompt ?? true);
  // vLLM does not hold /tokenize to the context length; the list it answers is still bounded.
  const limits = ctx.config.limits;
  if (prompt.length > limits.maxResponseTokens) checkResponseTokens(limits, countTokens(prompt), "the prompt's token ids", "the prompt");
  const tokens = tokenize(prompt);
  sendJson(res, 200, JSON.stringify({ count: tokens.length, max_model_len: ctx.config.maxModelLen, tokens, token_strs: null }));
}

export function handleDetokenize(ctx: Context, res: ServerResponse, text: string): void {
  const body = parseBody(detokenizeRequest, text, "DetokenizeRequest", ctx.config.limits.maxJsonValues);
  ctx.resolveModel(body.model);
  for (const id of body.tokens) if (!isValidTokenId(id)) throw new ApiError(400, `Token id ${id} is out of vocabulary`, "tokens");
  sendJson(res, 200, JSON.stringify({ prompt: detokenize(body.tokens) }));
}
