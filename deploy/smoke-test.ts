// Post-deploy smoke test, run by the stack (a @pulumi/command resource) after the model server is
// healthy and whenever it is replaced: one real chat completion through the official client, and
// the agent's readiness. Exits non-zero with the reason, so `pulumi up` fails loudly.
//
// Environment: SMOKE_API_URL (required), SMOKE_MODEL (required), SMOKE_AGENT_URL, SMOKE_API_KEY,
// SMOKE_TIMEOUT_S (default 60).
import OpenAI from "openai";
import { PATHS } from "../contract";

interface SmokeSettings {
  apiUrl: string;
  model: string;
  agentUrl?: string;
  apiKey?: string;
  timeoutMs: number;
}

function settings(env: NodeJS.ProcessEnv): SmokeSettings {
  const missing = ["SMOKE_API_URL", "SMOKE_MODEL"].filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`missing environment variable(s): ${missing.join(", ")}`);
  const timeout = Number(env.SMOKE_TIMEOUT_S ?? "60");
  if (!(timeout > 0)) throw new Error(`SMOKE_TIMEOUT_S: expected a positive number of seconds, got "${env.SMOKE_TIMEOUT_S}"`);
  return {
    apiUrl: env.SMOKE_API_URL!.replace(/\/+$/, ""),
    model: env.SMOKE_MODEL!,
    agentUrl: env.SMOKE_AGENT_URL?.replace(/\/+$/, "") || undefined,
    apiKey: env.SMOKE_API_KEY || undefined,
    timeoutMs: timeout * 1000,
  };
}

/** Retries `check` until it passes or the deadline; the last failure is the one reported. */
async function eventually<T>(what: string, deadline: number, check: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function main(): Promise<void> {
  const s = settings(process.env);
  const deadline = Date.now() + s.timeoutMs;
  const client = new OpenAI({ baseURL: `${s.apiUrl}/v1`, apiKey: s.apiKey ?? "unused", maxRetries: 0, timeout: 30_000 });
  const prompt = "Reply with one short sentence: is the runtime up?";
  const reply = await eventually(`chat completion at ${s.apiUrl}`, deadline, async () => {
    const r = await client.chat.completions.create({ model: s.model, messages: [{ role: "user", content: prompt }], max_tokens: 32 });
    const text = r.choices[0]?.message?.content ?? "";
    if (r.model !== s.model) throw new Error(`answered as model "${r.model}", expected "${s.model}"`);
    if (text.trim() === "") throw new Error("the answer was empty");
    return { text, usage: r.usage };
  });
  if (s.agentUrl) {
    await eventually(`agent readiness at ${s.agentUrl}${PATHS.agentReady}`, deadline, async () => {
      const res = await fetch(`${s.agentUrl}${PATHS.agentReady}`, { signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) throw new Error(`status ${res.status}: ${(await res.text()).slice(0, 200)}`);
    });
  }
  console.log(
    JSON.stringify({ ok: true, model: s.model, answer: reply.text.slice(0, 120), usage: reply.usage, agentReady: Boolean(s.agentUrl) }),
  );
}

main().catch((err: Error) => {
  console.error(`smoke test failed: ${err.message}`);
  process.exit(1);
});
