import * as pulumi from "@pulumi/pulumi";

/**
 * Appends `NAME=value` for each secret that is set. When any is, the whole list becomes one secret
 * Output, so state, previews and logs never show the values.
 */
export function withSecretEnv(
  plain: string[],
  secrets: [name: string, value: pulumi.Output<string> | undefined][],
): pulumi.Input<string[]> {
  const entries = secrets
    .filter((entry): entry is [string, pulumi.Output<string>] => entry[1] !== undefined)
    .map(([name, value]) => pulumi.interpolate`${name}=${value}`);
  if (entries.length === 0) return plain;
  return pulumi.secret(pulumi.all(entries).apply((values) => [...plain, ...values]));
}
