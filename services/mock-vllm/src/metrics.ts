import { Gauge, Registry } from "prom-client";
import { Config } from "./config";
import { CounterSeries, FastCounter, FastHistogram, HistogramSeries } from "./fastMetrics";

/** Live engine state, read at scrape time so the gauges never lag behind. */
export interface EngineState {
  running(): number;
  waiting(): number;
  kvCacheUsage(): number;
}

/** vLLM's FinishReason values: every one has its series from the start. */
export const FINISHED_REASONS = ["stop", "length", "abort", "error", "repetition"] as const;
export type FinishedReason = (typeof FINISHED_REASONS)[number];

// Names, labels and bucket boundaries as in vLLM's V1 PrometheusStatLogger
// (vllm/v1/metrics/loggers.py, the version with vllm:engine_sleep_state and
// vllm:prompt_tokens_by_source). prometheus_client adds `_total` to counter names.
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const ITERATION_TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
];

/** vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... up to max. */
export function buckets125(max: number): number[] {
  const out: number[] = [];
  for (let exp = 1; ; exp *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * exp > max) return out;
      out.push(m * exp);
    }
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly promptTokens: CounterSeries;
  readonly generationTokens: CounterSeries;
  readonly success: Record<FinishedReason, CounterSeries>;
  readonly promptBySource: Record<"local_compute" | "local_cache_hit" | "external_kv_transfer", CounterSeries>;
  readonly promptCached: CounterSeries;
  readonly promptRecomputed: CounterSeries;
  readonly iterationTokens: HistogramSeries;
  readonly maxGenerationTokens: HistogramSeries;
  readonly timePerOutputToken: HistogramSeries;
  readonly prefillKvComputed: HistogramSeries;
  readonly prefixQueries: CounterSeries;
  readonly prefixHits: CounterSeries;
  readonly ttft: HistogramSeries;
  readonly itl: HistogramSeries;
  readonly e2e: HistogramSeries;
  readonly queueTime: HistogramSeries;
  readonly prefillTime: HistogramSeries;
  readonly decodeTime: HistogramSeries;
  readonly inferenceTime: HistogramSeries;
  readonly promptLen: HistogramSeries;
  readonly generationLen: HistogramSeries;
  readonly maxTokensParam: HistogramSeries;
  readonly nParam: HistogramSeries;

  constructor(config: Config, state: EngineState) {
    const r = this.registry;
    const labels = { model_name: config.servedModelNames[0], engine: "0" };
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["model_name", "engine"],
        registers: [r],
        collect() {
          this.set(labels, read());
        },
      });
    gauge("vllm:num_requests_running", "Number of requests in model execution batches.", () => state.running());
    gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", () => state.waiting());
    // The simulated scheduler has one reason to wait: no free slot (vLLM's "capacity").
    new Gauge({
      name: "vllm:num_requests_waiting_by_reason",
      help: "Number of waiting requests by reason. Reason labels: 'capacity' = waiting for scheduling capacity; 'deferred' = deferred by transient constraints (LoRA budget, KV transfer, blocked status).",
      labelNames: ["model_name", "engine", "reason"],
      registers: [r],
      collect() {
        this.set({ ...labels, reason: "capacity" }, state.waiting());
        this.set({ ...labels, reason: "deferred" }, 0);
      },
    });
    // The mock never sleeps: awake = 1, the two sleep levels 0.
    const sleep = new Gauge({
      name: "vllm:engine_sleep_state",
      help: "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
      labelNames: ["model_name", "engine", "sleep_state"],
      registers: [r],
    });
    sleep.set({ ...labels, sleep_state: "awake" }, 1);
    sleep.set({ ...labels, sleep_state: "weights_offloaded" }, 0);
    sleep.set({ ...labels, sleep_state: "discard_all" }, 0);
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", () => state.kvCacheUsage());
    if (config.mock.compatGpuCacheMetric) {
      gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage (deprecated, use vllm:kv_cache_usage_perc).", () =>
        state.kvCacheUsage(),
      );
    }
    const numBlocks = Math.floor(config.mock.kvCacheTokens / config.blockSize);
    const info = {
      block_size: String(config.blockSize),
      cache_dtype: config.kvCacheDtype,
      enable_prefix_caching: config.enablePrefixCaching ? "True" : "False",
      gpu_memory_utilization: String(config.gpuMemoryUtilization),
      num_gpu_blocks: String(numBlocks),
      num_cpu_blocks: "0",
      engine: "0",
    };
    new Gauge({
      name: "vllm:cache_config_info",
      help: "Information of the LLMEngine CacheConfig",
      labelNames: Object.keys(info),
      registers: [r],
    }).set(info, 1);

    const counter = (name: string, help: string) => new FastCounter(name, help).register(r);
    this.promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.").child(labels);
    this.generationTokens = counter("vllm:generation_tokens_total", "Number of generation tokens processed.").child(labels);
    counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.").child(labels);
    const success = counter("vllm:request_success_total", "Count of successfully processed requests.");
    this.success = Object.fromEntries(FINISHED_REASONS.map((f) => [f, success.child({ ...labels, finished_reason: f })])) as Record<
      FinishedReason,
      CounterSeries
    >;
    const bySource = counter("vllm:prompt_tokens_by_source_total", "Number of prompt tokens by source.");
    this.promptBySource = {
      local_compute: bySource.child({ ...labels, source: "local_compute" }),
      local_cache_hit: bySource.child({ ...labels, source: "local_cache_hit" }),
      external_kv_transfer: bySource.child({ ...labels, source: "external_kv_transfer" }),
    };
    this.promptCached = counter("vllm:prompt_tokens_cached_total", "Number of cached prompt tokens (local + external).").child(labels);
    this.promptRecomputed = counter("vllm:prompt_tokens_recomputed_total", "Number of cached tokens recomputed for forward pass.").child(
      labels,
    );
    this.prefixQueries = counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.").child(
      labels,
    );
    this.prefixHits = counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.").child(labels);
    // No KV connector and no multi-modal input in the simulation: these stay at 0.
    counter(
      "vllm:external_prefix_cache_queries_total",
      "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.",
    ).child(labels);
    counter(
      "vllm:external_prefix_cache_hits_total",
      "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.",
    ).child(labels);
    counter("vllm:mm_cache_queries_total", "Multi-modal cache queries, in terms of number of queried items.").child(labels);
    counter("vllm:mm_cache_hits_total", "Multi-modal cache hits, in terms of number of cached items.").child(labels);

    const histogram = (name: string, help: string, bounds: number[]) => new FastHistogram(name, help, bounds).register(r).child(labels);
    const lengths = buckets125(config.maxModelLen);
    this.ttft = histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_BUCKETS);
    this.itl = histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", ITL_BUCKETS);
    this.e2e = histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", REQUEST_LATENCY_BUCKETS);
    this.queueTime = histogram(
      "vllm:request_queue_time_seconds",
      "Histogram of time spent in WAITING phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.inferenceTime = histogram(
      "vllm:request_inference_time_seconds",
      "Histogram of time spent in RUNNING phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.prefillTime = histogram(
      "vllm:request_prefill_time_seconds",
      "Histogram of time spent in PREFILL phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.decodeTime = histogram(
      "vllm:request_decode_time_seconds",
      "Histogram of time spent in DECODE phase for request.",
      REQUEST_LATENCY_BUCKETS,
    );
    this.promptLen = histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", lengths);
    this.generationLen = histogram("vllm:request_generation_tokens", "Number of generation tokens processed.", lengths);
    this.maxTokensParam = histogram("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", lengths);
    this.nParam = histogram("vllm:request_params_n", "Histogram of the n request parameter.", [1, 2, 5, 10, 20]);
    this.iterationTokens = histogram(
      "vllm:iteration_tokens_total",
      "Histogram of number of tokens per engine_step.",
      ITERATION_TOKEN_BUCKETS,
    );
    this.maxGenerationTokens = histogram(
      "vllm:request_max_num_generation_tokens",
      "Histogram of maximum number of requested generation tokens.",
      lengths,
    );
    this.timePerOutputToken = histogram(
      "vllm:request_time_per_output_token_seconds",
      "Histogram of time_per_output_token_seconds per request.",
      ITL_BUCKETS,
    );
    this.prefillKvComputed = histogram(
      "vllm:request_prefill_kv_computed_tokens",
      "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
      lengths,
    );
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
