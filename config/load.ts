// Reads the stack's `inference-runtime:*` keys from Pulumi, validates them all at once and
// returns the typed config plus the secrets as secret Outputs. Throws before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "./defaults";
import { StackConfig } from "./schema";

export const SECRET_KEYS = ["hfToken", "workerAuthToken", "apiKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
export type RuntimeSecrets = Partial<Record<SecretKey, pulumi.Output<string>>>;

export interface LoadedConfig {
  namespace: string;
  config: StackConfig;
  secrets: RuntimeSecrets;
}

// Present in the SDK's runtime but not in its typings; absent in very old SDKs.
const isConfigSecret: (key: string) => boolean =
  (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret ?? (() => true);

/** Top-level scalars arrive as strings ("mock", "true", "8000"); objects arrive as JSON text. */
function decode(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function loadConfig(namespace = pulumi.getProject()): LoadedConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  const secretKeys = new Set<string>(SECRET_KEYS);
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(`${namespace}:`)) continue;
    const key = fullKey.slice(namespace.length + 1);
    if (secretKeys.has(key)) {
      // An empty value is the project's declared default: "not set".
      if (text !== "" && !isConfigSecret(fullKey)) {
        problems.push(`${fullKey}: is stored in plain text; set it with \`pulumi config set --secret ${key} <value>\``);
      }
      continue;
    }
    raw[key] = decode(text);
  }

  let config: StackConfig | undefined;
  try {
    config = parseStackConfig(raw, namespace);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  // RunError: Pulumi prints the message alone, without a stack trace, and nothing is created.
  if (problems.length > 0 || config === undefined) throw new pulumi.RunError(new ConfigError(problems).message);

  const cfg = new pulumi.Config(namespace);
  const secrets: RuntimeSecrets = {};
  for (const key of SECRET_KEYS) {
    if (cfg.get(key)) secrets[key] = cfg.requireSecret(key);
  }
  return { namespace, config, secrets };
}
