// Turns a failed Pulumi run into the part a person needs: the engine's "Diagnostics:" section,
// where the health gate's report (logs, probe outputs, exit code) and provider errors are
// printed, without the progress lines and resource tables around it.

/** The diagnostics of a failed `up` or `destroy`, from the Automation API error's text. */
export function diagnosis(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const start = text.indexOf("Diagnostics:");
  if (start >= 0) {
    const rest = text.slice(start + "Diagnostics:".length);
    const end = rest.search(/\n\s*(Resources:|Outputs:|Duration:|\S*stderr:)/);
    const section = (end >= 0 ? rest.slice(0, end) : rest)
      .split("\n")
      .map((l) => l.replace(/\s+$/, ""))
      // The stack's own "update failed" line says nothing the resource errors do not.
      .filter((l) => l.trim() !== "" && !/^\s*pulumi:pulumi:Stack \(.*\):$/.test(l) && !/^\s*error: update failed$/.test(l));
    const kept = dedent(section);
    if (kept.length > 0) return kept.join("\n");
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.slice(-40).join("\n");
}

function dedent(lines: string[]): string[] {
  const indent = Math.min(...lines.map((l) => /^\s*/.exec(l)![0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0));
}
