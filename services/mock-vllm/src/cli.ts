import { FLAGS, FlagSpec, findFlag } from "./flags";
import { safeParse } from "./validate";

/**
 * An argparse-compatible reader for the `vllm serve` command line. node:util parseArgs cannot
 * express what vLLM's parser accepts (`--served-model-name a b`, multi-letter short aliases such
 * as `-tp 2`, `--max_model_len` spelled with underscores, `--no-<flag>`), so the lexing is done
 * here; values are validated with the schemas in flags.ts.
 */
export type FlagValue = string | number | boolean | string[];

export interface ParsedCommandLine {
  model?: string;
  /** Flag name (canonical, without dashes) to typed value; absent flags are absent. */
  values: Map<string, FlagValue>;
  /** Where each value came from, for the start-up summary. */
  sources: Map<string, "cli" | "env">;
  help: boolean;
  /** What vLLM's parser would warn about (printed to stderr at start-up). */
  warnings: string[];
}

/** vLLM's own words (vllm/utils/argparse_utils.py, FlexibleArgumentParser.parse_args) when `vllm serve` gets `--model`. */
export const MODEL_FLAG_DEPRECATION =
  "With `vllm serve`, you should provide the model as a positional argument or in a config file instead of via " +
  "the `--model` option. The `--model` option will be removed in a future version.";

export class CommandLineError extends Error {
  readonly exitCode = 2;
}

export const USAGE = "usage: vllm serve [model_tag] [options]";

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;
const looksLikeOption = (t: string) => t.startsWith("-") && t.length > 1 && !NEGATIVE_NUMBER.test(t);

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedCommandLine {
  const raw = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  const unrecognized: string[] = [];
  const errors: string[] = [];
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!looksLikeOption(token)) {
      positionals.push(token);
      continue;
    }
    if (token === "-h" || token === "--help") {
      help = true;
      continue;
    }
    const long = token.startsWith("--");
    let body = token.slice(long ? 2 : 1);
    let inline: string | undefined;
    const eq = body.indexOf("=");
    if (eq >= 0) {
      inline = body.slice(eq + 1);
      body = body.slice(0, eq);
    }
    // vLLM's FlexibleArgumentParser treats --max_model_len as --max-model-len.
    let name = body.replace(/_/g, "-");
    // As vLLM's FlexibleArgumentParser: -O3 is --optimization-level 3, -O.key=value a
    // compilation-config key (vllm/utils/argparse_utils.py).
    if (!long && name.startsWith("O.")) {
      inline = `${name.slice(2)}=${inline ?? ""}`;
      name = "cc";
    } else if (!long && name.startsWith("O") && name.length > 1 && inline === undefined) {
      inline = name.slice(1);
      name = "O";
    }
    let spec = findFlag(name);
    let negated = false;
    if (!spec && long && name.startsWith("no-")) {
      const positive = findFlag(name.slice(3));
      if (positive?.kind === "bool") {
        spec = positive;
        negated = true;
      }
    }
    if (!spec || (!long && !(spec.aliases ?? []).includes(name))) {
      unrecognized.push(token);
      continue;
    }
    const label = `--${spec.name}`;
    if (spec.kind === "bool") {
      if (inline !== undefined && !/^(true|false|1|0)$/i.test(inline)) {
        errors.push(`argument ${label}: ignored explicit argument '${inline}'`);
        continue;
      }
      const on = inline === undefined ? true : /^(true|1)$/i.test(inline);
      raw.set(spec.name, negated ? !on : on);
    } else if (spec.kind === "list") {
      const items: string[] = inline !== undefined ? [inline] : [];
      while (inline === undefined && i + 1 < argv.length && !looksLikeOption(argv[i + 1]) && argv[i + 1] !== "--") {
        items.push(argv[++i]);
      }
      if (items.length === 0) errors.push(`argument ${label}: expected at least one argument`);
      else raw.set(spec.name, items);
    } else {
      let value = inline;
      if (value === undefined && i + 1 < argv.length && !looksLikeOption(argv[i + 1])) value = argv[++i];
      if (value === undefined) errors.push(`argument ${label}: expected one argument`);
      else raw.set(spec.name, value);
    }
  }

  // vLLM moves `--model X` to the positional slot (with a deprecation warning), so a model given
  // both ways leaves one positional too many: argparse's "unrecognized arguments". The hint says
  // why, as vLLM's parser adds one for --task.
  const warnings: string[] = [];
  let hint = "";
  if (raw.has("model")) {
    warnings.push(MODEL_FLAG_DEPRECATION);
    if (positionals.length > 0) {
      unrecognized.push(...positionals);
      hint =
        `\n\nHint: the model is given twice, as the positional argument ('${positionals[0]}') and with --model ` +
        `('${String(raw.get("model"))}'). Give it once, as the first argument: vllm serve <model> [options].`;
    }
  } else if (positionals.length > 1) unrecognized.push(...positionals.slice(1));
  if (unrecognized.length > 0) errors.unshift(`unrecognized arguments: ${unrecognized.join(" ")}${hint}`);

  const values = new Map<string, FlagValue>();
  const sources = new Map<string, "cli" | "env">();
  for (const spec of FLAGS) {
    let value = raw.get(spec.name);
    let source: "cli" | "env" = "cli";
    const envValue = spec.env ? env[spec.env] : undefined;
    if (value === undefined && envValue !== undefined && envValue !== "") {
      value = spec.kind === "bool" ? /^(1|true|yes|on)$/i.test(envValue) : spec.kind === "list" ? [envValue] : envValue;
      source = "env";
    }
    if (value === undefined) continue;
    const where = source === "env" ? `environment variable ${spec.env}` : `argument --${spec.name}`;
    const typed = convert(spec, value, where, errors);
    if (typed !== undefined) {
      values.set(spec.name, typed);
      sources.set(spec.name, source);
    }
  }

  if (errors.length > 0) {
    throw new CommandLineError(`${USAGE}\n${errors.map((e) => `vllm serve: error: ${e}`).join("\n")}`);
  }
  return { model: positionals[0], values, sources, help, warnings };
}

