// The instances library's argument handling, without an engine or a backend: what a request
// turns into (the stack's config, its name), every class of bad input with its message, where
// state goes, and the program's resources for an instance's config under Pulumi's mocks.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { diagnosis } from "../../instances/diagnosis";
import { isInstanceStack, parseInstanceId, stackNameOf } from "../../instances/ids";
import { InstanceInputError, parseSettings, planInstance, RequestShape } from "../../instances/options";
import { cliEnvironment } from "../../instances/stacks";
import { stateLocation } from "../../instances/state";
import { labelsOf, ROOT, runIsolated } from "./harness";
import { bundled } from "../lib/bundle";

const run = promisify(execFile);
const ID = "3f1c2b9e-8d4a-4c7e-9b2a-1e5f6a7b8c9d";
const REQUEST: RequestShape = { network: "controlplane", controlPlaneUrl: "http://api:8003" };

/** The problems a request is refused with (fails when it is accepted). */
function refusal(id: unknown, shape: RequestShape): string[] {
  try {
    planInstance(id, shape);
  } catch (err) {
    assert.ok(err instanceof InstanceInputError, String(err));
    return err.problems;
  }
  assert.fail("the request was accepted");
}

/** The plan's stack config as the harness takes it: keys without the namespace. */
const projectConfig = (config: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("inference-runtime:"))
      .map(([k, v]) => [k.slice("inference-runtime:".length), v]),
  );

describe("instance ids", () => {
  it("derives the stack from the first 12 hex digits, in lower case", () => {
    assert.equal(stackNameOf(ID), "i-3f1c2b9e8d4a");
    assert.deepEqual(parseInstanceId(ID.toUpperCase()), { id: ID });
    assert.ok(isInstanceStack("i-3f1c2b9e8d4a"));
    assert.ok(!isInstanceStack("dev"));
  });

  it("refuses what is not a UUID, saying what was expected", () => {
    for (const bad of ["", "abc", "3f1c2b9e8d4a4c7e9b2a1e5f6a7b8c9d", `${ID}0`, 42]) {
      const r = parseInstanceId(bad);
      assert.ok("error" in r, String(bad));
      assert.match(r.error, /^instance id: expected a UUID such as .*, got /);
    }
  });
});

describe("planInstance", () => {
  it("starts from the base file and joins the control plane's network without host ports", () => {
    const plan = planInstance(ID, REQUEST);
    assert.equal(plan.stack, "i-3f1c2b9e8d4a");
    assert.equal(plan.base, "dev");
    assert.equal(plan.servedModelName, "qwen2.5-0.5b-instruct");
    const c = plan.stackConfig;
    assert.equal(c["inference-runtime:runtime"], "mock");
    assert.deepEqual(c["inference-runtime:network"], { publish: false, external: "controlplane" });
    assert.equal(c["inference-runtime:smokeTest"], false);
    assert.deepEqual(c["inference-runtime:agent"], { instanceId: ID, controlPlaneUrl: "http://api:8003" });
    assert.equal((c["inference-runtime:model"] as { maxModelLen: number }).maxModelLen, 2048);
  });

  it("takes overrides by key path over the base, and the gpu base when asked", () => {
    const plan = planInstance(ID, {
      ...REQUEST,
      base: "gpu",
      overrides: { "model.maxModelLen": 8192, "model.servedName": "mock-echo-model", "network.publish": true, smokeTest: true },
    });
    const c: Record<string, any> = plan.stackConfig;
    assert.equal(c["inference-runtime:runtime"], "vllm");
    assert.equal(c["inference-runtime:model"].maxModelLen, 8192);
    assert.equal(c["inference-runtime:network"].publish, true);
    assert.equal(plan.servedModelName, "mock-echo-model");
    // The base's own settings survive beside the override.
    assert.equal(c["inference-runtime:model"].id, "Qwen/Qwen2.5-0.5B-Instruct");
    assert.equal(c["inference-runtime:model"].gpuMemoryUtilization, 0.6);
  });

  it("refuses bad overrides with the stack config's own messages, every problem at once", () => {
    const problems = refusal("nope", {
      ...REQUEST,
      overrides: { "model.maxModelLenn": 1, "model.gpuMemoryUtilization": 2, runtime: "tgi" },
    });
    assert.ok(
      problems.some((p) => /^instance id: expected a UUID/.test(p)),
      problems.join("\n"),
    );
    assert.ok(problems.includes("inference-runtime:model: unknown key(s) maxModelLenn"), problems.join("\n"));
    assert.ok(problems.includes("inference-runtime:model.gpuMemoryUtilization: expected a fraction in (0, 1]"), problems.join("\n"));
    assert.ok(
      problems.some((p) => /^inference-runtime:runtime: Invalid option: expected one of "mock"\|"vllm"/.test(p)),
      problems.join("\n"),
    );
  });

  it("refuses cross-field conflicts the way a stack file is refused", () => {
    assert.deepEqual(refusal(ID, { ...REQUEST, overrides: { smokeTest: true } }), [
      "inference-runtime:smokeTest: runs where Pulumi runs and needs the API on the host: set network.publish to true, or smokeTest to false",
    ]);
  });

  it("refuses overrides of what the request sets itself, and secrets as plain overrides", () => {
    const problems = refusal(ID, {
      ...REQUEST,
      overrides: {
        "agent.instanceId": ID,
        "network.external": "x",
        "agent.controlPlaneUrl": "http://x",
        workerAuthToken: "t",
        "model..id": "x",
      },
    });
    assert.deepEqual(problems, [
      "inference-runtime:agent.instanceId: not an override: set from the instance id",
      "inference-runtime:network.external: not an override: set from the network option (--network)",
      "inference-runtime:agent.controlPlaneUrl: not an override: set from the controlPlaneUrl option (--control-plane-url)",
      "inference-runtime:workerAuthToken: not an override: a secret: pass the workerToken option (WORKER_AUTH_TOKEN or --worker-token-file)",
      "inference-runtime:model..id: expected a config key path such as model.maxModelLen",
    ]);
  });

  it("refuses a base stack file that does not exist, a bad network name and a bad control-plane URL", () => {
    assert.deepEqual(refusal(ID, { ...REQUEST, base: "staging" }), [
      `base: no stack file Pulumi.staging.yaml in ${ROOT}; expected one of dev, gpu`,
    ]);
    assert.deepEqual(refusal(ID, { ...REQUEST, base: "../dev" }), [
      `base: no stack file Pulumi.../dev.yaml in ${ROOT}; expected one of dev, gpu`,
    ]);
    assert.match(refusal(ID, { ...REQUEST, network: "bad name" })[0], /^network: expected the name of an existing Docker network/);
    assert.deepEqual(refusal(ID, { ...REQUEST, controlPlaneUrl: "ftp://cp" }), [
      "inference-runtime:agent.controlPlaneUrl: expected an http(s) URL",
    ]);
  });
});

