import { ApiError } from "./errors";

/**
 * Bounds on what one request may ask for, checked before any work is done, so that no single
 * request can exhaust memory or hold the event loop (one `"n": 100000000` used to take
 * the process to 5 GB and kill it). Where vLLM has the bound, the mock takes it from the same
 * setting (its environment variables, `--max-logprobs`, `--max-model-len`) with vLLM's message;
 * the rest are `--mock-*` flags.
 */
export interface Limits {
  /** `n` and `best_of` (vLLM: VLLM_MAX_N_SEQUENCES, default 16384). */
  maxN: number;
  /** Prompts in one completions request, inputs in one embeddings request (vLLM: VLLM_MAX_COMPLETION_PROMPTS, 1024). */
  maxPrompts: number;
  /** `stop` strings (vLLM: VLLM_MAX_STOP_STRINGS, 4). */
  maxStopStrings: number;
  /** `logprobs`, `top_logprobs`, `prompt_logprobs` (vLLM: --max-logprobs, 20; -1: the vocabulary). */
  maxLogprobs: number;
  /** Tokens one response may carry: generated (all choices), echoed, or listed by /tokenize (--mock-max-response-tokens). */
  maxResponseTokens: number;
  /** JSON values (numbers, strings, arrays, objects...) in one request body (--mock-max-json-values). */
  maxJsonValues: number;
}

export const DEFAULT_LIMITS = { maxN: 16384, maxPrompts: 1024, maxStopStrings: 4, maxLogprobs: 20 };

/** Defaults that follow --max-model-len: one prompt or one completion of the full context always fits. */
export const defaultResponseTokens = (maxModelLen: number) => Math.max(65536, maxModelLen);
export const defaultJsonValues = (maxModelLen: number) => Math.max(262144, 2 * maxModelLen);

const bad = (message: string, param: string) => new ApiError(400, message, param);

/** vLLM's `_verify_num_sequences`. */
export function checkN(l: Limits, value: number | null | undefined, param: "n" | "best_of"): void {
  if (value != null && value > l.maxN) {
    throw bad(
      `${param} must be at most ${l.maxN}, got ${value}. To increase this limit, set the VLLM_MAX_N_SEQUENCES environment variable.`,
      param,
    );
  }
}

export function checkBestOf(l: Limits, bestOf: number | null | undefined, n: number): void {
  checkN(l, bestOf, "best_of");
  if (bestOf != null && bestOf < n) throw bad(`best_of must be greater than or equal to n, got n=${n} and best_of=${bestOf}.`, "best_of");
}

/** vLLM's `_validate_logprobs` (-1 means the whole vocabulary). */
export function checkLogprobs(
  l: Limits,
  value: number | null | undefined,
  kind: "sample" | "prompt",
  param: string,
  vocabSize: number,
): void {
  if (value == null || value === 0) return;
  if (value < -1) throw bad(`${param} must be non-negative or -1, got ${value}.`, param);
  const requested = value === -1 ? vocabSize : value;
  const max = l.maxLogprobs === -1 ? vocabSize : l.maxLogprobs;
  if (requested > max) throw bad(`Requested ${kind} logprobs of ${requested}, which is greater than max allowed: ${max}`, param);
}

/** vLLM's `validate_prompt_list_length`. */
export function checkPromptCount(l: Limits, count: number, param: "prompt" | "input"): void {
  if (count > l.maxPrompts) {
    throw bad(
      `${param} list length ${count} exceeds the maximum allowed count of ${l.maxPrompts}. To increase this limit, set the VLLM_MAX_COMPLETION_PROMPTS environment variable.`,
      param,
    );
  }
}

export function checkStop(l: Limits, stop: string | string[] | null | undefined): void {
  if (Array.isArray(stop) && stop.length > l.maxStopStrings) {
    throw bad(
      `stop: List should have at most ${l.maxStopStrings} items after validation, not ${stop.length}. To increase this limit, set the VLLM_MAX_STOP_STRINGS environment variable.`,
      "stop",
    );
  }
}

/** `tokens` is what the response would carry; `what` says how it adds up, for the message. */
export function checkResponseTokens(l: Limits, tokens: number, what: string, param: string): void {
  if (tokens > l.maxResponseTokens) {
    throw bad(
      `This request would return up to ${tokens} tokens (${what}), more than the ${l.maxResponseTokens} one response may carry (--mock-max-response-tokens). Please reduce ${param}.`,
      param,
    );
  }
}

/**
 * Counts the JSON values of a large body without parsing it. JSON.parse of 16 MB of `[],[],…`
 * takes ~3 s and 500 MB here (each value is an allocation), while the same bytes as one string
 * take 0.1 s; the count bounds the former. Only commas, colons and brackets outside strings are
 * counted, an upper bound of the values.
 */
export function jsonValuesOver(text: string, limit: number): boolean {
  if (text.length <= limit) return false; // every value takes at least one character
  let count = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 44 || c === 91 || c === 123) {
      if (++count > limit) return true;
    }
  }
  return false;
}

export function jsonTooComplex(limit: number): ApiError {
  return new ApiError(413, `Request body too complex: more than ${limit} JSON values (--mock-max-json-values).`);
}
