import assert from "node:assert/strict";
import { test } from "node:test";
import { Ticker } from "../src/cycle";

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

test("runs on a fixed grid: run time does not add up into drift", async () => {
  const starts: number[] = [];
  const ticker = new Ticker(50, async () => {
    starts.push(performance.now());
    await sleep(20);
  });
  ticker.start();
  await sleep(1030);
  await ticker.stop();
  // Chained setTimeout(50) after 20 ms of work would give ~15 runs; the grid gives ~21.
  assert.ok(starts.length >= 17 && starts.length <= 22, `${starts.length} runs in ~1 s`);
  const mean = (starts.at(-1)! - starts[0]!) / (starts.length - 1);
  assert.ok(Math.abs(mean - 50) < 10, `mean period ${mean.toFixed(1)} ms`);
});

test("runs never overlap; a run longer than the interval skips ticks instead of queueing them", async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const skipped: number[] = [];
  const ticker = new Ticker(
    40,
    async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await sleep(runs === 1 ? 130 : 5);
      active--;
    },
    { onOverrun: (n) => skipped.push(n) },
  );
  ticker.start();
  await sleep(400);
  await ticker.stop();
  assert.equal(maxActive, 1);
  assert.ok(skipped.length >= 1 && skipped[0]! >= 2, `skipped ${JSON.stringify(skipped)}`);
  assert.ok(runs <= 10, `${runs} runs: missed ticks were not replayed in a burst`);
});

test("a failing run is reported and the loop carries on", async () => {
  let runs = 0;
  const errors: unknown[] = [];
  const ticker = new Ticker(
    30,
    async () => {
      runs++;
      throw new Error("boom");
    },
    { onError: (e) => errors.push(e) },
  );
  ticker.start();
  await sleep(200);
  await ticker.stop();
  assert.ok(runs >= 3);
  assert.equal(errors.length, runs);
});

test("stop aborts the run in flight and waits for it", async () => {
  let aborted = false;
  let finished = false;
  const ticker = new Ticker(1000, async (signal) => {
    await sleep(10_000, signal);
    aborted = signal.aborted;
    finished = true;
  });
  ticker.start();
  await sleep(20);
  const t0 = performance.now();
  await ticker.stop();
  assert.ok(performance.now() - t0 < 500);
  assert.ok(aborted && finished);
});
