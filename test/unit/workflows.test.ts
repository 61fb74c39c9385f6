// The CI workflows, read as data: what triggers them, what each job may do, that applies to a stack
// never overlap, and that they run the project's own npm scripts (actionlint checks the syntax).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";

const ROOT = path.join(__dirname, "..", "..");
const load = (file: string): any => yaml.load(fs.readFileSync(path.join(ROOT, file), "utf8"));
const workflow = (name: string) => load(`.github/workflows/${name}.yml`);
const runs = (job: any): string[] => job.steps.filter((s: any) => s.run).map((s: any) => s.run.trim());
const uses = (job: any): string[] => job.steps.filter((s: any) => s.uses).map((s: any) => s.uses);
const PINNED = /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/;

describe("CI workflows", () => {
  const files = fs.readdirSync(path.join(ROOT, ".github/workflows")).filter((f) => f.endsWith(".yml"));

  it("are preview, deploy and destroy, granting nothing at the top and least privilege per job, each job with a timeout", () => {
    assert.deepEqual(files.sort(), ["deploy.yml", "destroy.yml", "preview.yml"]);
    for (const file of files) {
      const wf = load(`.github/workflows/${file}`);
      assert.deepEqual(wf.permissions, {}, `${file}: top-level permissions must be {}`);
      for (const [name, job] of Object.entries<any>(wf.jobs)) {
        assert.ok(
          Number.isInteger(job["timeout-minutes"]) || /inputs\.stack/.test(String(job["timeout-minutes"])),
          `${file} ${name}: timeout-minutes`,
        );
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          const allowed = scope === "contents" ? ["read"] : scope === "pull-requests" && file === "preview.yml" ? ["write"] : [];
          assert.ok(allowed.includes(level as string), `${file} ${name}: ${scope}: ${String(level)} is more than it needs`);
        }
        assert.ok(job.permissions !== undefined, `${file} ${name}: permissions must be explicit`);
      }
    }
  });

  it("pin every third-party action to a full commit SHA, local actions included", () => {
    const all = [
      ...files.flatMap((f) => Object.values<any>(workflow(f.replace(".yml", "")).jobs).flatMap(uses)),
      ...load(".github/actions/setup/action.yml")
        .runs.steps.filter((s: any) => s.uses)
        .map((s: any) => s.uses),
    ];
    const thirdParty = all.filter((u) => !u.startsWith("./"));
    assert.ok(thirdParty.some((u) => u.startsWith("pulumi/actions@")));
    for (const u of thirdParty) assert.match(u, PINNED, `${u} is not pinned to a commit`);
  });

  it("set up a current Node.js LTS (22 or 24, within package.json's engines) before any project script", () => {
    const setupSteps = load(".github/actions/setup/action.yml").runs.steps;
    const jobs = files.flatMap((f) => Object.values<any>(workflow(f.replace(".yml", "")).jobs));
    const setupNode = [...setupSteps, ...jobs.flatMap((j) => j.steps)].filter((s: any) => String(s.uses).startsWith("actions/setup-node@"));
    assert.ok(setupNode.length > 0, "no actions/setup-node step");
    const [, low, high] = /^>=(\d+) <(\d+)$/.exec(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).engines.node) ?? [];
    for (const step of setupNode) {
      const version = String(step.with?.["node-version"]);
      assert.match(version, /^(22|24)(\.x)?$/, `node-version ${version} is not a current LTS (22 or 24)`);
      const major = Number.parseInt(version, 10);
      assert.ok(major >= Number(low) && major < Number(high), `node-version ${version} is outside package.json's engines`);
    }
    // Node comes from the setup action: every job that runs the project's scripts uses it first.
    for (const job of jobs.filter((j) => runs(j).some((r) => /\b(npm run|bash scripts\/)/.test(r))))
      assert.equal(uses(job).filter((u) => !u.startsWith("actions/checkout@"))[0], "./.github/actions/setup");
  });

  it("take the backend and the passphrase from repository secrets", () => {
    for (const file of files) {
      const env = load(`.github/workflows/${file}`).env;
      assert.equal(env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}", file);
      assert.equal(env.PULUMI_BACKEND_URL, "${{ secrets.PULUMI_BACKEND_URL }}", file);
      assert.equal(env.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}", file);
    }
  });

  it("preview: on pull requests, dev and gpu, with the policy pack, the result posted on the pull request", () => {
    const wf = workflow("preview");
    assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
    const job = wf.jobs.preview;
    assert.deepEqual(job.strategy.matrix.stack, ["dev", "gpu"]);
    assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write" });
    assert.match(job.concurrency.group, /matrix\.stack/);
    assert.deepEqual(runs(job), ['npm run preview -- "$STACK"']);
    assert.equal(job.steps.find((s: any) => s.run).env.STACK, "${{ matrix.stack }}");
    const comment = job.steps.find((s: any) => s.with?.command === "preview");
    assert.equal(comment.with["comment-on-pr"], true);
    assert.equal(comment.with.policyPacks, "policy");
    assert.equal(comment.with["stack-name"], "${{ matrix.stack }}");
  });

  it("deploy: on push to main, dev then gpu on a self-hosted GPU runner behind an approval environment, one apply per stack", () => {
    const wf = workflow("deploy");
    assert.deepEqual(wf.on, { push: { branches: ["main"] } });
    const { dev, gpu } = wf.jobs;
    assert.deepEqual(runs(dev), ["npm run up", 'bash scripts/smoke-summary.sh dev >> "$GITHUB_STEP_SUMMARY"']);
    assert.deepEqual(runs(gpu), ["bash scripts/up.sh gpu", 'bash scripts/smoke-summary.sh gpu >> "$GITHUB_STEP_SUMMARY"']);
    assert.deepEqual(dev.concurrency, { group: "stack-dev", "cancel-in-progress": false });
    assert.deepEqual(gpu.concurrency, { group: "stack-gpu", "cancel-in-progress": false });
    assert.equal(gpu.needs, "dev");
    assert.equal(gpu.environment, "gpu");
    assert.ok(gpu["runs-on"].includes("self-hosted") && gpu["runs-on"].includes("gpu"));
    // Model loading on a GPU: an image pull of up to an hour, then a 10-minute start period.
    assert.ok(gpu["timeout-minutes"] >= 90, "the gpu job's timeout must cover a first image pull and model load");
    for (const job of [dev, gpu]) {
      assert.deepEqual(job.permissions, { contents: "read" });
      assert.equal(job.steps.at(-1).if, "success() || failure()", "the summary must be written when the deploy fails too");
    }
  });

  it("destroy: on demand only, the stack as a choice and a confirmation that must repeat it, in the stack's concurrency group", () => {
    const wf = workflow("destroy");
    assert.deepEqual(Object.keys(wf.on), ["workflow_dispatch"]);
    const { stack, confirm } = wf.on.workflow_dispatch.inputs;
    assert.deepEqual(stack.options, ["dev", "gpu"]);
    assert.equal(confirm.required, true);
    const job = wf.jobs.destroy;
    assert.equal(job.if, "inputs.confirm == inputs.stack");
    assert.equal(wf.jobs.refused.if, "inputs.confirm != inputs.stack");
    assert.equal(job.concurrency.group, "stack-${{ inputs.stack }}", "must share the deploy's group");
    assert.equal(job.environment, "${{ inputs.stack }}");
    assert.deepEqual(runs(job), ['bash scripts/down.sh "$STACK"']);
    assert.deepEqual(wf.jobs.refused.permissions, {});
  });

  it("run only scripts that exist, and the npm scripts they name", () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
    const setup = load(".github/actions/setup/action.yml")
      .runs.steps.filter((s: any) => s.run)
      .map((s: any) => s.run as string);
    const commands = [...files.flatMap((f) => Object.values<any>(workflow(f.replace(".yml", "")).jobs).flatMap(runs)), ...setup].join("\n");
    for (const [, name] of commands.matchAll(/npm run ([\w:-]+)/g)) assert.ok(scripts[name], `npm run ${name} is not a script`);
    for (const [, file] of commands.matchAll(/bash (scripts\/[\w./-]+)/g))
      assert.ok(fs.existsSync(path.join(ROOT, file)), `${file} does not exist`);
    assert.equal(scripts.preview, "bash scripts/preview.sh");
    assert.match(fs.readFileSync(path.join(ROOT, "scripts/lib/policy-flags.sh"), "utf8"), /--policy-pack policy/);
  });
});
