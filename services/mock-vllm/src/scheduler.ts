/**
 * vLLM's admission model: at most `maxNumSeqs` requests run at once, the rest wait in FIFO order.
 * vLLM's own waiting queue is unbounded; `maxWaiting` > 0 adds the bound some balancers expect
 * from simulators (the caller answers 429 when `submit` refuses).
 */
export interface Job {
  /** Tokens the request holds in the simulated KV cache while it runs. */
  readonly kvTokens: number;
  /** Called once when the job gets a slot (synchronously from `submit` when one is free). */
  admit(): void;
  /** Internal: 0 new, 1 waiting, 2 running, 3 done. */
  state?: number;
}

export class Scheduler {
  private runningCount = 0;
  private waitingCount = 0;
  private kvTokens = 0;
  private queue: (Job | undefined)[] = [];
  private head = 0;

  constructor(
    private readonly maxNumSeqs: number,
    private readonly maxWaiting: number,
    private readonly kvCapacity: number,
  ) {}

  get running(): number {
    return this.runningCount;
  }
  get waiting(): number {
    return this.waitingCount;
  }
  get kvCacheUsage(): number {
    return Math.min(1, this.kvTokens / this.kvCapacity);
  }
  get capacity(): number {
    return this.maxNumSeqs;
  }

  /** Whether `submit` would accept a job now. */
  hasRoom(): boolean {
    return this.maxWaiting === 0 || this.waitingCount < this.maxWaiting || (this.runningCount < this.maxNumSeqs && this.waitingCount === 0);
  }

  /** False when the waiting queue is full. */
  submit(job: Job): boolean {
    if (this.runningCount < this.maxNumSeqs && this.waitingCount === 0) {
      this.start(job);
      return true;
    }
    if (this.maxWaiting > 0 && this.waitingCount >= this.maxWaiting) return false;
    job.state = 1;
    this.queue.push(job);
    this.waitingCount++;
    return true;
  }

  /** Frees the job's slot (or queue place) and admits the next waiting job. */
  finish(job: Omit<Job, "admit">): void {
    if (job.state === 2) {
      this.runningCount--;
      this.kvTokens -= job.kvTokens;
    } else if (job.state === 1) {
      // Left in the array and skipped on dequeue: removal from the middle would be O(n).
      this.waitingCount--;
    }
    job.state = 3;
    this.drain();
  }

  private drain(): void {
    while (this.runningCount < this.maxNumSeqs && this.waitingCount > 0) {
      const job = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (!job || job.state !== 1) continue;
      this.waitingCount--;
      this.start(job);
    }
    if (this.waitingCount === 0 && this.head > 0) {
      this.queue = [];
      this.head = 0;
    }
  }

  private start(job: Job): void {
    job.state = 2;
    this.runningCount++;
    this.kvTokens += job.kvTokens;
    job.admit();
  }
}
