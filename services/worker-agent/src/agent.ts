import { discoverIp } from "./address";
import { Backoff } from "./backoff";
import { bootstrapToken, ControlPlaneClient, TokenStore, type CallResult } from "./controlPlane";
import type { EventLog } from "./events";
import { GpuReader } from "./gpu";
import type { AgentMetrics } from "./metrics";
import { probeReadiness, scrapeLoad } from "./modelServer";
import { heartbeatBody, queueDepth, registerBody, statusOf, type Identity, type Snapshot } from "./payload";
import type { Settings } from "./settings";
import { SystemSampler } from "./system";
import type { AgentInfo } from "./version";

/** Re-discovering the advertised IP now and then covers a container that got a new address. */
const IP_REFRESH_MS = 5 * 60_000;
/** Without any address yet (network still coming up), look again sooner, but not every cycle. */
const IP_RETRY_MS = 30_000;

export interface AgentState {
  snapshot: Snapshot | null;
  registered: boolean;
  lastHeartbeat: { at: string; ok: boolean; outcome: string } | null;
  lastRegistration: { at: string; ok: boolean; outcome: string } | null;
}

const outcomeOf = (r: CallResult): string => (r.ok ? "ok" : r.kind === "http" ? `http_${r.status}` : r.kind);

/** One observation-and-report cycle; the Ticker decides when it runs. */
export class Agent {
  readonly state: AgentState = { snapshot: null, registered: false, lastHeartbeat: null, lastRegistration: null };
  private readonly gpu: GpuReader;
  private readonly system: SystemSampler;
  private readonly client: ControlPlaneClient | null;
  private readonly backoff: Backoff;
  private nextRegisterAt = 0;
  private ip: { value: string | null; at: number } | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly identity: Identity,
    private readonly agentInfo: AgentInfo,
    private readonly tokens: TokenStore,
    private readonly metrics: AgentMetrics,
    private readonly log: EventLog,
  ) {
    this.gpu = new GpuReader(settings.nvidiaSmi, Math.min(settings.httpTimeoutMs, 5000), {
      count: settings.simulateGpuCount,
      vramMb: settings.simulateGpuVramMb,
    });
    this.system = new SystemSampler(settings.diskPath);
    this.client = settings.controlPlaneUrl ? new ControlPlaneClient(settings.controlPlaneUrl, settings.httpTimeoutMs, tokens) : null;
    this.backoff = new Backoff({
      baseMs: Math.min(settings.heartbeatIntervalMs, settings.registerBackoffMaxMs),
      maxMs: settings.registerBackoffMaxMs,
    });
  }

  /** Primes the delta-based samples (CPU %, network rates) so the first cycle has figures. */
  async prime(): Promise<void> {
    await this.system.sample();
  }

  async runCycle(signal: AbortSignal): Promise<void> {
    const snapshot = await this.observe(signal);
    if (signal.aborted) return;
    this.noteReadiness(snapshot);
    this.state.snapshot = snapshot;
    this.metrics.update(snapshot);
    if (!this.client) return;

    if (!this.state.registered && performance.now() >= this.nextRegisterAt) await this.register(this.client, snapshot, signal);
    if (signal.aborted) return;
    // Before a token exists the control plane can only refuse heartbeats; wait for bootstrap.
    if (this.tokens.token || this.state.registered) await this.heartbeat(this.client, snapshot, signal);
    else this.log.state("heartbeat", "info", "heartbeat.skipped", { reason: "no token yet" });
  }

  private async observe(signal: AbortSignal): Promise<Snapshot> {
    const s = this.settings;
    const opts = { timeoutMs: s.httpTimeoutMs, signal };
    const [readiness, load, smi, system, ip] = await Promise.all([
      probeReadiness(s.vllmBaseUrl, s.modelId, { ...opts, apiKey: s.vllmApiKey }),
      scrapeLoad(s.vllmMetricsUrl, opts),
      this.gpu.query(),
      this.system.sample(),
      this.advertisedIp(),
    ]);
    if ("error" in smi) this.log.state("nvidia-smi", "warn", "gpu.query_failed", { error: smi.error });
    return { at: new Date().toISOString(), readiness, load, gpu: this.gpu.report(smi, load), system, ip };
  }

  private async advertisedIp(): Promise<string | null> {
    if (this.settings.advertiseIp) return this.settings.advertiseIp;
    const now = performance.now();
    if (this.ip && now - this.ip.at < (this.ip.value === null ? IP_RETRY_MS : IP_REFRESH_MS)) return this.ip.value;
    const value = await discoverIp(this.settings.controlPlaneUrl, Math.min(this.settings.httpTimeoutMs, 1000));
    this.ip = { value, at: now };
    return value;
  }

  private noteReadiness(s: Snapshot): void {
    const was = this.state.snapshot?.readiness.ready;
    const r = s.readiness;
    if (r.ready) {
      this.log.state("model_server", was === true ? "debug" : "info", "model_server.ready", { models: r.models });
    } else {
      // Losing readiness is worth a warning; not having reached it yet (model loading) is not.
      this.log.state("model_server", was === true ? "warn" : "info", "model_server.not_ready", { reason: r.reason });
    }
    if (s.load.error && r.reachable) this.log.state("metrics", "warn", "model_server.metrics_failed", { error: s.load.error });
    else if (!s.load.error) this.log.state("metrics", "debug", "model_server.metrics_ok");
  }

  private async register(client: ControlPlaneClient, s: Snapshot, signal: AbortSignal): Promise<void> {
    const res = await client.register(registerBody(this.identity, s), signal);
    if (signal.aborted) return;
    const outcome = outcomeOf(res);
    this.metrics.recordRegistration(outcome);
    this.state.lastRegistration = { at: new Date().toISOString(), ok: res.ok, outcome };
    if (!res.ok) {
      const delayMs = this.backoff.next();
      this.nextRegisterAt = performance.now() + delayMs;
      this.log.state("register", "warn", "register.failed", {
        outcome,
        error: res.error,
        attempt: this.backoff.attempts,
        retry_in_ms: Math.round(delayMs),
      });
      return;
    }
    this.state.registered = true;
    this.metrics.setRegistered(true);
    this.backoff.reset();
    const granted = bootstrapToken(res.body);
    const adopt = granted !== null && !this.tokens.token;
    if (adopt) await this.tokens.adopt(granted);
    this.log.state("register", "info", "register.ok", {
      status: res.status,
      token_received: adopt,
      unreadable_body: res.body === undefined ? true : undefined,
    });
  }

  private async heartbeat(client: ControlPlaneClient, s: Snapshot, signal: AbortSignal): Promise<void> {
    const res = await client.heartbeat(heartbeatBody(this.identity, s, this.agentInfo), signal);
    if (signal.aborted) return;
    const outcome = outcomeOf(res);
    this.metrics.recordHeartbeat(outcome);
    this.state.lastHeartbeat = { at: new Date().toISOString(), ok: res.ok, outcome };
    if (res.ok) {
      this.log.state("heartbeat", "info", "heartbeat.ok", { status: statusOf(s), queue_depth: queueDepth(s.load) });
      return;
    }
    this.log.state("heartbeat", "warn", "heartbeat.failed", { outcome, error: res.error });
    // A control plane that forgot this worker (restart, expiry) answers 401/404: register again.
    if (!res.ok && (res.status === 401 || res.status === 404) && this.state.registered) {
      this.state.registered = false;
      this.metrics.setRegistered(false);
      this.nextRegisterAt = 0;
    }
  }
}
