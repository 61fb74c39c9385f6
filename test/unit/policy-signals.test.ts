// The policy pack cannot see retainOnDelete (the engine does not send it to policies); its
// gpu-cache-retained rule reads the stack's `keptOnDestroy` output instead. These tests hold that
// output to the option: a volume is listed exactly when it is declared with retainOnDelete.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runProgram, stackConfig } from "./harness";

describe("what the policy pack reads for retainOnDelete", () => {
  for (const keep of [true, false]) {
    it(`keptOnDestroy lists exactly the volumes declared with retainOnDelete (gpu, cache.keepOnDestroy ${keep})`, async () => {
      const run = await runProgram("gpu", stackConfig("gpu", { cache: { keepOnDestroy: keep } }));
      const volumes = run.resources.filter((r) => r.type === "docker:index/volume:Volume");
      assert.ok(volumes.length >= 2);
      const retained = volumes
        .filter((v) => run.options[v.name].retainOnDelete)
        .map((v) => `volume ${v.inputs.name}`)
        .sort();
      const listed = (run.outputs.keptOnDestroy as string[]).filter((k) => k.startsWith("volume ")).sort();
      assert.deepEqual(listed, retained);
      assert.equal(retained.length, keep ? 2 : 0);
    });
  }
});
