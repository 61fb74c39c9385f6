export interface TickerHooks {
  /** A run outlasted one or more ticks; those ticks are dropped, never queued. */
  onOverrun?: (skipped: number) => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * Runs `task` at t0, t0 + I, t0 + 2I, ... Each deadline is computed from t0, not from the end of
 * the previous run, so timer lateness and run time do not accumulate into drift. Runs never
 * overlap: a run that outlasts its slot makes the loop skip to the next future tick.
 */
export class Ticker {
  private t0 = 0;
  private tick = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private controller: AbortController | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly intervalMs: number,
    private readonly task: (signal: AbortSignal) => Promise<void>,
    private readonly hooks: TickerHooks = {},
  ) {
    this.now = hooks.now ?? (() => performance.now());
  }

  start(): void {
    this.t0 = this.now();
    this.tick = 0;
    void this.fire();
  }

  private async fire(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    // A fresh controller per run keeps abort listeners from piling up on a long-lived signal.
    this.controller = new AbortController();
    this.running = this.task(this.controller.signal).catch((err) => this.hooks.onError?.(err));
    await this.running;
    this.running = null;
    this.controller = null;
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const now = this.now();
    let next = this.tick + 1;
    const due = Math.floor((now - this.t0) / this.intervalMs) + 1;
    if (due > next) {
      this.hooks.onOverrun?.(due - next);
      next = due;
    }
    this.tick = next;
    const delay = Math.max(0, this.t0 + next * this.intervalMs - now);
    this.timer = setTimeout(() => void this.fire(), delay);
  }

  /** Stops scheduling, aborts the run in flight and waits for it to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.controller?.abort();
    await this.running;
  }
}
