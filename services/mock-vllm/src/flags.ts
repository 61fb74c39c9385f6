import { mockEnvVar, SERVER_ENV } from "../../../contract";
import { Schema, int, number, oneOf } from "./validate";

/**
 * The `vllm serve` flags the mock knows. Real deployments pass flags the mock has no use for;
 * rejecting them would stop a real vLLM manifest from running against the mock, so every flag
 * vLLM accepts is listed here (and validated when its value has a meaning), while a flag vLLM
 * itself would reject gets argparse's "unrecognized arguments" error.
 */
export type FlagKind = "string" | "int" | "float" | "bool" | "list";

export interface FlagSpec {
  readonly name: string; // without the leading dashes
  readonly kind: FlagKind;
  /** Extra check on the value; `expect` words the error message. */
  readonly schema?: Schema<unknown>;
  readonly expect?: string;
  readonly aliases?: readonly string[];
  readonly help?: string;
  /** Environment variable read when the flag is absent (only mock flags and --api-key). */
  readonly env?: string;
}

// vLLM accepts "32k", "1M" style integers for a few sizes (parse_human_readable_int).
export function parseHumanInt(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(raw.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  const unit = m[2];
  // Lower-case units are decimal, upper-case binary, as in vLLM.
  const mult: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  const value = base * (mult[unit] ?? 1);
  return Number.isInteger(value) ? value : undefined;
}

const positive = int({ min: 1 });
const nonNegative = int({ min: 0 });
const choice = (...values: string[]) => oneOf(values);

export const DTYPES = ["auto", "half", "float16", "bfloat16", "float", "float32"] as const;
export const QUANTIZATIONS = [
  "aqlm", "awq", "awq_marlin", "deepspeedfp", "tpu_int8", "fp8", "ptpc_fp8", "fbgemm_fp8", "modelopt",
  "modelopt_fp4", "nvfp4", "marlin", "bitblas", "gguf", "gptq_marlin_24", "gptq_marlin", "gptq_bitblas",
  "awq_triton", "gptq", "compressed-tensors", "bitsandbytes", "qqq", "hqq", "experts_int8", "neuron_quant",
  "ipex", "quark", "moe_wna16", "torchao", "auto-round", "rtn", "inc", "mxfp4", "petit_nvfp4", "fp_quant",
  "None",
] as const;

// What `vllm serve` accepts, read from vllm-project/vllm: the frontend flags of
// vllm/entrypoints/openai/cli_args.py (FrontendArgs, make_arg_parser) at 0052233386 and the
// engine flags of vllm/engine/arg_utils.py (EngineArgs.add_cli_args, AsyncEngineArgs) of the same
// period (the one with --optimization-level and no --task). Flags removed there (--task,
// multi-step scheduling, ...) are unrecognized here too, as they are in vLLM.
const vllm: FlagSpec[] = [
  // Server (frontend) flags.
  { name: "model", kind: "string", help: "model name or path (same as the positional argument)" },
  { name: "host", kind: "string" },
  { name: "port", kind: "int", schema: int({ min: 0, max: 65535 }), expect: "an integer port in [0, 65535]" },
  { name: "uds", kind: "string" },
  { name: "uvicorn-log-level", kind: "string", schema: choice("debug", "info", "warning", "error", "critical", "trace"), expect: "one of debug, info, warning, error, critical, trace" },
  { name: "disable-uvicorn-access-log", kind: "bool" },
  { name: "allow-credentials", kind: "bool" },
  { name: "allowed-origins", kind: "string" },
  { name: "allowed-methods", kind: "string" },
  { name: "allowed-headers", kind: "string" },
  { name: "api-key", kind: "list", env: SERVER_ENV.apiKey, help: "require `Authorization: Bearer <key>` on /v1 routes" },
  { name: "lora-modules", kind: "list" },
  { name: "prompt-adapters", kind: "list" },
  { name: "chat-template", kind: "string" },
  { name: "chat-template-content-format", kind: "string", schema: choice("auto", "string", "openai"), expect: "one of auto, string, openai" },
  { name: "trust-request-chat-template", kind: "bool" },
  { name: "response-role", kind: "string" },
  { name: "ssl-keyfile", kind: "string" },
  { name: "ssl-certfile", kind: "string" },
  { name: "ssl-ca-certs", kind: "string" },
  { name: "enable-ssl-refresh", kind: "bool" },
  { name: "ssl-cert-reqs", kind: "int" },
  { name: "root-path", kind: "string" },
  { name: "middleware", kind: "list" },
  { name: "return-tokens-as-token-ids", kind: "bool" },
  { name: "disable-frontend-multiprocessing", kind: "bool" },
  { name: "enable-request-id-headers", kind: "bool" },
  { name: "enable-auto-tool-choice", kind: "bool" },
  { name: "exclude-tools-when-tool-choice-none", kind: "bool" },
  { name: "expand-tools-even-if-tool-choice-none", kind: "bool" },
  { name: "tool-call-parser", kind: "string" },
  { name: "tool-parser-plugin", kind: "string" },
  { name: "tool-server", kind: "string" },
  { name: "log-config-file", kind: "string" },
  { name: "max-log-len", kind: "int" },
  { name: "disable-fastapi-docs", kind: "bool" },
  { name: "enable-prompt-tokens-details", kind: "bool" },
  { name: "enable-server-load-tracking", kind: "bool" },
  { name: "enable-force-include-usage", kind: "bool" },
  { name: "enable-tokenizer-info-endpoint", kind: "bool" },
  { name: "enable-log-outputs", kind: "bool" },
  { name: "log-error-stack", kind: "bool" },
  { name: "h11-max-incomplete-event-size", kind: "int", schema: positive, expect: "a positive number of bytes", help: "largest request head (the mock's default: 16 KiB, Node's; vLLM's: 4 MiB)" },
  { name: "h11-max-header-count", kind: "int", schema: positive, expect: "a positive integer", help: "most header lines in a request, 431 beyond (default 256)" },
  { name: "tokens-only", kind: "bool" },
  { name: "api-server-count", aliases: ["asc"], kind: "int", schema: positive, expect: "a positive integer" },
  { name: "config", kind: "string" },
  { name: "grpc", kind: "bool" },
  { name: "default-chat-template-kwargs", kind: "string", expect: "a JSON object" },
  { name: "disable-access-log-for-endpoints", kind: "string" },
  { name: "ssl-ciphers", kind: "string" },
  { name: "fingerprint-mode", kind: "string", schema: choice("full", "hash", "custom", "none"), expect: "one of custom, full, hash, none" },
  { name: "fingerprint-value", kind: "string" },
  { name: "enable-per-request-metrics", kind: "bool" },
  { name: "enable-log-deltas", kind: "bool" },
  { name: "cohere-is-reasoning-model", kind: "bool" },
  { name: "cohere-format", kind: "string" },
  { name: "enable-offline-docs", kind: "bool" },
  { name: "enable-flash-late-interaction", kind: "bool" },
  { name: "data-parallel-supervisor-port", kind: "int" },
  { name: "dp-supervisor-probe-interval-s", kind: "float" },
  { name: "dp-supervisor-probe-timeout-s", kind: "float" },
  { name: "dp-supervisor-probe-failure-threshold", kind: "int" },
  { name: "headless", kind: "bool" },
  { name: "shutdown-timeout", kind: "int", schema: nonNegative, expect: "a whole number of seconds >= 0", help: "seconds in-flight requests get to finish after SIGTERM" },
  { name: "disable-log-requests", kind: "bool" },
  { name: "enable-log-requests", kind: "bool" },
  { name: "disable-log-stats", kind: "bool" },
  // Model.
  { name: "runner", kind: "string", schema: choice("auto", "generate", "pooling", "draft"), expect: "one of auto, generate, pooling, draft" },
  { name: "convert", kind: "string", schema: choice("auto", "none", "embed", "classify", "reward"), expect: "one of auto, classify, embed, none, reward" },
  { name: "tokenizer", kind: "string" },
  { name: "tokenizer-mode", kind: "string" },
  { name: "trust-remote-code", kind: "bool" },
  { name: "dtype", kind: "string", schema: oneOf(DTYPES), expect: `one of ${DTYPES.join(", ")}` },
  { name: "seed", kind: "int", schema: int(), expect: "an integer" },
  { name: "hf-config-path", kind: "string" },
  { name: "allowed-local-media-path", kind: "string" },
  { name: "allowed-media-domains", kind: "list" },
  { name: "revision", kind: "string" },
  { name: "code-revision", kind: "string" },
  { name: "rope-scaling", kind: "string" },
  { name: "rope-theta", kind: "float" },
  { name: "tokenizer-revision", kind: "string" },
  { name: "max-model-len", kind: "string", expect: "a positive integer (e.g. 2048, 32k, 1M)" },
  { name: "quantization", aliases: ["q"], kind: "string", schema: oneOf(QUANTIZATIONS), expect: `one of ${QUANTIZATIONS.join(", ")}` },
  { name: "enforce-eager", kind: "bool" },
  { name: "allow-deprecated-quantization", kind: "bool" },
  { name: "enable-return-routed-experts", kind: "bool" },
  { name: "max-seq-len-to-capture", kind: "int" },
  { name: "max-logprobs", kind: "int", schema: int({ min: -1 }), expect: "an integer >= -1", help: "largest logprobs / top_logprobs / prompt_logprobs a request may ask (default 20; -1: the vocabulary)" },
  { name: "logprobs-mode", kind: "string" },
  { name: "disable-sliding-window", kind: "bool" },
  { name: "disable-cascade-attn", kind: "bool" },
  { name: "skip-tokenizer-init", kind: "bool" },
  { name: "enable-prompt-embeds", kind: "bool" },
  { name: "served-model-name", kind: "list" },
  { name: "disable-async-output-proc", kind: "bool" },
  { name: "config-format", kind: "string" },
  { name: "hf-token", kind: "string" },
  { name: "hf-overrides", kind: "string" },
  { name: "override-neuron-config", kind: "string" },
  { name: "override-pooler-config", kind: "string" },
  { name: "pooler-config", kind: "string" },
  { name: "logits-processor-pattern", kind: "string" },
  { name: "generation-config", kind: "string" },
  { name: "override-generation-config", kind: "string" },
  { name: "enable-sleep-mode", kind: "bool" },
  { name: "model-impl", kind: "string" },
  { name: "override-attention-dtype", kind: "string" },
  { name: "logits-processors", kind: "list" },
  { name: "io-processor-plugin", kind: "string" },
  // Load.
  { name: "load-format", kind: "string" },
  { name: "download-dir", kind: "string" },
  { name: "model-loader-extra-config", kind: "string" },
  { name: "ignore-patterns", kind: "list" },
  { name: "use-tqdm-on-load", kind: "bool" },
  { name: "pt-load-map-location", kind: "string" },
  { name: "attention-backend", kind: "string" },
  { name: "reasoning-parser-plugin", kind: "string" },
  { name: "safetensors-load-strategy", kind: "string" },
  // Decoding.
  { name: "guided-decoding-backend", kind: "string" },
  { name: "guided-decoding-disable-fallback", kind: "bool" },
  { name: "guided-decoding-disable-any-whitespace", kind: "bool" },
  { name: "structured-outputs-config", kind: "string" },
  { name: "reasoning-parser", kind: "string" },
  // Parallelism.
  { name: "distributed-executor-backend", kind: "string" },
  { name: "pipeline-parallel-size", aliases: ["pp"], kind: "int", schema: positive, expect: "a positive integer" },
  { name: "tensor-parallel-size", aliases: ["tp"], kind: "int", schema: positive, expect: "a positive integer" },
  { name: "decode-context-parallel-size", aliases: ["dcp"], kind: "int", schema: positive, expect: "a positive integer" },
  { name: "data-parallel-size", aliases: ["dp"], kind: "int", schema: positive, expect: "a positive integer" },
  { name: "data-parallel-rank", aliases: ["dpn"], kind: "int" },
  { name: "data-parallel-start-rank", aliases: ["dpr"], kind: "int" },
  { name: "data-parallel-size-local", aliases: ["dpl"], kind: "int" },
  { name: "data-parallel-address", aliases: ["dpa"], kind: "string" },
  { name: "data-parallel-rpc-port", aliases: ["dpp"], kind: "int" },
  { name: "data-parallel-backend", aliases: ["dpb"], kind: "string" },
  { name: "data-parallel-hybrid-lb", aliases: ["dph"], kind: "bool" },
  { name: "data-parallel-external-lb", aliases: ["dpe"], kind: "bool" },
  { name: "master-addr", kind: "string" },
  { name: "master-port", kind: "int" },
  { name: "nnodes", aliases: ["n"], kind: "int", schema: positive, expect: "a positive integer" },
  { name: "node-rank", aliases: ["r"], kind: "int", schema: nonNegative, expect: "an integer >= 0" },
  { name: "prefill-context-parallel-size", aliases: ["pcp"], kind: "int", schema: positive, expect: "a positive integer" },
  { name: "dcp-kv-cache-interleave-size", kind: "int" },
  { name: "cp-kv-cache-interleave-size", kind: "int" },
  { name: "all2all-backend", kind: "string" },
  { name: "enable-dbo", kind: "bool" },
  { name: "ubatch-size", kind: "int" },
  { name: "dbo-decode-token-threshold", kind: "int" },
  { name: "dbo-prefill-token-threshold", kind: "int" },
  { name: "disable-nccl-for-dp-synchronization", kind: "bool" },
  { name: "expert-placement-strategy", kind: "string" },
  { name: "enable-expert-parallel", aliases: ["ep"], kind: "bool" },
  { name: "enable-eplb", kind: "bool" },
  { name: "eplb-config", kind: "string" },
  { name: "max-parallel-loading-workers", kind: "int" },
  { name: "ray-workers-use-nsight", kind: "bool" },
  { name: "disable-custom-all-reduce", kind: "bool" },
  { name: "worker-cls", kind: "string" },
  { name: "worker-extension-cls", kind: "string" },
  { name: "enable-multimodal-encoder-data-parallel", kind: "bool" },
  // KV cache.
  { name: "block-size", kind: "int", schema: oneOf([1, 8, 16, 32, 64, 128]), expect: "one of 1, 8, 16, 32, 64, 128" },
  { name: "gpu-memory-utilization", kind: "float", schema: number({ gt: 0, max: 1 }), expect: "a fraction in (0, 1]" },
  { name: "kv-cache-memory-bytes", kind: "string" },
  { name: "swap-space", kind: "float", schema: number({ min: 0 }), expect: "a number of GiB >= 0" },
  { name: "kv-cache-dtype", kind: "string", schema: choice("auto", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc", "bfloat16"), expect: "one of auto, fp8, fp8_e4m3, fp8_e5m2, fp8_inc, bfloat16" },
  { name: "num-gpu-blocks-override", kind: "int", schema: positive, expect: "a positive integer" },
  { name: "enable-prefix-caching", kind: "bool" },
  { name: "prefix-caching-hash-algo", kind: "string" },
  { name: "cpu-offload-gb", kind: "float", schema: number({ min: 0 }), expect: "a number of GiB >= 0" },
  { name: "calculate-kv-scales", kind: "bool" },
  { name: "kv-sharing-fast-prefill", kind: "bool" },
  { name: "mamba-cache-dtype", kind: "string" },
  { name: "mamba-ssm-cache-dtype", kind: "string" },
  { name: "mamba-block-size", kind: "int" },
  { name: "mamba-cache-mode", kind: "string" },
  { name: "kv-offloading-size", kind: "float" },
  { name: "kv-offloading-backend", kind: "string" },
  // Multimodal and LoRA.
  { name: "limit-mm-per-prompt", kind: "string" },
  { name: "media-io-kwargs", kind: "string" },
  { name: "mm-processor-kwargs", kind: "string" },
  { name: "mm-processor-cache-gb", kind: "float" },
  { name: "disable-mm-preprocessor-cache", kind: "bool" },
  { name: "mm-encoder-tp-mode", kind: "string" },
  { name: "enable-mm-embeds", kind: "bool" },
  { name: "mm-processor-cache-type", kind: "string" },
  { name: "mm-shm-cache-max-object-size-mb", kind: "int" },
  { name: "mm-encoder-only", kind: "bool" },
  { name: "mm-encoder-attn-backend", kind: "string" },
  { name: "video-pruning-rate", kind: "float" },
  { name: "interleave-mm-strings", kind: "bool" },
  { name: "skip-mm-profiling", kind: "bool" },
  { name: "enable-lora", kind: "bool" },
  { name: "enable-lora-bias", kind: "bool" },
  { name: "max-loras", kind: "int" },
  { name: "max-lora-rank", kind: "int" },
  { name: "lora-extra-vocab-size", kind: "int" },
  { name: "lora-dtype", kind: "string" },
  { name: "max-cpu-loras", kind: "int" },
  { name: "fully-sharded-loras", kind: "bool" },
  { name: "default-mm-loras", kind: "string" },
  { name: "enable-tower-connector-lora", kind: "bool" },
  { name: "specialize-active-lora", kind: "bool" },
  // Observability.
  { name: "show-hidden-metrics-for-version", kind: "string" },
  { name: "otlp-traces-endpoint", kind: "string" },
  { name: "collect-detailed-traces", kind: "list" },
  { name: "kv-cache-metrics", kind: "bool" },
  { name: "kv-cache-metrics-sample", kind: "float" },
  { name: "cudagraph-metrics", kind: "bool" },
  { name: "enable-layerwise-nvtx-tracing", kind: "bool" },
  { name: "enable-mfu-metrics", kind: "bool" },
  { name: "enable-logging-iteration-details", kind: "bool" },
  // Scheduler.
  { name: "max-num-batched-tokens", kind: "string", expect: "a positive integer (e.g. 8192, 16k)" },
  { name: "max-num-seqs", kind: "int", schema: positive, expect: "a positive integer" },
  { name: "max-num-partial-prefills", kind: "int" },
  { name: "max-long-partial-prefills", kind: "int" },
  { name: "long-prefill-token-threshold", kind: "int" },
  { name: "cuda-graph-sizes", kind: "list" },
  { name: "num-lookahead-slots", kind: "int" },
  { name: "scheduler-delay-factor", kind: "float" },
  { name: "preemption-mode", kind: "string" },
  { name: "scheduling-policy", kind: "string", schema: choice("fcfs", "priority"), expect: "one of fcfs, priority" },
  { name: "enable-chunked-prefill", kind: "bool" },
  { name: "disable-chunked-mm-input", kind: "bool" },
  { name: "scheduler-cls", kind: "string" },
  { name: "disable-hybrid-kv-cache-manager", kind: "bool" },
  { name: "async-scheduling", kind: "bool" },
  { name: "stream-interval", kind: "int", schema: positive, expect: "a positive integer" },
  // Everything else.
  { name: "speculative-config", kind: "string" },
  { name: "kv-transfer-config", kind: "string" },
  { name: "kv-events-config", kind: "string" },
  { name: "compilation-config", aliases: ["cc"], kind: "string" },
  // -O<n> / -O <n> is the optimization level (FlexibleArgumentParser rewrites it to this flag).
  { name: "optimization-level", aliases: ["O"], kind: "int", schema: oneOf([0, 1, 2, 3]), expect: "one of 0, 1, 2, 3" },
  { name: "attention-config", aliases: ["ac"], kind: "string" },
  { name: "ec-transfer-config", kind: "string" },
  { name: "profiler-config", kind: "string" },
  { name: "afd-config", kind: "string" },
  { name: "weight-transfer-config", kind: "string" },
  { name: "cudagraph-capture-sizes", kind: "list" },
  { name: "max-cudagraph-capture-size", kind: "int", schema: positive, expect: "a positive integer" },
  { name: "enable-fault-tolerance", kind: "bool" },
  { name: "shutdown-on-fault-tolerance-failure", kind: "bool" },
  { name: "engine-recovery-timeout", kind: "int" },
  { name: "internal-fault-report-port", kind: "int" },
  { name: "external-fault-notify-port", kind: "int" },
  { name: "gloo-comm-timeout", kind: "int" },
  { name: "aggregate-engine-logging", kind: "bool" },
  { name: "additional-config", kind: "string" },
  { name: "device", kind: "string" },
  { name: "structured-outputs-backend", kind: "string" },
];

const ms = number({ min: 0 });
const fraction = number({ min: 0, max: 1 });
const status = int({ min: 400, max: 599 });

/** Simulation settings; each also reads its variable (contract's mockEnvVar) from the environment. */
const mock: FlagSpec[] = [
  { name: "mock-mode", kind: "string", schema: choice("echo", "generate"), expect: "echo or generate", help: "echo: reply with the last user message; generate: seeded random text" },
  { name: "mock-seed", kind: "int", schema: int(), expect: "an integer", help: "seed for generated text, jitter and random failures (default: --seed, else 0)" },
  { name: "mock-output-len", kind: "int", schema: positive, expect: "a positive integer", help: "generate mode: tokens produced before a natural stop (default 64)" },
  { name: "mock-ttft-ms", kind: "float", schema: ms, expect: "milliseconds >= 0", help: "time to first token (default 0)" },
  { name: "mock-ttft-jitter-ms", kind: "float", schema: ms, expect: "milliseconds >= 0", help: "uniform +/- jitter on time to first token" },
  { name: "mock-itl-ms", kind: "float", schema: ms, expect: "milliseconds >= 0", help: "inter-token latency (default 0)" },
  { name: "mock-itl-jitter-ms", kind: "float", schema: ms, expect: "milliseconds >= 0", help: "uniform +/- jitter on inter-token latency" },
  { name: "mock-prefill-ms-per-token", kind: "float", schema: ms, expect: "milliseconds >= 0", help: "extra time to first token per prompt token" },
  { name: "mock-load-factor", kind: "float", schema: number({ min: 1 }), expect: "a number >= 1", help: "latency multiplier when all --max-num-seqs slots are busy (linear in between; 1 = off)" },
  { name: "mock-startup-ms", kind: "float", schema: ms, expect: "milliseconds >= 0", help: "simulated model loading time" },
  { name: "mock-startup-mode", kind: "string", schema: choice("closed", "unhealthy"), expect: "closed or unhealthy", help: "closed: port opens after loading (like vLLM); unhealthy: port open, 503 until loaded" },
  { name: "mock-failure-rate", kind: "float", schema: fraction, expect: "a fraction in [0, 1]", help: "share of inference requests answered with --mock-failure-status" },
  { name: "mock-failure-status", kind: "int", schema: status, expect: "an HTTP status in [400, 599]", help: "status for injected failures (default 503)" },
  { name: "mock-fail-first-n", kind: "int", schema: nonNegative, expect: "an integer >= 0", help: "fail the first N inference requests, then succeed" },
  { name: "mock-drop-rate", kind: "float", schema: fraction, expect: "a fraction in [0, 1]", help: "share of inference requests whose connection is dropped mid-response" },
  { name: "mock-max-waiting", kind: "int", schema: nonNegative, expect: "an integer >= 0", help: "waiting-queue bound, 429 beyond it (0 = unbounded, as vLLM)" },
  { name: "mock-max-body-bytes", kind: "int", schema: positive, expect: "a positive number of bytes", help: "request body limit, 413 beyond it (default 16 MiB)" },
  { name: "mock-max-response-tokens", kind: "int", schema: positive, expect: "a positive integer", help: "tokens one response may carry: n x completion (+ echoed prompt), or /tokenize's list (default: max(65536, --max-model-len))" },
  { name: "mock-max-json-values", kind: "int", schema: positive, expect: "a positive integer", help: "JSON values in one request body, 413 beyond (default: max(262144, 2 x --max-model-len))" },
  { name: "mock-headers-timeout-s", kind: "float", schema: number({ gt: 0 }), expect: "seconds > 0", help: "a request's headers must arrive within this, else 408 and close (default 10)" },
  { name: "mock-request-timeout-s", kind: "float", schema: number({ gt: 0 }), expect: "seconds > 0", help: "a whole request, body included, must arrive within this, else 408 and close (default 30)" },
  { name: "mock-kv-cache-tokens", kind: "int", schema: positive, expect: "a positive integer", help: "simulated KV-cache capacity in tokens" },
  { name: "mock-embedding-dim", kind: "int", schema: positive, expect: "a positive integer", help: "embedding vector size (default 384)" },
  { name: "mock-compat-gpu-cache-metric", kind: "bool", help: "also emit the deprecated vllm:gpu_cache_usage_perc" },
  { name: "mock-vllm-version", kind: "string", help: "version reported by /version and the start-up log (default 0.18.0; the program passes the vLLM release its gpu image pins)" },
  { name: "mock-log-requests", kind: "bool", help: "log one line per request" },
].map((f) => ({ ...f, env: mockEnvVar(f.name as `mock-${string}`) }) as FlagSpec);

export const FLAGS: readonly FlagSpec[] = [...vllm, ...mock];

const byName = new Map<string, FlagSpec>();
for (const f of FLAGS) {
  byName.set(f.name, f);
  for (const a of f.aliases ?? []) byName.set(a, f);
}
export function findFlag(name: string): FlagSpec | undefined {
  return byName.get(name);
}