function convert(spec: FlagSpec, value: string | boolean | string[], where: string, errors: string[]): FlagValue | undefined {
  if (typeof value === "boolean" || Array.isArray(value)) return value;
  let typed: string | number = value;
  if (spec.kind === "int") {
    if (!/^[-+]?\d+$/.test(value.trim())) {
      errors.push(`${where}: invalid int value: '${value}'`);
      return undefined;
    }
    typed = Number(value);
  } else if (spec.kind === "float") {
    typed = Number(value);
    if (value.trim() === "" || !Number.isFinite(typed)) {
      errors.push(`${where}: invalid float value: '${value}'`);
      return undefined;
    }
  }
  if (spec.schema && !safeParse(spec.schema, typed).success) {
    errors.push(`${where}: expected ${spec.expect ?? "a valid value"}, got '${value}'`);
    return undefined;
  }
  return typed;
}

export function helpText(): string {
  const lines = [USAGE, "", "Simulation flags (environment variable in brackets):"];
  for (const f of FLAGS.filter((x) => x.name.startsWith("mock-"))) {
    lines.push(`  --${f.name.padEnd(30)} ${f.help ?? ""} [${f.env}]`);
  }
  lines.push(
    "",
    "Request limits (checked before any work; 400/413/431 with vLLM's error body):",
    "  --max-model-len: prompt + max_tokens, each embeddings input, and (one token each) the messages",
    "  --max-logprobs (default 20): logprobs, top_logprobs, prompt_logprobs",
    "  VLLM_MAX_N_SEQUENCES (default 16384): n and best_of",
    "  VLLM_MAX_COMPLETION_PROMPTS (default 1024): prompts per completions request, inputs per embeddings request",
    "  VLLM_MAX_STOP_STRINGS (default 4): stop strings",
    "  --mock-embedding-dim: embeddings dimensions",
    "  --mock-max-body-bytes, --mock-max-json-values, --mock-max-response-tokens: body and response size",
    "  --h11-max-header-count (default 256), --h11-max-incomplete-event-size (default 16 KiB): request head",
  );
  lines.push("", "vLLM flags accepted (values validated where the mock can judge them):");
  lines.push(
    "  " +
      FLAGS.filter((x) => !x.name.startsWith("mock-"))
        .map((f) => `--${f.name}`)
        .join(" "),
  );
  return lines.join("\n");
}
