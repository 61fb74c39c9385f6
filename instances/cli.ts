// The instances' command line: `npm run -s instance -- <command> ...` (-s keeps npm's own banner
// off stdout). Results go to stdout (create: one JSON object; ip: the address alone; list: a
// table, or JSON with --json), progress to stderr. Exit status: 0 done, 2 bad input (nothing
// created), 1 failure.
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import {
  createInstance,
  getInstance,
  InstanceFailure,
  InstanceInputError,
  InstanceStatus,
  listInstances,
  parseSettings,
  terminateInstance,
} from "./index";

const USAGE = `usage:
  instance create <instance-id> --network <name> [--base dev|gpu] [--control-plane-url URL]
                  [--set key=value ...] [--worker-token-file FILE] [--hf-token-file FILE]
  instance ip <instance-id>
  instance get <instance-id>
  instance list [--json]
  instance terminate <instance-id>
common: [--state-dir DIR] [--quiet]
secrets: WORKER_AUTH_TOKEN and HF_TOKEN are read from the environment when no file is given`;

const OPTIONS = {
  network: { type: "string" },
  base: { type: "string" },
  "control-plane-url": { type: "string" },
  set: { type: "string", multiple: true },
  "worker-token-file": { type: "string" },
  "hf-token-file": { type: "string" },
  "state-dir": { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Which options each command takes; any other is bad input. */
const ALLOWED: Record<string, string[]> = {
  create: ["network", "base", "control-plane-url", "set", "worker-token-file", "hf-token-file"],
  ip: [],
  get: [],
  list: ["json"],
  terminate: [],
};

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, id, ...extra] = positionals;
  if (!command || !(command in ALLOWED)) return usage(command ? `unknown command ${JSON.stringify(command)}` : "no command given");
  const given = Object.keys(values).filter((k) => !["state-dir", "quiet"].includes(k));
  const stray = given.filter((k) => !ALLOWED[command].includes(k));
  if (stray.length > 0) return usage(`${command} takes no ${stray.map((s) => `--${s}`).join(", ")}`);
  const wantsId = command !== "list";
  if (wantsId && !id) return usage(`${command}: the instance id is missing`);
  if (extra.length > 0 || (!wantsId && id))
    return usage(`${command}: unexpected argument(s) ${[...(wantsId ? extra : [id, ...extra])].join(" ")}`);

  const say = (text: string) => {
    if (!values.quiet) process.stderr.write(text);
  };
  const state = { stateDir: values["state-dir"], onProgress: say };
  try {
    switch (command) {
      case "create": {
        if (values.network === undefined) throw new InstanceInputError(["--network: required (the control plane's Docker network)"]);
        const instance = await createInstance(id, {
          ...state,
          network: values.network,
          base: values.base,
          controlPlaneUrl: values["control-plane-url"],
          overrides: parseSettings(values.set ?? []),
          workerToken: secret(values["worker-token-file"], "WORKER_AUTH_TOKEN", "--worker-token-file"),
          hfToken: secret(values["hf-token-file"], "HF_TOKEN", "--hf-token-file"),
        });
        process.stdout.write(`${JSON.stringify(instance)}\n`);
        return 0;
      }
      case "ip": {
        const status = await getInstance(id, state);
        if (!status) throw new InstanceFailure(`instance ${id} does not exist`);
        if (!status.ip) throw new InstanceFailure(`instance ${id} has no address (${status.state}: ${status.detail})`);
        process.stdout.write(`${status.ip}\n`);
        return 0;
      }
      case "get": {
        const status = await getInstance(id, state);
        if (!status) throw new InstanceFailure(`instance ${id} does not exist`);
        process.stdout.write(`${JSON.stringify(status)}\n`);
        return 0;
      }
      case "list": {
        const all = await listInstances(state);
        process.stdout.write(values.json ? `${JSON.stringify(all)}\n` : table(all));
        return 0;
      }
      default: {
        const result = await terminateInstance(id, state);
        say(`${result.message}\n`);
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof InstanceInputError || err instanceof UsageError) {
      process.stderr.write(`instance ${command}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`instance ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}

function usage(problem: string): number {
  process.stderr.write(`instance: ${problem}\n${USAGE}\n`);
  return 2;
}

// Secrets come from a file or the environment, never from the command line (which `ps` shows).
function secret(file: string | undefined, envName: string, flag: string): string | undefined {
  if (file === undefined) return process.env[envName] || undefined;
  try {
    return fs.readFileSync(file, "utf8").trim() || undefined;
  } catch (err) {
    throw new InstanceInputError([`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
}

function table(all: InstanceStatus[]): string {
  if (all.length === 0) return "no instances\n";
  const rows = [
    ["INSTANCE", "STACK", "STATE", "IP", "DETAIL"],
    ...all.map((s) => [s.instanceId ?? "?", s.stack, s.state, s.ip ?? "-", s.detail]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`instance: ${err.message}\n`);
      process.exit(1);
    },
  );
}
