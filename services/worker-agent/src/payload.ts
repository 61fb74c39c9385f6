import type { GpuReport } from "./gpu";
import type { Load, Readiness } from "./modelServer";
import type { SystemSample } from "./system";
import type { AgentInfo } from "./version";

/** Everything one cycle observed; heartbeats, `/metrics` and `/info` all read the same one. */
export interface Snapshot {
  at: string;
  readiness: Readiness;
  load: Load;
  gpu: GpuReport;
  system: SystemSample;
  ip: string | null;
}

export interface Identity {
  instanceId: string | null;
  workerId: string;
  modelId: string | null;
  vllmPort: number;
  healthPort: number;
  vllmBaseUrl: string;
}

export type WorkerStatus = "ready" | "starting";

export function statusOf(s: Snapshot): WorkerStatus {
  return s.readiness.ready ? "ready" : "starting";
}

/** The control plane's queue depth is the model server's waiting requests, as an integer. */
export function queueDepth(load: Load): number | null {
  return load.waiting === null ? null : Math.max(0, Math.round(load.waiting));
}

// Shape kept from the previous agent so existing control-plane readers keep working:
// GPU aggregates and `gpus` at the top of metadata, then `system` and `vllm` objects.
function metadata(id: Identity, s: Snapshot): Record<string, unknown> {
  const { source, gpus, ...aggregates } = s.gpu;
  return {
    ...aggregates,
    gpu_source: source,
    gpus,
    system: s.system,
    vllm: {
      base_url: id.vllmBaseUrl,
      ready: s.readiness.ready,
      reachable: s.readiness.reachable,
      not_ready_reason: s.readiness.reason,
      models: s.readiness.models,
      queue_depth: queueDepth(s.load),
      requests_waiting: s.load.waiting,
      requests_running: s.load.running,
      metrics_error: s.load.error,
    },
    sampled_at: s.at,
  };
}

export function registerBody(id: Identity, s: Snapshot): Record<string, unknown> {
  return {
    instance_id: id.instanceId,
    worker_id: id.workerId,
    model_id: id.modelId,
    vllm_port: id.vllmPort,
    health_port: id.healthPort,
    ip_address: s.ip,
    metadata: metadata(id, s),
  };
}

export function heartbeatBody(id: Identity, s: Snapshot, agent: AgentInfo): Record<string, unknown> {
  return {
    instance_id: id.instanceId,
    worker_id: id.workerId,
    status: statusOf(s),
    model_id: id.modelId,
    queue_depth: queueDepth(s.load),
    gpu_utilization: s.gpu.gpu_utilization,
    gpu_mem_used_mb: s.gpu.gpu_mem_used_mb,
    ip_address: s.ip,
    agent_info: { version: agent.version, build_date: agent.build_date, checksum: agent.checksum },
    metadata: metadata(id, s),
  };
}
