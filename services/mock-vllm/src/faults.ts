import type { IncomingHttpHeaders } from "node:http";
import { SimulationConfig } from "./config";
import { Rng } from "./rng";

/**
 * What goes wrong with one request, decided from the server flags and the request's
 * `x-mock-*` headers. -1 means "not at all".
 */
export interface FaultPlan {
  /** Answer with this status (vLLM error body) instead of serving. */
  failStatus: number;
  /** Hold the request this long: before the response starts, or after `stallAfterTokens`. */
  stallMs: number;
  stallAfterTokens: number;
  /** Destroy the connection after this many tokens were sent (0: before any byte). */
  dropAfterTokens: number;
  /** Streaming: send vLLM's in-stream error event after this many tokens. */
  errorAfterTokens: number;
}

const HEADERS = {
  status: "x-mock-fail-status",
  firstN: "x-mock-fail-first-n",
  key: "x-mock-fail-key",
  stall: "x-mock-stall-ms",
  stallAfter: "x-mock-stall-after-tokens",
  drop: "x-mock-drop-after-tokens",
  error: "x-mock-error-after-tokens",
} as const;
export const FAULT_HEADERS = HEADERS;

// setTimeout's largest delay (~24.8 days); beyond it Node would fire after 1 ms instead.
const MAX_INT_HEADER = 2 ** 31 - 1;
// Script keys come from clients; past this many the oldest is forgotten, so memory stays bounded.
const MAX_SCRIPT_KEYS = 1024;

function intHeader(headers: IncomingHttpHeaders, name: string): number {
  const raw = headers[name];
  if (typeof raw !== "string") return -1;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, MAX_INT_HEADER) : -1;
}

export class Faults {
  private served = 0;
  private readonly scripts = new Map<string, number>();

  constructor(
    private readonly sim: SimulationConfig,
    private readonly rng: Rng,
  ) {}

  /** null on the common path: nothing to inject. `totalTokens` bounds random drop points. */
  plan(headers: IncomingHttpHeaders, totalTokens: number): FaultPlan | null {
    const sim = this.sim;
    const hasHeaders =
      headers[HEADERS.status] !== undefined ||
      headers[HEADERS.firstN] !== undefined ||
      headers[HEADERS.stall] !== undefined ||
      headers[HEADERS.drop] !== undefined ||
      headers[HEADERS.error] !== undefined;
    if (!hasHeaders && sim.failFirstN === 0 && sim.failureRate === 0 && sim.dropRate === 0) return null;

    const plan: FaultPlan = { failStatus: -1, stallMs: -1, stallAfterTokens: -1, dropAfterTokens: -1, errorAfterTokens: -1 };
    const headerStatus = intHeader(headers, HEADERS.status);
    const status = headerStatus >= 400 && headerStatus <= 599 ? headerStatus : sim.failureStatus;

    // Server-wide script first: the first N inference requests fail.
    if (this.served++ < sim.failFirstN) plan.failStatus = sim.failureStatus;

    const firstN = intHeader(headers, HEADERS.firstN);
    if (firstN >= 0) {
      // Counted per script key, so concurrent tests (or clients) each get their own sequence.
      const key = String(headers[HEADERS.key] ?? "default");
      const seen = this.scripts.get(key) ?? 0;
      if (seen === 0 && this.scripts.size >= MAX_SCRIPT_KEYS) this.scripts.delete(this.scripts.keys().next().value as string);
      this.scripts.set(key, seen + 1);
      if (seen < firstN) plan.failStatus = status;
    } else if (headerStatus >= 400 && headerStatus <= 599) {
      plan.failStatus = headerStatus;
    }
    if (plan.failStatus < 0 && sim.failureRate > 0 && this.rng() < sim.failureRate) plan.failStatus = sim.failureStatus;

    plan.stallMs = intHeader(headers, HEADERS.stall);
    plan.stallAfterTokens = plan.stallMs >= 0 ? intHeader(headers, HEADERS.stallAfter) : -1;
    plan.dropAfterTokens = intHeader(headers, HEADERS.drop);
    if (plan.dropAfterTokens < 0 && sim.dropRate > 0 && this.rng() < sim.dropRate) {
      plan.dropAfterTokens = Math.floor(this.rng() * Math.max(1, totalTokens));
    }
    plan.errorAfterTokens = intHeader(headers, HEADERS.error);
    return plan;
  }
}
