import type { Metric, Registry } from "prom-client";

/** The shape prom-client's Registry reads from a metric's get(). */
interface MetricValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}
interface MetricSnapshot {
  name: string;
  help: string;
  type: "counter" | "histogram" | "summary";
  aggregator: "sum";
  values: MetricValue[];
}

/**
 * Counters and histograms for the request hot path. prom-client's own `observe`/`inc` re-validate
 * and re-hash the label set on every call (~1 µs each, ~15 µs per request here), which alone
 * would cost a fifth of a core at the throughput target. These keep one pre-built series per
 * label set and plug into a prom-client Registry, which still does the exposition.
 */
type Labels = Record<string, string>;

abstract class FastMetric {
  readonly aggregator = "sum";
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "histogram" | "summary",
  ) {}
  abstract get(): MetricSnapshot;
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter extends FastMetric {
  private readonly series: CounterSeries[] = [];
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  child(labels: Labels): CounterSeries {
    const s = new CounterSeries(labels);
    this.series.push(s);
    return s;
  }
  get(): MetricSnapshot {
    return {
      name: this.name,
      help: this.help,
      type: "counter",
      aggregator: "sum",
      values: this.series.map((s) => ({ labels: s.labels, value: s.value })),
    };
  }
}

export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
  /** The same value `times` times: one call for a run of identical inter-token gaps. */
  observeMany(v: number, times: number): void {
    if (times <= 0) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i] += times;
    this.sum += v * times;
    this.count += times;
  }
}

export class FastHistogram extends FastMetric {
  private readonly series: HistogramSeries[] = [];
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, "histogram");
  }
  child(labels: Labels): HistogramSeries {
    const s = new HistogramSeries(labels, this.buckets);
    this.series.push(s);
    return s;
  }
  get(): MetricSnapshot {
    const values: MetricValue[] = [];
    for (const s of this.series) {
      let acc = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        acc += s.counts[i];
        const le = i < this.buckets.length ? this.buckets[i] : "+Inf";
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: acc });
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: "histogram", aggregator: "sum", values };
  }
}

/** A prometheus_client Summary without quantiles: only `_count` and `_sum`, as it exports them. */
export class SummarySeries {
  sum = 0;
  count = 0;
  constructor(readonly labels: Labels) {}
  observe(v: number): void {
    this.sum += v;
    this.count++;
  }
}

export class FastSummary extends FastMetric {
  private readonly series: SummarySeries[] = [];
  constructor(name: string, help: string) {
    super(name, help, "summary");
  }
  child(labels: Labels): SummarySeries {
    const s = new SummarySeries(labels);
    this.series.push(s);
    return s;
  }
  get(): MetricSnapshot {
    const values: MetricValue[] = [];
    for (const s of this.series) {
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
    }
    return { name: this.name, help: this.help, type: "summary", aggregator: "sum", values };
  }
}
