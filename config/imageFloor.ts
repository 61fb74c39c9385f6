// The oldest vLLM release the program's command line works with. No Pulumi import: a pure check
// of a pinned image reference, used by the schema's cross-field rules.

/** `--shutdown-timeout`, which every command line the program sends carries, exists from v0.18.0. */
export const VLLM_FLOOR = { major: 0, minor: 18, patch: 0 } as const;
export const VLLM_FLOOR_TAG = `v${VLLM_FLOOR.major}.${VLLM_FLOOR.minor}.${VLLM_FLOOR.patch}`;

/**
 * The vLLM release a tag names: `v0.31.0`, `v0.31.0-cu129`, `v0.6.3.post1`, `0.31.0` (some
 * mirrors drop the `v`). Undefined for a digest, `latest`, `nightly` or any custom name: those are not versions.
 */
export function pinnedVllmVersion(image: string): { major: number; minor: number; patch: number } | undefined {
  if (image.includes("@")) return undefined;
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  if (colon < 0) return undefined;
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-.+a-zA-Z][\w.+-]*)?$/.exec(image.slice(colon + 1));
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Why a pinned vLLM image cannot run our command line, or undefined when it can (or is not a version). */
export function belowVllmFloor(image: string): string | undefined {
  const v = pinnedVllmVersion(image);
  if (!v) return undefined;
  const order = [v.major - VLLM_FLOOR.major, v.minor - VLLM_FLOOR.minor, v.patch - VLLM_FLOOR.patch].find((d) => d !== 0) ?? 0;
  if (order >= 0) return undefined;
  return (
    `${image} is vLLM ${v.major}.${v.minor}.${v.patch}, older than ${VLLM_FLOOR_TAG}: the command line sent to the server ` +
    `carries --shutdown-timeout, which vLLM accepts from ${VLLM_FLOOR_TAG} on; pin ${VLLM_FLOOR_TAG} or later`
  );
}
