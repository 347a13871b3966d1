import { type ErasedLevel, erasureHash } from '../domain/erasure.js';
import type { ErasureLog } from '../ports/erasure-store.js';

/** Which of some ids are erased (tombstoned): ingest and runs ask before they store or score anything. */
export interface ErasedCheck {
  erased(entityType: ErasedLevel, ids: Iterable<string>): Promise<Set<string>>;
}

/** How long a process trusts its copy of the tombstones (docs/api.md#erasure states the bound in AWS). */
export const TOMBSTONE_CACHE_MS = 60_000;

/**
 * The tombstone hashes of each level, read once and kept for `ttlMs` (one Query a minute per process instead of a
 * read per request). Local mode refreshes at once after an erasure (`invalidate`); in AWS another function's copy
 * may be up to `ttlMs` old.
 */
export class TombstoneCache implements ErasedCheck {
  private readonly cached = new Map<ErasedLevel, { at: number; hashes: Promise<Set<string>> }>();

  constructor(
    private readonly log: Pick<ErasureLog, 'tombstoneHashes'>,
    private readonly ttlMs = TOMBSTONE_CACHE_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  async erased(entityType: ErasedLevel, ids: Iterable<string>): Promise<Set<string>> {
    const out = new Set<string>();
    const hashes = await this.hashes(entityType);
    if (hashes.size === 0) return out;
    for (const id of ids) if (!out.has(id) && hashes.has(erasureHash(entityType, id))) out.add(id);
    return out;
  }

  invalidate(entityType?: ErasedLevel): void {
    if (entityType) this.cached.delete(entityType);
    else this.cached.clear();
  }

  private hashes(entityType: ErasedLevel): Promise<Set<string>> {
    const now = this.clock();
    const hit = this.cached.get(entityType);
    if (hit && now - hit.at < this.ttlMs) return hit.hashes;
    const hashes = this.log.tombstoneHashes(entityType);
    this.cached.set(entityType, { at: now, hashes });
    // A failed read is not cached: the next call tries again.
    hashes.catch(() => this.cached.delete(entityType));
    return hashes;
  }
}
