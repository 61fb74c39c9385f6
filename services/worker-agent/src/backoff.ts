export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor?: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/**
 * Exponential delays with "equal jitter": each delay lies in [d/2, d] where d doubles per
 * failure up to the cap, so a fleet of agents restarted together does not retry in lockstep.
 */
export class Backoff {
  private failures = 0;

  constructor(private readonly opts: BackoffOptions) {}

  get attempts(): number {
    return this.failures;
  }

  /** Records a failure and returns how long to wait before the next try. */
  next(): number {
    const factor = this.opts.factor ?? 2;
    const ceiling = Math.min(this.opts.maxMs, this.opts.baseMs * factor ** Math.min(this.failures, 50));
    this.failures++;
    const r = (this.opts.random ?? Math.random)();
    return ceiling / 2 + (ceiling / 2) * r;
  }

  reset(): void {
    this.failures = 0;
  }
}
