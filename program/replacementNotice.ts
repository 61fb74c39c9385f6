// Warns, in preview and in up, when the planned update replaces the model server: with fixed
// names and ports the old one is deleted first, so the API is down until the new one is healthy.
// The program cannot see the engine's plan, so it compares a digest of everything that replaces
// the container with the digest the last update exported (read through a reference to itself).
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";

/** Digest of a model server's replacing inputs (image source, command, env, mounts, ports...). */
export function replacementDigest(spec: unknown): string {
  return crypto.createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16);
}

/** The output name the digest is exported under. */
export const DIGEST_OUTPUT = "modelServerSpecDigest";

export function warnIfServerReplaced(digest: string, container: string, waitSeconds: number): void {
  const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
  self.getOutput(DIGEST_OUTPUT).apply((previous) => {
    if (typeof previous === "string" && previous !== digest) {
      pulumi.log.warn(
        `this update replaces the model server ${container}: the API is down from the moment the old ` +
          `container is deleted until the new one passes its healthcheck (allowed up to ${waitSeconds} s)`,
      );
    }
  });
}
