import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { caseArbitrary, protocolCases } from "./cases";
import { control, healthProbe, newTally, runBatch } from "./fuzz";
import { Target } from "./request";
import { Service, startService } from "./target";

/**
 * The seeded HTTP fuzz against a service's real process (bundled, default settings):
 * the raw-socket inputs, then batches of hostile requests over 8 connections, each batch
 * followed by a valid request that must be served correctly, with a health probe alongside; then
 * SIGTERM must exit promptly. Each service's fuzz.test.ts calls this with what differs between
 * them. The longer run is `npm run fuzz -- --requests 20000 --target <target>`.
 */
export interface FuzzSuiteOptions {
  /** The service's header and whole-request timeouts, in ms, as the generated cases expect them. */
  timeouts: { headersTimeoutMs: number; requestTimeoutMs: number };
  /** Extra command-line arguments for the service. */
  args?: string[];
  /** How many generated batches. */
  numRuns: number;
}

const SEED = 14;
const RSS_BOUND_MIB = 300;

export function fuzzSuite(name: string, target: Target, opts: FuzzSuiteOptions): void {
  describe(`fuzz: ${name}`, { timeout: 120_000 }, () => {
    let svc: Service;
    before(async () => {
      svc = await startService(target, { args: opts.args });
    });
    after(async () => {
      if (svc) await svc.stop();
    });

    const batchIsClean = async (cases: Parameters<typeof runBatch>[1]) => {
      const tally = newTally();
      const probe = healthProbe(svc, 100);
      await runBatch(svc, cases, 8, tally);
      const p = probe.stop();
      assert.equal(svc.child.exitCode ?? svc.child.signalCode, null, `the process died:\n${svc.output().slice(-2000)}`);
      assert.deepEqual(tally.findings, []);
      assert.equal(await control(svc), null);
      assert.equal(p.failures, 0, "a health probe failed");
      assert.ok(p.maxMs < 2000, `a health probe took ${p.maxMs.toFixed(0)} ms`);
      assert.ok(p.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${p.peakRssMiB.toFixed(0)} MiB`);
    };

    test("the raw-socket inputs of the issue, verbatim", () => batchIsClean(protocolCases(target)));

    test(`seeded property: any batch of hostile requests (seed ${SEED})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(caseArbitrary(target, opts.timeouts), { minLength: 10, maxLength: 40 }), (cases) => batchIsClean(cases)),
        { seed: SEED, numRuns: opts.numRuns, endOnFailure: true },
      );
    });

    test("SIGTERM afterwards exits promptly and cleanly", async () => {
      const ms = await svc.stop();
      assert.equal(await svc.exited, 0);
      assert.ok(ms < 3000, `exited after ${ms.toFixed(0)} ms`);
    });
  });
}
