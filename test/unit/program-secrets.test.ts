// Secrets reach the containers only inside secret Outputs, and never appear in stack outputs.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { runProgram, stackConfig } from "./harness";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { withSecretEnv } from "../../program/secretEnv";

/** What the engine receives for a secret input: an envelope, not a plain list. */
function openSecretEnvelope(input: any): string[] {
  assert.equal(input?.[specialSigKey], specialSecretSig, "envs was sent to the engine as plain text");
  return input.value;
}

describe("secrets", () => {
  let outputs: Record<string, any>;
  let envs: Record<string, string[]>;
  let smokeEnv: Record<string, any>;
  before(async () => {
    const config = stackConfig("dev", { hfToken: "hf_SECRET", apiKey: "sk-SECRET", workerAuthToken: "wt-SECRET" });
    const result = await runProgram("dev", config, ["hfToken", "apiKey", "workerAuthToken"]);
    outputs = result.outputs;
    smokeEnv = result.resources.find((r) => r.name === "runtime-smoke-test-command")!.inputs.environment;
    envs = Object.fromEntries(
      result.resources.filter((r) => r.type === "docker:index/container:Container").map((r) => [r.name, openSecretEnvelope(r.inputs.envs)]),
    );
  });

  it("hands each secret, inside a secret envelope, to the container that needs it", () => {
    const server = envs["runtime-server-container"];
    const agent = envs["runtime-agent-container"];
    assert.ok(server.includes("HF_TOKEN=hf_SECRET"));
    assert.ok(server.includes("VLLM_API_KEY=sk-SECRET"));
    assert.ok(agent.includes("WORKER_AUTH_TOKEN=wt-SECRET"));
    assert.ok(agent.includes("VLLM_API_KEY=sk-SECRET"));
    assert.ok(!server.includes("WORKER_AUTH_TOKEN=wt-SECRET"));
  });

  it("gives the smoke test the API key as a secret", () => {
    // The engine receives the whole environment map as one secret.
    assert.equal(smokeEnv[specialSigKey], specialSecretSig);
    assert.equal(smokeEnv.value.SMOKE_API_KEY, "sk-SECRET");
  });

  it("keeps secrets out of every stack output, and says how to pass the key to curl", () => {
    const text = JSON.stringify(outputs);
    assert.ok(!/SECRET/.test(text), `an output leaks a secret: ${text}`);
    assert.match(outputs.curlCommand, /Authorization: Bearer \$API_KEY/);
  });

  it("marks the environment list secret as a whole when it carries a secret", async () => {
    const env = withSecretEnv(
      ["A=1"],
      [
        ["TOKEN", pulumi.secret("x")],
        ["UNSET", undefined],
      ],
    );
    assert.ok(pulumi.Output.isInstance(env));
    assert.equal(await (env as unknown as { isSecret: Promise<boolean> }).isSecret, true);
    const plain = withSecretEnv(["A=1"], [["UNSET", undefined]]);
    assert.deepEqual(plain, ["A=1"]);
  });

  it("hands the docker provider's TLS key material to the commands' docker CLI only as a secret", async () => {
    const tls = {
      "docker:host": "tcp://127.0.0.1:2376",
      "docker:caMaterial": "CA",
      "docker:certMaterial": "CERT",
      "docker:keyMaterial": "KEY-SECRET",
    };
    const result = await runProgram("dev", { ...stackConfig("dev"), ...tls }, ["docker:keyMaterial"]);
    const commands = result.resources.filter((r) => r.name.endsWith("-build") || r.name.endsWith("-ready-wait"));
    assert.equal(commands.length, 4);
    for (const command of commands) {
      assert.equal(command.inputs.environment[specialSigKey], specialSecretSig, `${command.name}: environment sent as plain text`);
      assert.equal(command.inputs.environment.value.DOCKER_KEY_MATERIAL, "KEY-SECRET");
      assert.equal(command.inputs.environment.value.DOCKER_HOST, "tcp://127.0.0.1:2376");
    }
    assert.ok(!JSON.stringify(result.outputs).includes("KEY-SECRET"));
  });
});
