/**
 * Minimal schema combinators for request bodies and flag values. zod would do the same job, but
 * loading it costs ~10 MB of resident memory at start-up (a sixth of the idle budget) and ~5 µs per
 * request on the hot path; the shapes here are few and shallow.
 */
export type Path = (string | number)[];
export interface Issue {
  path: Path;
  message: string;
}

/**
 * Problems found: the first `keep` in full, the rest only counted. A 4 MB list of wrong items
 * has a million problems; listing them all made a 137 MB error body.
 */
export class Issues {
  readonly list: Issue[] = [];
  count = 0;
  constructor(readonly keep = MAX_LISTED_ISSUES) {}
  add(path: Path, message: string): void {
    if (this.list.length < this.keep) this.list.push({ path: [...path], message });
    this.count++;
  }
  /** Forgets what was added since `count` was `mark` (list entries beyond it included). */
  rewind(mark: number): void {
    this.count = mark;
    if (this.list.length > mark) this.list.length = mark;
  }
  addAll(other: Issues): void {
    for (const i of other.list) if (this.list.length < this.keep) this.list.push(i);
    this.count += other.count;
  }
}
export const MAX_LISTED_ISSUES = 5;

export interface Schema<T> {
  /** Returns the value (possibly rebuilt) and records problems in `issues`. */
  run(value: unknown, path: Path, issues: Issues): T;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** On failure, `issues` lists the first few problems and `count` says how many there were. */
export type Result<T> = { success: true; data: T } | { success: false; issues: Issue[]; count: number };

export function safeParse<T>(schema: Schema<T>, value: unknown): Result<T> {
  const issues = new Issues();
  const data = schema.run(value, [], issues);
  return issues.count === 0 ? { success: true, data } : { success: false, issues: issues.list, count: issues.count };
}

const fail = <T>(issues: Issues, path: Path, message: string): T => {
  issues.add(path, message);
  return undefined as T;
};

export const string = (): Schema<string> => ({
  run: (v, path, issues) => (typeof v === "string" ? v : fail(issues, path, "Input should be a valid string")),
});

export const boolean = (): Schema<boolean> => ({
  run: (v, path, issues) => (typeof v === "boolean" ? v : fail(issues, path, "Input should be a valid boolean")),
});

export interface NumberRules {
  int?: boolean;
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  gt?: number;
}
export const number = (rules: NumberRules = {}): Schema<number> => ({
  run: (v, path, issues) => {
    if (typeof v !== "number" || !Number.isFinite(v))
      return fail(issues, path, rules.int ? "Input should be a valid integer" : "Input should be a valid number");
    if (rules.int && !Number.isInteger(v)) return fail(issues, path, "Input should be a valid integer");
    if (rules.min !== undefined && v < rules.min) return fail(issues, path, `Input should be greater than or equal to ${rules.min}`);
    if (rules.gt !== undefined && v <= rules.gt) return fail(issues, path, `Input should be greater than ${rules.gt}`);
    if (rules.max !== undefined && v > rules.max) return fail(issues, path, `Input should be less than or equal to ${rules.max}`);
    return v;
  },
});
export const int = (rules: Omit<NumberRules, "int"> = {}) => number({ ...rules, int: true });

export const oneOf = <const V extends string | number>(values: readonly V[]): Schema<V> => ({
  run: (v, path, issues) =>
    values.includes(v as V) ? (v as V) : fail(issues, path, `Input should be ${values.map((x) => `'${x}'`).join(", ")}`),
});

export const array = <T>(item: Schema<T>, minItems = 0): Schema<T[]> => ({
  run: (v, path, issues) => {
    if (!Array.isArray(v)) return fail(issues, path, "Input should be a valid list");
    if (v.length < minItems) return fail(issues, path, `List should have at least ${minItems} item${minItems === 1 ? "" : "s"}`);
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      item.run(v[i], path, issues);
      path.pop();
    }
    return v as T[];
  },
});

export const nullish = <T>(inner: Schema<T>): Schema<T | null | undefined> => ({
  run: (v, path, issues) => (v === undefined || v === null ? v : inner.run(v, path, issues)),
});

/** The first alternative that fits; otherwise the issues of the best (fewest issues) attempt. */
export const union = <S extends Schema<unknown>[]>(...options: S): Schema<Infer<S[number]>> => ({
  run: (v, path, issues) => {
    let best: Issues | null = null;
    for (const o of options) {
      const local = new Issues(issues.keep);
      const out = o.run(v, path, local);
      if (local.count === 0) return out as Infer<S[number]>;
      if (!best || local.count < best.count) best = local;
    }
    if (best) issues.addAll(best);
    return undefined as Infer<S[number]>;
  },
});

type Shape = Record<string, Schema<unknown>>;
type Optional<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
export type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, Optional<S>>]: Infer<S[K]> } & { [K in Optional<S>]?: Infer<S[K]> };

/** Unknown keys are kept, as vLLM's request models accept (and ignore) extra fields. */
export const object = <S extends Shape>(shape: S): Schema<ObjectOf<S>> => {
  const keys = Object.keys(shape);
  const optional = keys.map((k) => acceptsUndefined(shape[k]));
  const required = keys.filter((_k, i) => !optional[i]);
  const known = new Map(keys.map((k) => [k, shape[k]]));
  return {
    run: (v, path, issues) => {
      if (typeof v !== "object" || v === null || Array.isArray(v))
        return fail(issues, path, "Input should be a valid dictionary or object");
      const o = v as Record<string, unknown>;
      // Fast pass over the fields present (a body sets a few of the many optional ones) and the
      // required ones. Absent optional fields accept undefined by definition, so when this pass
      // finds nothing the ordered pass below would not either; when it does, its issues are
      // dropped and the ordered pass reports them in schema order.
      const before = issues.count;
      let ok = true;
      for (let i = 0; i < required.length; i++) {
        if (o[required[i]] === undefined) {
          ok = false;
          break;
        }
      }
      if (ok) {
        for (const k in o) {
          const field = known.get(k);
          if (field === undefined) continue;
          path.push(k);
          field.run(o[k], path, issues);
          path.pop();
          if (issues.count !== before) {
            issues.rewind(before);
            ok = false;
            break;
          }
        }
        if (ok) return o as ObjectOf<S>;
      }
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        path.push(k);
        if (o[k] === undefined && !optional[i]) fail(issues, path, "Field required");
        else shape[k].run(o[k], path, issues);
        path.pop();
      }
      return o as ObjectOf<S>;
    },
  };
};

function acceptsUndefined(s: Schema<unknown>): boolean {
  const probe = new Issues();
  s.run(undefined, [], probe);
  return probe.count === 0;
}
