// One engine for everything: with DOCKER_HOST naming the engine through another address than the
// default socket (a proxy socket), and the default socket hidden from Pulumi and everything it
// starts (a private mount namespace binds /dev/null over it), a deploy, a drift repair and a
// destroy all work. Any docker CLI call of the program, its commands or gates that fell back to
// the default socket would fail here.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { docker, labelled, lifecycleBlocker, ScratchProject } from "./stacks";

const run = promisify(execFile);
const SOCKET = "/var/run/docker.sock";

function blocker(): string | undefined {
  const base = lifecycleBlocker();
  if (base) return base;
  try {
    execFileSync("unshare", ["-m", "true"], { stdio: "ignore" });
  } catch {
    return "`unshare -m` is not permitted here (needs root or user namespaces): the default socket cannot be hidden";
  }
  return undefined;
}
const skip = blocker();

/** A unix socket that forwards every connection to the engine's default socket. */
function proxy(at: string): Promise<net.Server> {
  const server = net.createServer((client) => {
    const engine = net.connect(SOCKET);
    client.pipe(engine).pipe(client);
    const close = () => (client.destroy(), engine.destroy());
    client.on("error", close);
    engine.on("error", close);
  });
  return new Promise((resolve) => server.listen(at, () => resolve(server)));
}

describe("one engine: DOCKER_HOST through a proxy socket, the default socket hidden", () => {
  const project = new ScratchProject();
  const name = `e2e-${process.pid}-proxy`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-proxy-"));
  const proxied = path.join(dir, "engine.sock");
  let server: net.Server | undefined;

  /** Runs the CLI in a mount namespace of its own where the default socket answers nothing. */
  const hidden = (...args: string[]) =>
    run("unshare", ["-m", "--", "sh", "-c", `mount --bind /dev/null ${SOCKET} && exec "$@"`, "sh", ...args], {
      cwd: project.dir,
      env: { ...process.env, ...project.env, DOCKER_HOST: `unix://${proxied}` },
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });

  before(async () => {
    if (skip) return;
    server = await proxy(proxied);
    await project.stack(name, "dev");
  });
  after(async () => {
    if (!skip) await project.cleanup(name);
    server?.close();
    project.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("hides the default socket from what runs in the namespace", { skip }, async () => {
    await assert.rejects(hidden("docker", "-H", `unix://${SOCKET}`, "version"));
    assert.match((await hidden("docker", "version", "--format", "{{.Server.APIVersion}}")).stdout, /^\d+\.\d+/);
  });

  it("deploys, repairs drift (npm run up) and destroys through DOCKER_HOST alone", { skip }, async () => {
    await hidden("pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", name);
    assert.ok((await labelled(name)).includes(`container:inference-runtime-${name}-worker-agent`));

    await docker("rm", "-f", `inference-runtime-${name}-worker-agent`);
    // Through `npm run up`, whose refresh decision asks the engine too.
    const repair = await hidden("bash", "scripts/up.sh", name);
    assert.match(repair.stdout, /runtime-agent-container created/);
    // Its health gate ran again through the proxy (docker exec of its probe), and it runs.
    assert.match(repair.stdout, /runtime-agent-ready-wait (created|replaced)/);
    assert.equal(await docker("inspect", "-f", "{{.State.Running}}", `inference-runtime-${name}-worker-agent`), "true");

    await hidden("pulumi", "destroy", "--yes", "--skip-preview", "--non-interactive", "--stack", name);
    assert.deepEqual(await labelled(name), []);
  });
});
