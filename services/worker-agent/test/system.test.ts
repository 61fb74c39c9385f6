import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseLoadavg, parseMeminfo, parseNetDev, parseProcStatCpu, SystemSampler } from "../src/system";

const stat = (user: number, idle: number) => `cpu  ${user} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n`;
const netdev = (rx: number, tx: number) =>
  [
    "Inter-|   Receive                                                |  Transmit",
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
    `    lo: 999999 10 0 0 0 0 0 0 999999 10 0 0 0 0 0 0`,
    `  eth0: ${rx} 10 0 0 0 0 0 0 ${tx} 10 0 0 0 0 0 0`,
    "",
  ].join("\n");

test("/proc parsers", () => {
  assert.deepEqual(parseProcStatCpu(stat(100, 300)), { total: 400, idle: 300 });
  assert.equal(parseProcStatCpu("garbage"), null);
  assert.deepEqual(parseMeminfo("MemTotal:       16000 kB\nMemFree:  1 kB\nMemAvailable:    4000 kB\n"), {
    total: 16000 * 1024,
    available: 4000 * 1024,
  });
  assert.deepEqual(parseMeminfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 5 kB\n"), { total: 102400, available: 20480 });
  assert.deepEqual(parseLoadavg("0.52 0.58 0.59 1/467 12345\n"), [0.52, 0.58, 0.59]);
  assert.deepEqual(parseNetDev(netdev(1000, 2000)), { rx: 1000, tx: 2000 }, "loopback excluded");
  assert.equal(parseNetDev("Inter-|\n face |\n"), null);
});

test("sampler computes CPU % and network rates from deltas", async () => {
  const root = await mkdtemp(join(tmpdir(), "fake-proc-"));
  try {
    await mkdir(join(root, "net"));
    await writeFile(join(root, "meminfo"), "MemTotal: 1000 kB\nMemAvailable: 250 kB\n");
    await writeFile(join(root, "loadavg"), "1.5 1.0 0.5 1/1 1\n");
    await writeFile(join(root, "stat"), stat(100, 300));
    await writeFile(join(root, "net", "dev"), netdev(1000, 0));
    const sampler = new SystemSampler(tmpdir(), root);
    const first = await sampler.sample(0);
    assert.equal(first.cpu_usage_pct, null, "no delta yet");
    assert.equal(first.net_rx_bps, null);
    await writeFile(join(root, "stat"), stat(175, 325));
    await writeFile(join(root, "net", "dev"), netdev(3000, 500));
    const s = await sampler.sample(2000);
    assert.equal(s.cpu_usage_pct, 75);
    assert.equal(s.net_rx_bps, 1000);
    assert.equal(s.net_tx_bps, 250);
    assert.equal(s.mem_total_bytes, 1024000);
    assert.equal(s.mem_used_bytes, 768000);
    assert.equal(s.mem_used_pct, 75);
    assert.equal(s.load1, 1.5);
    assert.ok(s.disk_total_bytes! > 0 && s.disk_used_bytes! >= 0 && s.disk_used_bytes! <= s.disk_total_bytes!);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("missing /proc files and disk path give nulls, not errors", async () => {
  const s = await new SystemSampler("/nonexistent/path", "/nonexistent/proc").sample();
  assert.equal(s.cpu_usage_pct, null);
  assert.equal(s.mem_total_bytes, null);
  assert.equal(s.disk_total_bytes, null);
  assert.equal(s.net_rx_bps, null);
});

test("the real /proc yields figures", { skip: process.platform !== "linux" }, async () => {
  const sampler = new SystemSampler("/");
  await sampler.sample();
  await new Promise((r) => setTimeout(r, 50));
  const s = await sampler.sample();
  for (const k of ["load1", "mem_total_bytes", "mem_used_bytes", "disk_total_bytes", "disk_used_bytes", "net_rx_bps"] as const) {
    assert.equal(typeof s[k], "number", k);
  }
});
