import type { Traits } from '../domain/model/schema.js';
import type { EntityLevel } from './event-store.js';

/** What Pulse knows about a user or account beyond its events: traits, the user's account, when it was seen. */
export interface EntityRecord {
  entityType: EntityLevel;
  entityId: string;
  traits: Traits;
  /** For users: the account they were last grouped with. */
  accountId?: string | undefined;
  firstSeenAt?: number | undefined;
  lastSeenAt?: number | undefined;
  archived?: boolean | undefined;
}

export interface TraitsUpdate {
  entityType: EntityLevel;
  entityId: string;
  /** Merged into the stored traits (a key set to null is removed). */
  traits?: Traits | undefined;
  /** For users: link to this account (the latest group call wins). */
  accountId?: string | undefined;
  /** When this was observed (epoch ms): keeps firstSeenAt/lastSeenAt. */
  seenAt: number;
}

/** An update not applied because it would pass a limit (docs/api.md#limits); `path` is relative to the call. */
export interface TraitsRefusal {
  update: TraitsUpdate;
  path: string;
  message: string;
}

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
