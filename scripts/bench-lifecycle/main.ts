// Lifecycle benchmark: the Pulumi program against Docker Compose v2 running the same containers,
// on this machine. `npm run bench:lifecycle [-- --runs N] [--json FILE] [--compose-only] ...`.
//
// Three measures, each timed from the start of the command to its exit, program and Compose
// alternated in rounds (which goes first alternates too), so both see the same machine load:
//   up     from nothing to the smoke test passing (the base image cached; the program builds its
//          service images inside its up, as it always does);
//   no-op  the same up again with nothing changed;
//   down   back to nothing.
//
// Both sides build from a snapshot of the project taken at the start (snapshot.ts): every round
// runs the same code even while someone edits the checkout, which is never written to.
//
// The program (program.ts): the snapshot as a scratch project (own local state backend, empty
// passphrase, a stack `bench` from Pulumi.dev.yaml with free host ports); timed are `bash
// <snapshot>/scripts/up.sh bench` and `bash <snapshot>/scripts/down.sh bench`: `npm run up` /
// `npm run down` themselves, for another stack, whatever those scripts do today. up.sh starts with
// scripts/bootstrap.sh (idempotent): one warm bootstrap is also timed apart, so the reader can
// take it out. With --direct, the Pulumi commands alone are timed instead, without the scripts'
// bootstrap and refresh decision: `pulumi up --yes --skip-preview --refresh --stack bench` and
// `pulumi destroy --yes --skip-preview --stack bench`.
//
// Compose (compose.ts, composeFile.ts): a compose file written from the same pure spec builders
// the program uses (spec/containers.ts), with the program's own images built once before the
// rounds. up = `up -d --wait` plus what the program's smoke test does (one chat completion, then
// the agent's /readyz); no-op = `up -d --wait` alone; down = `down -v`.
//
// Then one more program up and down, not counted, with the engine's event log, to show where the
// time goes resource by resource (eventLog.ts).
//
// Everything is removed at the end, also on failure or Ctrl-C: the bench stack destroyed (and
// anything labelled with its stack swept), `compose down -v`, the Compose images, the temp dirs.
//
// Options:
//   --runs N        rounds (default 5, at least 1)
//   --json FILE     also write the results as JSON
//   --compose-only  only the Compose side (no Pulumi toolchain needed)
//   --program-only  only the program side
//   --direct        time the Pulumi commands alone instead of scripts/up.sh and scripts/down.sh
//   --force-clean   remove leftovers of an interrupted earlier run instead of refusing to start
//   --keep-logs     keep every command's output (the directory is printed) instead of removing it
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COMPOSE_STACK, fmt, PROGRAM_STACK, progress } from "./common";
import { ComposeSide } from "./compose";
import { describe, labelled, sweep } from "./leftovers";
import { Aborted, beginCleanup, handleSignals, lines, mustSucceed, run, trySh } from "./proc";
import { ProgramSide } from "./program";
import { report, Results, Times } from "./report";
import { Snapshot } from "./snapshot";
import { freePort } from "../lib/freePort";

