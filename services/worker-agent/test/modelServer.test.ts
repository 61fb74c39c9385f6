import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { extractLoad, parseSampleLine, probeReadiness, scrapeLoad } from "../src/modelServer";
import { closeServer, freePort, listen } from "./helpers";

test("reads the vllm: family, summing label sets", () => {
  const text = [
    "# HELP vllm:num_requests_waiting Number of requests waiting.",
    "# TYPE vllm:num_requests_waiting gauge",
    'vllm:num_requests_waiting{engine="0",model_name="m"} 4.0',
    'vllm:num_requests_waiting{engine="1",model_name="m"} 3.0',
    'vllm:num_requests_running{engine="0",model_name="m"} 2.0',
    'vllm:num_requests_waiting_by_reason{reason="capacity"} 99',
  ].join("\n");
  assert.deepEqual(extractLoad(text), { waiting: 7, running: 2 });
});

test("reads the vllm_ family, and prefers vllm: when a server exposes both", () => {
  assert.deepEqual(extractLoad("vllm_num_requests_waiting 5\nvllm_num_requests_running 1\n"), { waiting: 5, running: 1 });
  assert.deepEqual(extractLoad("vllm_num_requests_waiting 5\nvllm:num_requests_waiting 6\n"), { waiting: 6, running: null });
});

test("missing gauges are null, not zero", () => {
  assert.deepEqual(extractLoad("# nothing here\nprocess_cpu_seconds_total 1\n"), { waiting: null, running: null });
});

test("sample lines: quoted braces and spaces in labels, timestamps, special values", () => {
  assert.deepEqual(parseSampleLine('vllm:num_requests_waiting{model_name="a} b",x="q\\"z"} 3 1700000000000'), {
    name: "vllm:num_requests_waiting",
    value: 3,
  });
  assert.deepEqual(parseSampleLine("up 1e3"), { name: "up", value: 1000 });
  assert.equal(parseSampleLine("x +Inf")!.value, Infinity);
  assert.ok(Number.isNaN(parseSampleLine("x NaN")!.value));
  assert.equal(parseSampleLine("x{unterminated 3"), null);
  assert.equal(parseSampleLine("x notanumber"), null);
  assert.equal(parseSampleLine("x"), null);
  assert.deepEqual(extractLoad("vllm:num_requests_waiting NaN\n"), { waiting: null, running: null });
});

test("readiness over HTTP: listed model, unlisted model, bad status, garbage, refused", async () => {
  let reply = { status: 200, body: JSON.stringify({ data: [{ id: "m" }, { id: "n" }] }) };
  let seenAuth: string | undefined;
  const server = createServer((req, res) => {
    seenAuth = req.headers.authorization;
    res.writeHead(reply.status).end(reply.body);
  });
  const port = await listen(server);
  const base = `http://127.0.0.1:${port}`;
  const opts = { timeoutMs: 2000 };
  try {
    assert.deepEqual(await probeReadiness(base, "m", { ...opts, apiKey: "k" }), {
      ready: true,
      reachable: true,
      models: ["m", "n"],
      reason: null,
    });
    assert.equal(seenAuth, "Bearer k", "an API-key protected vLLM still answers the probe");
    assert.equal((await probeReadiness(base, null, opts)).ready, true, "no MODEL_ID: any 200 is ready");
    const unlisted = await probeReadiness(base, "z", opts);
    assert.equal(unlisted.ready, false);
    assert.match(unlisted.reason!, /"z" is not served/);
    reply = { status: 503, body: "loading" };
    assert.equal((await probeReadiness(base, "m", opts)).reason, "/v1/models answered 503");
    reply = { status: 200, body: "<html>" };
    assert.equal((await probeReadiness(base, "m", opts)).ready, false);
    reply = { status: 200, body: "vllm:num_requests_waiting 2\n" };
    assert.deepEqual(await scrapeLoad(`${base}/metrics`, opts), { waiting: 2, running: null, error: null });
  } finally {
    await closeServer(server);
  }
  const refused = await probeReadiness(`http://127.0.0.1:${await freePort()}`, "m", opts);
  assert.deepEqual(refused, { ready: false, reachable: false, models: [], reason: "ECONNREFUSED" });
  const noMetrics = await scrapeLoad(`http://127.0.0.1:${await freePort()}/metrics`, opts);
  assert.equal(noMetrics.waiting, null);
  assert.equal(noMetrics.error, "ECONNREFUSED");
});
