import fc from "fast-check";
import { protocolCase, slowCase } from "./protocol";
import { Case, HOST, JSON_TYPE, Target, one, request } from "./request";

export type { Case, Target } from "./request";
export { protocolCases } from "./protocol";

/**
 * What the fuzzer sends: hostile HTTP requests for mock-vllm or the worker-agent, drawn from
 * fast-check arbitraries (so a run is reproducible from its seed), plus fixed raw-socket inputs known
 * to break HTTP servers. A case says how many responses it expects and, when the input is certainly
 * wrong, that the answer must be a 4xx.
 */

/** A JSON fragment written as is (numbers JSON.stringify cannot spell, broken syntax). */
class Raw {
  constructor(readonly text: string) {}
}
type Json = Raw | null | boolean | number | string | Json[] | { [k: string]: Json };

function serialize(v: Json): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(serialize).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${serialize(x)}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

// --- hostile values --------------------------------------------------------------------------

const digits300 = "1" + "0".repeat(299);
const HOSTILE: Json[] = [
  ...["1e308", "-1e308", "1e309", "9007199254740993", digits300, "-0", '"\\ud800"'].map((t) => new Raw(t)),
  ...[0, -1, 1.5, 100000000, 2147483648, 16384, true, false, null, "", "x", "\u0000", [], {}, [1, 2, 3]],
  new Raw("[".repeat(200) + "]".repeat(200)),
  new Array(1000).fill(1),
  "a".repeat(100_000),
  Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i])),
];
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => v as Json) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);

/** Values certainly wrong for a field, as vLLM would refuse them (400). */
const WRONG: Record<string, Json[]> = {
  n: ["x", true, [], 1.5, 0, -1, new Raw("1e308"), new Raw("9007199254740993"), new Raw(digits300), 100000000],
  max_tokens: ["ten", 1.5, 0, [], new Raw("1e309")],
  stream: ["yes", 1, {}],
  temperature: [-1, "hot"],
  best_of: [0, "x", 100000000],
  logprobs: [-5, "x", 1000],
  dimensions: ["x", 0, 100000000],
};

interface Route {
  path: string;
  body: Record<string, Json>;
  fields: string[];
}
const SAMPLING =
  "model max_tokens n best_of stream stream_options stop seed temperature top_p top_k ignore_eos min_tokens prompt_logprobs user".split(
    " ",
  );
const MOCK_ROUTES: Route[] = [
  {
    path: "/v1/chat/completions",
    body: { model: "m", messages: [{ role: "user", content: "hello" }], max_tokens: 8 },
    fields: [...SAMPLING, "messages", "max_completion_tokens", "logprobs", "top_logprobs"],
  },
  {
    path: "/v1/completions",
    body: { model: "m", prompt: "hello", max_tokens: 8 },
    fields: [...SAMPLING, "prompt", "echo", "logprobs", "suffix"],
  },
  {
    path: "/v1/embeddings",
    body: { model: "m", input: "hello" },
    fields: ["model", "input", "encoding_format", "dimensions", "user"],
  },
  {
    path: "/tokenize",
    body: { model: "m", prompt: "hello" },
    fields: ["model", "prompt", "messages", "add_special_tokens"],
  },
  { path: "/detokenize", body: { model: "m", tokens: [104, 101] }, fields: ["model", "tokens"] },
];

