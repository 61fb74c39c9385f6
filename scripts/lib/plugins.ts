// Which of the resource plugins package.json pins are installed, as the tests and benchmarks that
// need them ask before they start (and skip or stop naming what is missing).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

/**
 * The plugins among `names` (e.g. "docker") that `pulumi plugin ls` does not list at the version
 * of their pinned `@pulumi/<name>` package, each as "name version"; a reason when it cannot ask.
 */
export function missingPlugins(names: string[]): { missing: string[] } | { failed: string } {
  const pins = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies;
  let installed: { name: string; kind: string; version: string }[] = [];
  try {
    installed = JSON.parse(execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8", timeout: 60_000 }));
  } catch (err) {
    return { failed: `\`pulumi plugin ls\` failed: ${(err as Error).message.split("\n")[0]}` };
  }
  const absent = names.filter(
    (name) => !installed.some((p) => p.kind === "resource" && p.name === name && p.version === pins[`@pulumi/${name}`]),
  );
  return { missing: absent.map((n) => `${n} ${pins[`@pulumi/${n}`]}`) };
}
