import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { freePort, raw, runMain, waitFor } from "./helpers";

/**
 * SIGTERM/SIGINT in every phase of the real process. A clean exit (code 0, not killed by the
 * signal) is what shows the signal was handled: outside a container an unhandled SIGTERM kills
 * the process at once, but as PID 1 in a container the kernel ignores it, and `docker stop` then
 * waits the whole stop timeout. Bounds are one-sided and generous; a load takes 60 s here.
 */
const PROMPT_MS = 5_000;
const LOADING_MS = "60000";

type Main = ReturnType<typeof runMain>;

async function signal(p: Main, name: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = performance.now();
  p.child.kill(name);
  const code = await p.exited;
  return { code, signal: p.child.signalCode, ms: performance.now() - t0 };
}

function assertExited(
  r: { code: number | null; signal: NodeJS.Signals | null; ms: number },
  code: number,
  withinMs: number,
  p: Main,
): void {
  assert.deepEqual(
    { code: r.code, signal: r.signal },
    { code, signal: null },
    `expected a handled signal and exit code ${code}; output:\n${p.output()}`,
  );
  assert.ok(r.ms < withinMs, `exited after ${r.ms.toFixed(0)} ms, expected < ${withinMs} ms`);
}

const health = (port: number) =>
  raw(`http://127.0.0.1:${port}`, "GET", "/health").then(
    (r) => r.status,
    () => 0,
  );

/** Starts a long echo stream and resolves once its first token has arrived. */
function startStream(port: number, words: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const content = Array.from({ length: words }, (_, i) => `w${i}`).join(" ");
    const req = request(
      `http://127.0.0.1:${port}/v1/chat/completions`,
      { method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        res.once("data", () => resolve());
        res.on("error", () => {});
        res.resume();
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ model: "m", messages: [{ role: "user", content }], stream: true }));
  });
}

describe("mock-vllm process shutdown", () => {
  for (const name of ["SIGTERM", "SIGINT"] as const) {
    test(`${name} while loading the model with the port closed exits at once`, { timeout: 60_000 }, async () => {
      const port = await freePort();
      const p = runMain(["m", "--host", "127.0.0.1", "--port", String(port)], { MOCK_VLLM_STARTUP_MS: LOADING_MS });
      try {
        await waitFor(() => p.output().includes("Loading model weights"), 30_000);
        assert.equal(await health(port), 0, "the port stays closed while loading");
        assertExited(await signal(p, name), 0, PROMPT_MS, p);
        assert.match(p.output(), new RegExp(`${name} received while loading the model`));
      } finally {
        p.child.kill("SIGKILL");
      }
    });
  }

  test("SIGTERM while loading with the port open (/health 503) exits at once", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = runMain(["m", "--host", "127.0.0.1", "--port", String(port)], {
      MOCK_VLLM_STARTUP_MS: LOADING_MS,
      MOCK_VLLM_STARTUP_MODE: "unhealthy",
    });
    try {
      await waitFor(async () => (await health(port)) === 503, 30_000);
      assertExited(await signal(p, "SIGTERM"), 0, PROMPT_MS, p);
      assert.match(p.output(), /Shutdown complete/);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  test("SIGTERM while serving and idle (a keep-alive connection open) exits at once", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = runMain(["m", "--host", "127.0.0.1", "--port", String(port)]);
    try {
      await waitFor(() => p.output().includes("Application startup complete"), 30_000);
      assert.equal(await health(port), 200);
      assertExited(await signal(p, "SIGTERM"), 0, PROMPT_MS, p);
      assert.match(p.output(), /Shutdown complete/);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  test("while draining, a stream still running is cut at --shutdown-timeout", { timeout: 60_000 }, async () => {
    const port = await freePort();
    // 100 tokens at 200 ms: the stream would run for 20 s.
    const p = runMain(["m", "--host", "127.0.0.1", "--port", String(port), "--shutdown-timeout", "1"], { MOCK_VLLM_ITL_MS: "200" });
    try {
      await waitFor(() => p.output().includes("Application startup complete"), 30_000);
      await startStream(port, 100);
      assertExited(await signal(p, "SIGTERM"), 0, 1_000 + PROMPT_MS, p);
      assert.match(p.output(), /draining in-flight requests \(up to 1 s\)/);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  test("while draining, a second SIGTERM exits at once", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = runMain(["m", "--host", "127.0.0.1", "--port", String(port), "--shutdown-timeout", "60"], { MOCK_VLLM_ITL_MS: "200" });
    try {
      await waitFor(() => p.output().includes("Application startup complete"), 30_000);
      await startStream(port, 100);
      p.child.kill("SIGTERM");
      await waitFor(() => p.output().includes("draining in-flight requests"), 10_000);
      assertExited(await signal(p, "SIGTERM"), 1, PROMPT_MS, p);
      assert.match(p.output(), /SIGTERM again: exiting now/);
    } finally {
      p.child.kill("SIGKILL");
    }
  });
});
