import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { Ticker } from "../src/cycle";

/**
 * Fake time for the scheduler: `setTimeout` is mocked and the Ticker reads `now()` from here, so
 * the schedule is checked exactly instead of against a noisy machine's clock.
 */
function fakeTime() {
  mock.timers.enable({ apis: ["setTimeout"] });
  let t = 0;
  return {
    now: () => t,
    /** Time spent inside a run; the mocked timers need not see it, nothing is pending then. */
    spend(ms: number) {
      t += ms;
    },
    async advance(ms: number) {
      for (let i = 0; i < ms; i++) {
        t += 1;
        mock.timers.tick(1);
        // Let the run's promise chain and the rescheduling settle.
        await new Promise((r) => setImmediate(r));
      }
    },
    restore: () => mock.timers.reset(),
  };
}

test("runs on a fixed grid: run time does not add up into drift", async () => {
  const clock = fakeTime();
  const starts: number[] = [];
  const ticker = new Ticker(
    50,
    async () => {
      starts.push(clock.now());
      clock.spend(20);
    },
    { now: clock.now },
  );
  try {
    ticker.start();
    await clock.advance(1000);
    // Rescheduling 50 ms after each 20 ms run would give starts 0, 70, 140, ...
    assert.deepEqual(
      starts.slice(0, 20),
      Array.from({ length: 20 }, (_, k) => k * 50),
    );
  } finally {
    await ticker.stop();
    clock.restore();
  }
});

test("runs never overlap; a run longer than the interval skips ticks instead of queueing them", async () => {
  const clock = fakeTime();
  const starts: number[] = [];
  const skipped: number[] = [];
  let active = 0;
  let maxActive = 0;
  const ticker = new Ticker(
    40,
    async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      starts.push(clock.now());
      clock.spend(starts.length === 1 ? 130 : 5);
      await Promise.resolve();
      active--;
    },
    { now: clock.now, onOverrun: (n) => skipped.push(n) },
  );
  try {
    ticker.start();
    await clock.advance(300);
    assert.equal(maxActive, 1);
    // The first run ends at 130: ticks 40, 80 and 120 are dropped, the next run is at 160.
    assert.deepEqual(skipped, [3]);
    assert.deepEqual(starts.slice(0, 5), [0, 160, 200, 240, 280]);
  } finally {
    await ticker.stop();
    clock.restore();
  }
});

test("a failing run is reported and the loop carries on", async () => {
  const clock = fakeTime();
  let runs = 0;
  const errors: unknown[] = [];
  const ticker = new Ticker(
    30,
    async () => {
      runs++;
      throw new Error("boom");
    },
    { now: clock.now, onError: (e) => errors.push(e) },
  );
  try {
    ticker.start();
    await clock.advance(100);
    assert.equal(runs, 4);
    assert.equal(errors.length, 4);
  } finally {
    await ticker.stop();
    clock.restore();
  }
});

test("stop aborts the run in flight and waits for it", async () => {
  let aborted = false;
  let finished = false;
  const ticker = new Ticker(1000, async (signal) => {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
    aborted = signal.aborted;
    finished = true;
  });
  ticker.start();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  await ticker.stop();
  assert.ok(performance.now() - t0 < 2000);
  assert.ok(aborted && finished);
});
