import { SimulationConfig } from "./config";
import { Generation } from "./generator";
import { FinishedReason, Metrics } from "./metrics";
import { Rng } from "./rng";
import { Job, Scheduler } from "./scheduler";
import { Ticker } from "./ticker";

/** One request as the simulated engine sees it. */
export interface EngineRequest extends Omit<Job, "admit"> {
  /** Set by `Engine.submit`: the scheduler calls it when the request gets its slot. */
  admit?: () => void;
  readonly promptTokens: number;
  /** Prompt tokens the prefix cache already held (0 for embeddings). */
  readonly cachedTokens: number;
  /** One per choice; empty for embeddings. */
  readonly outputs: readonly Generation[];
  readonly stream: boolean;
  readonly maxTokensParam: number;
  readonly n: number;
  /** Extra hold after this many tokens (fault injection); -1 for none. */
  readonly stallAfterTokens: number;
  readonly stallMs: number;
  /** Streaming: tokens of step `step` (0-based) are due now. */
  onStep?(step: number): void;
  /** Streaming: the steps due so far were handed to onStep; a good moment to write them out. */
  onFlush?(): void;
  /** Streaming: characters handed to onStep and not yet flushed. */
  backlog?(): number;
  /** Streaming: true while the client has not read what was written (the socket buffer is full). */
  congested?(): boolean;
  /** Streaming: calls `fn` once the client has read (or on the next turn of the event loop). */
  whenWritable?(fn: () => void): void;
  /** Finished (normally, or aborted by `Engine.abort`). */
  onDone(aborted: boolean): void;
  // Engine bookkeeping.
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
}

const now = () => performance.now();
// Zero-latency streams are written in slices of about this many characters, with a turn of the
// event loop in between: a long stream then neither holds the process nor sits in memory whole.
const SLICE_CHARS = 64 * 1024;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Timing and accounting: a request waits for a slot, then produces its first token after the
 * time-to-first-token and one token per inter-token gap. Token times are absolute (arrival +
 * offsets), so timer lateness never accumulates over a long stream.
 */
export class Engine {
  private readonly ticker = new Ticker();

  constructor(
    private readonly sim: SimulationConfig,
    readonly scheduler: Scheduler,
    private readonly metrics: Metrics,
    private readonly rng: Rng,
  ) {}

  /** False when the waiting queue is full. */
  submit(r: EngineRequest): boolean {
    r.arrivalAt = now();
    r.step = 0;
    r.admit = () => this.run(r);
    return this.scheduler.submit(r as Job);
  }

  abort(r: EngineRequest): void {
    if (r.state === 3) return;
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    const t = now();
    if (r.admittedAt !== undefined) this.account(r, t, true);
    else this.metrics.success.abort.inc();
    this.scheduler.finish(r);
    r.onDone(true);
  }

  private jittered(base: number, jitter: number): number {
    if (jitter === 0) return base;
    return Math.max(0, base + (this.rng() * 2 - 1) * jitter);
  }

  private run(r: EngineRequest): void {
    const sim = this.sim;
    const t = now();
    r.admittedAt = t;
    let steps = 0;
    for (const o of r.outputs) if (o.tokens.length > steps) steps = o.tokens.length;
    r.steps = steps;
    // Slower under load: linear from 1x with one request running to loadFactor x at full batch.
    const cap = this.scheduler.capacity;
    const scale = sim.loadFactor === 1 || cap <= 1 ? 1 : 1 + ((sim.loadFactor - 1) * (this.scheduler.running - 1)) / (cap - 1);
    const ttft = this.jittered((sim.ttftMs + sim.prefillMsPerToken * r.promptTokens) * scale, sim.ttftJitterMs);
    const itl = sim.itlMs * scale;

    if (!r.stream) {
      // One timer for the whole request; the per-token gaps it stands for still feed the metrics.
      let total = ttft;
      if (steps > 1) {
        if (sim.itlJitterMs === 0) {
          total += itl * (steps - 1);
          this.metrics.itl.observeMany(itl / 1000, steps - 1);
        } else {
          for (let i = 1; i < steps; i++) {
            const gap = this.jittered(itl, sim.itlJitterMs);
            total += gap;
            this.metrics.itl.observe(gap / 1000);
          }
        }
      }
      if (r.stallMs > 0) total += r.stallMs;
      r.firstTokenAt = t + ttft;
      if (total <= 0) this.complete(r, t);
      else r.timer = setTimeout(() => this.complete(r, now()), Math.min(total, MAX_TIMEOUT_MS));
      return;
    }

    r.nextAt = t + ttft;
    r.itlMs = itl;
    r.tickFn = () => this.tick(r);
    if (r.nextAt <= t) this.tick(r);
    else this.ticker.schedule(r.nextAt, r.tickFn);
  }

