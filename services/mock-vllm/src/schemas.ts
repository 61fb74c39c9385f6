import { z } from "zod";
import { ApiError } from "./errors";

/**
 * Request bodies, as lenient as vLLM's pydantic models (unknown fields are accepted) and as
 * strict about the types of the fields the mock uses.
 */
const optInt = z.number().int().nullish();
const optNum = z.number().nullish();
const optBool = z.boolean().nullish();
const tokenIds = z.array(z.number().int());

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const message = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  name: z.string().optional(),
});

const sampling = {
  model: z.string().nullish(),
  max_tokens: optInt,
  n: z.number().int().min(1).nullish(),
  stream: optBool,
  stream_options: z.looseObject({ include_usage: optBool, continuous_usage_stats: optBool }).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: optInt,
  temperature: z.number().min(0).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: optInt,
  presence_penalty: optNum,
  frequency_penalty: optNum,
  ignore_eos: optBool,
  min_tokens: z.number().int().min(0).nullish(),
  include_stop_str_in_output: optBool,
  user: z.string().nullish(),
};

export const chatRequest = z.looseObject({
  ...sampling,
  messages: z.array(message).min(1),
  max_completion_tokens: optInt,
});
export type ChatRequest = z.infer<typeof chatRequest>;
export type ChatMessage = z.infer<typeof message>;

export const promptInput = z.union([z.string(), z.array(z.string()).min(1), tokenIds.min(1), z.array(tokenIds.min(1)).min(1)]);
export const completionRequest = z.looseObject({
  ...sampling,
  prompt: promptInput,
  echo: optBool,
  suffix: z.string().nullish(),
  logprobs: optInt,
});
export type CompletionRequest = z.infer<typeof completionRequest>;

export const embeddingRequest = z.looseObject({
  model: z.string().nullish(),
  input: promptInput,
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  user: z.string().nullish(),
});
export type EmbeddingRequest = z.infer<typeof embeddingRequest>;

export const tokenizeRequest = z.union([
  z.looseObject({ model: z.string().nullish(), prompt: z.string(), add_special_tokens: optBool }),
  z.looseObject({ model: z.string().nullish(), messages: z.array(message).min(1), add_generation_prompt: optBool }),
]);
export type TokenizeRequest = z.infer<typeof tokenizeRequest>;

export const detokenizeRequest = z.looseObject({ model: z.string().nullish(), tokens: tokenIds });

/** JSON text to a validated body, or the 400 vLLM answers. */
export function parseBody<T>(schema: z.ZodType<T>, text: string, modelName: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `JSON decode error: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ApiError(400, `1 validation error for ${modelName}: body: Input should be a valid dictionary or object`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const lines = issues.map((i) => `${["body", ...i.path.map(String)].join(".")}: ${i.message}`);
    const param = issues[0]?.path[0];
    throw new ApiError(400, `${issues.length} validation error${issues.length === 1 ? "" : "s"} for ${modelName}: ${lines.join("; ")}`, param === undefined ? null : String(param));
  }
  return parsed.data;
}
