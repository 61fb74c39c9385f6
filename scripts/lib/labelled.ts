// The docker CLI queries that list what a stack owns, by the label every object it creates
// carries: the end-to-end tests prove absences with them, the lifecycle benchmark sweeps with them.

export type DockerKind = "container" | "image" | "volume" | "network";

/** For each kind of Docker object, the `docker` arguments that print the stack's, one per line. */
export function labelledQueries(stack: string): [DockerKind, string[]][] {
  const filter = `label=io.inference-runtime.stack=${stack}`;
  return [
    ["container", ["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]],
    ["image", ["images", "-a", "--filter", filter, "--format", "{{.ID}}"]],
    ["volume", ["volume", "ls", "--filter", filter, "--format", "{{.Name}}"]],
    ["network", ["network", "ls", "--filter", filter, "--format", "{{.Name}}"]],
  ];
}

/** Order to remove a stack's objects by force: containers hold the network, volumes and images. */
export const REMOVAL_ORDER: readonly DockerKind[] = ["container", "network", "volume", "image"];

/** The `docker` arguments that remove one object by force. */
export function removeArgs(kind: DockerKind, name: string): string[] {
  const rm: Record<DockerKind, string[]> = {
    container: ["rm", "-f"],
    image: ["image", "rm", "-f"],
    volume: ["volume", "rm", "-f"],
    network: ["network", "rm"],
  };
  return [...rm[kind], name];
}
