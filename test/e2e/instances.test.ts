// Instances on demand with the real CLI (`scripts/instance.sh`, what `npm run instance` runs),
// the real Pulumi engine and the real Docker engine. A bridge network made here stands in for
// the control plane's, and a stand-in control plane (control-plane/main.ts) on it records what
// the agents report. Every assertion is about this test's own objects: its network, its
// stand-in, and the stacks of its own instance ids, in a state directory of its own.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { stackNameOf } from "../../instances/ids";
import { StandIn } from "./control-plane/standIn";
import { docker, labelled, lifecycleBlocker } from "./stacks";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..", "..");
const blocker = lifecycleBlocker();
const TOKEN = `worker-token-${randomUUID()}`;
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-instances-"));
const standIn = new StandIn(`instances-test-${process.pid}`, TOKEN);
const ids = [randomUUID(), randomUUID(), randomUUID()];

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The instance CLI, as a control plane would run it; never throws. */
async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run("bash", ["scripts/instance.sh", ...args, "--state-dir", stateDir], {
      cwd: ROOT,
      env: { ...process.env, WORKER_AUTH_TOKEN: TOKEN },
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const create = (id: string, ...more: string[]) =>
  cli("create", id, "--network", standIn.network, "--control-plane-url", standIn.controlPlaneUrl, ...more);

/** Files in the state directory that name a stack (backend files, workspaces). */
function stateFilesOf(stack: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.name.includes(stack)) found.push(path.relative(stateDir, p));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  if (fs.existsSync(stateDir)) walk(stateDir);
  return found;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("instances on demand (real CLI, real engines)", { skip: blocker }, () => {
  before(async () => {
    await standIn.start();
  });

  after(async () => {
    // Whatever a failed test left: its instances, then anything still labelled with their stacks.
    await Promise.all(ids.map((id) => cli("terminate", id, "--quiet")));
    for (const id of ids) {
      for (const obj of await labelled(stackNameOf(id)).catch(() => [])) {
        const [kind, name] = obj.split(":");
        const rm: Record<string, string[]> = {
          container: ["rm", "-f"],
          image: ["image", "rm", "-f"],
          volume: ["volume", "rm", "-f"],
          network: ["network", "rm"],
        };
        await docker(...rm[kind], name).catch(() => "");
      }
    }
    await standIn.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("refuses bad input with the field and what was expected, creating nothing", async () => {
    const id = ids[0];
    const cases: [string, string[], RegExp][] = [
      [
        "an id that is not a UUID",
        ["create", "not-a-uuid", "--network", standIn.network],
        /instance id: expected a UUID such as .*, got "not-a-uuid"/,
      ],
      [
        "a network that does not exist",
        ["create", id, "--network", `no-such-net-${process.pid}`],
        new RegExp(`network: no Docker network named "no-such-net-${process.pid}"`),
      ],
      [
        "an unknown --set key",
        ["create", id, "--network", standIn.network, "--set", "model.maxModelLenn=4096"],
        /inference-runtime:model: unknown key\(s\) maxModelLenn/,
      ],
      [
        "a bad --set value",
        ["create", id, "--network", standIn.network, "--set", "model.gpuMemoryUtilization=2"],
        /inference-runtime:model\.gpuMemoryUtilization: expected a fraction in \(0, 1\]/,
      ],
      [
        "a --set without =",
        ["create", id, "--network", standIn.network, "--set", "model.maxModelLen"],
        /--set model\.maxModelLen: expected key=value/,
      ],
      [
        "a bad control-plane URL",
        ["create", id, "--network", standIn.network, "--control-plane-url", "ftp://x"],
        /inference-runtime:agent\.controlPlaneUrl: expected an http\(s\) URL/,
      ],
      [
        "a base stack file that does not exist",
        ["create", id, "--network", standIn.network, "--base", "staging"],
        /base: no stack file Pulumi\.staging\.yaml in .*; expected one of dev, gpu/,
      ],
      [
        "a key the request owns",
        ["create", id, "--network", standIn.network, "--set", "network.external=other"],
        /inference-runtime:network\.external: not an override: set from the network option/,
      ],
      ["a missing --network", ["create", id], /--network: required/],
    ];
    for (const [what, args, message] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `${what}: exit status (stderr: ${r.stderr})`);
      assert.match(r.stderr, message, what);
      assert.equal(r.stdout, "", `${what}: nothing on stdout`);
    }
    assert.deepEqual(await labelled(stackNameOf(id)), []);
    assert.deepEqual(stateFilesOf(stackNameOf(id)), []);
    assert.deepEqual(JSON.parse((await cli("list", "--json")).stdout), []);
  });

  it("reports why a create failed and leaves nothing behind", async () => {
    const id = ids[0];
    const r = await create(id, "--set", 'model.extraArgs=["--no-such-flag"]');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /creating instance .* failed; everything it created was destroyed and its stack removed/);
    assert.match(r.stderr, /did not become healthy/);
    assert.match(r.stderr, /unrecognized arguments: --no-such-flag/);
    assert.deepEqual(await labelled(stackNameOf(id)), []);
    assert.deepEqual(stateFilesOf(stackNameOf(id)), []);
  });

  it("creates three instances in parallel, each reachable at its own IP, registered and heartbeating", async () => {
    const results = await Promise.all(ids.map((id) => create(id)));
    const instances = results.map((r, i) => {
      assert.equal(r.code, 0, `create ${ids[i]}: ${r.stderr.split("\n").slice(-30).join("\n")}`);
      return JSON.parse(r.stdout);
    });
    const ips = instances.map((x) => x.ip);
    assert.equal(new Set(ips).size, 3, `distinct IPs: ${ips}`);
    for (const [i, x] of instances.entries()) {
      assert.deepEqual(Object.keys(x).sort(), ["agentUrl", "apiUrl", "instanceId", "ip", "servedModelName", "stack"]);
      assert.equal(x.instanceId, ids[i]);
      assert.equal(x.stack, stackNameOf(ids[i]));
      assert.equal(x.apiUrl, `http://${x.ip}:8000`);
      assert.equal(x.agentUrl, `http://${x.ip}:8080`);
      // No host ports: the control plane reaches the instance on its network only.
      const server = `inference-runtime-${x.stack}-model-server`;
      assert.match(await docker("inspect", "--format", "{{json .HostConfig.PortBindings}}", server), /^(null|\{\})$/);
      assert.equal(
        await docker("inspect", "--format", `{{(index .NetworkSettings.Networks "${standIn.network}").IPAddress}}`, server),
        x.ip,
      );
    }

    for (const x of instances) {
      const calls = await eventually(`registration and heartbeat of ${x.instanceId}`, async () => {
        const rec = await standIn.records();
        const reg = rec.registrations.filter((c) => c.instance_id === x.instanceId);
        const beats = rec.heartbeats.filter((c) => c.instance_id === x.instanceId && c.status === "ready");
        return reg.length > 0 && beats.length > 0 ? { reg, beats } : undefined;
      });
      assert.ok(
        calls.reg.every((c) => c.ip_address === x.ip),
        `registered IP ${calls.reg.map((c) => c.ip_address)} vs ${x.ip}`,
      );
      assert.ok(
        calls.beats.every((c) => c.ip_address === x.ip),
        `heartbeat IP vs ${x.ip}`,
      );
      assert.equal(calls.reg[0].model_id, x.servedModelName);
      assert.equal(calls.reg[0].vllm_port, 8000);
      assert.equal(calls.reg[0].health_port, 8080);

      const models = await standIn.fetchFromNetwork(`${x.apiUrl}/v1/models`);
      assert.equal(models.status, 200, models.body);
      assert.deepEqual(
        JSON.parse(models.body).data.map((m: { id: string }) => m.id),
        [x.servedModelName],
      );
      assert.equal((await standIn.fetchFromNetwork(`${x.agentUrl}/readyz`)).status, 200);
    }
    // The worker token is a secret: never in plain text in the state directory.
    const plain = (await run("grep", ["-rl", "--", TOKEN, stateDir]).catch(() => ({ stdout: "" }))).stdout.trim();
    assert.equal(plain, "", "files holding the worker token in plain text");

    // ip, list and a second create agree with what exists.
    for (const x of instances) {
      const ip = await cli("ip", x.instanceId);
      assert.equal(ip.code, 0, ip.stderr);
      assert.equal(ip.stdout, `${x.ip}\n`);
    }
    const listed = JSON.parse((await cli("list", "--json")).stdout);
    const health = async () =>
      (
        await Promise.all(
          instances.map((x) =>
            docker("inspect", "--format", "{{.Name}} {{json .State.Health}}", `inference-runtime-${x.stack}-worker-agent`),
          ),
        )
      ).join("\n");
    assert.deepEqual(
      listed.map((s: any) => [s.instanceId, s.stack, s.state, s.ip]).sort(),
      instances.map((x) => [x.instanceId, x.stack, "running", x.ip]).sort(),
      `list: ${JSON.stringify(listed)}\nagents' health: ${await health()}`,
    );
    const table = (await cli("list")).stdout;
    for (const x of instances) assert.match(table, new RegExp(`${x.instanceId}\\s+${x.stack}\\s+running\\s+${x.ip.replace(/\./g, "\\.")}`));

    const containerIds = async (stack: string) =>
      (await docker("ps", "-aq", "--no-trunc", "--filter", `label=io.inference-runtime.stack=${stack}`)).split("\n").sort();
    const before = await containerIds(instances[0].stack);
    const again = await create(instances[0].instanceId);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), instances[0]);
    assert.match(again.stderr, /\b19 unchanged\b/);
    assert.doesNotMatch(again.stderr, /\b\d+ (created|updated|deleted|replaced)\b/);
    assert.deepEqual(await containerIds(instances[0].stack), before);

    // A removed container shows in list, and the next create puts it back.
    await docker("rm", "-f", `inference-runtime-${instances[1].stack}-worker-agent`);
    const broken = JSON.parse((await cli("list", "--json")).stdout).find((s: any) => s.stack === instances[1].stack);
    assert.equal(broken.state, "missing-containers");
    assert.match(broken.detail, /worker-agent/);
    const repaired = await create(instances[1].instanceId);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.equal(JSON.parse((await cli("get", instances[1].instanceId)).stdout).state, "running");
  });

  it("terminates all three in parallel: nothing labelled with their stacks, no state left", async () => {
    const results = await Promise.all(ids.map((id) => cli("terminate", id)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).terminated, true, ids[i]);
    }
    for (const id of ids) {
      assert.deepEqual(await labelled(stackNameOf(id)), [], id);
      assert.deepEqual(stateFilesOf(stackNameOf(id)), [], id);
    }
    assert.deepEqual(JSON.parse((await cli("list", "--json")).stdout), []);
    const again = await cli("terminate", ids[0]);
    assert.equal(again.code, 0);
    assert.equal(JSON.parse(again.stdout).terminated, false);
    assert.match(again.stderr, /does not exist .*nothing to terminate/);
    // The control plane's network is not the instances' to remove.
    assert.equal(await docker("network", "inspect", "--format", "{{.Name}}", standIn.network), standIn.network);
  });
});
