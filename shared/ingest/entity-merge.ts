import type { EntityRecord, TraitsUpdate } from '../ports/entity-store.js';
import type { EntityLevel } from '../ports/event-store.js';

/** A stored entity plus when its account link was set, so an older group call never replaces a newer link. */
export interface EntityState {
  record: EntityRecord;
  accountLinkedAt?: number | undefined;
}

/**
 * Apply updates (in order) to an entity: traits merge key by key (null removes a key), the account link with the
 * latest `seenAt` wins, firstSeenAt/lastSeenAt widen. Pure, so the in-memory and DynamoDB stores agree.
 */
export function mergeEntity(
  entityType: EntityLevel,
  entityId: string,
  current: EntityState | undefined,
  updates: readonly TraitsUpdate[],
): EntityState {
  const record: EntityRecord = current
    ? { ...current.record, traits: { ...current.record.traits } }
    : { entityType, entityId, traits: {} };
  let accountLinkedAt = current?.accountLinkedAt;
  for (const update of updates) {
    for (const [key, value] of Object.entries(update.traits ?? {})) {
      if (value === null) delete record.traits[key];
      else if (value !== undefined) record.traits[key] = value;
    }
    if (update.accountId !== undefined && (accountLinkedAt === undefined || update.seenAt >= accountLinkedAt)) {
      record.accountId = update.accountId;
      accountLinkedAt = update.seenAt;
    }
    record.firstSeenAt = Math.min(record.firstSeenAt ?? update.seenAt, update.seenAt);
    record.lastSeenAt = Math.max(record.lastSeenAt ?? update.seenAt, update.seenAt);
  }
  return { record, accountLinkedAt };
}

/** Updates grouped by entity, each group in request order. */
export function groupUpdates(updates: readonly TraitsUpdate[]): Map<string, TraitsUpdate[]> {
  const groups = new Map<string, TraitsUpdate[]>();
  for (const update of updates) {
    const key = `${update.entityType}\u0000${update.entityId}`;
    const group = groups.get(key);
    if (group) group.push(update);
    else groups.set(key, [update]);
  }
  return groups;
}