const jsonCase: fc.Arbitrary<Case> = fc
  .record({
    route: fc.constantFrom(...MOCK_ROUTES),
    changes: fc.array(fc.tuple(fc.nat(), hostileValue), { maxLength: 3 }),
    wrong: fc.option(fc.tuple(fc.constantFrom(...Object.keys(WRONG)), fc.nat()), { freq: 3 }),
    body: fc.constantFrom("as is", "as is", "as is", "as is", "truncated", "not json", "array", "nested"),
    cut: fc.nat(),
    chunked: fc.boolean(),
    stream: fc.boolean(),
  })
  .map(({ route, changes, wrong, body, cut, chunked, stream }) => {
    const b: Record<string, Json> = { ...route.body };
    if (stream && route.path.includes("completions")) b.stream = true;
    for (const [i, v] of changes) b[route.fields[i % route.fields.length]] = v;
    let certain = false;
    if (wrong && route.fields.includes(wrong[0])) {
      const values = WRONG[wrong[0]];
      b[wrong[0]] = values[wrong[1] % values.length];
      // Only when nothing else was changed is the request certainly refused for this field.
      certain = changes.length === 0;
    }
    let text = serialize(b);
    if (body === "truncated") text = text.slice(0, cut % text.length);
    if (body === "not json") text = ["", "{", "nope", "[1,2", '{"a":}', "\u00ff\u00fe"][cut % 6];
    if (body === "array") text = `[${text}]`;
    if (body === "nested") text = "[".repeat(5000) + text + "]".repeat(5000);
    return one(
      `POST ${route.path} (${body}${certain ? `, wrong ${wrong![0]}` : ""})`,
      request("POST", route.path, [HOST, JSON_TYPE], text, chunked ? "chunked" : "length"),
      "POST",
      {
        expect4xx: certain || body !== "as is",
      },
    );
  });

// --- routes, methods, targets -----------------------------------------------------------------

const MOCK_PATHS = ["/health", "/ping", "/version", "/load", "/metrics", "/v1/models", "/v1/chat/completions", "/tokenize"];
const AGENT_PATHS = ["/healthz", "/readyz", "/metrics", "/info", "/logs", "/logs?tail=1", "/logs?tail=-1", "/logs?tail=99999999999"];
const ODD_TARGETS = [
  "//v1/models",
  "/V1/models",
  "/v1/models/",
  "/v1//models",
  "///",
  "//[",
  "/%",
  "/%zz",
  "/__proto__",
  "/constructor",
  "*",
  "http://x/healthz",
  "http://[",
  "/" + "a".repeat(8000),
  "/healthz?" + "x=1&".repeat(500),
  "/\u00e9",
];
const METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "FOO"];

function pathCase(paths: string[]): fc.Arbitrary<Case> {
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: fc.oneof(fc.constantFrom(...paths), fc.constantFrom(...ODD_TARGETS)),
      auth: fc.boolean(),
      pipeline: fc.integer({ min: 1, max: 3 }),
    })
    .map(({ method, path, auth, pipeline }) => {
      const headers: [string, string][] = auth ? [HOST, ["Authorization", "Bearer wrong"]] : [HOST];
      const one = request(method, path, headers, method === "POST" ? "{}" : undefined);
      return {
        label: `${method} ${path.slice(0, 40)} ×${pipeline}`,
        send: {
          parts: [Buffer.concat(new Array(pipeline).fill(one))],
          methods: new Array(pipeline).fill(method),
          expect: pipeline,
          timeoutMs: 15_000,
        },
      };
    });
}

export interface CaseOptions {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Any hostile case for `target`, weighted towards what each service is most exposed to. */
export function caseArbitrary(target: Target, o: CaseOptions): fc.Arbitrary<Case> {
  if (target === "agent") {
    return fc.oneof(
      { weight: 6, arbitrary: pathCase(AGENT_PATHS) },
      { weight: 3, arbitrary: protocolCase("agent") },
      { weight: 1, arbitrary: slowCase("agent", o.headersTimeoutMs, o.requestTimeoutMs) },
    );
  }
  return fc.oneof(
    { weight: 8, arbitrary: jsonCase },
    { weight: 3, arbitrary: pathCase(MOCK_PATHS) },
    { weight: 2, arbitrary: protocolCase("mock") },
    { weight: 1, arbitrary: slowCase("mock", o.headersTimeoutMs, o.requestTimeoutMs) },
  );
}
