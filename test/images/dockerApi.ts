// A few Docker Engine API calls over the local socket: enough to create containers with exec-form
// healthchecks exactly as the Pulumi provider does (the docker CLI can only express shell-form
// healthchecks, and our images have no shell).
import * as http from "node:http";
import { parseDurationMs } from "../../config/duration";

const SOCKET = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice(7) : "/var/run/docker.sock";

export async function dockerApi(method: string, path: string, body?: unknown): Promise<any> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: SOCKET, method, path, headers: payload ? { "content-type": "application/json" } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if ((res.statusCode ?? 500) >= 300) return reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** A Pulumi-style healthcheck spec as the Engine API wants it (durations in nanoseconds). */
export function engineHealthcheck(h: { tests: string[]; interval: string; timeout: string; retries: number; startPeriod: string }) {
  const ns = (d: string) => parseDurationMs(d)! * 1_000_000;
  return { Test: h.tests, Interval: ns(h.interval), Timeout: ns(h.timeout), Retries: h.retries, StartPeriod: ns(h.startPeriod) };
}

export async function runContainer(name: string, spec: Record<string, unknown>): Promise<string> {
  const created = await dockerApi("POST", `/containers/create?name=${encodeURIComponent(name)}`, spec);
  await dockerApi("POST", `/containers/${created.Id}/start`);
  return created.Id;
}

export async function inspect(name: string): Promise<any> {
  return dockerApi("GET", `/containers/${encodeURIComponent(name)}/json`);
}

export async function removeContainer(name: string): Promise<void> {
  await dockerApi("DELETE", `/containers/${encodeURIComponent(name)}?force=true`).catch(() => undefined);
}
