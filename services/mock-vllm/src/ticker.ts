/**
 * One timer for all streams. With a thousand streams at a 10 ms inter-token latency, a hundred
 * tokens fall due in every millisecond; grouping them by due millisecond replaces a hundred
 * Timeout objects (allocation, list insertion, callback) with one array push each.
 */
const now = () => performance.now();

export class Ticker {
  private readonly buckets = new Map<number, (() => void)[]>();
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Number.POSITIVE_INFINITY;

  /** Runs `fn` at or just after `at` (a performance.now() time). */
  schedule(at: number, fn: () => void): void {
    const key = Math.ceil(at);
    const bucket = this.buckets.get(key);
    if (bucket) bucket.push(fn);
    else this.buckets.set(key, [fn]);
    if (key < this.armedFor) this.arm(key);
  }

  private arm(key: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = key;
    this.timer = setTimeout(this.fire, Math.max(0, key - now()));
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
    const t = now();
    // Few distinct keys exist at a time (about one per millisecond of the longest gap).
    for (const [key, fns] of this.buckets) {
      if (key > t + 0.5) continue;
      this.buckets.delete(key);
      for (let i = 0; i < fns.length; i++) fns[i]();
    }
    let next = Number.POSITIVE_INFINITY;
    for (const key of this.buckets.keys()) if (key < next) next = key;
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  };
}
