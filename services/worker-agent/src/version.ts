import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";

// Replaced at bundle time with esbuild `--define:__WORKER_AGENT_VERSION__='"x.y.z"'` when wanted.
declare const __WORKER_AGENT_VERSION__: string | undefined;
declare const __WORKER_AGENT_BUILD_DATE__: string | undefined;

export const AGENT_VERSION: string = typeof __WORKER_AGENT_VERSION__ === "string" ? __WORKER_AGENT_VERSION__ : "0.1.0";

export interface AgentInfo {
  version: string;
  build_date: string | null;
  checksum: string | null;
}

/**
 * Identifies the exact code that runs: the sha256 of the running file (the single-file bundle in
 * the image). The build date falls back to that file's modification time, which image builds keep.
 */
export async function loadAgentInfo(file: string | undefined = process.argv[1]): Promise<AgentInfo> {
  let checksum: string | null = null;
  let mtime: string | null = null;
  if (file) {
    try {
      checksum = createHash("sha256")
        .update(await readFile(file))
        .digest("hex");
      mtime = (await stat(file)).mtime.toISOString();
    } catch {
      // Unreadable entry file (e.g. a REPL): report unknown rather than fail the agent.
    }
  }
  const buildDate = typeof __WORKER_AGENT_BUILD_DATE__ === "string" ? __WORKER_AGENT_BUILD_DATE__ : mtime;
  return { version: AGENT_VERSION, build_date: buildDate, checksum };
}
