import assert from "node:assert/strict";
import { describe, test } from "node:test";
import OpenAI from "openai";
import { CommandLineError, MODEL_FLAG_DEPRECATION, parseCommandLine } from "../src/cli";
import { configFromCommandLine } from "../src/config";
import { freePort, raw, runMain, waitFor } from "./helpers";

const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => configFromCommandLine(parseCommandLine(argv, env));
const rejects = (argv: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}) =>
  assert.throws(
    () => config(argv, env),
    (e: unknown) => e instanceof Error && pattern.test(e.message),
    `${argv.join(" ")} should fail with ${pattern}`,
  );

describe("vllm serve command line", () => {
  test("the project's own command line", () => {
    const c = config([
      "Qwen/Qwen2.5-0.5B-Instruct",
      "--served-model-name",
      "qwen",
      "--max-model-len",
      "2048",
      "--gpu-memory-utilization",
      "0.6",
      "--trust-remote-code",
    ]);
    assert.equal(c.model, "Qwen/Qwen2.5-0.5B-Instruct");
    assert.deepEqual(c.servedModelNames, ["qwen"]);
    assert.equal(c.maxModelLen, 2048);
    assert.equal(c.gpuMemoryUtilization, 0.6);
    assert.equal(c.flags.get("trust-remote-code"), true);
    assert.equal(c.port, 8000);
    assert.equal(c.host, "0.0.0.0");
  });

  test("argparse spellings: --model, =values, several served names, underscores, short aliases, --no-", () => {
    const c = config([
      "--model=m",
      "--served-model-name",
      "a",
      "b",
      "--max_model_len",
      "32k",
      "-tp",
      "2",
      "--no-enable-prefix-caching",
      "--port=0",
      "-O3",
      "--api-key",
      "k",
    ]);
    assert.equal(c.model, "m");
    assert.deepEqual(c.servedModelNames, ["a", "b"]);
    assert.equal(c.maxModelLen, 32000);
    assert.equal(c.flags.get("tensor-parallel-size"), 2);
    assert.equal(c.enablePrefixCaching, false);
    assert.equal(c.port, 0);
    assert.deepEqual(c.apiKeys, ["k"]);
    assert.equal(config(["x", "--max-model-len", "4K"]).maxModelLen, 4096);
  });

  test("real deployment flags are accepted", () => {
    const c = config([
      "m",
      "--dtype",
      "bfloat16",
      "--quantization",
      "awq",
      "--tensor-parallel-size",
      "1",
      "--enable-prefix-caching",
      "--revision",
      "main",
      "--download-dir",
      "/root/.cache/huggingface",
      "--max-num-seqs",
      "64",
      "--enforce-eager",
      "--kv-cache-dtype",
      "fp8",
      "--swap-space",
      "4",
      "--disable-log-requests",
      "--uvicorn-log-level",
      "warning",
      "--chat-template",
      "/t.jinja",
      "--enable-auto-tool-choice",
      "--tool-call-parser",
      "hermes",
      "--shutdown-timeout",
      "30",
      "--seed",
      "1",
      "--block-size",
      "32",
      "--max-num-batched-tokens",
      "8192",
    ]);
    assert.equal(c.maxNumSeqs, 64);
    assert.equal(c.shutdownTimeoutS, 30);
    assert.equal(c.blockSize, 32);
    assert.equal(c.mock.seed, 1);
  });

  test("flags vLLM rejects are rejected, naming the flag and the expectation", () => {
    rejects(["m", "--foo"], /unrecognized arguments: --foo/);
    rejects(["m", "extra-positional"], /unrecognized arguments: extra-positional/);
    rejects(["m", "--max-model-len", "abc"], /--max-model-len: expected a positive integer/);
    rejects(["m", "--port", "70000"], /--port: expected an integer port/);
    rejects(["m", "--port", "eighty"], /--port: invalid int value: 'eighty'/);
    rejects(["m", "--gpu-memory-utilization", "1.5"], /--gpu-memory-utilization: expected a fraction in \(0, 1\]/);
    rejects(["m", "--dtype", "int3"], /--dtype: expected one of auto, half/);
    rejects(["m", "--quantization", "magic"], /--quantization: expected one of/);
    rejects(["m", "--max-num-seqs", "0"], /--max-num-seqs: expected a positive integer/);
    rejects(["m", "--served-model-name"], /--served-model-name: expected at least one argument/);
    rejects(["m", "--mock-ttft-ms", "-5"], /--mock-ttft-ms: expected milliseconds >= 0/);
    rejects(["m", "--mock-mode", "chaos"], /--mock-mode: expected echo or generate/);
    assert.throws(() => parseCommandLine(["--foo"]), CommandLineError);
  });

  test("simulation settings come from flags or MOCK_VLLM_* variables, flags winning", () => {
    const env = {
      MOCK_VLLM_TTFT_MS: "25",
      MOCK_VLLM_ITL_MS: "5",
      MOCK_VLLM_MODE: "generate",
      MOCK_VLLM_COMPAT_GPU_CACHE_METRIC: "1",
      VLLM_API_KEY: "envkey",
    };
    const c = config(["m", "--mock-itl-ms", "7"], env);
    assert.equal(c.mock.ttftMs, 25);
    assert.equal(c.mock.itlMs, 7);
    assert.equal(c.mock.mode, "generate");
    assert.equal(c.mock.compatGpuCacheMetric, true);
    assert.deepEqual(c.apiKeys, ["envkey"]);
    rejects(["m"], /environment variable MOCK_VLLM_FAILURE_RATE: expected a fraction/, { MOCK_VLLM_FAILURE_RATE: "2" });
  });
});

