import type { ServerResponse } from "node:http";
import { Context } from "../context";
import { sendEmpty, sendJson } from "../http";

export function modelsBody(ctx: Context): string {
  const c = ctx.config;
  // vLLM stamps each card when the list is made, not when the server started.
  const created = Math.floor(Date.now() / 1000);
  const data = c.servedModelNames.map((id, i) => ({
    id,
    object: "model",
    created,
    owned_by: "vllm",
    root: c.model,
    parent: null,
    max_model_len: c.maxModelLen,
    permission: [
      {
        id: `modelperm-${ctx.requestId("").slice(0, 16)}${i.toString(16).padStart(16, "0")}`,
        object: "model_permission",
        created,
        allow_create_engine: false,
        allow_sampling: true,
        allow_logprobs: true,
        allow_search_indices: false,
        allow_view: true,
        allow_fine_tuning: false,
        organization: "*",
        group: null,
        is_blocking: false,
      },
    ],
  }));
  return JSON.stringify({ object: "list", data });
}

/** vLLM answers /health and /ping with an empty 200, and 503 when the engine cannot serve. */
export function handleHealth(ctx: Context, res: ServerResponse): void {
  sendEmpty(res, ctx.phase === "ready" ? 200 : 503);
}

export function handleVersion(ctx: Context, res: ServerResponse): void {
  sendJson(res, 200, JSON.stringify({ version: ctx.config.mock.vllmVersion }));
}

/** vLLM counts requests in flight only with --enable-server-load-tracking; otherwise 0. */
export function handleLoad(ctx: Context, res: ServerResponse): void {
  const load = ctx.config.serverLoadTracking ? ctx.scheduler.running + ctx.scheduler.waiting : 0;
  sendJson(res, 200, `{"server_load":${load}}`);
}

export function handleMetrics(ctx: Context, res: ServerResponse): void {
  ctx.metrics.render().then(
    (text) => {
      if (res.destroyed) return;
      res.writeHead(200, { server: "uvicorn", "content-type": ctx.metrics.contentType, "content-length": Buffer.byteLength(text) });
      res.end(text);
    },
    () => res.destroy(),
  );
}
