// Instance ids and the names derived from them. The control plane names an instance by a UUID;
// everything the instance owns (its stack, and through the stack its containers, volumes,
// network and images) is named after the first 12 hex digits, like the runtimes it replaces
// (`mockrt-<id12>`), so names are stable, short, and never come from a counter.
import { z } from "zod";

/** The same rule as `agent.instanceId` in config/schema.ts, so an id accepted here is accepted there. */
const uuid = z.uuid({ error: "expected a UUID" });

/** The stack name prefix of instances; other stacks in the backend are not instances. */
export const STACK_PREFIX = "i-";

/** The id in canonical (lower-case) form, or a message saying what was expected. */
export function parseInstanceId(value: unknown): { id: string } | { error: string } {
  const text = typeof value === "string" ? value.trim().toLowerCase() : value;
  const result = uuid.safeParse(text);
  if (result.success) return { id: result.data };
  return { error: `instance id: expected a UUID such as 3f1c2b9e-8d4a-4c7e-9b2a-1e5f6a7b8c9d, got ${JSON.stringify(value)}` };
}

/** `i-<first 12 hex digits>`: the stack, and so the `inference-runtime-i-…` Docker names. */
export function stackNameOf(id: string): string {
  return `${STACK_PREFIX}${id.replace(/-/g, "").slice(0, 12)}`;
}

export function isInstanceStack(stack: string): boolean {
  return new RegExp(`^${STACK_PREFIX}[0-9a-f]{12}$`).test(stack);
}
