// The inference-runtime policy pack: `pulumi preview|up --policy-pack policy` (the project's
// preview and up scripts pass it). Rules live in rules.ts; this file registers them.
import { PolicyPack, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import {
  DEFAULT_ALLOWED_ADDRESSES,
  DEFAULT_MAX_GPU_MEMORY_UTILIZATION,
  dockerLabels,
  gpuCacheRetained,
  gpuMemoryUtilization,
  hostPortsLoopback,
  imagesPinned,
  modelServerStartPeriod,
  secretEnvValues,
} from "./rules";
import { decodeProperties, ResourceView } from "./view";

// @pulumi/policy unwraps secrets before a validation sees the inputs. Each decoded property bag is
// the target of the proxy a validation receives; the view of the same bag, built from what the
// engine sent, keeps which values were secret.
interface Struct {
  toJavaScript(): Record<string, unknown>;
}
type Deserialize = { deserializeProperties: (s: Struct, proxySecrets: boolean) => Record<string, unknown> };
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module, without types
const deserialize: Deserialize = require("@pulumi/policy/deserialize");
const decoded = new WeakMap<object, { props: Record<string, unknown>; secretPaths: Set<string> }>();
const original = deserialize.deserializeProperties;
deserialize.deserializeProperties = (struct, proxySecrets) => {
  const props = original(struct, proxySecrets);
  decoded.set(props, decodeProperties(struct.toJavaScript()));
  return props;
};
// The property the SDK's proxies answer with their target.
const PROXY_TARGET = "__getSpecialProxyTarget";

function viewOf(r: { type: string; name: string; urn: string; props: Record<string, unknown> }): ResourceView {
  const target = (r.props as Record<string, unknown>)[PROXY_TARGET] as object | undefined;
  const found = target && decoded.get(target);
  if (!found)
    throw new Error(
      `policy pack: no decoded properties for ${r.urn}; the @pulumi/policy version does not match the one this pack was written for`,
    );
  return { type: r.type, name: r.name, urn: r.urn, ...found };
}

const resourceRule =
  (rule: (view: ResourceView, args: ResourceValidationArgs) => string[]) => (args: ResourceValidationArgs, report: ReportViolation) => {
    for (const message of rule(viewOf(args), args)) report(message);
  };

new PolicyPack("inference-runtime", {
  policies: [
    {
      name: "host-ports-loopback",
      description: "Host ports bind to loopback unless the stack's policy config allows other addresses.",
      enforcementLevel: "mandatory",
      configSchema: {
        properties: {
          allowedAddresses: {
            type: "array",
            items: { type: "string" },
            default: DEFAULT_ALLOWED_ADDRESSES,
            description: "Host addresses a published port may bind to.",
          },
        },
      },
      validateResource: resourceRule((view, args) =>
        hostPortsLoopback(view, args.getConfig<{ allowedAddresses: string[] }>().allowedAddresses),
      ),
    },
    {
      name: "images-pinned",
      description: "Images name a release tag or a digest, never `latest` or no tag; local builds are keyed by their content.",
      enforcementLevel: "mandatory",
      validateResource: resourceRule(imagesPinned),
    },
    {
      name: "secret-env-values",
      description: "HF_TOKEN, HUGGING_FACE_HUB_TOKEN, VLLM_API_KEY and WORKER_AUTH_TOKEN reach containers as secrets.",
      enforcementLevel: "mandatory",
      validateResource: resourceRule(secretEnvValues),
    },
    {
      name: "model-server-start-period",
      description: "Model servers have a healthcheck whose start period covers a cold start (vLLM: 10 min on GPU, 30 min on CPU).",
      enforcementLevel: "mandatory",
      validateResource: resourceRule(modelServerStartPeriod),
    },
    {
      name: "docker-labels",
      description: "Every Docker object carries the io.inference-runtime.stack and io.inference-runtime.role labels.",
      enforcementLevel: "mandatory",
      validateResource: resourceRule(dockerLabels),
    },
    {
      name: "gpu-cache-retained",
      description: "On a GPU stack, `pulumi destroy` keeps the model-cache volumes.",
      enforcementLevel: "mandatory",
      validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        for (const v of gpuCacheRetained(args.resources.map(viewOf))) report(v.message, v.urn);
      },
    },
    {
      name: "gpu-memory-utilization",
      description: "vLLM on a GPU leaves headroom beyond its KV cache (model.gpuMemoryUtilization at most 0.9).",
      enforcementLevel: "advisory",
      configSchema: {
        properties: {
          max: { type: "number", default: DEFAULT_MAX_GPU_MEMORY_UTILIZATION, description: "Largest fraction that passes." },
        },
      },
      validateResource: resourceRule((view, args) => gpuMemoryUtilization(view, args.getConfig<{ max: number }>().max)),
    },
  ],
});
