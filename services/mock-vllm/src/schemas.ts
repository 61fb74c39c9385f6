import { ApiError } from "./errors";
import { jsonTooComplex, jsonValuesOver } from "./limits";
import { Infer, Schema, array, boolean, int, nullish, number, object, oneOf, safeParse, string, union } from "./validate";

/**
 * Request bodies, as lenient as vLLM's pydantic models (unknown fields are accepted) and as
 * strict about the types of the fields the mock uses.
 */
const optInt = nullish(int());
const optNum = nullish(number());
const optBool = nullish(boolean());
const tokenIds = array(int());

const contentPart = object({ type: string(), text: nullish(string()) });
const message = object({
  role: string(),
  content: nullish(union(string(), array(contentPart))),
  name: nullish(string()),
});
export type ChatMessage = Infer<typeof message>;

const sampling = {
  model: nullish(string()),
  max_tokens: optInt,
  n: nullish(int({ min: 1 })),
  best_of: nullish(int({ min: 1 })),
  stream: optBool,
  stream_options: nullish(object({ include_usage: optBool, continuous_usage_stats: optBool })),
  stop: nullish(union(string(), array(string()))),
  seed: optInt,
  temperature: nullish(number({ min: 0 })),
  top_p: nullish(number({ gt: 0, max: 1 })),
  top_k: optInt,
  presence_penalty: optNum,
  frequency_penalty: optNum,
  ignore_eos: optBool,
  min_tokens: nullish(int({ min: 0 })),
  include_stop_str_in_output: optBool,
  user: nullish(string()),
  prompt_logprobs: optInt,
};

export const chatRequest = object({
  ...sampling,
  messages: array(message, 1),
  max_completion_tokens: optInt,
  logprobs: optBool,
  top_logprobs: nullish(int({ min: 0 })),
});
export type ChatRequest = Infer<typeof chatRequest>;

export const promptInput = union(string(), array(string(), 1), array(int(), 1), array(array(int(), 1), 1));
export const completionRequest = object({
  ...sampling,
  prompt: promptInput,
  echo: optBool,
  suffix: nullish(string()),
  logprobs: optInt,
});
export type CompletionRequest = Infer<typeof completionRequest>;

export const embeddingRequest = object({
  model: nullish(string()),
  input: promptInput,
  encoding_format: nullish(oneOf(["float", "base64"])),
  dimensions: nullish(int({ min: 1 })),
  user: nullish(string()),
});

export const tokenizeRequest = union(
  object({ model: nullish(string()), prompt: string(), add_special_tokens: optBool }),
  object({ model: nullish(string()), messages: array(message, 1), add_generation_prompt: optBool }),
);

export const detokenizeRequest = object({ model: nullish(string()), tokens: tokenIds });

/**
 * JSON text to a validated body, or the 400 vLLM answers (naming the fields, pydantic style): the
 * first few problems, and how many there were in all.
 */
export function parseBody<T>(schema: Schema<T>, text: string, modelName: string, maxJsonValues: number): T {
  if (jsonValuesOver(text, maxJsonValues)) throw jsonTooComplex(maxJsonValues);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `JSON decode error: ${(e as Error).message}`);
  }
  const parsed = safeParse(schema, json);
  if (!parsed.success) {
    const { issues, count } = parsed;
    const lines = issues.map((i) => `${["body", ...i.path.map(String)].join(".")}: ${i.message}`);
    if (count > issues.length) lines.push(`and ${count - issues.length} more`);
    const param = issues[0]?.path[0];
    throw new ApiError(
      400,
      `${count} validation error${count === 1 ? "" : "s"} for ${modelName}: ${lines.join("; ")}`,
      param === undefined ? null : String(param),
    );
  }
  return parsed.data;
}