describe("parseSettings", () => {
  it("reads values as JSON when they are, as text otherwise", () => {
    assert.deepEqual(
      parseSettings(["model.maxModelLen=4096", "model.id=Qwen/Qwen2.5-0.5B-Instruct", 'model.extraArgs=["--a","--b"]', "x=true", "y=a=b"]),
      {
        "model.maxModelLen": 4096,
        "model.id": "Qwen/Qwen2.5-0.5B-Instruct",
        "model.extraArgs": ["--a", "--b"],
        x: true,
        y: "a=b",
      },
    );
  });

  it("refuses an item without key=value", () => {
    assert.throws(
      () => parseSettings(["model.maxModelLen", "=3"]),
      (err: InstanceInputError) => {
        assert.deepEqual(err.problems, [
          "--set model.maxModelLen: expected key=value, e.g. --set model.maxModelLen=4096",
          "--set =3: expected key=value, e.g. --set model.maxModelLen=4096",
        ]);
        return true;
      },
    );
  });
});

describe("where instance state lives", () => {
  it("takes the option, else the environment variable, else the user's state directory", () => {
    assert.equal(stateLocation("/srv/x", { INFERENCE_RUNTIME_INSTANCES_DIR: "/env" }).dir, "/srv/x");
    assert.equal(stateLocation(undefined, { INFERENCE_RUNTIME_INSTANCES_DIR: "/env" }).dir, "/env");
    assert.equal(stateLocation(undefined, { XDG_STATE_HOME: "/state" }).dir, "/state/inference-runtime/instances");
    const loc = stateLocation("/srv/x");
    assert.equal(loc.backendUrl, "file:///srv/x/backend?metadata=skip");
    assert.equal(loc.workspaces, "/srv/x/workspaces");
  });

  it("uses the empty passphrase only when none is given", () => {
    const loc = stateLocation("/srv/x");
    assert.equal(cliEnvironment(loc, {}).PULUMI_CONFIG_PASSPHRASE, "");
    assert.equal(cliEnvironment(loc, { PULUMI_CONFIG_PASSPHRASE: "s3cret" }).PULUMI_CONFIG_PASSPHRASE, undefined);
    assert.equal(cliEnvironment(loc, { PULUMI_CONFIG_PASSPHRASE_FILE: "/p" }).PULUMI_CONFIG_PASSPHRASE, undefined);
    assert.equal(cliEnvironment(loc, {}).PULUMI_BACKEND_URL, loc.backendUrl);
  });
});

