import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { EventLog } from "./events";
import { classifyFetchError, describeFetchError, withTimeout, type FailureKind } from "./fetchUtil";

export type CallResult =
  { ok: true; status: number; body: unknown } | { ok: false; status: number | null; kind: FailureKind | "http"; error: string };

/**
 * Holds the bearer token. A token from the environment wins; otherwise one persisted by an
 * earlier bootstrap is read from the token file, and a newly granted one is written there.
 */
export class TokenStore {
  private constructor(
    private value: string | null,
    private readonly file: string | null,
    private readonly log: EventLog,
  ) {}

  static async load(envToken: string | null, file: string | null, log: EventLog): Promise<TokenStore> {
    if (envToken || !file) return new TokenStore(envToken, file, log);
    try {
      const fromFile = (await readFile(file, "utf8")).trim();
      if (fromFile) log.info("token.loaded", { source: "file", path: file });
      return new TokenStore(fromFile || null, file, log);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") log.warn("token.read_failed", { path: file, error: code ?? (err as Error).message });
      return new TokenStore(null, file, log);
    }
  }

  get token(): string | null {
    return this.value;
  }

  /** Adopts a bootstrap token; persisting is best effort, the token is used either way. */
  async adopt(token: string): Promise<void> {
    this.value = token;
    if (!this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(tmp, token + "\n", { mode: 0o600 });
      // Rename so a crash mid-write never leaves a truncated token behind.
      await rename(tmp, this.file);
      this.log.info("token.persisted", { path: this.file });
    } catch (err) {
      this.log.error("token.persist_failed", { path: this.file, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
  }
}

/** HTTP client for the control plane's worker endpoints; never throws, always times out. */
export class ControlPlaneClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly tokens: TokenStore,
  ) {}

  register(body: unknown, signal?: AbortSignal): Promise<CallResult> {
    return this.post("/internal/worker/register", body, signal);
  }

  heartbeat(body: unknown, signal?: AbortSignal): Promise<CallResult> {
    return this.post("/internal/worker/heartbeat", body, signal);
  }

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<CallResult> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    const token = this.tokens.token;
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      const res = await fetch(this.baseUrl + path, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: withTimeout(this.timeoutMs, signal),
      });
      const text = await res.text();
      if (res.status < 200 || res.status > 299) {
        return { ok: false, status: res.status, kind: "http", error: errorText(text, res.status) };
      }
      return { ok: true, status: res.status, body: parseJson(text) };
    } catch (err) {
      return { ok: false, status: null, kind: classifyFetchError(err), error: describeFetchError(err) };
    }
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short, single-line excerpt: control planes behind proxies answer errors with HTML pages. */
function errorText(text: string, status: number): string {
  const parsed = parseJson(text) as { error?: unknown } | undefined | null;
  if (parsed && typeof parsed.error === "string") return parsed.error;
  const excerpt = text.replace(/\s+/g, " ").trim().slice(0, 120);
  return excerpt || `HTTP ${status}`;
}

/** The bootstrap token in a registration answer, if it carries a usable one. */
export function bootstrapToken(body: unknown): string | null {
  const t = (body as { bootstrap_token?: unknown } | null | undefined)?.bootstrap_token;
  return typeof t === "string" && t.trim() !== "" ? t.trim() : null;
}
