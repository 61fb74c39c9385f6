import { createSocket } from "node:dgram";
import { networkInterfaces } from "node:os";

/**
 * The IP the control plane should use to reach this instance. A UDP "connect" toward the
 * control plane asks the kernel which source address routes there, without sending a packet;
 * on multi-homed hosts that beats guessing from the interface list.
 */
export async function discoverIp(controlPlaneUrl: string | null, timeoutMs: number): Promise<string | null> {
  if (controlPlaneUrl) {
    const routed = await routedSourceIp(controlPlaneUrl, timeoutMs).catch(() => null);
    if (routed && !routed.startsWith("127.") && routed !== "::1") return routed;
  }
  return firstExternalIpv4();
}

function routedSourceIp(url: string, timeoutMs: number): Promise<string | null> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(":") ? "udp6" : "udp4");
    const done = (ip: string | null) => {
      clearTimeout(timer);
      sock.close();
      resolve(ip);
    };
    // Name resolution inside connect() can hang on a broken resolver.
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on("error", () => done(null));
    sock.connect(port, host, () => {
      try {
        done(sock.address().address);
      } catch {
        done(null);
      }
    });
  });
}

export function firstExternalIpv4(): string | null {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === "IPv4" && !a.internal) return a.address;
    }
  }
  return null;
}
