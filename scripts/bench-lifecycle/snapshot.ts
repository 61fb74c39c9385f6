// The copy of the project both sides build and deploy from, taken once at the start (its sources,
// scripts and stack files in a temp dir, node_modules linked): every round runs the same code even
// while someone edits the checkout, and the checkout is never written to (bootstrap's bundles, the
// bench stack file and its state all land in the copy).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROGRAM_FILES } from "../lib/programFiles";
import { ROOT } from "./common";

/** What the snapshot copies (node_modules is linked): enough to bootstrap, build and deploy. */
const COPIED = [...PROGRAM_FILES, "package-lock.json", "Pulumi.dev.yaml"];

export class Snapshot {
  readonly dir: string;

  constructor() {
    // bootstrap.sh would run `npm ci` in the copy, and through the link reinstall the checkout's modules.
    const installed = path.join(ROOT, "node_modules", ".package-lock.json");
    if (!fs.existsSync(installed) || fs.statSync(path.join(ROOT, "package-lock.json")).mtimeMs > fs.statSync(installed).mtimeMs) {
      throw new Error("node_modules is missing or older than package-lock.json: run `npm run bootstrap` in the checkout first");
    }
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-bench-"));
    for (const entry of COPIED) {
      fs.cpSync(path.join(ROOT, entry), path.join(this.dir, entry), {
        recursive: true,
        // Kept, so bootstrap's "lockfile newer than node_modules" test sees what the checkout has.
        preserveTimestamps: true,
        filter: (src) => path.basename(src) !== "node_modules" && !src.includes(`${path.sep}dist${path.sep}`),
      });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(this.dir, "node_modules"));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
