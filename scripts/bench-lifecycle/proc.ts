// Running the commands the benchmark times and the small ones it only asks things of. A timed
// command runs in its own process group with its output appended to a log file, is timed from its
// spawn to its exit, and is interrupted (SIGINT) after a timeout; it never throws, `mustSucceed`
// turns a failure into an error carrying the command's last lines. Signals live here too, because
// they act on the one child running: the first SIGINT/SIGTERM/SIGHUP passes a single SIGINT on to
// it and makes every later step throw `Aborted`, so main's cleanup can run; during cleanup a second
// signal forces the exit.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { progress, ROOT, secondsSince, sleep } from "./common";

const STEP_TIMEOUT_MS = 10 * 60_000;

export class Aborted extends Error {}

let abortSignal: string | undefined;
let cleaningUp = false;
let signalsDuringCleanup = 0;
let current: ChildProcess | undefined;

export function checkAbort(): void {
  if (abortSignal) throw new Aborted(`interrupted by ${abortSignal}`);
}

function onSignal(sig: NodeJS.Signals): void {
  if (cleaningUp) {
    if (++signalsDuringCleanup >= 2) {
      process.stderr.write("forced exit during cleanup: bench containers, volumes, images or temp dirs may be left\n");
      process.exit(130);
    }
    progress(`${sig}: cleaning up, please wait (once more to force exit)`);
    return;
  }
  if (abortSignal) return;
  abortSignal = sig;
  progress(`${sig}: stopping the current step, then cleaning up`);
  // Children run in their own process group, so a terminal's Ctrl-C reaches them once, from here
  // (a second SIGINT would make Pulumi quit without saving its state).
  killGroup(current, "SIGINT");
}

function killGroup(child: ChildProcess | undefined, sig: NodeJS.Signals): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    /* already gone */
  }
}

export function handleSignals(): void {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
}

/** From here on signals no longer abort but count towards a forced exit; an interrupted step may finish its own cancellation first. */
export async function beginCleanup(): Promise<void> {
  cleaningUp = true;
  progress("cleaning up");
  const child = current;
  if (!child?.pid) return;
  await Promise.race([new Promise((r) => child.on("exit", r)), sleep(60_000)]);
  killGroup(child, "SIGKILL");
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  output: string;
  log: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** File the command's stdout and stderr are written to. */
  log: string;
  /** Called right after the spawn with the start time; its return is called at exit. */
  during?: (t0: bigint) => () => void;
  /** Cleanup commands still run after a signal. */
  evenWhenAborted?: boolean;
  timeoutMs?: number;
}

/** Runs a command to its exit, timing spawn → exit; never throws on a failing command. */
export async function run(cmd: string, args: string[], o: RunOptions): Promise<RunResult> {
  if (!o.evenWhenAborted) checkAbort();
  const timeoutMs = o.timeoutMs ?? STEP_TIMEOUT_MS;
  const out = fs.openSync(o.log, "a");
  fs.writeSync(out, `$ ${[cmd, ...args].join(" ")}\n`);
  const chunks: Buffer[] = [];
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { cwd: o.cwd ?? ROOT, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  current = child;
  const stop = o.during?.(t0);
  const take = (b: Buffer) => {
    chunks.push(b);
    fs.writeSync(out, b);
  };
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  const closed = new Promise((r) => child.on("close", r));
  const timer = setTimeout(() => {
    fs.writeSync(out, `\n[bench] timed out after ${timeoutMs / 1000} s: SIGINT\n`);
    killGroup(child, "SIGINT");
  }, timeoutMs);
  const { code, signal, seconds } = await new Promise<Pick<RunResult, "code" | "signal" | "seconds">>((resolve) => {
    child.on("error", (err) => {
      take(Buffer.from(`[bench] could not start ${cmd}: ${err.message}\n`));
      resolve({ code: 127, signal: null, seconds: secondsSince(t0) });
    });
    child.on("exit", (c, s) => resolve({ code: c, signal: s, seconds: secondsSince(t0) }));
  });
  clearTimeout(timer);
  stop?.();
  // The exit is what is timed; the pipes may close a little later.
  await Promise.race([closed, sleep(5000)]);
  if (current === child) current = undefined;
  fs.closeSync(out);
  return { code, signal, seconds, output: Buffer.concat(chunks).toString("utf8"), log: o.log };
}

/** Stops the benchmark with the command's own output when it failed. */
export function mustSucceed(what: string, r: RunResult): RunResult {
  if (r.code === 0) return r;
  checkAbort();
  const keep = path.join(os.tmpdir(), `bench-lifecycle-failure-${process.pid}-${path.basename(r.log)}`);
  fs.copyFileSync(r.log, keep);
  const tail = r.output.trimEnd().split("\n").slice(-40).join("\n");
  throw new Error(`${what} failed (exit ${r.code ?? r.signal}); last lines (full log: ${keep}):\n${tail}`);
}

/** A short untimed command's trimmed stdout; throws when it fails. */
export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  }).trim();
}

/** `sh`, with "" for a failure. */
export function trySh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return sh(cmd, args, opts);
  } catch {
    return "";
  }
}

export const lines = (s: string) =>
  s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
