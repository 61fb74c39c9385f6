// As a Pulumi user runs it: a copy of the repository's tracked files with no dist/ at all (what a
// clone is), the npm dependencies, a fresh PULUMI_HOME with the two plugins installed with
// `pulumi plugin install --file`, a fresh backend, and plain `pulumi` commands. The program makes
// what it needs from the sources during the update; a preview writes nothing; an edit to one
// service plans the rebuild of that image only; the wrappers see the stack; destroy leaves the
// engine as before.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { DockerKind, REMOVAL_ORDER, removeArgs } from "../../scripts/lib/labelled";
import { docker, engineSnapshot, freePort, labelled, lifecycleBlocker } from "./stacks";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..", "..");
const skip = lifecycleBlocker();
const STACK = `e2e-plain-${process.pid}`;
// A base of the project's own kind that no engine has yet: the update must make it.
const LOCAL_BASE = `inference-runtime/node-base:e2e-${process.pid}`;
const PINS = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;

/** The repository's tracked files as they are in the working tree, and node_modules linked: a clone after `npm ci`. */
function cloneOfWorkingTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-clone-"));
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const rel of files) {
    if (!fs.existsSync(path.join(ROOT, rel))) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, rel), path.join(dir, rel));
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** Where the CLI in use keeps an installed plugin's binary. */
function installedPlugin(name: string): string {
  const listed = JSON.parse(execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8" })) as {
    name: string;
    kind: string;
    version: string;
    path?: string;
  }[];
  const found = listed.find((p) => p.kind === "resource" && p.name === name && p.version === PINS[`@pulumi/${name}`]);
  const home = process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
  const dir = found?.path ?? path.join(home, "plugins", `resource-${name}-v${PINS[`@pulumi/${name}`]}`);
  return fs.statSync(dir).isDirectory() ? path.join(dir, `pulumi-resource-${name}`) : dir;
}

/** Files under `dir` named dist (folders), relative: what a preview must not have made. */
function distFolders(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === "node_modules") continue;
      const child = path.join(rel, e.name);
      if (e.name === "dist") out.push(child);
      else walk(child);
    }
  };
  walk(".");
  return out;
}

describe("plain `pulumi` from a fresh clone, with the user's own PULUMI_HOME and backend", () => {
  let clone = "";
  let home = "";
  let env: NodeJS.ProcessEnv = {};
  let before_: Record<string, string[]>;
  const pulumi = (...args: string[]) =>
    run("pulumi", [...args, "--stack", STACK, "--non-interactive"], { cwd: clone, env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });

  before(async () => {
    if (skip) return;
    before_ = await engineSnapshot();
    clone = cloneOfWorkingTree();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-home-"));
    const state = path.join(home, "state");
    fs.mkdirSync(state);
    env = {
      ...process.env,
      PULUMI_HOME: path.join(home, "pulumi"),
      PULUMI_BACKEND_URL: `file://${state}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    for (const name of ["docker", "command"]) {
      await run("pulumi", ["plugin", "install", "resource", name, PINS[`@pulumi/${name}`], "--file", installedPlugin(name)], { env });
    }
    fs.copyFileSync(path.join(clone, "Pulumi.dev.yaml"), path.join(clone, `Pulumi.${STACK}.yaml`));
    await run("pulumi", ["stack", "init", STACK, "--non-interactive"], { cwd: clone, env });
    for (const key of ["apiPort", "agentPort"]) {
      await pulumi("config", "set", "--path", `inference-runtime:network.${key}`, String(await freePort()));
    }
    await pulumi("config", "set", "--path", "inference-runtime:images.buildBase", LOCAL_BASE);
  });
  after(async () => {
    if (skip) return;
    await pulumi("destroy", "--yes").catch(() => undefined);
    const found = (await labelled(STACK).catch(() => [])).map((obj) => obj.split(":") as [DockerKind, string]);
    for (const kind of REMOVAL_ORDER)
      for (const [k, name] of found) if (k === kind) await docker(...removeArgs(kind, name)).catch(() => undefined);
    await docker("image", "rm", LOCAL_BASE).catch(() => undefined);
    fs.rmSync(clone, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("previews without making anything: no bundle, no image", { skip }, async () => {
    await pulumi("preview");
    assert.deepEqual(distFolders(clone), []);
    assert.deepEqual(await labelled(STACK), []);
  });

  it("`pulumi up` makes the bundles, the base image and the images itself and serves a completion", { skip }, async () => {
    await pulumi("up", "--yes", "--skip-preview");
    assert.notEqual(await docker("images", "-q", LOCAL_BASE), "");
    const outputs = JSON.parse((await pulumi("stack", "output", "--json")).stdout);
    const client = new OpenAI({ baseURL: `${outputs.apiUrl}/v1`, apiKey: "unused", maxRetries: 0 });
    const reply = await client.chat.completions.create({
      model: outputs.servedModelName,
      messages: [{ role: "user", content: "hello from a fresh clone" }],
      max_tokens: 32,
    });
    assert.match(reply.choices[0].message.content ?? "", /hello from a fresh clone/);
  });

  it("plans the rebuild of exactly the edited service's image, and the containers that run it", { skip }, async () => {
    // A legal comment survives bundling: the bundle changes, the behaviour does not.
    fs.appendFileSync(path.join(clone, "services", "mock-vllm", "src", "main.ts"), `\n/*! edited by the e2e test ${process.pid} */\n`);
    const { stdout } = await pulumi("preview", "--json");
    const steps = (JSON.parse(stdout).steps ?? []) as { op: string; urn: string }[];
    const changed = steps.filter((s) => s.op !== "same" && s.op !== "read").map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    assert.ok(
      changed.some((c) => /^(replace|create-replacement) runtime-server-image-build$/.test(c)),
      changed.join("\n"),
    );
    assert.ok(!changed.some((c) => c.includes("runtime-agent-image-build")), changed.join("\n"));
    const volumes = changed.filter((c) => /-(hf|compile|state)$/.test(c) || c.includes("network"));
    assert.deepEqual(volumes, []);
    const written = fs.readFileSync(path.join(clone, "services", "mock-vllm", "dist", "main.js"), "utf8");
    assert.ok(!written.includes("edited by the e2e test"), "a preview must not rewrite the bundle");
  });

  it("is seen by the wrappers: `npm run pulumi -- stack ls` lists the stack", { skip }, async () => {
    const { stdout } = await run("bash", ["scripts/pulumi.sh", "stack", "ls"], { cwd: clone, env, timeout: 120_000 });
    assert.match(stdout, new RegExp(`^${STACK}\\b`, "m"));
  });

  it("`pulumi destroy` leaves the engine as before", { skip }, async () => {
    await pulumi("destroy", "--yes", "--skip-preview");
    assert.deepEqual(await labelled(STACK), []);
    const now = await engineSnapshot();
    // The local base image is made once and kept, like a base image a build pulls.
    assert.equal(now.images.filter((i) => i.endsWith(` ${LOCAL_BASE}`)).length, 1);
    now.images = now.images.filter((i) => !i.endsWith(` ${LOCAL_BASE}`));
    assert.deepEqual(now, before_);
  });
});
