import { Counter, Gauge, Registry } from "prom-client";
import type { GpuSample } from "./gpu";
import { queueDepth, type Snapshot } from "./payload";
import type { AgentInfo } from "./version";

const P = "inventiv_worker_";

// Unknown figures are exported as NaN rather than 0: a dead metrics endpoint must not look idle.
const val = (x: number | null): number => (x === null ? NaN : x);

/**
 * The agent's Prometheus registry. Values are copied from the cycle's snapshot, the same object
 * the heartbeat is built from, so scrapes and heartbeats never disagree (simulated GPUs included).
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly g = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name: P + name, help, labelNames, registers: [this.registry] });

  private readonly vllmReady = this.g("vllm_ready", "Model server is ready: /v1/models answers 200 and lists MODEL_ID (1/0).");
  private readonly queue = this.g("queue_depth", "Requests waiting in the model server, as reported to the control plane.");
  private readonly running = this.g("requests_running", "Requests running in the model server.");
  private readonly waiting = this.g("requests_waiting", "Requests waiting in the model server.");
  private readonly gpuUtil = this.g("gpu_utilization", "GPU utilization percent, mean over GPUs.");
  private readonly gpuUsed = this.g("gpu_mem_used_mb", "GPU memory used in MB, summed over GPUs.");
  private readonly gpuTotal = this.g("gpu_mem_total_mb", "GPU memory in MB, summed over GPUs.");
  private readonly gpuCount = this.g("gpu_count", "GPUs reported (real or simulated).");
  private readonly perGpu = {
    gpu_utilization: this.g("gpu_utilization_by_gpu", "GPU utilization percent by GPU index.", ["gpu_index"]),
    gpu_mem_used_mb: this.g("gpu_mem_used_mb_by_gpu", "GPU memory used in MB by GPU index.", ["gpu_index"]),
    gpu_mem_total_mb: this.g("gpu_mem_total_mb_by_gpu", "GPU memory in MB by GPU index.", ["gpu_index"]),
    gpu_temp_c: this.g("gpu_temp_c_by_gpu", "GPU temperature in Celsius by GPU index.", ["gpu_index"]),
    gpu_power_w: this.g("gpu_power_w_by_gpu", "GPU power draw in watts by GPU index.", ["gpu_index"]),
  } satisfies Partial<Record<keyof GpuSample, Gauge>>;
  private readonly cpu = this.g("cpu_usage_pct", "CPU usage percent since the previous sample.");
  private readonly load1 = this.g("load1", "Load average over 1 minute.");
  private readonly memUsed = this.g("mem_used_bytes", "Memory used (total minus available) in bytes.");
  private readonly memTotal = this.g("mem_total_bytes", "Memory total in bytes.");
  private readonly diskUsed = this.g("disk_used_bytes", "Disk used in bytes for WORKER_DISK_PATH.");
  private readonly diskTotal = this.g("disk_total_bytes", "Disk total in bytes for WORKER_DISK_PATH.");
  private readonly netRx = this.g("net_rx_bps", "Network receive rate in bytes per second, all interfaces but lo.");
  private readonly netTx = this.g("net_tx_bps", "Network transmit rate in bytes per second, all interfaces but lo.");
  private readonly registered = this.g("registered", "Registration with the control plane succeeded (1/0).");
  private readonly lastHeartbeat = this.g("last_heartbeat_success_timestamp_seconds", "Unix time of the last accepted heartbeat.");
  private readonly heartbeats = new Counter({
    name: P + "heartbeats_total",
    help: "Heartbeats sent, by outcome (ok, http_<status>, timeout, network).",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  private readonly registrations = new Counter({
    name: P + "registrations_total",
    help: "Registration attempts, by outcome (ok, http_<status>, timeout, network).",
    labelNames: ["outcome"],
    registers: [this.registry],
  });

  constructor(agent: AgentInfo, ids: { workerId: string; instanceId: string | null; modelId: string | null }) {
    this.g("up", "The agent process is up (always 1).").set(1);
    this.g("info", "Agent build and identity (always 1).", ["version", "checksum", "worker_id", "instance_id", "model_id"]).set(
      {
        version: agent.version,
        checksum: agent.checksum ?? "",
        worker_id: ids.workerId,
        instance_id: ids.instanceId ?? "",
        model_id: ids.modelId ?? "",
      },
      1,
    );
    this.vllmReady.set(0);
    this.registered.set(0);
    // Until the first cycle has observed anything, figures are unknown, not zero.
    for (const g of [
      this.queue,
      this.running,
      this.waiting,
      this.gpuUtil,
      this.gpuUsed,
      this.gpuTotal,
      this.cpu,
      this.load1,
      this.memUsed,
      this.memTotal,
      this.diskUsed,
      this.diskTotal,
      this.netRx,
      this.netTx,
    ])
      g.set(NaN);
  }

  update(s: Snapshot): void {
    this.vllmReady.set(s.readiness.ready ? 1 : 0);
    this.queue.set(val(queueDepth(s.load)));
    this.running.set(val(s.load.running));
    this.waiting.set(val(s.load.waiting));
    this.gpuUtil.set(val(s.gpu.gpu_utilization));
    this.gpuUsed.set(val(s.gpu.gpu_mem_used_mb));
    this.gpuTotal.set(val(s.gpu.gpu_mem_total_mb));
    this.gpuCount.set(s.gpu.gpu_count);
    for (const [key, gauge] of Object.entries(this.perGpu) as [keyof typeof this.perGpu, Gauge][]) {
      gauge.reset();
      for (const gpu of s.gpu.gpus) gauge.set({ gpu_index: String(gpu.index) }, val(gpu[key]));
    }
    const y = s.system;
    this.cpu.set(val(y.cpu_usage_pct));
    this.load1.set(val(y.load1));
    this.memUsed.set(val(y.mem_used_bytes));
    this.memTotal.set(val(y.mem_total_bytes));
    this.diskUsed.set(val(y.disk_used_bytes));
    this.diskTotal.set(val(y.disk_total_bytes));
    this.netRx.set(val(y.net_rx_bps));
    this.netTx.set(val(y.net_tx_bps));
  }

  setRegistered(ok: boolean): void {
    this.registered.set(ok ? 1 : 0);
  }

  recordRegistration(outcome: string): void {
    this.registrations.inc({ outcome });
  }

  recordHeartbeat(outcome: string): void {
    this.heartbeats.inc({ outcome });
    if (outcome === "ok") this.lastHeartbeat.set(Date.now() / 1000);
  }

  async render(): Promise<string> {
    // prom-client spells NaN "Nan"; Prometheus reads either, stricter parsers only "NaN".
    return (await this.registry.metrics()).replace(/ Nan$/gm, " NaN");
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
