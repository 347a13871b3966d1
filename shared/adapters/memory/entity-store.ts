import { type EntityState, groupUpdates, mergeEntity } from '../../domain/entity-merge.js';
import { shardOf } from '../../domain/shard.js';
import type { EntityRecord, EntityStore, TraitsRefusal, TraitsUpdate } from '../../ports/entity-store.js';
import type { EntityLevel } from '../../ports/event-store.js';

/** Entities in memory, merged exactly as the DynamoDB store merges them. */
export class InMemoryEntityStore implements EntityStore {
  private readonly entities = new Map<string, EntityState>();

  constructor(
    readonly shardCount = 16,
    private readonly pageSize = 1000,
  ) {}

  async upsert(updates: readonly TraitsUpdate[]): Promise<TraitsRefusal[]> {
    const refused: TraitsRefusal[] = [];
    for (const [key, group] of groupUpdates(updates)) {
      const first = group[0]!;
      const { refused: own, ...state } = mergeEntity(first.entityType, first.entityId, this.entities.get(key), group);
      refused.push(...own);
      // Nothing applied to an entity not seen before: it stays unknown.
      if (own.length < group.length || this.entities.has(key)) this.entities.set(key, state);
    }
    return refused;
  }

  async get(entityType: EntityLevel, entityId: string): Promise<EntityRecord | undefined> {
    const state = this.entities.get(`${entityType}\u0000${entityId}`);
    return state ? structuredClone(state.record) : undefined;
  }

  /** Delete an entity record (erasure); 1 when there was one. */
  delete(entityType: EntityLevel, entityId: string): number {
    return this.entities.delete(`${entityType}\u0000${entityId}`) ? 1 : 0;
  }

  async accountOf(userIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const userId of userIds) {
      const accountId = this.entities.get(`user\u0000${userId}`)?.record.accountId;
      if (accountId !== undefined) out.set(userId, accountId);
    }
    return out;
  }

  async *listShard(entityType: EntityLevel, shard: number): AsyncIterable<EntityRecord[]> {
    const matching = [...this.entities.values()]
      .map((s) => s.record)
      .filter((r) => r.entityType === entityType && shardOf(r.entityId, this.shardCount) === shard)
      .map((r) => structuredClone(r));
    for (let i = 0; i < matching.length; i += this.pageSize) yield matching.slice(i, i + this.pageSize);
  }
}
