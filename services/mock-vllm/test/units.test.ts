import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { generate } from "../src/generator";
import { createRng } from "../src/rng";
import { Scheduler } from "../src/scheduler";
import { chatRequest } from "../src/schemas";
import { TextMemo, countTokens, detokenize, pieces, piecesShared, tokenize } from "../src/tokenizer";
import { safeParse } from "../src/validate";

describe("tokenizer", () => {
  test("round-trips any text and counts the same way everywhere", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        const ids = tokenize(s);
        assert.equal(detokenize(ids), s);
        assert.equal(countTokens(s), ids.length);
        assert.equal(pieces(s).join(""), s);
        assert.equal(pieces(s).length, ids.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe("text memo", () => {
  test("computes once per text, shares a frozen value, and stays bounded", () => {
    let computed = 0;
    const memo = new TextMemo((t) => Object.freeze([++computed, t.length]), 2, 8);
    const first = memo.get("abc");
    assert.equal(memo.get("abc"), first);
    assert.equal(computed, 1);
    memo.get("def");
    memo.get("ghi"); // evicts "abc", the oldest
    assert.notEqual(memo.get("abc"), first);
    assert.equal(computed, 4);
    memo.get("longer than eight");
    memo.get("longer than eight"); // too long to keep
    assert.equal(computed, 6);
    assert.ok(Object.isFrozen(piecesShared("héllo wörld")));
    assert.deepEqual(piecesShared("héllo wörld"), pieces("héllo wörld"));
  });
});

describe("validation", () => {
  const messages = [{ role: "user", content: "hi" }];
  test("reports issues in schema order whatever the order of the body's fields", () => {
    const r = safeParse(chatRequest, { stream: "yes", messages, n: 0, model: 3 });
    assert.equal(r.success, false);
    if (!r.success)
      assert.deepEqual(
        r.issues.map((i) => i.path.join(".")),
        ["model", "n", "stream"],
      );
    const missing = safeParse(chatRequest, { n: "x" });
    assert.equal(missing.success, false);
    if (!missing.success)
      assert.deepEqual(
        missing.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
        ["n: Input should be a valid integer", "messages: Field required"],
      );
    const nested = safeParse(chatRequest, { messages: [{ role: "user", content: [{ type: "text", text: 1 }] }] });
    assert.equal(nested.success, false);
    if (!nested.success) assert.deepEqual(nested.issues[0].path, ["messages", 0, "content"]);
  });
  test("accepts valid bodies with unknown fields and returns them unchanged", () => {
    const body = { messages, max_tokens: 5, extra: { anything: true }, stream: null };
    const r = safeParse(chatRequest, body);
    assert.equal(r.success, true);
    if (r.success) assert.equal(r.data, body);
  });
});

describe("generator", () => {
  const base = {
    mode: "generate" as const,
    echoText: "",
    maxTokens: 1000,
    naturalLength: 30,
    ignoreEos: false,
    stop: [],
    includeStopStr: false,
  };
  test("token lists re-tokenize to the same count, and finish reasons follow the budget", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), fc.integer(), (maxTokens, naturalLength, seed) => {
        const g = generate({ ...base, maxTokens, naturalLength, rng: createRng(seed) });
        assert.equal(g.tokens.length, Math.min(maxTokens, naturalLength));
        assert.equal(countTokens(g.text), g.tokens.length);
        assert.equal(g.finishReason, naturalLength > maxTokens ? "length" : "stop");
      }),
      { numRuns: 300 },
    );
  });

  test("same seed, same text", () => {
    const a = generate({ ...base, rng: createRng(5) });
    const b = generate({ ...base, rng: createRng(5) });
    assert.equal(a.text, b.text);
  });
});

describe("scheduler", () => {
  test("never runs more than max-num-seqs and admits in FIFO order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.boolean(), { maxLength: 60 }), (slots, ops) => {
        const s = new Scheduler(slots, 0, 1000);
        const admitted: number[] = [];
        const running: { id: number; kvTokens: number; admit(): void }[] = [];
        let next = 0;
        for (const add of ops) {
          if (add || running.length === 0) {
            const id = next++;
            const job = { id, kvTokens: 1, admit: () => (admitted.push(id), running.push(job)) };
            s.submit(job);
          } else {
            s.finish(running.shift()!);
          }
          assert.ok(s.running <= slots);
          assert.equal(s.running, running.length);
        }
        assert.deepEqual(
          admitted,
          [...admitted].sort((a, b) => a - b),
        );
      }),
    );
  });
});
