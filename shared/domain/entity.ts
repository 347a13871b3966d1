import type { Traits } from './model/schema.js';

/** What a model scores, and how events are partitioned for it: by user or by account. */
export type EntityLevel = 'user' | 'account';

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
