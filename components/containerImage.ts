import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { RuntimeConfig } from "./defaults";

export interface ContainerImageArgs {
  /** The resolved stack configuration (stack name and the base image of local builds). */
  config: RuntimeConfig;
  /** An image reference to use as is (pulled if absent, kept on destroy). */
  image?: string;
  /** A directory under `services/` to build from when no image is given. */
  service?: "mock-vllm" | "worker-agent";
}

/**
 * An image for a container: either a pinned reference (vLLM, or a prebuilt service image) or a
 * local build of one of our services. `ref` is always an image ID, so containers only change
 * when the image really does.
 */
export class ContainerImage extends pulumi.ComponentResource {
  /** Image ID (sha256:...) to hand to a container. */
  public readonly ref: pulumi.Output<string>;
  /** Human-readable name:tag of the image. */
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:ContainerImage", name, {}, opts);
    if (args.image) {
      // keepLocally: destroy must not delete a 10+ GB vLLM image that other stacks may share.
      const remote = new docker.RemoteImage(
        `${name}-remote`,
        { name: args.image, keepLocally: true },
        // vLLM images are 10+ GB: a first pull on a slow link outlasts the default timeout.
        { parent: this, customTimeouts: { create: "60m" } },
      );
      this.ref = remote.imageId;
      this.name = remote.name;
    } else if (args.service) {
      const { stack, images } = args.config;
      const context = path.join(__dirname, "..", "services", args.service);
      requireBundle(context);
      const built = new docker.Image(
        `${name}-build`,
        {
          imageName: `inference-runtime/${args.service}:${stack}`,
          skipPush: true,
          build: {
            context,
            dockerfile: path.join(context, "Dockerfile"),
            args: { BASE_IMAGE: images.buildBase, STACK: stack },
            // The classic builder needs neither buildx nor a BuildKit frontend image from a registry.
            builderVersion: "BuilderV1",
          },
        },
        { parent: this },
      );
      // For local-only images the provider reports the image ID here.
      this.ref = built.repoDigest;
      this.name = built.imageName;
    } else {
      throw new Error(`ContainerImage ${name}: expected either args.image or args.service`);
    }
    this.registerOutputs({ ref: this.ref, name: this.name });
  }
}

// The Dockerfiles copy a prebuilt bundle; without it the build fails deep inside Docker.
function requireBundle(context: string): void {
  const bundle = path.join(context, "dist", "main.js");
  if (fs.existsSync(bundle) || pulumi.runtime.isDryRun()) return;
  throw new Error(`${bundle} is missing: run \`npm run build:services\` (or \`npm run up\`, which does) first`);
}