describe("the model: positional, or the deprecated --model", () => {
  test("the positional model is taken, with no warning", () => {
    const parsed = parseCommandLine(["Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen"]);
    assert.equal(parsed.model, "Qwen/Qwen2.5-0.5B-Instruct");
    assert.deepEqual(parsed.warnings, []);
    assert.equal(configFromCommandLine(parsed).model, "Qwen/Qwen2.5-0.5B-Instruct");
  });

  test("--model (either spelling, anywhere) is still taken, with vLLM's deprecation warning", () => {
    for (const argv of [
      ["--model", "Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen"],
      ["--served-model-name", "qwen", "--model=Qwen/Qwen2.5-0.5B-Instruct"],
    ]) {
      const parsed = parseCommandLine(argv);
      assert.equal(configFromCommandLine(parsed).model, "Qwen/Qwen2.5-0.5B-Instruct", argv.join(" "));
      assert.deepEqual(parsed.warnings, [MODEL_FLAG_DEPRECATION], argv.join(" "));
    }
    assert.match(MODEL_FLAG_DEPRECATION, /^With `vllm serve`, you should provide the model as a positional argument .*will be removed/);
  });

  test("a positional model and --model together are refused, saying the model is given twice", () => {
    rejects(
      ["m", "--model", "other"],
      /unrecognized arguments: m\n\nHint: the model is given twice, as the positional argument \('m'\) and with --model \('other'\)/,
    );
    rejects(["--model", "m", "m"], /unrecognized arguments: m\n\nHint: the model is given twice/);
    assert.throws(() => parseCommandLine(["m", "--model=other"]), CommandLineError);
  });

  test("the process prints the warning to stderr and starts; the conflict exits 2", { timeout: 30_000 }, async () => {
    const port = await freePort();
    const p = runMain(["--model", "m", "--host", "127.0.0.1", "--port", String(port)]);
    let stderr = "";
    p.child.stderr!.on("data", (d) => (stderr += d));
    try {
      await waitFor(() => p.output().includes("Application startup complete"), 20_000);
      assert.match(
        stderr,
        /^WARNING \d\d-\d\d \d\d:\d\d:\d\d \[mock_vllm\] With `vllm serve`, you should provide the model as a positional argument/m,
      );
      assert.equal((await raw(`http://127.0.0.1:${port}`, "GET", "/health")).status, 200);
    } finally {
      p.child.kill("SIGKILL");
    }
    const both = runMain(["m", "--model", "other"]);
    assert.equal(await both.exited, 2);
    assert.match(both.output(), /vllm serve: error: unrecognized arguments: m\n\nHint: the model is given twice/);
  });
});

describe("the mock-vllm process", () => {
  test("starts from the project's command line, serves the official client, drains on SIGTERM", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = runMain(
      [
        "Qwen/Qwen2.5-0.5B-Instruct",
        "--served-model-name",
        "qwen",
        "--max-model-len",
        "2048",
        "--gpu-memory-utilization",
        "0.6",
        "--trust-remote-code",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
      ],
      { MOCK_VLLM_ITL_MS: "20" },
    );
    try {
      await waitFor(() => p.output().includes("Application startup complete"), 30_000);
      assert.match(p.output(), /gpu-memory-utilization=0\.6/);
      const c = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "x", maxRetries: 0 });
      const res = await c.chat.completions.create({ model: "qwen", messages: [{ role: "user", content: "hello from the process" }] });
      assert.equal(res.choices[0].message.content, "hello from the process");
      // The healthcheck probe the container uses.
      const probe = runMain(["--mock-probe", `http://127.0.0.1:${port}/health`]);
      assert.equal(await probe.exited, 0);
      // SIGTERM during a stream: the stream completes, then the process exits 0.
      const s = await c.chat.completions.create({ model: "qwen", messages: [{ role: "user", content: "a b c d e f g h" }], stream: true });
      let text = "";
      let signalled = false;
      for await (const chunk of s) {
        text += chunk.choices[0]?.delta.content ?? "";
        if (!signalled) {
          p.child.kill("SIGTERM");
          signalled = true;
        }
      }
      assert.equal(text, "a b c d e f g h");
      assert.equal(await p.exited, 0);
      assert.match(p.output(), /Shutdown complete/);
      const down = runMain(["--mock-probe", `http://127.0.0.1:${port}/health`]);
      assert.equal(await down.exited, 1);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  test("an unknown flag exits 2 with argparse's message", { timeout: 30_000 }, async () => {
    const p = runMain(["some/model", "--definitely-not-a-flag", "1"]);
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /vllm serve: error: unrecognized arguments: --definitely-not-a-flag 1/);
  });

  test("loading: the port stays closed for --mock-startup-ms", { timeout: 30_000 }, async () => {
    const port = await freePort();
    const p = runMain(["m", "--host", "127.0.0.1", "--port", String(port), "--mock-startup-ms", "1500"]);
    try {
      await waitFor(() => p.output().includes("Loading model weights"), 20_000);
      await assert.rejects(raw(`http://127.0.0.1:${port}`, "GET", "/health"));
      await waitFor(() => p.output().includes("Application startup complete"), 20_000);
      assert.equal((await raw(`http://127.0.0.1:${port}`, "GET", "/health")).status, 200);
    } finally {
      p.child.kill("SIGKILL");
    }
  });
});
