// Where instances keep their state: a directory of their own, apart from the stacks a person
// deploys with `npm run up`, holding a Pulumi file backend and one workspace per instance.
//
//   <dir>/backend/             the file backend (PULUMI_BACKEND_URL=file://<dir>/backend)
//   <dir>/workspaces/<stack>/  the instance's project directory: links to this checkout's
//                              program, and the stack's own settings file Pulumi.<stack>.yaml
//
// A workspace per instance, not one shared project directory: the CLI records the selected
// stack per project directory (in PULUMI_HOME), and parallel operations must not share that.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROGRAM_FILES } from "../scripts/lib/programFiles";

/** The environment variable that moves the state directory (the `stateDir` option wins). */
export const STATE_DIR_ENV = "INFERENCE_RUNTIME_INSTANCES_DIR";
/** The checkout whose program every instance runs. */
export const PROGRAM_ROOT = path.join(__dirname, "..");

export interface StateLocation {
  /** The state directory itself. */
  dir: string;
  /** `file://…` URL of the backend. */
  backendUrl: string;
  /** Where the per-instance workspaces are. */
  workspaces: string;
}

/** `stateDir`, else $INFERENCE_RUNTIME_INSTANCES_DIR, else `${XDG_STATE_HOME:-~/.local/state}/inference-runtime/instances`. */
export function stateLocation(stateDir?: string, env: NodeJS.ProcessEnv = process.env): StateLocation {
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state");
  const dir = path.resolve(stateDir ?? (env[STATE_DIR_ENV] || path.join(base, "inference-runtime", "instances")));
  // metadata=skip: no `.attrs` file beside each state file. Those are written in place, not
  // atomically, and a stack reading its own state during an update (the replacement notice) could
  // read one half-written under parallel load ("failed to load checkpoint: EOF").
  return { dir, backendUrl: `file://${path.join(dir, "backend")}?metadata=skip`, workspaces: path.join(dir, "workspaces") };
}

/** The directory that holds the backend, made if missing. */
export function ensureBackend(loc: StateLocation): void {
  fs.mkdirSync(backendDir(loc), { recursive: true });
}

export function workspaceDir(loc: StateLocation, stack: string): string {
  return path.join(loc.workspaces, stack);
}

/**
 * The instance's project directory: every program file and node_modules linked from the
 * checkout (as the end-to-end tests' scratch projects do), made or repaired idempotently.
 */
export function ensureWorkspace(loc: StateLocation, stack: string): string {
  const dir = workspaceDir(loc, stack);
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of [...PROGRAM_FILES, "node_modules"]) {
    const link = path.join(dir, entry);
    const target = path.join(PROGRAM_ROOT, entry);
    let current: string | undefined;
    try {
      current = fs.readlinkSync(link);
    } catch {
      current = undefined;
    }
    if (current === target) continue;
    fs.rmSync(link, { force: true });
    fs.symlinkSync(target, link);
  }
  return dir;
}

export function removeWorkspace(loc: StateLocation, stack: string): void {
  fs.rmSync(workspaceDir(loc, stack), { recursive: true, force: true });
}

/**
 * What the file backend keeps of a stack after `pulumi stack rm`: its checkpoint backups (older
 * states, secrets still encrypted in them), its history and its empty lock folder. A terminated
 * instance leaves no state, so these go too; the paths are the file backend's documented layout.
 */
export function purgeStackFiles(loc: StateLocation, project: string, stack: string): void {
  const root = path.join(backendDir(loc), ".pulumi");
  const stacks = path.join(root, "stacks", project);
  for (const dir of [
    path.join(root, "backups", project, stack),
    path.join(root, "history", project, stack),
    path.join(root, "locks", "organization", project, stack),
  ]) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (fs.existsSync(stacks)) {
    for (const file of fs.readdirSync(stacks)) if (file.startsWith(`${stack}.json`)) fs.rmSync(path.join(stacks, file), { force: true });
  }
}

/** The backend's directory on disk. */
export function backendDir(loc: StateLocation): string {
  return path.join(loc.dir, "backend");
}
