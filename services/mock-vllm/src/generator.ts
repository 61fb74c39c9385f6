import { ResponseMode } from "./config";
import { Rng } from "./rng";
import { pieces, piecesShared } from "./tokenizer";

export type FinishReason = "stop" | "length";

export interface Generation {
  text: string;
  /** Token texts; joined they equal `text`, and their count is completion_tokens. May be shared. */
  tokens: readonly string[];
  finishReason: FinishReason;
  /** The stop string that ended generation, reported as vLLM's `stop_reason`. */
  stopReason: string | null;
}

export interface GenerateOptions {
  mode: ResponseMode;
  /** Echo mode: the text to repeat. */
  echoText: string;
  /** Budget: max_tokens, already capped by max_model_len minus the prompt. */
  maxTokens: number;
  /** Generate mode: tokens before a natural end of sequence. */
  naturalLength: number;
  ignoreEos: boolean;
  stop: readonly string[];
  includeStopStr: boolean;
  rng: Rng;
}

const WORDS = (
  "the of and to in is that for it as with was on be by this are at from or an which have not " +
  "model token server request latency cache batch queue stream prompt response inference engine " +
  "vector layer weight gradient sample context window decode prefill memory throughput kernel " +
  "scheduler worker cluster replica signal metric simple quiet bright river stone garden window"
).split(" ");

function randomText(rng: Rng, minTokens: number): string {
  let text = "";
  let words = 0;
  let sentenceStart = true;
  // Token count grows with text; overshoot then trim at a token boundary.
  while (text.length < minTokens * 3 + 8) {
    let w = WORDS[Math.floor(rng() * WORDS.length)];
    if (sentenceStart) w = w[0].toUpperCase() + w.slice(1);
    text += (words === 0 ? "" : " ") + w;
    words++;
    sentenceStart = rng() < 0.12;
    if (sentenceStart) text += ".";
  }
  return text;
}

export function generate(o: GenerateOptions): Generation {
  let text: string;
  let natural: number;
  if (o.mode === "echo") {
    text = o.echoText;
    natural = Number.POSITIVE_INFINITY;
  } else {
    natural = o.ignoreEos ? Number.POSITIVE_INFINITY : o.naturalLength;
    text = randomText(o.rng, Math.min(o.maxTokens, natural));
  }

  // Echo texts recur (the same prompt sent again and again), generated texts do not.
  let tokens = o.mode === "echo" ? piecesShared(text) : pieces(text);
  let finishReason: FinishReason = "stop";
  const limit = Math.min(o.maxTokens, natural);
  if (tokens.length > limit) {
    tokens = tokens.slice(0, limit);
    text = tokens.join("");
    // Running out of budget before the natural end is "length", as in vLLM.
    if (natural > o.maxTokens) finishReason = "length";
  }

  // vLLM matches stop strings against the detokenized output and cuts before the match.
  let cut = -1;
  let stopReason: string | null = null;
  for (const s of o.stop) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0 && (cut < 0 || at < cut)) {
      cut = at;
      stopReason = s;
    }
  }
  if (stopReason !== null) {
    text = text.slice(0, o.includeStopStr ? cut + stopReason.length : cut);
    tokens = pieces(text);
    finishReason = "stop";
  }
  return { text, tokens, finishReason, stopReason };
}
