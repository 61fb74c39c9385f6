// Checks, before `up` creates anything, that the host ports the stack publishes are free, so a
// taken port is reported by its config key instead of by Docker's raw `bind: address already in
// use` after a half-created container. No Pulumi import.
import * as net from "node:net";
import { dockerCli, EngineTarget, isLocalEngine } from "./engine";

export interface PublishedPort {
  /** The config key that sets this port, for messages (`network.apiPort`). */
  key: string;
  port: number;
  address: string;
}

/** Names of running containers that publish `port` on the engine. */
function containersPublishing(target: EngineTarget, port: number): string[] {
  const out = dockerCli(target, ["ps", "--filter", `publish=${port}`, "--format", "{{.Names}}"]);
  return out.split("\n").filter(Boolean);
}

/**
 * Host ports the given containers are configured to publish, running or not: a crash-looping
 * container of our own holds its port only between restarts, so `docker ps` may miss it while the
 * port is bound an instant later.
 */
function configuredPorts(target: EngineTarget, containers: string[]): Set<number> {
  const ports = new Set<number>();
  for (const name of containers) {
    let bindings: Record<string, { HostPort?: string }[] | null> | null;
    try {
      bindings = JSON.parse(dockerCli(target, ["container", "inspect", "--format", "{{json .HostConfig.PortBindings}}", name]));
    } catch {
      continue; // not there (yet)
    }
    for (const list of Object.values(bindings ?? {})) for (const b of list ?? []) if (b.HostPort) ports.add(Number(b.HostPort));
  }
  return ports;
}

/** Resolves false when something on this machine already listens on address:port. */
function canBind(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    // Only "in use" counts: a low port we may not bind here is dockerd's business, not ours.
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code !== "EADDRINUSE"));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * One message per taken port, each naming its key, port and address. A port held by one of
 * `ownContainers` (this stack's own model server, about to be kept or replaced) is not taken.
 */
export async function takenPorts(
  target: EngineTarget,
  ports: PublishedPort[],
  ownContainers: string[],
  namespace: string,
): Promise<string[]> {
  const problems: string[] = [];
  const ours = configuredPorts(target, ownContainers);
  for (const { key, port, address } of ports) {
    if (ours.has(port)) continue;
    const holders = containersPublishing(target, port);
    let holder: string | undefined;
    if (holders.length > 0) holder = `container ${holders.join(", ")}`;
    else if (isLocalEngine(target) && !(await canBind(address, port))) holder = "another process on this machine";
    if (holder === undefined) continue;
    problems.push(
      `${namespace}:${key}: host port ${port} on ${address} is already in use by ${holder}; ` +
        `free it or choose another port (\`pulumi config set --path ${key} <port>\`)`,
    );
  }
  return problems;
}
