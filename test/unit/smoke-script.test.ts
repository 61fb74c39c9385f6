// The smoke-test script refuses bad settings with a message naming the variable, before any call.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { it } from "node:test";
import { ROOT } from "./harness";
import { bundled } from "../lib/bundle";

function smoke(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SMOKE_")));
  return spawnSync("node", [bundled("deploy/smoke-test.ts")], { cwd: ROOT, env: { ...clean, ...env }, encoding: "utf8", timeout: 30_000 });
}

it("names every missing required variable", () => {
  const r = smoke({});
  assert.equal(r.status, 1);
  assert.match(r.stderr, /smoke test failed: missing environment variable\(s\): SMOKE_API_URL, SMOKE_MODEL/);
});

it("names a timeout that is not a positive number", () => {
  const r = smoke({ SMOKE_API_URL: "http://127.0.0.1:9", SMOKE_MODEL: "m", SMOKE_TIMEOUT_S: "soon" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /SMOKE_TIMEOUT_S: expected a positive number of seconds, got "soon"/);
});
