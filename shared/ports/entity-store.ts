import type { EntityLevel, EntityRecord, TraitsRefusal, TraitsUpdate } from '../domain/entity.js';

export type { EntityRecord, TraitsRefusal, TraitsUpdate } from '../domain/entity.js';

/**
 * Entities known through identify/group calls. Runs score known entities even without events in the window
 * (docs/models.md#semantics-exact), so listing is by shard, like events.
 */
export interface EntityStore {
  /** Applies the updates; returns those refused (each refused whole, the others applied). */
  upsert(updates: readonly TraitsUpdate[]): Promise<TraitsRefusal[]>;
  get(entityType: EntityLevel, entityId: string): Promise<EntityRecord | undefined>;
  /** The account a user was last grouped with, for events that carry no accountId. */
  accountOf(userIds: readonly string[]): Promise<Map<string, string>>;
  listShard(entityType: EntityLevel, shard: number): AsyncIterable<EntityRecord[]>;
}
