/**
 * Enough of vLLM's automatic prefix caching to make the prefix_cache_* counters meaningful:
 * prompts are cut into full blocks, each block hashed together with everything before it, and a
 * request hits for every leading block already seen. Bounded LRU over the KV capacity.
 */
export class PrefixCache {
  private readonly blocks = new Map<number, true>();
  constructor(
    private readonly blockSize: number,
    private readonly maxBlocks: number,
  ) {}

  /** Returns the number of prompt tokens served from the cache. */
  lookup(tokenIds: readonly number[]): number {
    return this.lookupBlocks(this.blockHashes(tokenIds));
  }

  /** The chained hash of each full block: a pure function of the tokens, so it can be memoised. */
  blockHashes(tokenIds: readonly number[]): number[] {
    const out: number[] = [];
    let hash = 0x811c9dc5;
    const full = tokenIds.length - (tokenIds.length % this.blockSize);
    for (let i = 0; i < full; i++) {
      hash = Math.imul(hash ^ tokenIds[i], 0x01000193) >>> 0;
      if ((i + 1) % this.blockSize === 0) out.push(hash);
    }
    return out;
  }

  /** `lookup` from precomputed `blockHashes`. */
  lookupBlocks(hashes: readonly number[]): number {
    let hits = 0;
    let missed = false;
    for (let i = 0; i < hashes.length; i++) {
      const hash = hashes[i];
      if (!missed && this.blocks.has(hash)) {
        hits += this.blockSize;
        this.blocks.delete(hash); // re-insert to refresh its LRU position
      } else {
        missed = true;
      }
      this.blocks.set(hash, true);
      if (this.blocks.size > this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value as number);
    }
    return hits;
  }
}
