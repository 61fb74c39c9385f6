// What a deployment runs from this repository, made by the program itself from the sources: each
// service's single-file bundle (COPYed into its image) and the deploy-time scripts the commands
// run. Bundled in memory at every run, preview included, so an edit to a service shows as a
// rebuild of its image in the next preview; written under dist/ only during an update, since a
// preview must not change anything.
import * as esbuild from "esbuild";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root: where the sources are and where the commands run. */
export const ROOT_DIR = path.join(__dirname, "..");

export type DeployScript = "wait-healthy" | "wait-rollout" | "smoke-test";
export type Service = "mock-vllm" | "worker-agent";

const cache = new Map<string, Buffer>();

/**
 * One entry point bundled with all its npm dependencies inlined (platform node, Node.js 20
 * syntax), as bytes. Relative to the repository root, so the bytes do not depend on the folder the
 * program runs in; memoised for this process.
 */
export function bundle(entry: string): Buffer {
  const known = cache.get(entry);
  if (known) return known;
  const result = esbuild.buildSync({
    entryPoints: [path.join(ROOT_DIR, entry)],
    absWorkingDir: ROOT_DIR,
    bundle: true,
    platform: "node",
    target: "node20",
    write: false,
    outfile: "out.js",
    logLevel: "silent",
  });
  const bytes = Buffer.from(result.outputFiles[0].contents);
  cache.set(entry, bytes);
  return bytes;
}

/** The bundle of `services/<service>/src/main.ts`, and where its Dockerfile expects it. */
export function serviceBundle(service: Service): { bytes: Buffer; file: string } {
  return { bytes: bundle(`services/${service}/src/main.ts`), file: path.join(ROOT_DIR, "services", service, "dist", "main.js") };
}

/** Where the bundle of `deploy/<name>.ts` goes, relative to the root. */
export function scriptFile(name: DeployScript): string {
  return path.join("dist", "scripts", `${name}.js`);
}

/**
 * Writes `bytes` to `file` unless it already holds them. Through a temporary file and a rename, so
 * stacks deploying from one checkout at once never read a half-written bundle.
 */
export function writeIfChanged(file: string, bytes: Buffer): void {
  const target = path.resolve(ROOT_DIR, file);
  if (fs.existsSync(target) && fs.readFileSync(target).equals(bytes)) return;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, target);
}
