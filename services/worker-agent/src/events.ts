import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";

export type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface AgentEvent {
  ts: string;
  level: Level;
  event: string;
  [field: string]: unknown;
}

export interface EventLogOptions {
  capacity: number;
  level: Level;
  stdout: boolean;
  file?: string | null;
}

// Defence in depth: callers never pass secrets, but a field named like one is scrubbed anyway.
const SECRET_KEY = /token|authorization|secret|password|api_?key/i;

/** How long a repeating condition stays quiet before it is logged again with a count. */
const REPEAT_WINDOW_MS = 60_000;

/**
 * JSON-lines logger that also keeps the most recent events in memory for `/logs`, so a
 * container without a writable log directory still has its history one HTTP call away.
 */
export class EventLog {
  private readonly ring: (AgentEvent | undefined)[];
  private next = 0;
  private size = 0;
  private file: WriteStream | null = null;
  private readonly repeats = new Map<string, { sig: string; at: number; suppressed: number }>();

  constructor(private readonly opts: EventLogOptions) {
    this.ring = new Array(opts.capacity);
    if (opts.file) this.openFile(opts.file);
  }

  get filePath(): string | null {
    return this.file ? (this.opts.file ?? null) : null;
  }

  debug(event: string, fields?: Record<string, unknown>): void {
    this.log("debug", event, fields);
  }
  info(event: string, fields?: Record<string, unknown>): void {
    this.log("info", event, fields);
  }
  warn(event: string, fields?: Record<string, unknown>): void {
    this.log("warn", event, fields);
  }
  error(event: string, fields?: Record<string, unknown>): void {
    this.log("error", event, fields);
  }

  log(level: Level, event: string, fields: Record<string, unknown> = {}): void {
    if (RANK[level] < RANK[this.opts.level]) return;
    const entry: AgentEvent = { ts: new Date().toISOString(), level, event };
    for (const [k, v] of Object.entries(fields)) {
      entry[k] = SECRET_KEY.test(k) && typeof v === "string" ? "[redacted]" : v;
    }
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.ring.length;
    this.size = Math.min(this.size + 1, this.ring.length);
    const line = JSON.stringify(entry) + "\n";
    if (this.opts.stdout) process.stdout.write(line);
    this.file?.write(line);
  }

  /**
   * Logs a condition that may repeat every cycle: a change under `key` (another event, or the same
   * event with another `outcome` or `reason`) is logged at once, an unchanged one at most once a
   * minute with the number of repeats it stood for.
   */
  state(key: string, level: Level, event: string, fields: Record<string, unknown> = {}, now = Date.now()): void {
    const sig = JSON.stringify([event, fields.outcome, fields.reason]);
    const last = this.repeats.get(key);
    if (last && last.sig === sig && now - last.at < REPEAT_WINDOW_MS) {
      last.suppressed++;
      return;
    }
    const extra = last && last.sig === sig && last.suppressed > 0 ? { repeated: last.suppressed } : {};
    this.repeats.set(key, { sig, at: now, suppressed: 0 });
    this.log(level, event, { ...fields, ...extra });
  }

  /** The newest `n` events, oldest first. */
  tail(n: number): AgentEvent[] {
    const count = Math.max(0, Math.min(n, this.size));
    const out: AgentEvent[] = [];
    for (let i = count; i > 0; i--) {
      const e = this.ring[(this.next - i + this.ring.length) % this.ring.length];
      if (e) out.push(e);
    }
    return out;
  }

  get capacity(): number {
    return this.ring.length;
  }

  async close(): Promise<void> {
    const f = this.file;
    this.file = null;
    if (f) await new Promise<void>((resolve) => f.end(resolve));
  }

  private openFile(path: string): void {
    try {
      mkdirSync(dirname(path), { recursive: true });
      const stream = createWriteStream(path, { flags: "a", mode: 0o640 });
      // A log file is a convenience; losing it must never take the agent down.
      stream.on("error", (err) => {
        if (this.file === stream) this.file = null;
        this.warn("log_file.failed", { path, error: err.message });
      });
      this.file = stream;
    } catch (err) {
      this.warn("log_file.failed", { path, error: (err as Error).message });
    }
  }
}
