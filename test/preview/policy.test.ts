// The policy pack in real previews: the real CLI, language host and providers, against the real
// engine. The committed stacks pass; a stack that breaks a mandatory rule fails its preview with
// the policy, the resource and what to change, and nothing is created.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { labelled, lifecycleBlocker, ScratchProject } from "../e2e/stacks";

const POLICY = ["--policy-pack", "policy"];
const skip = lifecycleBlocker();

describe("the policy pack in real previews", { skip }, () => {
  let project: ScratchProject;
  let n = 0;
  const name = (what: string) => `pol-${what}-${process.pid}-${n++}`;
  before(() => {
    project = new ScratchProject();
  });
  after(() => project.remove());

  /** Previews `stack` with the pack; returns the exit code and everything printed. */
  async function preview(stack: string) {
    const result = await project.pulumi("preview", "--stack", stack, ...POLICY);
    return { code: result.code, output: result.stdout + result.stderr };
  }

  /** Nothing of the stack in the state or on the engine. */
  async function assertNothingCreated(stack: string) {
    const exported = JSON.parse((await project.pulumi("stack", "export", "--stack", stack)).stdout);
    assert.deepEqual(exported.deployment.resources ?? [], []);
    assert.deepEqual(await labelled(stack), []);
  }

  for (const base of ["dev", "gpu"] as const) {
    it(`passes the committed ${base} stack`, async () => {
      const stack = name(base);
      await project.stack(stack, base);
      const { code, output } = await preview(stack);
      assert.equal(code, 0, output);
      assert.match(output, /Policies:\n\s+✅ inference-runtime@v0\.1\.0/);
      assert.doesNotMatch(output, /\[(mandatory|advisory)\]/);
      await assertNothingCreated(stack);
    });
  }

  const violations: { rule: string; base: "dev" | "gpu"; settings: Record<string, string>; resource: string; message: RegExp }[] = [
    {
      rule: "host-ports-loopback",
      base: "dev",
      settings: { "network.bindAddress": "0.0.0.0" },
      resource: "docker:index/container:Container: runtime-server-container",
      message: /publishes host port \d+ \(container port 8000\) on 0\.0\.0\.0: bind it to 127\.0\.0\.1 \(config network\.bindAddress\)/,
    },
    {
      rule: "images-pinned",
      base: "gpu",
      settings: { "images.vllmGpu": "vllm/vllm-openai:latest" },
      resource: "docker:index/remoteImage:RemoteImage: runtime-server-image-remote",
      message: /image vllm\/vllm-openai:latest \(runtime-server-image-remote\) is tagged `latest`.*pin a release tag/,
    },
    {
      rule: "model-server-start-period",
      base: "gpu",
      // The engine's start period is the longer of startPeriod and waitTimeoutSeconds: both short.
      settings: { "healthcheck.startPeriod": "2m", "healthcheck.waitTimeoutSeconds": "120" },
      resource: "docker:index/container:Container: runtime-server-container",
      message:
        /runs vLLM on a GPU with a healthcheck start period of 2m0s, shorter than the 10m0s .* set healthcheck\.startPeriod or healthcheck\.waitTimeoutSeconds .* to at least 10m0s/,
    },
    {
      rule: "gpu-cache-retained",
      base: "gpu",
      settings: { "cache.keepOnDestroy": "false" },
      resource: "docker:index/volume:Volume: runtime-cache-hf",
      message:
        /volume inference-runtime-pol-[\w-]+-hf-cache \(runtime-cache-hf\) of a GPU stack would be deleted .* set cache\.keepOnDestroy: true/,
    },
  ];
  for (const v of violations) {
    it(`fails a ${v.base} stack that breaks ${v.rule}, naming the policy, the resource and the fix, creating nothing`, async () => {
      const stack = name(v.rule);
      await project.stack(stack, v.base, v.settings);
      const { code, output } = await preview(stack);
      assert.notEqual(code, 0, output);
      assert.match(output, /❌ inference-runtime@v0\.1\.0/);
      assert.ok(output.includes(`[mandatory]  ${v.rule}  (${v.resource})`), output);
      assert.match(output, v.message);
      await assertNothingCreated(stack);
    });
  }

  it("stops `npm run up` of a stack that breaks a rule before it creates anything", async () => {
    const stack = name("up");
    await project.stack(stack, "dev", { "network.bindAddress": "0.0.0.0" });
    const result = spawnSync("bash", ["scripts/up.sh", stack], {
      cwd: project.dir,
      env: { ...process.env, ...project.env },
      encoding: "utf8",
      timeout: 300_000,
    });
    try {
      const output = result.stdout + result.stderr;
      assert.notEqual(result.status, 0, output);
      assert.ok(output.includes("[mandatory]  host-ports-loopback  (docker:index/container:Container: runtime-server-container)"), output);
      await assertNothingCreated(stack);
    } finally {
      await project.cleanup(stack);
    }
  });

  it("fails a program that passes a token in plain text and leaves a volume unlabelled, creating nothing", async () => {
    // Rules no stack setting can break: a program of its own, in a copy of the project.
    const rogue = new ScratchProject();
    try {
      fs.unlinkSync(path.join(rogue.dir, "index.ts"));
      fs.writeFileSync(
        path.join(rogue.dir, "index.ts"),
        [
          'import * as docker from "@pulumi/docker";',
          'import * as pulumi from "@pulumi/pulumi";',
          "const stack = pulumi.getStack();",
          'const cache = new docker.Volume("rogue-cache", { name: `rogue-${stack}-cache` });',
          'new docker.Container("rogue-server", {',
          "  name: `rogue-${stack}-server`,",
          '  image: "vllm/vllm-openai:v0.31.0",',
          '  envs: ["HF_TOKEN=hf_rogue_plain_text"],',
          '  labels: [{ label: "io.inference-runtime.stack", value: stack }, { label: "io.inference-runtime.role", value: "worker-agent" }],',
          '  volumes: [{ volumeName: cache.name, containerPath: "/cache" }],',
          "});",
          "",
        ].join("\n"),
      );
      const stack = name("rogue");
      const init = await rogue.pulumi("stack", "init", stack);
      assert.equal(init.code, 0, init.stderr);
      const result = await rogue.pulumi("preview", "--stack", stack, ...POLICY);
      const output = result.stdout + result.stderr;
      assert.notEqual(result.code, 0, output);
      assert.ok(output.includes("[mandatory]  secret-env-values  (docker:index/container:Container: rogue-server)"), output);
      assert.match(output, /container rogue-[\w-]+-server \(rogue-server\) sets HF_TOKEN in plain text.*pulumi config set --secret/);
      assert.ok(output.includes("[mandatory]  docker-labels  (docker:index/volume:Volume: rogue-cache)"), output);
      assert.match(output, /volume rogue-[\w-]+-cache \(rogue-cache\) lacks the label io\.inference-runtime\.stack=/);
      // Neither the token nor anything of the stack escapes: the message never repeats a value.
      assert.doesNotMatch(output.split("Policies:")[1] ?? "", /hf_rogue_plain_text/);
      const exported = JSON.parse((await rogue.pulumi("stack", "export", "--stack", stack)).stdout);
      assert.deepEqual(exported.deployment.resources ?? [], []);
      assert.deepEqual(await labelled(stack), []);
    } finally {
      rogue.remove();
    }
  });
});
