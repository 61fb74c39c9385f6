// The Docker objects a bench stack leaves on the engine, found by the label every object of a
// stack carries (io.inference-runtime.stack). Used before the rounds (leftovers of an interrupted
// run would skew or break the first up), after each down (it must have removed everything) and at
// cleanup (whatever destroy or `compose down` missed is removed by force).
import { DockerKind, labelledQueries, REMOVAL_ORDER, removeArgs } from "../lib/labelled";
import { lines, trySh } from "./proc";

/** Docker objects labelled with a stack, as [kind, name]. */
export function labelled(stack: string): [DockerKind, string][] {
  return labelledQueries(stack).flatMap(([kind, args]) =>
    [...new Set(lines(trySh("docker", args)))].map((n): [DockerKind, string] => [kind, n]),
  );
}

export const describe = (objects: [string, string][]) => objects.map(([kind, name]) => `${kind} ${name}`).join(", ");

/** Removes every object labelled with the stack; returns what it found, described. */
export function sweep(stack: string): string {
  const found = labelled(stack);
  for (const kind of REMOVAL_ORDER) for (const [k, name] of found) if (k === kind) trySh("docker", removeArgs(kind, name));
  return describe(found);
}