describe("diagnosis of a failed update", () => {
  it("keeps the resource errors of the Diagnostics section, without progress or tables", () => {
    const text = [
      "code: 255",
      "stdout: Updating (i-1):",
      " +  docker:index/container:Container runtime-server-container created",
      "Diagnostics:",
      "  pulumi:pulumi:Stack (inference-runtime-i-1):",
      "    error: update failed",
      "",
      "  command:local:Command (runtime-server-ready-wait):",
      "    error: container x did not become healthy: it exited (exit code 2)",
      "    vllm serve: error: unrecognized arguments: --no-such-flag",
      "",
      "Resources:",
      "    + 9 created",
    ].join("\n");
    assert.equal(
      diagnosis(new Error(text)),
      [
        "command:local:Command (runtime-server-ready-wait):",
        "  error: container x did not become healthy: it exited (exit code 2)",
        "  vllm serve: error: unrecognized arguments: --no-such-flag",
      ].join("\n"),
    );
  });
});

describe("an instance's stack under Pulumi's mocks", () => {
  const plan = planInstance(ID, { ...REQUEST, overrides: { "mock.ttftMs": 5 } });
  const { resources, error } = runIsolated(plan.stack, { ...projectConfig(plan.stackConfig), workerAuthToken: "tok" }, ["workerAuthToken"]);
  const container = (role: string) =>
    resources.find((r) => r.type === "docker:index/container:Container" && labelsOf(r)["io.inference-runtime.role"] === role)!;

  it("declares the runtime under the instance's own names, with no host ports and no smoke test", () => {
    assert.equal(error, undefined);
    const server = container("model-server");
    assert.equal(server.inputs.name, "inference-runtime-i-3f1c2b9e8d4a-model-server");
    assert.deepEqual(server.inputs.ports, []);
    assert.deepEqual(
      server.inputs.networksAdvanced.map((n: { name: string }) => n.name),
      ["inference-runtime-i-3f1c2b9e8d4a-net", "controlplane"],
    );
    assert.equal(labelsOf(server)["io.inference-runtime.stack"], "i-3f1c2b9e8d4a");
    assert.equal(resources.filter((r) => r.name.includes("smoke-test")).length, 0);
    for (const r of resources.filter((x) => x.inputs.labels))
      assert.equal(labelsOf(r)["io.inference-runtime.stack"], "i-3f1c2b9e8d4a", r.name);
    assert.ok(server.inputs.envs.includes("MOCK_VLLM_TTFT_MS=5"));
  });

  it("gives the agent its instance id, control plane and worker token, and no fixed address", () => {
    const agent = container("worker-agent");
    const envs = JSON.stringify(agent.inputs.envs);
    assert.match(envs, new RegExp(`INSTANCE_ID=${ID}`));
    assert.match(envs, /CONTROL_PLANE_URL=http:\/\/api:8003/);
    assert.match(envs, /WORKER_AUTH_TOKEN=tok/);
    // The agent shares the server's namespace and finds its address toward the control plane.
    assert.doesNotMatch(envs, /WORKER_ADVERTISE_IP/);
    assert.equal(agent.inputs.networkMode, "container:runtime-server-container-id");
  });
});

describe("the instance command line", () => {
  const cli = async (...args: string[]) => {
    try {
      const r = await run("node", [bundled("instances/cli.ts"), ...args], {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, PATH: `/nonexistent:${process.env.PATH}` },
      });
      return { code: 0, ...r };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("exits 2 with the problem and the usage for bad command lines, before touching anything", async () => {
    const cases: [string[], RegExp][] = [
      [[], /instance: no command given/],
      [["start", ID], /unknown command "start"/],
      [["ip"], /ip: the instance id is missing/],
      [["list", "--network", "x"], /list takes no --network/],
      [["ip", ID, "extra"], /unexpected argument\(s\) extra/],
      [["create", ID, "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args, "--state-dir", "/nonexistent/state");
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage:/);
      assert.equal(r.stdout, "");
    }
  });

  it("exits 2 naming each bad field of a create, before asking the engine", async () => {
    const r = await cli("create", "not-a-uuid", "--network", "cp", "--set", "model.maxModelLen=abc", "--state-dir", "/nonexistent/state");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /instance id: expected a UUID/);
    assert.match(r.stderr, /inference-runtime:model\.maxModelLen: .*expected number/i);
    assert.equal(r.stdout, "");
  });
});
