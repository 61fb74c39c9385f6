// Tests that start a program as a process run an esbuild bundle of it in plain node: started
// through tsx's hooks, each child spent about a second of CPU loading before doing anything.
// One bundle per entry and test process, in dist/ (one level below the root, where the program's
// own `__dirname` paths expect to be), removed when the test process exits.
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root, from test/lib or from dist/, where a bundle of this file runs. */
export const ROOT = path.resolve(__dirname, path.basename(__dirname) === "dist" ? ".." : "../..");
const built = new Map<string, string>();

/** The path of a bundle of `entry` (relative to the repository root), built on first use. */
export function bundled(entry: string): string {
  const known = built.get(entry);
  if (known) return known;
  const name = entry.replace(/\.ts$/, "").replace(/[^A-Za-z0-9]+/g, "-");
  const outfile = path.join(ROOT, "dist", `test-${name}-${process.pid}.js`);
  esbuild.buildSync({
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "error",
  });
  if (built.size === 0) process.on("exit", () => built.forEach((file) => fs.rmSync(file, { force: true })));
  built.set(entry, outfile);
  return outfile;
}
