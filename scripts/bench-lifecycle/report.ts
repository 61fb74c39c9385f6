// What the benchmark prints and writes: per measure and side the median (min–max) of the rounds,
// the program/Compose ratio of the medians and its spread over the rounds, a note on what was
// timed and on the steps up.sh adds, the event-log breakdowns as tables, and the same results as
// JSON for --json. Plain formatting of numbers collected elsewhere; nothing here runs anything.
import * as fs from "node:fs";
import { fmt, Measure, progress } from "./common";
import { Breakdown } from "./eventLog";
import { median } from "../lib/median";

const MEASURES: { key: Measure; label: string }[] = [
  { key: "up", label: "up from nothing to smoke test passed" },
  { key: "noop", label: "no-op up (nothing changed)" },
  { key: "down", label: "down" },
];

export type Times = Record<Measure, number[]>;

export interface Results {
  started: Date;
  runs: number;
  direct: boolean;
  machine: { nproc: string; loadStart: string; loadEnd: string };
  versions: Record<string, string>;
  /** Per side; a side left out by --compose-only / --program-only is absent. */
  times: { program?: Times; compose?: Times };
  /** Steps timed once alone: warm bootstrap, toolchain check, stack select. */
  overhead: Record<string, number>;
  breakdowns: { up?: Breakdown; destroy?: Breakdown };
  notes: string[];
}

interface Stats {
  runs: number[];
  median: number;
  min: number;
  max: number;
}

const stats = (runs: number[]): Stats => ({ runs, median: median(runs), min: Math.min(...runs), max: Math.max(...runs) });

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

/** Prints the table, the notes and the breakdowns to stdout; writes the JSON when asked. */
export function report(r: Results, jsonFile?: string): void {
  const out: string[] = [];
  out.push(`Lifecycle benchmark, ${r.started.toISOString()}: ${r.runs} round(s), program and Compose alternated`);
  out.push(`machine: nproc ${r.machine.nproc}, load average ${r.machine.loadStart} at start, ${r.machine.loadEnd} at end (1/5/15 min)`);
  out.push(
    `versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  out.push("");
  const rows: string[][] = [];
  const results: Record<string, unknown> = {};
  for (const { key, label } of MEASURES) {
    const p = r.times.program && stats(r.times.program[key]);
    const c = r.times.compose && stats(r.times.compose[key]);
    const perRound = p && c ? p.runs.map((x, i) => x / c.runs[i]) : [];
    const ratio = p && c ? { ofMedians: p.median / c.median, min: Math.min(...perRound), max: Math.max(...perRound), perRound } : undefined;
    const cell = (s?: Stats) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : "—");
    rows.push([
      label,
      cell(p),
      cell(c),
      ratio ? `${ratio.ofMedians.toFixed(2)}×` : "—",
      ratio ? `${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}×` : "—",
    ]);
    results[key] = { program: p, compose: c, ratio };
  }
  const head = [
    "measure (seconds)",
    "program median (min–max)",
    "compose median (min–max)",
    "ratio of medians",
    "ratio per round (min–max)",
  ];
  out.push(...table(head, rows, [false, true, true, true, true]));
  out.push("");
  out.push(
    r.direct
      ? "ratio = program / compose. Timed: `pulumi up --yes --skip-preview --refresh` / `pulumi destroy --yes` (what up.sh / down.sh ran after bootstrap"
      : "ratio = program / compose. Timed: `scripts/up.sh bench` / `scripts/down.sh bench` (= `npm run up` / `npm run down` for the bench stack)",
  );
  out.push(
    `${r.direct ? "when this was written) " : ""}against \`compose up -d --wait\` (+ chat completion and agent /readyz on the first up) / \`compose down -v\`.`,
  );
  const o = r.overhead;
  if (o.bootstrapWarm !== undefined) {
    const parts = [`warm scripts/bootstrap.sh ${fmt(o.bootstrapWarm)} s`];
    if (o.toolchainCheck !== undefined) parts.push(`tools/offline/toolchain.sh ${fmt(o.toolchainCheck)} s`);
    if (o.stackSelect !== undefined) parts.push(`pulumi stack select --create ${fmt(o.stackSelect)} s`);
    out.push(
      r.direct
        ? `Not in the timed program runs, what scripts/up.sh adds before \`pulumi up\` (timed once): ${parts.join(", ")}.`
        : `Included in each program up (scripts/up.sh runs them before \`pulumi up\`), timed once alone: ${parts.join(", ")}; Compose has no such step.`,
    );
  }
  for (const note of r.notes) out.push(`note: ${note}`);
  process.stdout.write(out.join("\n") + "\n\n");
  if (r.breakdowns.up)
    printBreakdown(`Where the time goes, one program ${r.direct ? "`pulumi up`" : "`scripts/up.sh bench`"} from nothing`, r.breakdowns.up);
  if (r.breakdowns.destroy)
    printBreakdown("Where the time goes, one program `pulumi destroy --yes` (what scripts/down.sh runs)", r.breakdowns.destroy);

  if (jsonFile) {
    const json = {
      started: r.started.toISOString(),
      runs: r.runs,
      machine: { nproc: Number(r.machine.nproc), loadAverageStart: r.machine.loadStart, loadAverageEnd: r.machine.loadEnd },
      versions: r.versions,
      results,
      notTimed: r.overhead,
      breakdown: r.breakdowns,
      notes: r.notes,
    };
    fs.writeFileSync(jsonFile, JSON.stringify(json, null, 2) + "\n");
    progress(`wrote ${jsonFile}`);
  }
}

function printBreakdown(title: string, b: Breakdown): void {
  const out: string[] = [];
  const res = b.clock === "arrival" ? "times as the events were written, ±0.02 s" : "the events' own timestamps, whole seconds";
  out.push(`${title}: ${fmt(b.totalSeconds)} s in all (${res}; seconds from the command's start)`);
  const names = b.phases.length > 1 ? ["preview", "update"] : ["update"];
  b.phases.forEach((p, i) => {
    out.push(
      `  ${names[i] ?? `engine run ${i + 1}`}: first engine event at ${fmt(p.first)} s, last at ${fmt(p.last)} s (${p.events} events)`,
    );
  });
  if (b.programEvaluatedSeconds !== undefined) {
    out.push(
      `  first resource the program declares at ${fmt(b.programEvaluatedSeconds)} s (before it: the script, CLI, language host, TypeScript, the program's engine/port checks)`,
    );
  }
  const last = b.phases[b.phases.length - 1];
  if (last) out.push(`  last engine event → exit: ${fmt(b.totalSeconds - last.last)} s`);
  out.push("");
  const rows = b.rows.map((r) => [
    fmt(r.start),
    r.end === undefined ? "—" : fmt(r.end),
    r.seconds === undefined ? "—" : fmt(r.seconds),
    r.op + (r.failed ? " FAILED" : ""),
    r.resource + (r.component ? "  (component: spans its children)" : ""),
  ]);
  out.push(...table(["start", "end", "took", "op", "resource"], rows, [true, true, true, false, false]).map((l) => `  ${l}`));
  process.stdout.write(out.join("\n") + "\n\n");
}
