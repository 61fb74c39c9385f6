import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EventLog } from "../src/events";

test("ring buffer keeps the newest events, oldest first", () => {
  const log = new EventLog({ capacity: 3, level: "info", stdout: false });
  for (let i = 0; i < 5; i++) log.info("e", { i });
  assert.deepEqual(
    log.tail(10).map((e) => e.i),
    [2, 3, 4],
  );
  assert.deepEqual(
    log.tail(2).map((e) => e.i),
    [3, 4],
  );
  assert.deepEqual(log.tail(0), []);
});

test("level filter and token-like fields are scrubbed", () => {
  const log = new EventLog({ capacity: 10, level: "warn", stdout: false });
  log.info("hidden");
  log.warn("shown", { bootstrap_token: "abc", authorization: "Bearer abc", token_received: true });
  const [e] = log.tail(10);
  assert.equal(log.tail(10).length, 1);
  assert.equal(e!.bootstrap_token, "[redacted]");
  assert.equal(e!.authorization, "[redacted]");
  assert.equal(e!.token_received, true);
});

test("repeating conditions are logged on change (event or outcome) and then once a minute with a count", () => {
  const log = new EventLog({ capacity: 100, level: "info", stdout: false });
  log.state("hb", "warn", "heartbeat.failed", {}, 0);
  log.state("hb", "warn", "heartbeat.failed", {}, 1000);
  log.state("hb", "warn", "heartbeat.failed", {}, 2000);
  log.state("hb", "info", "heartbeat.ok", {}, 3000);
  log.state("hb", "warn", "heartbeat.failed", {}, 4000);
  log.state("hb", "warn", "heartbeat.failed", {}, 5000);
  log.state("hb", "warn", "heartbeat.failed", {}, 70_000);
  log.state("hb", "warn", "heartbeat.failed", { outcome: "timeout" }, 71_000);
  assert.deepEqual(
    log.tail(100).map((e) => [e.event, e.repeated]),
    [
      ["heartbeat.failed", undefined],
      ["heartbeat.ok", undefined],
      ["heartbeat.failed", undefined],
      ["heartbeat.failed", 1],
      ["heartbeat.failed", undefined],
    ],
  );
});

test("optional file receives JSON lines; an impossible path is survived", async () => {
  const dir = await mkdtemp(join(tmpdir(), "worker-agent-log-"));
  try {
    const file = join(dir, "sub", "events.log");
    const log = new EventLog({ capacity: 10, level: "info", stdout: false, file });
    log.info("one", { n: 1 });
    await log.close();
    const line = JSON.parse((await readFile(file, "utf8")).trim());
    assert.equal(line.event, "one");
    assert.equal(line.n, 1);

    await writeFile(join(dir, "plain"), "x");
    const bad = new EventLog({ capacity: 10, level: "info", stdout: false, file: join(dir, "plain", "events.log") });
    bad.info("still works");
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(bad.tail(10).some((e) => e.event === "log_file.failed"));
    assert.equal(bad.filePath, null);
    await bad.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
