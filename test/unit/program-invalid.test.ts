// A stack with bad config fails before any resource is declared, naming every bad key at once.
import assert from "node:assert/strict";
import { it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { runProgram, stackConfig } from "./harness";

it("rejects runtime foo and gpuMemoryUtilization 1.5 in one message, creating nothing", async () => {
  const config = stackConfig("dev", {
    runtime: "foo",
    model: { gpuMemoryUtilization: 1.5 },
    apiKey: "plain-text-key",
  });
  const { resources, error } = await runProgram("dev", config).then(
    (r) => ({ resources: r.resources, error: undefined as Error | undefined }),
    (e: Error) => ({ resources: [], error: e }),
  );
  assert.ok(error, "the program should have failed");
  assert.ok(error instanceof pulumi.RunError, `expected a RunError (clean exit, no stack trace), got ${error.name}`);
  assert.match(error.message, /problems\):/);
  assert.match(error.message, /inference-runtime:runtime: .*"mock".*"vllm"/);
  assert.match(error.message, /inference-runtime:model\.gpuMemoryUtilization: expected a fraction in \(0, 1\]/);
  assert.match(error.message, /inference-runtime:apiKey: is stored in plain text; set it with `pulumi config set --secret apiKey/);
  assert.equal(resources.length, 0);
});
