import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { GpuReader, parseNvidiaSmiCsv, simulateGpus, summarize } from "../src/gpu";

const fixture = (name: string) => readFile(join(__dirname, "fixtures", name), "utf8");

test("parses the captured idle H200 query output", async () => {
  assert.deepEqual(parseNvidiaSmiCsv(await fixture("nvidia-smi-query.csv")), [
    {
      index: 0,
      gpu_utilization: 0,
      gpu_mem_used_mb: 0,
      gpu_mem_total_mb: 143771,
      gpu_temp_c: 41,
      gpu_power_w: 130.2,
      gpu_power_limit_w: 700,
    },
  ]);
});

test("parses the captured busy H200 query output", async () => {
  assert.deepEqual(parseNvidiaSmiCsv(await fixture("busy-sample.csv")), [
    {
      index: 0,
      gpu_utilization: 98,
      gpu_mem_used_mb: 1011,
      gpu_mem_total_mb: 143771,
      gpu_temp_c: 61,
      gpu_power_w: 689.16,
      gpu_power_limit_w: 700,
    },
  ]);
});

test("[N/A] and [Not Supported] become null; several GPUs give several entries", () => {
  const out = parseNvidiaSmiCsv("0, 12, 100, 8000, 40, [N/A], [Not Supported]\n1, [N/A], 200, 8000, N/A, 55.5, 300.00\n");
  assert.equal(out.length, 2);
  assert.equal(out[0]!.gpu_power_w, null);
  assert.equal(out[0]!.gpu_power_limit_w, null);
  assert.equal(out[1]!.gpu_utilization, null);
  assert.equal(out[1]!.gpu_temp_c, null);
  assert.equal(out[1]!.gpu_power_w, 55.5);
  const agg = summarize("nvidia-smi", out);
  assert.equal(agg.gpu_utilization, 12, "the mean skips GPUs that do not report");
  assert.equal(agg.gpu_mem_used_mb, 300);
  assert.equal(agg.gpu_mem_total_mb, 16000);
});

test("output of a different query (with header and units) is not misread", async () => {
  assert.deepEqual(parseNvidiaSmiCsv(await fixture("nvidia-smi-query-header.csv")), []);
  assert.deepEqual(parseNvidiaSmiCsv("No devices were found\n"), []);
  assert.deepEqual(parseNvidiaSmiCsv(""), []);
});

test("values carrying units are still read", () => {
  const [g] = parseNvidiaSmiCsv("0, 5 %, 1011 MiB, 143771 MiB, 61, 689.16 W, 700.00 W");
  assert.equal(g!.gpu_utilization, 5);
  assert.equal(g!.gpu_mem_used_mb, 1011);
  assert.equal(g!.gpu_power_limit_w, 700);
});

test("simulation follows load, stays within bounds and is deterministic", () => {
  const idle = simulateGpus(2, 24576, { waiting: 0, running: 0 });
  const busy = simulateGpus(2, 24576, { waiting: 7, running: 2 });
  const flooded = simulateGpus(2, 24576, { waiting: 1000, running: 64 });
  assert.equal(idle.length, 2);
  assert.ok(busy[0]!.gpu_utilization! > idle[0]!.gpu_utilization!);
  assert.ok(busy[0]!.gpu_mem_used_mb! > idle[0]!.gpu_mem_used_mb!);
  for (const g of [...idle, ...busy, ...flooded]) {
    assert.ok(g.gpu_utilization! >= 0 && g.gpu_utilization! <= 100);
    assert.ok(g.gpu_mem_used_mb! <= g.gpu_mem_total_mb!);
    assert.ok(g.gpu_power_w! <= g.gpu_power_limit_w!);
  }
  assert.deepEqual(simulateGpus(2, 24576, { waiting: 7, running: 2 }), busy);
  assert.deepEqual(simulateGpus(1, 1000, { waiting: null, running: null }), simulateGpus(1, 1000, { waiting: 0, running: 0 }));
});

test("reader: a missing nvidia-smi falls back to simulation, or to no GPUs", async () => {
  const sim = new GpuReader("/nonexistent/nvidia-smi", 2000, { count: 1, vramMb: 1000 });
  const r = await sim.query();
  assert.deepEqual(r, { absent: true });
  assert.equal(sim.report(r, { waiting: 0, running: 0 }).source, "simulated");
  const none = new GpuReader("/nonexistent/nvidia-smi", 2000, { count: 0, vramMb: 1000 });
  const rep = none.report(await none.query(), { waiting: 3, running: 0 });
  assert.equal(rep.source, "none");
  assert.equal(rep.gpu_utilization, null);
  assert.deepEqual(rep.gpus, []);
});

test("reader: a present nvidia-smi wins over simulation; a failing one is reported", { skip: process.platform === "win32" }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "fake-smi-"));
  try {
    const good = join(dir, "nvidia-smi");
    await writeFile(good, `#!/bin/sh\ncat '${join(__dirname, "fixtures", "busy-sample.csv")}'\n`);
    await chmod(good, 0o755);
    const reader = new GpuReader(good, 5000, { count: 2, vramMb: 1000 });
    const rep = reader.report(await reader.query(), { waiting: 0, running: 0 });
    assert.equal(rep.source, "nvidia-smi");
    assert.equal(rep.gpu_utilization, 98);
    const bad = join(dir, "broken-smi");
    await writeFile(bad, "#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n");
    await chmod(bad, 0o755);
    const broken = new GpuReader(bad, 5000, { count: 1, vramMb: 1000 });
    const res = await broken.query();
    assert.ok("error" in res);
    assert.equal(broken.report(res, { waiting: 0, running: 0 }).source, "simulated");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
