// The Docker objects a bench stack leaves on the engine, found by the label every object of a
// stack carries (io.inference-runtime.stack). Used before the rounds (leftovers of an interrupted
// run would skew or break the first up), after each down (it must have removed everything) and at
// cleanup (whatever destroy or `compose down` missed is removed by force).
import { labelledQueries } from "../lib/labelled";
import { lines, trySh } from "./proc";

/** Docker objects labelled with a stack, as [kind, name]. */
export function labelled(stack: string): [string, string][] {
  return labelledQueries(stack).flatMap(([kind, args]) => [...new Set(lines(trySh("docker", args)))].map((n): [string, string] => [kind, n]));
}

export const describe = (objects: [string, string][]) => objects.map(([kind, name]) => `${kind} ${name}`).join(", ");

/** Removes every object labelled with the stack; returns what it found, described. */
export function sweep(stack: string): string {
  const rm: Record<string, string[]> = { container: ["rm", "-f"], image: ["image", "rm", "-f"], volume: ["volume", "rm", "-f"], network: ["network", "rm"] };
  const found = labelled(stack);
  // Containers first: they hold the volumes, the network and the images.
  for (const kind of ["container", "network", "volume", "image"]) {
    for (const [k, name] of found) if (k === kind) trySh("docker", [...rm[kind], name]);
  }
  return describe(found);
}
