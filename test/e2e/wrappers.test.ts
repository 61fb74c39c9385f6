// The wrappers `npm run up|preview|down|pulumi` (scripts/*.sh) on the user's own setup: their
// arguments (a stack, then flags; anything else refused before anything runs), the missing-plugin
// stop, the user's PULUMI_HOME and backend, the Docker engine they hand on, and a `down` that acts
// on the stack it names and on no other. A fake `pulumi` that records its calls stands in where
// the real CLI is not the point; the rest uses the real CLI, and the last test the real engine.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { docker, labelled, lifecycleBlocker, ScratchProject } from "./stacks";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..", "..");
const pins = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;
const PLUGINS = [
  ["docker", pins["@pulumi/docker"]],
  ["command", pins["@pulumi/command"]],
];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `bash SCRIPT ARGS...` to its end; never throws. */
async function bash(script: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Result> {
  try {
    const { stdout, stderr } = await run("bash", [script, ...args], { cwd, env, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The test's environment without what would steer the wrappers (backend, engine, plugin settings). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(PULUMI_|DOCKER_)/.test(key)) delete env[key];
  }
  return { ...env, ...extra };
}

/** Where a `pulumi` on PATH lives (the real CLI the suite runs with), or undefined. */
function realPulumiDir(): string | undefined {
  try {
    return path.dirname(fs.realpathSync(execFileSync("bash", ["-c", "command -v pulumi"], { encoding: "utf8" }).trim()));
  } catch {
    return undefined;
  }
}

/**
 * A fake `pulumi` of the pinned version, with a language host beside it, first on PATH: it appends
 * each call (its arguments, then the Docker variables it was given) to `calls`, answers `plugin ls`
 * with the plugins given, fails `plugin install`, is logged in unless told not to be, and answers
 * `config --json` with `config` (secrets hidden unless --show-secrets).
 */
class FakePulumi {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-fake-pulumi-"));
  private readonly log = path.join(this.dir, "calls");

  constructor({ plugins = true, loggedIn = true, config = {} as Record<string, { value: string; secret?: boolean }> } = {}) {
    const bin = path.join(this.dir, "bin");
    fs.mkdirSync(bin);
    const listed = plugins ? PLUGINS.map(([name, version]) => ({ name, kind: "resource", version })) : [];
    const hidden = Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, v.secret ? { secret: true } : { value: v.value, secret: false }]),
    );
    const shown = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v.value, secret: !!v.secret }]));
    fs.writeFileSync(path.join(this.dir, "plugins.json"), JSON.stringify(listed));
    fs.writeFileSync(path.join(this.dir, "config.json"), JSON.stringify(hidden));
    fs.writeFileSync(path.join(this.dir, "config-shown.json"), JSON.stringify(shown));
    const script = `#!/bin/bash
{ printf '%s\\n' "$*"; printf '  env DOCKER_HOST=%s DOCKER_CERT_PATH=%s DOCKER_TLS_VERIFY=%s\\n' "\${DOCKER_HOST:-}" "\${DOCKER_CERT_PATH:-}" "\${DOCKER_TLS_VERIFY:-}"
  if [ -n "\${DOCKER_CERT_PATH:-}" ] && [ -d "$DOCKER_CERT_PATH" ]; then
    printf '  certs %s' "$(stat -c %a "$DOCKER_CERT_PATH")"
    for pem in "$DOCKER_CERT_PATH"/*.pem; do printf ' %s:%s:%s' "\${pem##*/}" "$(stat -c %a "$pem")" "$(cat "$pem")"; done; echo
  fi; } >> ${JSON.stringify(this.log)}
dir=${JSON.stringify(this.dir)}
case "$1 $2" in
  version*) echo v${pins["@pulumi/pulumi"]} ;;
  "plugin ls") cat "$dir/plugins.json" ;;
  "plugin install") echo "error: no registry here" >&2; exit 1 ;;
  whoami*) ${loggedIn ? "echo fake" : 'echo "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions" >&2; exit 255'} ;;
  config*) case "$*" in *--show-secrets*) cat "$dir/config-shown.json" ;; *) cat "$dir/config.json" ;; esac ;;
esac
exit 0
`;
    fs.writeFileSync(path.join(bin, "pulumi"), script, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "pulumi-language-nodejs"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  }

  /** Each call: its arguments, then "  env ..." (and "  certs ..." when given a cert directory). */
  calls(): string[] {
    return fs.existsSync(this.log) ? fs.readFileSync(this.log, "utf8").split("\n").filter(Boolean) : [];
  }

  /** Just the arguments of each call. */
  commands(): string[] {
    return this.calls().filter((c) => !c.startsWith("  "));
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return cleanEnv({ PATH: `${path.join(this.dir, "bin")}:${process.env.PATH}`, PULUMI_HOME: path.join(this.dir, "home"), ...extra });
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Why the docker CLI cannot be used here (it makes the test's context), or undefined. */
const noDockerCli = (() => {
  try {
    execFileSync("docker", ["--version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "no docker CLI on PATH";
  }
})();

const USAGE = /usage: npm run (up|down|preview) -- \[STACK\] \[PULUMI FLAGS\.\.\.\]/;

describe("the wrappers' arguments", () => {
  const fake = new FakePulumi();
  after(() => fake.remove());

  for (const [script, args] of [
    ["scripts/up.sh", ["dev", "oops"]],
    ["scripts/down.sh", ["a", "b"]],
    ["scripts/preview.sh", ["gpu", "--diff", "extra"]],
    ["scripts/down.sh", ["--stack", "gpu"]],
    ["scripts/down.sh", ["dev", "--stack=gpu"]],
  ] as const) {
    it(`refuses \`${script} ${args.join(" ")}\` with exit status 2 and the usage line, running nothing`, async () => {
      const r = await bash(script, [...args], fake.env());
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, USAGE);
      assert.deepEqual(fake.calls(), []);
    });
  }

  it("destroys dev when no stack is named, and only the stack named otherwise, passing the flags on", async () => {
    const r1 = await bash("scripts/down.sh", [], fake.env({ PULUMI_BACKEND_URL: "file:///nowhere" }));
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await bash(
      "scripts/down.sh",
      ["gpu", "--target-dependents", "--message=bye"],
      fake.env({ PULUMI_BACKEND_URL: "file:///nowhere" }),
    );
    assert.equal(r2.code, 0, r2.stderr);
    const destroys = fake.commands().filter((c) => c.startsWith("destroy"));
    assert.deepEqual(destroys, [
      "destroy --stack dev --yes --skip-preview --non-interactive",
      "destroy --stack gpu --yes --skip-preview --non-interactive --target-dependents --message=bye",
    ]);
    // Each run read its own stack's config and no other, and selected or created nothing.
    assert.deepEqual(
      fake.commands().filter((c) => c.startsWith("config")),
      ["config --stack dev --json --non-interactive", "config --stack gpu --json --non-interactive"],
    );
    assert.equal(fake.commands().filter((c) => c.startsWith("stack")).length, 0);
  });
});

describe("the wrappers' environment (fake CLI)", () => {
  const fakes: FakePulumi[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-wrappers-"));
  after(() => {
    for (const f of fakes) f.remove();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const fake = (opts: ConstructorParameters<typeof FakePulumi>[0]) => {
    const f = new FakePulumi(opts);
    fakes.push(f);
    return f;
  };

  it("stops `up` with exit status 3 on missing plugins, after asking the CLI to install them, before touching any stack", async () => {
    const f = fake({ plugins: false });
    const r = await bash("scripts/up.sh", [], f.env({ PULUMI_BACKEND_URL: "file:///nowhere" }));
    assert.equal(r.code, 3, r.stderr);
    for (const [name, version] of PLUGINS) {
      assert.ok(f.commands().includes(`plugin install resource ${name} ${version} --non-interactive`), f.commands().join("\n"));
      assert.match(r.stderr, new RegExp(`pulumi plugin install resource ${name} ${version}\\n`));
      assert.match(r.stderr, new RegExp(`pulumi plugin install resource ${name} ${version} --file ./pulumi-resource-${name}`));
    }
    assert.deepEqual(
      f.commands().filter((c) => !/^(version|plugin )/.test(c)),
      [],
      "nothing but the CLI's version and its plugins was asked",
    );
  });

  /** The environment pulumi-env.sh leaves for the commands it starts, and what it said. */
  async function wrapperEnv(f: FakePulumi, extra: Record<string, string> = {}) {
    const r = await bash("-c", ["source scripts/lib/pulumi-env.sh && pulumi_env --skip-plugins && env -0"], f.env(extra));
    assert.equal(r.code, 0, r.stderr);
    const env = Object.fromEntries(r.stdout.split("\0").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    return { env, stderr: r.stderr };
  }

  it("keeps the user's PULUMI_HOME and plugin acquisition, and says when it defaults the backend and the passphrase", async () => {
    const f = fake({ loggedIn: false });
    const home = path.join(tmp, "home");
    const { env, stderr } = await wrapperEnv(f, { PULUMI_HOME: home });
    assert.equal(env.PULUMI_HOME, home);
    assert.equal(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, undefined);
    assert.equal(env.PULUMI_BACKEND_URL, "file://~");
    assert.equal(env.PULUMI_CONFIG_PASSPHRASE, "");
    assert.match(stderr, /not logged in to a Pulumi backend: using the local one, file:\/\/~.*`pulumi login --local`/);
    assert.equal(stderr.match(/file:\/\/~/g)?.length, 1, "the backend is announced once");
    assert.match(stderr, /PULUMI_CONFIG_PASSPHRASE is not set: using the empty passphrase/);
    assert.equal(fs.existsSync(home), false, "the wrapper makes nothing in PULUMI_HOME");
    // Unset, it stays unset: the CLI's own default.
    const r = await bash(
      "-c",
      ["unset PULUMI_HOME; source scripts/lib/pulumi-env.sh && pulumi_env --skip-plugins 2>/dev/null && env"],
      f.env(),
    );
    assert.doesNotMatch(r.stdout, /^PULUMI_HOME=/m);
  });

  it("uses the backend the user is logged in to, and a passphrase file, without a word", async () => {
    const f = fake({ loggedIn: true });
    const { env, stderr } = await wrapperEnv(f, { PULUMI_CONFIG_PASSPHRASE_FILE: "/dev/null" });
    assert.equal(env.PULUMI_BACKEND_URL, undefined);
    assert.equal(env.PULUMI_CONFIG_PASSPHRASE, undefined);
    assert.deepEqual(
      stderr.split("\n").filter((l) => l && !l.startsWith("[toolchain")),
      [],
    );
  });

  it("hands the stack's docker:host and TLS material to Pulumi, in a private directory removed afterwards", async () => {
    const f = fake({
      config: {
        "docker:host": { value: "tcp://engine.invalid:2376" },
        "docker:caMaterial": { value: "CA-PEM", secret: true },
        "docker:certMaterial": { value: "CERT-PEM" },
        "docker:keyMaterial": { value: "KEY-PEM", secret: true },
      },
    });
    const r = await bash(
      "scripts/down.sh",
      ["tls"],
      f.env({ PULUMI_BACKEND_URL: "file:///nowhere", DOCKER_HOST: "unix:///elsewhere.sock" }),
    );
    assert.equal(r.code, 0, r.stderr);
    const calls = f.calls();
    const at = calls.findIndex((c) => c.startsWith("destroy --stack tls"));
    assert.ok(at >= 0, calls.join("\n"));
    const env = calls[at + 1];
    assert.match(env, /DOCKER_HOST=tcp:\/\/engine\.invalid:2376 DOCKER_CERT_PATH=(\S+) DOCKER_TLS_VERIFY=1$/);
    assert.equal(calls[at + 2], "  certs 700 ca.pem:600:CA-PEM cert.pem:600:CERT-PEM key.pem:600:KEY-PEM");
    const dir = /DOCKER_CERT_PATH=(\S+)/.exec(env)![1];
    assert.equal(fs.existsSync(dir), false, `${dir} removed on exit`);
    // Read once without secrets, then once more shown since some are secrets.
    assert.deepEqual(
      f.commands().filter((c) => c.startsWith("config")),
      ["config --stack tls --json --non-interactive", "config --stack tls --json --show-secrets --non-interactive"],
    );
  });

  it("follows the docker CLI's current context when nothing else names an engine, and says so", { skip: noDockerCli }, async () => {
    const f = fake({});
    const dockerConfig = path.join(tmp, "docker-config");
    const env = f.env({ PULUMI_BACKEND_URL: "file:///nowhere", DOCKER_CONFIG: dockerConfig });
    execFileSync("docker", ["context", "create", "elsewhere", "--docker", "host=tcp://127.0.0.1:9"], { env, stdio: "ignore" });
    execFileSync("docker", ["context", "use", "elsewhere"], { env, stdio: "ignore" });
    const r = await bash("scripts/down.sh", ["ctx"], env);
    assert.equal(r.code, 0, r.stderr);
    const calls = f.calls();
    assert.equal(
      calls[calls.findIndex((c) => c.startsWith("destroy --stack ctx")) + 1],
      "  env DOCKER_HOST=tcp://127.0.0.1:9 DOCKER_CERT_PATH= DOCKER_TLS_VERIFY=",
    );
    assert.match(r.stderr, /Docker engine: tcp:\/\/127\.0\.0\.1:9, of the docker CLI's context "elsewhere"; exported as DOCKER_HOST/);
    // DOCKER_HOST, when set, wins over the context, as it does for the docker CLI.
    const r2 = await bash("scripts/down.sh", ["ctx2"], { ...env, DOCKER_HOST: "unix:///mine.sock" });
    assert.equal(r2.code, 0, r2.stderr);
    const calls2 = f.calls();
    assert.equal(
      calls2[calls2.findIndex((c) => c.startsWith("destroy --stack ctx2")) + 1],
      "  env DOCKER_HOST=unix:///mine.sock DOCKER_CERT_PATH= DOCKER_TLS_VERIFY=",
    );
  });
});

describe("the wrappers with the real CLI", () => {
  const pulumiDir = realPulumiDir();
  const noCli = pulumiDir ? undefined : "no pulumi CLI on PATH (scripts/test.sh puts the toolchain's there)";
  const project = new ScratchProject();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-pulumi-home-"));
  const backend = path.join(project.dir, ".state");
  after(() => {
    project.remove();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("stops with exit status 3 naming each missing plugin and its install command, without Go", { skip: noCli }, async () => {
    // PATH: the real CLI, node, the system's tools; no directory that holds go.
    const dirs = [pulumiDir!, ...(process.env.PATH ?? "").split(":")].filter((d) => d && !fs.existsSync(path.join(d, "go")));
    const env = cleanEnv({
      PATH: [...new Set(dirs)].join(":"),
      PULUMI_HOME: path.join(home, "empty"),
      PULUMI_BACKEND_URL: `file://${backend}`,
      // No registry, here or anywhere: the CLI's install attempt fails at once.
      HTTPS_PROXY: "http://127.0.0.1:9",
      HTTP_PROXY: "http://127.0.0.1:9",
      NO_PROXY: "",
      no_proxy: "",
    });
    const started = Date.now();
    const r = await bash(path.join(project.dir, "scripts/up.sh"), [`wrappers-${process.pid}-none`], env, project.dir);
    assert.equal(r.code, 3, r.stderr);
    for (const [name, version] of PLUGINS) {
      assert.match(r.stderr, new RegExp(`resource plugin ${name} ${version} .*is not installed`));
      assert.match(r.stderr, new RegExp(`  pulumi plugin install resource ${name} ${version}\\n`));
      assert.match(r.stderr, new RegExp(`  pulumi plugin install resource ${name} ${version} --file ./pulumi-resource-${name}\\n`));
    }
    assert.doesNotMatch(r.stderr, /go is required|building it from Go modules/);
    // (`plugin install` itself marks the backend's format: .pulumi/meta.yaml, no stack.)
    assert.equal(fs.existsSync(path.join(backend, ".pulumi", "stacks")), false, "no stack created");
    assert.ok(Date.now() - started < 120_000, `took ${Date.now() - started} ms`);
  });

  it(
    "uses the user's PULUMI_HOME and backend: `npm run pulumi -- stack ls` lists a stack made with plain pulumi",
    { skip: noCli },
    async () => {
      const env = cleanEnv({ PULUMI_HOME: path.join(home, "mine"), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "" });
      const name = `wrappers-${process.pid}-plain`;
      await run("pulumi", ["stack", "init", name, "--non-interactive"], { cwd: project.dir, env });
      const r = await bash(path.join(project.dir, "scripts/pulumi.sh"), ["stack", "ls", "--json"], env, project.dir);
      assert.equal(r.code, 0, r.stderr);
      const stacks = JSON.parse(r.stdout) as { name: string; current: boolean }[];
      // `current`: the selection `stack init` recorded in that PULUMI_HOME.
      assert.deepEqual(
        stacks.map((s) => [s.name, s.current]),
        [[name, true]],
      );
    },
  );

  it(
    "leaves PULUMI_HOME unset when it is: `npm run pulumi -- plugin ls` lists what plain `pulumi plugin ls` does",
    { skip: noCli },
    async () => {
      const env = cleanEnv({ PULUMI_BACKEND_URL: `file://${backend}` });
      const plain = await run("pulumi", ["plugin", "ls", "--json"], { cwd: project.dir, env });
      const r = await bash(path.join(project.dir, "scripts/pulumi.sh"), ["plugin", "ls", "--json"], env, project.dir);
      assert.equal(r.code, 0, r.stderr);
      // With the install time: another PULUMI_HOME may hold the same plugins, installed at another moment.
      const names = (out: string) =>
        (JSON.parse(out) as { name: string; version: string; installTime: string }[])
          .map((p) => `${p.name} ${p.version} ${p.installTime}`)
          .sort();
      assert.deepEqual(names(r.stdout), names(plain.stdout));
    },
  );

  it("uses the backend the user logged in to with plain `pulumi login` when PULUMI_BACKEND_URL is unset", { skip: noCli }, async () => {
    const other = fs.mkdtempSync(path.join(home, "backend-"));
    const env = cleanEnv({ PULUMI_HOME: path.join(home, "logged-in"), PULUMI_CONFIG_PASSPHRASE: "" });
    await run("pulumi", ["login", `file://${other}`, "--non-interactive"], { cwd: project.dir, env });
    const name = `wrappers-${process.pid}-login`;
    await run("pulumi", ["stack", "init", name, "--non-interactive"], { cwd: project.dir, env });
    const r = await bash(path.join(project.dir, "scripts/pulumi.sh"), ["stack", "ls", "--json"], env, project.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name),
      [name],
    );
    assert.doesNotMatch(r.stderr, /not logged in/);
  });
});

describe("`npm run down -- STACK` on the real engine", () => {
  const skip = lifecycleBlocker();
  const project = new ScratchProject();
  const names = { kept: `e2e-${process.pid}-kept`, gone: `e2e-${process.pid}-gone` };
  const env = () => ({ ...process.env, ...project.env });
  const running = async (stack: string) =>
    (await docker("ps", "--filter", `label=io.inference-runtime.stack=${stack}`, "--filter", "status=running", "--format", "{{.Names}}"))
      .split("\n")
      .filter(Boolean)
      .sort();

  before(async () => {
    if (skip) return;
    // Free host ports and stack files in the scratch project, as every e2e stack has.
    await project.stack(names.kept, "dev");
    await project.stack(names.gone, "dev");
  });
  after(async () => {
    if (!skip) {
      await project.cleanup(names.kept);
      await project.cleanup(names.gone);
      // The stack selection the CLI recorded for the scratch project in the user's PULUMI_HOME.
      const home = process.env.PULUMI_HOME || path.join(os.userInfo().homedir, ".pulumi");
      const hash = createHash("sha1").update(path.join(project.dir, "Pulumi.yaml")).digest("hex");
      fs.rmSync(path.join(home, "workspaces", `inference-runtime-${hash}-workspace.json`), { force: true });
    }
    project.remove();
  });

  it("destroys the stack it names and leaves the other one running", { skip }, async () => {
    for (const stack of [names.kept, names.gone]) {
      const up = await bash(path.join(project.dir, "scripts/up.sh"), [stack], env(), project.dir);
      assert.equal(up.code, 0, up.stderr + up.stdout);
    }
    const kept = await running(names.kept);
    assert.deepEqual(kept, [`inference-runtime-${names.kept}-model-server`, `inference-runtime-${names.kept}-worker-agent`]);
    const down = await bash(path.join(project.dir, "scripts/down.sh"), [names.gone], env(), project.dir);
    assert.equal(down.code, 0, down.stderr + down.stdout);
    assert.deepEqual(await labelled(names.gone), []);
    assert.deepEqual(await running(names.kept), kept);
  });
});
