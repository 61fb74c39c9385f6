// Entry of the bundle that runIsolated() starts in a child process: one program run under the
// mocks, its result as the last line of stdout.
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "./harness";

const [stack, config, secretKeys, mode] = JSON.parse(process.argv[2]);
runProgram(stack, config, secretKeys, mode).then(
  (r) => process.stdout.write("\n" + JSON.stringify({ resources: r.resources, outputs: r.outputs, options: r.options })),
  (e) =>
    process.stdout.write(
      "\n" +
        JSON.stringify({ resources: [], outputs: {}, options: {}, error: { message: e.message, runError: e instanceof pulumi.RunError } }),
    ),
);
