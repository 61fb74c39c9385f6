import fc from "fast-check";
import { parseArgs } from "node:util";
import { Case, Target, caseArbitrary, protocolCases } from "./cases";
import { Tally, control, healthProbe, newTally, runBatch } from "./fuzz";
import { Service, startService } from "./target";

/**
 * `npm run fuzz -- --requests 20000 [--target mock|agent|both] [--seed N] [--concurrency N]`:
 * the nightly run. Sends that many seeded hostile requests to each service (its own process, on
 * 127.0.0.1 only), in batches with a valid request after each, a health probe alongside, and
 * reports crashes (the process is restarted and the run goes on), hangs, non-JSON error bodies,
 * malformed responses, other findings, the slowest health probe, peak RSS and the SIGTERM time.
 */
const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "20000" },
    target: { type: "string", default: "both" },
    seed: { type: "string", default: "14" },
    concurrency: { type: "string", default: "8" },
    batch: { type: "string", default: "200" },
  },
});
const requests = Number(values.requests);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
const batchSize = Number(values.batch);
const targets: Target[] = values.target === "both" ? ["mock", "agent"] : [values.target as Target];

// Short timeouts for the mock so cut-short requests settle fast; the agent's are fixed (5 s / 10 s).
const TIMEOUTS: Record<Target, { headersTimeoutMs: number; requestTimeoutMs: number; args: string[] }> = {
  mock: {
    headersTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    args: ["--mock-headers-timeout-s", "1", "--mock-request-timeout-s", "2"],
  },
  agent: { headersTimeoutMs: 5000, requestTimeoutMs: 10000, args: [] },
};

async function fuzz(target: Target): Promise<void> {
  const t0 = performance.now();
  const tally: Tally = newTally();
  const start = () => startService(target, { args: TIMEOUTS[target].args });
  let svc: Service = await start();
  let peak = 0;
  let maxProbe = 0;
  let probeFailures = 0;
  let controlFailures = 0;
  const arbitrary = caseArbitrary(target, TIMEOUTS[target]);
  const all: Case[] = [
    ...protocolCases(target),
    ...fc.sample(arbitrary, { seed, numRuns: Math.max(0, requests - protocolCases(target).length) }),
  ];
  for (let i = 0; i < all.length; i += batchSize) {
    const probe = healthProbe(svc);
    await runBatch(svc, all.slice(i, i + batchSize), concurrency, tally);
    const p = probe.stop();
    maxProbe = Math.max(maxProbe, p.maxMs);
    probeFailures += p.failures;
    peak = Math.max(peak, p.peakRssMiB);
    if (svc.child.exitCode !== null || svc.child.signalCode !== null) {
      tally.crashes++;
      tally.findings.push({
        label: `batch ${i / batchSize}`,
        problem: `process exited (${await svc.exited}): ${svc.output().slice(-500)}`,
      });
      svc = await start();
      continue;
    }
    const bad = await control(svc);
    if (bad) {
      controlFailures++;
      tally.findings.push({ label: `after batch ${i / batchSize}`, problem: bad });
    }
    process.stderr.write(`\r${target}: ${Math.min(i + batchSize, all.length)}/${all.length} cases, RSS ${svc.rssMiB().toFixed(0)} MiB`);
  }
  const shutdownMs = await svc.stop();
  const seconds = (performance.now() - t0) / 1000;
  process.stderr.write("\n");
  console.log(`${target}: ${tally.cases} requests (seed ${seed}, ${concurrency} connections) in ${seconds.toFixed(1)} s`);
  console.log(
    `  crashes ${tally.crashes}, hangs ${tally.hangs}, non-JSON error bodies ${tally.nonJsonErrors}, malformed responses ${tally.malformed}, other findings ${tally.other}, failed control requests ${controlFailures}`,
  );
  console.log(
    `  responses ${tally.responses}; health probe: slowest ${maxProbe.toFixed(0)} ms, ${probeFailures} failed; peak RSS ${peak.toFixed(1)} MiB; SIGTERM to exit ${shutdownMs.toFixed(0)} ms`,
  );
  for (const f of tally.findings.slice(0, 20)) console.log(`  - ${f.label}: ${f.problem}`);
  if (tally.crashes + tally.hangs + tally.nonJsonErrors + tally.malformed + tally.other + controlFailures + probeFailures > 0)
    process.exitCode = 1;
}

(async () => {
  for (const t of targets) await fuzz(t);
})();
