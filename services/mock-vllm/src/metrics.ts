import { Gauge, Registry } from "prom-client";
import { Config } from "./config";
import { CounterSeries, FastCounter, FastHistogram, HistogramSeries } from "./fastMetrics";

/** Live engine state, read at scrape time so the gauges never lag behind. */
export interface EngineState {
  running(): number;
  waiting(): number;
  kvCacheUsage(): number;
}

export type FinishedReason = "stop" | "length" | "abort";

// Bucket boundaries as in vLLM's V1 PrometheusStatLogger.
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

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
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", () => state.kvCacheUsage());
    if (config.mock.compatGpuCacheMetric) {
      gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage (deprecated, use vllm:kv_cache_usage_perc).", () => state.kvCacheUsage());
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
    new Gauge({ name: "vllm:cache_config_info", help: "Information of the LLMEngine CacheConfig", labelNames: Object.keys(info), registers: [r] }).set(info, 1);

    const counter = (name: string, help: string) => new FastCounter(name, help).register(r);
    this.promptTokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.").child(labels);
    this.generationTokens = counter("vllm:generation_tokens_total", "Number of generation tokens processed.").child(labels);
    counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.").child(labels);
    const success = counter("vllm:request_success_total", "Count of successfully processed requests.");
    this.success = {
      stop: success.child({ ...labels, finished_reason: "stop" }),
      length: success.child({ ...labels, finished_reason: "length" }),
      abort: success.child({ ...labels, finished_reason: "abort" }),
    };
    this.prefixQueries = counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.").child(labels);
    this.prefixHits = counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.").child(labels);

    const histogram = (name: string, help: string, bounds: number[]) => new FastHistogram(name, help, bounds).register(r).child(labels);
    const lengths = buckets125(config.maxModelLen);
    this.ttft = histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_BUCKETS);
    this.itl = histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", ITL_BUCKETS);
    this.e2e = histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", REQUEST_LATENCY_BUCKETS);
    this.queueTime = histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", REQUEST_LATENCY_BUCKETS);
    this.inferenceTime = histogram("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", REQUEST_LATENCY_BUCKETS);
    this.prefillTime = histogram("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", REQUEST_LATENCY_BUCKETS);
    this.decodeTime = histogram("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", REQUEST_LATENCY_BUCKETS);
    this.promptLen = histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", lengths);
    this.generationLen = histogram("vllm:request_generation_tokens", "Number of generation tokens processed.", lengths);
    this.maxTokensParam = histogram("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", lengths);
    this.nParam = histogram("vllm:request_params_n", "Histogram of the n request parameter.", [1, 2, 5, 10, 20]);
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