  private tick(r: EngineRequest): void {
    if (r.state === 3) return; // aborted while its next token was pending
    const itl = r.itlMs ?? 0;
    // Zero-latency streams emit everything in one go; anything else yields to the event loop.
    for (;;) {
      const t = now();
      const step = r.step!;
      if (step === 0) {
        r.firstTokenAt = t;
        if (r.steps === 0) {
          this.complete(r, t);
          return;
        }
      } else {
        this.metrics.itl.observe((t - r.lastTokenAt!) / 1000);
      }
      r.lastTokenAt = t;
      r.step = step + 1;
      r.onStep?.(step);
      if (r.state === 3) return; // the step handler aborted the request
      if (r.step >= r.steps!) {
        this.complete(r, t);
        return;
      }
      let gap = this.jittered(itl, this.sim.itlJitterMs);
      if (r.stallAfterTokens === r.step && r.stallMs > 0) gap += r.stallMs;
      r.nextAt! += gap;
      const wait = r.nextAt! - now();
      if (gap > 0 || wait > 0) {
        r.onFlush?.();
        // A client that does not read holds its stream (tokens then due go out together, later).
        if (r.congested?.()) r.whenWritable!(() => this.ticker.schedule(r.nextAt!, r.tickFn!));
        else this.ticker.schedule(r.nextAt!, r.tickFn!);
        return;
      }
      if (r.backlog && r.backlog() >= SLICE_CHARS) {
        r.onFlush!();
        r.whenWritable!(r.tickFn!);
        return;
      }
    }
  }

  private complete(r: EngineRequest, t: number): void {
    if (r.state === 3) return;
    r.timer = undefined;
    r.step = r.steps;
    this.account(r, t, false);
    this.scheduler.finish(r);
    r.onDone(false);
  }

  private account(r: EngineRequest, t: number, aborted: boolean): void {
    const m = this.metrics;
    const arrival = r.arrivalAt!;
    const admitted = r.admittedAt!;
    const emitted = r.step ?? 0;
    let generated = 0;
    for (const o of r.outputs) generated += Math.min(emitted, o.tokens.length);
    m.generationTokens.inc(generated);
    const reached = r.firstTokenAt !== undefined && r.firstTokenAt <= t;
    if (reached) {
      const prompt = r.promptTokens;
      // A prompt held whole in the cache still recomputes its last token, as in vLLM.
      const recomputed = prompt > 0 && r.cachedTokens >= prompt ? 1 : 0;
      const cached = Math.min(r.cachedTokens, prompt) - recomputed;
      m.promptTokens.inc(prompt);
      m.promptBySource.local_compute.inc(prompt - cached);
      m.promptBySource.local_cache_hit.inc(cached);
      m.promptCached.inc(cached);
      m.promptRecomputed.inc(recomputed);
      m.prefillKvComputed.observe(prompt - cached);
      // One prefill step per request, then one decode step per token (all choices together).
      m.iterationTokens.observe(Math.max(1, prompt - cached));
      const decodeSteps = Math.max(0, emitted - 1);
      if (decodeSteps > 0) m.iterationTokens.observeMany(r.outputs.length, decodeSteps);
      m.ttft.observe((r.firstTokenAt! - arrival) / 1000);
      m.prefillTime.observe((r.firstTokenAt! - admitted) / 1000);
      m.decodeTime.observe((t - r.firstTokenAt!) / 1000);
      if (emitted > 1) m.timePerOutputToken.observe((t - r.firstTokenAt!) / 1000 / (emitted - 1));
    }
    m.queueTime.observe((admitted - arrival) / 1000);
    m.inferenceTime.observe((t - admitted) / 1000);
    m.e2e.observe((t - arrival) / 1000);
    m.promptLen.observe(r.promptTokens);
    m.generationLen.observe(generated);
    let most = 0;
    for (const o of r.outputs) most = Math.max(most, Math.min(emitted, o.tokens.length));
    m.maxGenerationTokens.observe(most);
    m.maxTokensParam.observe(r.maxTokensParam);
    m.nParam.observe(r.n);
    if (aborted || r.outputs.length === 0) {
      (aborted ? m.success.abort : m.success.stop).inc();
      return;
    }
    for (const o of r.outputs) m.success[o.finishReason as FinishedReason].inc();
  }
}
