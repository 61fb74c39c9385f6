import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { RuntimeConfig } from "../config/defaults";
import { EngineTarget, TLS_PRELUDE } from "../host/engineTarget";
import { engineCommandEnvironment } from "../deploy/scripts";
import { ROOT_DIR, serviceBundle, writeIfChanged } from "../deploy/bundles";

export type ContainerImageArgs =
  | {
      /** The resolved stack configuration. */
      config: RuntimeConfig;
      /** An image reference to use as is (pulled if absent, kept on destroy). */
      image: string;
    }
  | {
      /** The resolved stack configuration (stack name and the base image of the build). */
      config: RuntimeConfig;
      /** The folder under `services/` to build, tagged `inference-runtime/<service>:<stack>`. */
      service: "mock-vllm" | "worker-agent";
      /** The engine to build on (the docker provider's). */
      engine: EngineTarget;
    };

/**
 * An image for a container: either a pinned reference (vLLM, or a prebuilt service image) or a
 * local build of one of our services. `ref` is always an image ID, so containers only change
 * when the image really does.
 *
 * Local builds run `docker build` through a command rather than `docker.Image`: the provider asks
 * the classic builder to keep its intermediate containers and never deletes what it built, so
 * every build left stopped containers and image tags behind after `pulumi destroy`. Here the CLI
 * removes intermediates, and deleting (or replacing) the build removes the image it made.
 */
export class ContainerImage extends pulumi.ComponentResource {
  /** Image ID (sha256:...) to hand to a container. */
  public readonly ref: pulumi.Output<string>;
  /** Human-readable name:tag of the image. */
  public readonly name: pulumi.Output<string>;
  /** What the image is made from, known before any build or pull: a new value means a new image. */
  public readonly source: string;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:ContainerImage", name, {}, opts);
    if ("image" in args) {
      // keepLocally: destroy must not delete a 10+ GB vLLM image that other stacks may share.
      const remote = new docker.RemoteImage(
        `${name}-remote`,
        { name: args.image, keepLocally: true },
        // vLLM images are 10+ GB: a first pull on a slow link outlasts the default timeout.
        { parent: this, customTimeouts: { create: "60m" } },
      );
      this.ref = remote.imageId;
      this.name = remote.name;
      this.source = `image ${args.image}`;
    } else {
      const { stack, images } = args.config;
      const context = path.join(ROOT_DIR, "services", args.service);
      const tag = `inference-runtime/${args.service}:${stack}`;
      const { bytes, file } = serviceBundle(args.service);
      // The Dockerfile COPYs the bundle: made from the sources now, on disk only for an update.
      if (!pulumi.runtime.isDryRun()) writeIfChanged(file, bytes);
      const digest = imageDigest(context, bytes, images.buildBase);
      this.source = `build ${tag} ${digest}`;
      const build = new command.local.Command(
        `${name}-build`,
        {
          create: BUILD_SCRIPT,
          delete: REMOVE_SCRIPT,
          dir: context,
          environment: {
            ...engineCommandEnvironment(args.engine),
            IMAGE_TAG: tag,
            BASE_IMAGE: images.buildBase,
            // Relative to `dir`, so the state does not depend on where the checkout is.
            LOCAL_BASE_SCRIPT: isLocalBase(images.buildBase) ? "../../deploy/base-image.sh" : "",
            STACK: stack,
            DOCKER_BUILDKIT: "0",
          },
          // New sources, Dockerfile or base image: a new image. Rebuild, then remove the old one.
          triggers: [digest],
        },
        { parent: this, replaceOnChanges: ["*"] },
      );
      this.ref = build.stdout.apply((out) => out.trim().split("\n").pop() ?? "");
      this.name = pulumi.output(tag);
    }
    this.registerOutputs({ ref: this.ref, name: this.name });
  }
}

// The classic builder is in every engine and needs neither buildx nor a frontend image from a
// registry; `-q` prints only the new image's ID, which becomes the command's stdout.
const BUILD_SCRIPT = [
  TLS_PRELUDE,
  '[ -z "$LOCAL_BASE_SCRIPT" ] || bash "$LOCAL_BASE_SCRIPT" >&2 || exit',
  'docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg STACK="$STACK" ' +
    '--label io.inference-runtime.stack="$STACK" --label io.inference-runtime.role=image -t "$IMAGE_TAG" .',
].join("\n");

// Removes this build's image: by tag while the tag still names it, else (a newer build took the
// tag) the image by ID once no tag names it. Engine 20.10 can fail a removal midway ("unrecognized
// image ID") while other stacks remove images sharing its layers, leaving it untagged: so a few
// tries, each looking again at what is left. Only a failure to remove the tag is an error.
const REMOVE_SCRIPT = [
  TLS_PRELUDE,
  'built="$(printf %s "$PULUMI_COMMAND_STDOUT" | tail -n 1)"',
  '[ -n "$built" ] || exit 0',
  "for attempt in 1 2 3 4; do",
  '  if [ "$(docker image inspect -f "{{.Id}}" "$IMAGE_TAG" 2>/dev/null)" = "$built" ]; then target="$IMAGE_TAG"',
  '  elif [ "$(docker image inspect -f "{{len .RepoTags}}" "$built" 2>/dev/null)" = 0 ]; then target="$built"',
  "  else exit 0; fi",
  '  if [ "$attempt" = 4 ] && [ "$target" = "$IMAGE_TAG" ]; then docker image rm "$target" >/dev/null; exit; fi',
  '  docker image rm "$target" >/dev/null 2>&1 || sleep 1',
  "done",
].join("\n");

/** The project's own base image (deploy/base-image.sh makes it from this host's `node`). */
export function isLocalBase(image: string): boolean {
  return image.startsWith(`${LOCAL_BASE_REPOSITORY}:`);
}
const LOCAL_BASE_REPOSITORY = "inference-runtime/node-base";

/**
 * Digest of what goes into the image: the bundle made from the sources, the Dockerfile, image/
 * files and the base image (for the local base, also the Node.js it is made from).
 */
export function imageDigest(context: string, bundleBytes: Buffer, baseImage: string): string {
  const base = isLocalBase(baseImage) ? `${baseImage} node ${process.version}` : baseImage;
  const hash = crypto.createHash("sha256").update(`base=${base}\n`).update("bundle\n").update(bundleBytes).update("\n");
  for (const rel of ["Dockerfile", ...listFiles(context, "image")].sort()) {
    const file = path.join(context, rel);
    hash
      .update(`${rel}\n`)
      .update(fs.existsSync(file) ? fs.readFileSync(file) : "(missing)")
      .update("\n");
  }
  return hash.digest("hex").slice(0, 16);
}

function listFiles(root: string, rel: string): string[] {
  const dir = path.join(root, rel);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(root, path.join(rel, e.name)) : [path.join(rel, e.name)]));
}