interface Options {
  runs: number;
  json?: string;
  program: boolean;
  compose: boolean;
  forceClean: boolean;
  keepLogs: boolean;
  direct: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 5, program: true, compose: true, forceClean: false, keepLogs: false, direct: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--runs") {
      o.runs = Number(value());
      if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error("--runs: expected a whole number ≥ 1");
    } else if (a === "--json") o.json = path.resolve(value());
    else if (a === "--compose-only") o.program = false;
    else if (a === "--program-only") o.compose = false;
    else if (a === "--force-clean") o.forceClean = true;
    else if (a === "--keep-logs") o.keepLogs = true;
    else if (a === "--direct") o.direct = true;
    else if (a === "-h" || a === "--help") {
      // The help is this file's header comment.
      const src = fs.readFileSync(__filename, "utf8").split("\n");
      process.stdout.write(
        src
          .slice(
            0,
            src.findIndex((l) => l.startsWith("import")),
          )
          .map((l) => l.replace(/^\/\/ ?/, ""))
          .join("\n") + "\n",
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  if (!o.program && !o.compose) throw new Error("--compose-only and --program-only exclude each other");
  return o;
}

const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  handleSignals();

  const started = new Date();
  const nproc = trySh("nproc", []) || String(os.cpus().length);
  const loadStart = loadavg();
  progress(`nproc ${nproc}, load average ${loadStart}; ${opts.runs} round(s)`);
  const gitBefore = trySh("git", ["status", "--porcelain"]);
  const head = trySh("git", ["rev-parse", "--short", "HEAD"]);
  const edited = lines(gitBefore).filter((l) => !/scripts\/bench-lifecycle\/|package\.json$/.test(l)).length;

  const logs = fs.mkdtempSync(path.join(os.tmpdir(), "inference-runtime-bench-logs-"));
  let snapshot: Snapshot | undefined;
  let program: ProgramSide | undefined;
  let compose: ComposeSide | undefined;
  const times: Record<"program" | "compose", Times> = { program: { up: [], noop: [], down: [] }, compose: { up: [], noop: [], down: [] } };
  const notes: string[] = [];
  const overhead: Record<string, number> = {};
  let breakdowns: Results["breakdowns"] = {};
  const versions: Record<string, string> = {
    checkout: `${head || "?"}${edited ? ` + ${edited} uncommitted change(s)` : ""}`,
    docker: trySh("docker", ["version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"]),
  };
  let failure: unknown;

  try {
    // Leftovers of an interrupted earlier run would make the first up fail or skew it.
    const stale = [...(opts.program ? labelled(PROGRAM_STACK) : []), ...(opts.compose ? labelled(COMPOSE_STACK) : [])];
    if (stale.length > 0) {
      if (!opts.forceClean)
        throw new Error(`objects of an earlier bench run are on the engine (${describe(stale)}); rerun with --force-clean to remove them`);
      progress(`--force-clean: removing ${describe(stale)}`);
      sweep(PROGRAM_STACK);
      sweep(COMPOSE_STACK);
    }

    snapshot = new Snapshot();
    if (opts.program) program = new ProgramSide(snapshot.dir, logs, opts.direct);
    if (opts.compose) compose = new ComposeSide(snapshot.dir, logs);
    progress(`snapshot of the project: ${snapshot.dir}`);
    progress("bootstrap (not timed)");
    const bootstrap = path.join(snapshot.dir, "scripts", "bootstrap.sh");
    mustSucceed("scripts/bootstrap.sh", await run("bash", [bootstrap], { cwd: snapshot.dir, log: path.join(logs, "bootstrap.log") }));
    const warm = mustSucceed(
      "warm scripts/bootstrap.sh",
      await run("bash", [bootstrap], { cwd: snapshot.dir, log: path.join(logs, "bootstrap-warm.log") }),
    );
    overhead.bootstrapWarm = warm.seconds;
    progress(`warm bootstrap: ${fmt(warm.seconds)} s`);

    const ports = { program: [await freePort(), await freePort()], compose: [await freePort(), await freePort()] };
    if (program) {
      const setUp = await program.setUp(ports.program[0], ports.program[1]);
      versions.pulumi = setUp.version;
      overhead.toolchainCheck = setUp.toolchainCheck;
      overhead.stackSelect = setUp.stackSelect;
    }
    if (compose) versions.compose = await compose.setUp(ports.compose[0], ports.compose[1]);

    for (let round = 1; round <= opts.runs; round++) {
      progress(`round ${round}/${opts.runs}, load average ${loadavg()}`);
      const sides = [
        ["program", program],
        ["compose", compose],
      ] as const;
      for (const [name, side] of round % 2 === 1 ? sides : [...sides].reverse()) {
        if (!side) continue;
        const r = await side.round(round);
        for (const m of ["up", "noop", "down"] as const) times[name][m].push(r.seconds[m]);
        notes.push(...r.notes);
      }
    }

    if (program) breakdowns = await program.breakdown();
  } catch (err) {
    failure = err;
  } finally {
    await beginCleanup();
    for (const side of [program, compose]) {
      if (!side) continue;
      try {
        for (const note of await side.cleanup()) progress(`cleanup: ${note}`);
      } catch (err) {
        progress(`cleanup failed: ${(err as Error).message}`);
      }
    }
    compose?.remove();
    snapshot?.remove();
    if (opts.keepLogs) progress(`logs kept in ${logs}`);
    else fs.rmSync(logs, { recursive: true, force: true });
    const gitAfter = trySh("git", ["status", "--porcelain"]);
    if (gitAfter !== gitBefore) {
      const before = new Set(lines(gitBefore));
      const changed = lines(gitAfter).filter((l) => !before.has(l));
      if (changed.length > 0) progress(`note: git status changed during the run (others may be editing too): ${changed.join(", ")}`);
    }
  }

  const loadEnd = loadavg();
  if (failure) {
    process.stderr.write(`\nbench-lifecycle: ${(failure as Error).message}\n`);
    return failure instanceof Aborted ? 130 : 1;
  }
  report(
    {
      started,
      runs: opts.runs,
      direct: opts.direct,
      machine: { nproc, loadStart, loadEnd },
      versions,
      times: { program: program && times.program, compose: compose && times.compose },
      overhead,
      breakdowns,
      notes,
    },
    opts.json,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench-lifecycle: ${err.message}\n`);
    process.exit(1);
  },
);
