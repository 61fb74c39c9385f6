// Runs the control plane's stand-in (main.ts) as a container on a network made for the test, as
// the control plane's own network would be: the image is built from the local base image, the
// container answers as `api` on that network (the name instances are told), and its record port
// is published on loopback for the test to read.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import type { WorkerCall } from "./main";

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run("docker", args, { timeout: 120_000 })).stdout.trim();
const BASE_IMAGE = "inference-runtime/node-base:20";

// A ref'd timer, unlike AbortSignal.timeout: a request that the port's proxy holds open before the
// server listens would otherwise leave nothing keeping the process alive.
async function get(url: string, timeoutMs: number): Promise<Response> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ac.signal });
    await res.clone().arrayBuffer();
    return res;
  } finally {
    clearTimeout(timer);
  }
}

export interface Records {
  registrations: WorkerCall[];
  heartbeats: WorkerCall[];
}

export class StandIn {
  readonly network: string;
  readonly image: string;
  readonly container: string;
  /** The URL instances are given: the stand-in's name on the network. */
  readonly controlPlaneUrl = "http://api:8003";
  private base = "";

  constructor(
    readonly name: string,
    readonly token: string,
  ) {
    this.network = `${name}-net`;
    this.image = `inference-runtime/${name}:stand-in`;
    this.container = `${name}-control-plane`;
  }

  async start(): Promise<void> {
    const context = fs.mkdtempSync(path.join(os.tmpdir(), "stand-in-"));
    try {
      await build({
        entryPoints: [path.join(__dirname, "main.ts")],
        bundle: true,
        platform: "node",
        target: "node20",
        outfile: path.join(context, "main.js"),
        logLevel: "warning",
      });
      fs.copyFileSync(path.join(__dirname, "Dockerfile"), path.join(context, "Dockerfile"));
      await run("docker", ["build", "-q", "--build-arg", `BASE_IMAGE=${BASE_IMAGE}`, "-t", this.image, context], {
        env: { ...process.env, DOCKER_BUILDKIT: "0" },
        timeout: 300_000,
      });
    } finally {
      fs.rmSync(context, { recursive: true, force: true });
    }
    await docker("network", "create", this.network);
    await docker(
      "run",
      "-d",
      "--name",
      this.container,
      "--network",
      this.network,
      "--network-alias",
      "api",
      "-e",
      `WORKER_AUTH_TOKEN=${this.token}`,
      "-p",
      "127.0.0.1::8003",
      this.image,
    );
    const mapped = await docker("port", this.container, "8003/tcp");
    this.base = `http://${mapped.split("\n")[0].trim()}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await get(`${this.base}/records`, 2000)).ok) return;
      } catch {
        if (Date.now() > deadline) throw new Error(`the stand-in at ${this.base} does not answer`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async records(): Promise<Records> {
    return (await get(`${this.base}/records`, 10_000)).json() as Promise<Records>;
  }

  /** GET `url` from inside the network, as the control plane would. */
  async fetchFromNetwork(url: string): Promise<{ status: number; body: string }> {
    return (await get(`${this.base}/fetch?url=${encodeURIComponent(url)}`, 10_000)).json() as Promise<{ status: number; body: string }>;
  }

  async stop(): Promise<void> {
    await docker("rm", "-f", this.container).catch(() => "");
    await docker("network", "rm", this.network).catch(() => "");
    await docker("image", "rm", this.image).catch(() => "");
  }
}
