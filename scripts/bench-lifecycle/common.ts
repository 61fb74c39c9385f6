// What every module of the lifecycle benchmark shares: where the checkout is, the names the bench
// gives its stacks and services, the three measures, and a few one-line helpers (progress lines on
// stderr, timing, number formatting). Kept apart so the other modules depend on it and on nothing
// of each other's that they do not need.
import * as path from "node:path";

/** The checkout this script sits in (scripts/bench-lifecycle/ → the repository root). */
export const ROOT = path.join(__dirname, "..", "..");
export const PROJECT = "inference-runtime";
export const PROGRAM_STACK = "bench";
export const COMPOSE_STACK = "bench-compose";
export const SERVICES = ["mock-vllm", "worker-agent"] as const;

/** up from nothing to the smoke test passing; the same up again; down to nothing. */
export type Measure = "up" | "noop" | "down";
/** One side's three times of one round, and anything odd it saw on the way. */
export interface Round {
  seconds: Record<Measure, number>;
  notes: string[];
}

const clock = () => new Date().toTimeString().slice(0, 8);
export const progress = (msg: string) => process.stderr.write(`[bench ${clock()}] ${msg}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const secondsSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
export const fmt = (s: number) => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
