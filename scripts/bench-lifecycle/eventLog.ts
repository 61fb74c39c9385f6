// Where the time of one program up or destroy goes, resource by resource, from the engine's event
// log (`--event-log FILE`, a hidden flag that needs PULUMI_DEBUG_COMMANDS=true). The log is read
// while the CLI writes it and every event is stamped with its arrival, because the events' own
// timestamps have whole-second resolution; when the CLI turns out to have written them in a burst,
// the timestamps are used after all. The CLI recreates the file for each engine run (a destroy
// previews first), so the rows come from the last run only.
import * as fs from "node:fs";
import { PROJECT, secondsSince } from "./common";

interface StepMeta {
  op: string;
  urn: string;
  type: string;
}

interface EngineEvent {
  sequence: number;
  timestamp: number;
  resourcePreEvent?: { metadata: StepMeta };
  resOutputsEvent?: { metadata: StepMeta };
  resOpFailedEvent?: { metadata: StepMeta };
}

export interface ArrivedEvent {
  /** Seconds from the command's start to when the event was read. */
  at: number;
  /** The engine run the event belongs to, counted from 0. */
  phase: number;
  event: EngineEvent;
}

export interface TimingRow {
  resource: string;
  op: string;
  component: boolean;
  start: number;
  end?: number;
  seconds?: number;
  failed?: boolean;
}

export interface Breakdown {
  command: string;
  totalSeconds: number;
  /** "arrival" (read as written, ±20 ms) or "timestamp" (the events' own, whole seconds). */
  clock: "arrival" | "timestamp";
  /** Each engine run's first and last event (a destroy previews first); the rows are the last one's. */
  phases: { first: number; last: number; events: number }[];
  programEvaluatedSeconds?: number;
  rows: TimingRow[];
}

/** Reads an event log while the CLI writes it (for `RunOptions.during`), stamping each event with its arrival time. */
export function tailEvents(file: string, into: ArrivedEvent[]): (t0: bigint) => () => void {
  return (t0) => {
    let offset = 0;
    let partial = "";
    let phase = 0;
    let lastSequence = -1;
    const drain = () => {
      let fd: number;
      try {
        fd = fs.openSync(file, "r");
      } catch {
        return;
      }
      try {
        if (fs.fstatSync(fd).size < offset) {
          // Truncated: the next engine run has started writing the same file.
          offset = 0;
          partial = "";
          phase++;
          lastSequence = -1;
        }
        const buf = Buffer.alloc(1 << 16);
        for (;;) {
          const n = fs.readSync(fd, buf, 0, buf.length, offset);
          if (n <= 0) break;
          offset += n;
          partial += buf.subarray(0, n).toString("utf8");
        }
      } finally {
        fs.closeSync(fd);
      }
      const at = secondsSince(t0);
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (!line.trim()) continue;
        try {
          const event = JSON.parse(line) as EngineEvent;
          // A sequence number going back also means a new engine run.
          if (event.sequence <= lastSequence) phase++;
          lastSequence = event.sequence;
          into.push({ at, phase, event });
        } catch {
          /* not an event (or half of one read across a truncation) */
        }
      }
    };
    const timer = setInterval(drain, 20);
    return () => {
      clearInterval(timer);
      drain();
    };
  };
}

function resourceName(urn: string, type: string): string {
  return `${type} ${urn.split("::").pop() ?? urn}`;
}

/** One row per resource step of the last engine run, from its pre event to its outputs (or failure). */
export function breakdown(command: "up" | "destroy", totalSeconds: number, all: ArrivedEvent[]): Breakdown {
  const lastPhase = Math.max(0, ...all.map((e) => e.phase));
  const events = all.filter((e) => e.phase === lastPhase);
  const steps = events.filter((e) => e.event.resourcePreEvent || e.event.resOutputsEvent || e.event.resOpFailedEvent);
  const spreadArrival = steps.length ? steps[steps.length - 1].at - steps[0].at : 0;
  const spreadStamp = steps.length ? steps[steps.length - 1].event.timestamp - steps[0].event.timestamp : 0;
  // Arrival times are only meaningful when the CLI wrote the events as they happened.
  const clock: Breakdown["clock"] = spreadStamp >= 2 && spreadArrival < spreadStamp * 0.5 ? "timestamp" : "arrival";
  const base = events.length ? events[0].event.timestamp - events[0].at : 0;
  const when = (e: ArrivedEvent) => (clock === "arrival" ? e.at : e.event.timestamp - base);
  const rows: TimingRow[] = [];
  const open = new Map<string, TimingRow>();
  for (const e of steps) {
    const pre = e.event.resourcePreEvent?.metadata;
    const done = e.event.resOutputsEvent?.metadata ?? e.event.resOpFailedEvent?.metadata;
    if (pre) {
      const row: TimingRow = {
        resource: resourceName(pre.urn, pre.type),
        op: pre.op,
        component: pre.type.startsWith(`${PROJECT}:`) || pre.type === "pulumi:pulumi:Stack",
        start: when(e),
      };
      rows.push(row);
      open.set(`${pre.op} ${pre.urn}`, row);
    } else if (done) {
      // Else the row of the same resource still open, matched by name.
      const row =
        open.get(`${done.op} ${done.urn}`) ??
        [...open.values()].find((r) => r.resource === resourceName(done.urn, done.type) && r.end === undefined);
      if (row && row.end === undefined) {
        row.end = when(e);
        row.seconds = row.end - row.start;
        row.failed = Boolean(e.event.resOpFailedEvent);
      }
    }
  }
  rows.sort((a, b) => a.start - b.start || (a.end ?? Infinity) - (b.end ?? Infinity));
  const firstChild = rows.find((r) => !r.resource.startsWith("pulumi:pulumi:Stack") && !r.resource.startsWith("pulumi:providers:pulumi"));
  const phases = [...new Set(all.map((e) => e.phase))]
    .sort((a, b) => a - b)
    .map((p) => {
      const of = all.filter((e) => e.phase === p);
      return { first: of[0].at, last: of[of.length - 1].at, events: of.length };
    });
  return { command, totalSeconds, clock, phases, programEvaluatedSeconds: command === "up" ? firstChild?.start : undefined, rows };
}
