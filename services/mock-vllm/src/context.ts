import { randomBytes } from "node:crypto";
import { Config } from "./config";
import { Engine } from "./engine";
import { ApiError, unknownModel } from "./errors";
import { Faults } from "./faults";
import { Metrics } from "./metrics";
import { PrefixCache } from "./prefixCache";
import { Rng, createRng } from "./rng";
import { Scheduler } from "./scheduler";
import { TextMemo, tokenize } from "./tokenizer";

/** What the engine needs from a prompt text: its token count and its prefix-cache block hashes. */
export interface PromptInfo {
  readonly tokens: number;
  readonly blocks: readonly number[];
}
const NO_BLOCKS: readonly number[] = Object.freeze([]);

export type Phase = "loading" | "ready" | "draining";

/** Everything a route needs, one per server (tests run several in one process). */
export class Context {
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  readonly engine: Engine;
  readonly faults: Faults;
  readonly prefixCache: PrefixCache | null;
  readonly rng: Rng;
  readonly modelNames: ReadonlySet<string>;
  readonly startedAt = Math.floor(Date.now() / 1000);
  phase: Phase = "loading";
  /** Prompt analysis, memoised per prompt text (a pure function of the text and the block size). */
  readonly prompts: TextMemo<PromptInfo>;
  private readonly idPrefix = randomBytes(8).toString("hex");
  private idCounter = 0;

  constructor(readonly config: Config) {
    const sim = config.mock;
    this.rng = createRng(sim.seed);
    this.scheduler = new Scheduler(config.maxNumSeqs, sim.maxWaiting, sim.kvCacheTokens);
    const s = this.scheduler;
    this.metrics = new Metrics(config, {
      running: () => s.running,
      waiting: () => s.waiting,
      kvCacheUsage: () => s.kvCacheUsage,
    });
    this.engine = new Engine(sim, s, this.metrics, createRng(sim.seed + 1));
    this.faults = new Faults(sim, createRng(sim.seed + 2));
    this.prefixCache = config.enablePrefixCaching
      ? new PrefixCache(config.blockSize, Math.max(1, Math.floor(sim.kvCacheTokens / config.blockSize)))
      : null;
    this.modelNames = new Set(config.servedModelNames);
    const cache = this.prefixCache;
    this.prompts = new TextMemo((text) => {
      const ids = tokenize(text);
      return Object.freeze({ tokens: ids.length, blocks: cache ? Object.freeze(cache.blockHashes(ids)) : NO_BLOCKS });
    });
  }

  /** 32 hex digits like vLLM's uuid4().hex, without a syscall per request. */
  requestId(prefix: string): string {
    return prefix + this.idPrefix + (++this.idCounter).toString(16).padStart(16, "0");
  }

  /** vLLM resolves a missing model to the first served name and rejects unknown ones with 404. */
  resolveModel(model: string | null | undefined): string {
    if (model == null || model === "") return this.config.servedModelNames[0];
    if (!this.modelNames.has(model)) throw unknownModel(model);
    return model;
  }

  /**
   * vLLM's two context-length errors, worded as its input validation words them now (as users
   * report them from current releases): the prompt alone is too long (param `input_tokens`), or
   * `max_tokens` does not fit beside it (param `max_tokens`); both 400, with vLLM's
   * `(parameter=..., value=...)` suffix.
   */
  contextLengthError(promptTokens: number, maxTokens: number | null | undefined, what = "messages"): ApiError | null {
    const limit = this.config.maxModelLen;
    if (maxTokens != null && maxTokens < 1) return new ApiError(400, `max_tokens must be at least 1, got ${maxTokens}.`, "max_tokens");
    if (promptTokens >= limit && (maxTokens == null || promptTokens > limit)) {
      return new ApiError(
        400,
        `This model's maximum context length is ${limit} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input ${what}. (parameter=input_tokens, value=${promptTokens})`,
        "input_tokens",
      );
    }
    if (maxTokens != null && promptTokens + maxTokens > limit) {
      return new ApiError(
        400,
        `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ${limit} tokens and your request has ${promptTokens} input tokens (${maxTokens} > ${limit} - ${promptTokens}). (parameter=max_tokens, value=${maxTokens})`,
        "max_tokens",
      );
    }
    return null;
  }
}
