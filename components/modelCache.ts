import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { RuntimeConfig } from "../config/defaults";
import { HF_HOME, labels, VLLM_CACHE_ROOT } from "../spec/containers";

export interface ModelCacheArgs {
  /** The resolved stack configuration; `cache` decides names and whether destroy keeps the data. */
  config: RuntimeConfig;
}

/**
 * Docker volumes for the Hugging Face cache (model weights) and vLLM's compile cache, so a
 * recreated model server starts from cached weights instead of downloading gigabytes again.
 */
export class ModelCache extends pulumi.ComponentResource {
  /** Volumes and where each is mounted in the model server. */
  public readonly mounts: pulumi.Output<{ volumeName: string; containerPath: string }[]>;
  /** Name of the Hugging Face cache volume. */
  public readonly volumeName: pulumi.Output<string>;
  /** True when `pulumi destroy` leaves the volumes (and the weights) in place. */
  public readonly keptOnDestroy: boolean;

  constructor(name: string, args: ModelCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inference-runtime:index:ModelCache", name, {}, opts);
    const { cache } = args.config;
    // retainOnDelete: destroy forgets the volume instead of force-removing multi-GB downloads.
    const childOpts = { parent: this, retainOnDelete: cache.keepOnDestroy };
    const volumeLabels = labels(args.config, "model-cache");
    const hf = new docker.Volume(`${name}-hf`, { name: cache.volumeName, labels: volumeLabels }, childOpts);
    const compile = new docker.Volume(`${name}-compile`, { name: cache.compileVolumeName, labels: volumeLabels }, childOpts);
    this.volumeName = hf.name;
    this.keptOnDestroy = cache.keepOnDestroy;
    this.mounts = pulumi.all([hf.name, compile.name]).apply(([hfName, compileName]) => [
      { volumeName: hfName, containerPath: HF_HOME },
      { volumeName: compileName, containerPath: VLLM_CACHE_ROOT },
    ]);
    this.registerOutputs({ volumeName: this.volumeName, mounts: this.mounts, keptOnDestroy: this.keptOnDestroy });
  }
}
