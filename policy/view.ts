// What a rule sees of a resource: its inputs as plain data, with the values the engine does not
// know yet (during preview) replaced by UNKNOWN, and the paths of the values it marked secret.
//
// @pulumi/policy hands validations the inputs with secrets already unwrapped, so a validation
// alone cannot tell a secret from plain text; the engine does send which values are secret. The
// pack therefore builds this view from what the engine sent (see index.ts).

/** A value the engine does not know during preview (e.g. an image ID that a pull will yield). */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

export interface ResourceView {
  /** Pulumi type token, e.g. `docker:index/container:Container`. */
  type: string;
  /** The resource's logical name. */
  name: string;
  urn: string;
  /** Inputs (outputs for stack policies), plain data; UNKNOWN where preview cannot know. */
  props: Record<string, unknown>;
  /** Paths of secret values: `envs` when the whole list is secret, `envs[3]` for one entry. */
  secretPaths: ReadonlySet<string>;
}

// The wire encoding of property values (see the Pulumi SDK's rpc module).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Turns the engine's encoded properties into plain data, noting where the secrets were. */
export function decodeProperties(encoded: Record<string, unknown>): { props: Record<string, unknown>; secretPaths: Set<string> } {
  const secretPaths = new Set<string>();
  const decode = (value: unknown, path: string): unknown => {
    if (value === UNKNOWN_VALUE) return UNKNOWN;
    if (Array.isArray(value)) return value.map((v, i) => decode(v, `${path}[${i}]`));
    if (value !== null && typeof value === "object") {
      const obj = value as Record<string, unknown>;
      if (obj[SIG_KEY] === SECRET_SIG) {
        secretPaths.add(path);
        return decode(obj.value, path);
      }
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, decode(v, path ? `${path}.${k}` : k)]));
    }
    return value;
  };
  const props = decode(encoded, "") as Record<string, unknown>;
  return { props, secretPaths };
}

/** The stack a resource belongs to, from its URN (`urn:pulumi:<stack>::<project>::...`). */
export function stackOf(urn: string): string {
  return urn.split("::")[0].replace(/^urn:pulumi:/, "");
}

/** True when the value at `path`, or a list or object that contains it, is secret. */
export function isSecretAt(view: ResourceView, path: string): boolean {
  for (let p = path; p !== ""; p = p.replace(/(\[\d+\]|\.[^.[\]]+)$|^[^.[\]]+$/, "")) {
    if (view.secretPaths.has(p)) return true;
  }
  return false;
}

export const known = <T>(value: T | typeof UNKNOWN): value is T => value !== UNKNOWN;

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A Docker object's labels (`[{label, value}]`, as the docker provider takes them) as a map. */
export function labelsOf(view: ResourceView): Map<string, unknown> {
  const labels = new Map<string, unknown>();
  for (const entry of asArray(view.props.labels)) {
    const { label, value } = asRecord(entry);
    if (typeof label === "string") labels.set(label, value);
  }
  return labels;
}

/** Duration in seconds of a Docker duration string such as `10m0s`, `90s` or `1h`; undefined if not one. */
export function durationSeconds(text: unknown): number | undefined {
  if (typeof text !== "string" || !/^(\d+(\.\d+)?(h|m|s|ms))+$/.test(text)) return undefined;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, amount, , u] of text.matchAll(/(\d+(\.\d+)?)(h|ms|m|s)/g)) total += Number(amount) * unit[u];
  return total;
}
