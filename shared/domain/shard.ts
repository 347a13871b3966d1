/**
 * Stable shard of an entity id: FNV-1a over the id's UTF-16 code units, modulo the shard count. The same id
 * always maps to the same shard, in every process and language, so ingest and runs agree.
 */
export function shardOf(entityId: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < entityId.length; i++) {
    hash ^= entityId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shardCount;
}
