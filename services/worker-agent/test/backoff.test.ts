import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../src/backoff";

test("doubles up to the cap; jitter keeps each delay within [ceiling/2, ceiling]", () => {
  const top = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
  assert.deepEqual(
    Array.from({ length: 7 }, () => top.next()),
    [100, 200, 400, 800, 1000, 1000, 1000],
  );
  const bottom = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
  assert.deepEqual(
    Array.from({ length: 5 }, () => bottom.next()),
    [50, 100, 200, 400, 500],
  );
  const real = new Backoff({ baseMs: 100, maxMs: 1000 });
  for (let i = 0; i < 100; i++) {
    const d = real.next();
    assert.ok(d >= 50 && d <= 1000);
  }
});

test("reset starts over; attempts counts failures", () => {
  const b = new Backoff({ baseMs: 10, maxMs: 100, random: () => 1 });
  b.next();
  b.next();
  assert.equal(b.attempts, 2);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 10);
});

test("many failures never overflow the cap", () => {
  const b = new Backoff({ baseMs: 1000, maxMs: 60_000, random: () => 1 });
  for (let i = 0; i < 5000; i++) b.next();
  assert.equal(b.next(), 60_000);
});
