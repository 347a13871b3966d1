import type { EntityLevel, EntityRecord, TraitsRefusal, TraitsUpdate } from './entity.js';
import { MAX_TRAITS_BYTES, MAX_TRAITS_PER_ENTITY, utf8Bytes } from './input-limits.js';
import type { Traits } from './model/schema.js';

/** A stored entity plus when its account link was set, so an older group call never replaces a newer link. */
export interface EntityState {
  record: EntityRecord;
  accountLinkedAt?: number | undefined;
}

/** An entity after a merge, and the updates refused because they would pass a trait limit. */
export interface MergedEntity extends EntityState {
  refused: TraitsRefusal[];
}

/**
 * Apply updates (in order) to an entity: traits merge key by key (null removes a key), the account link with the
 * latest `seenAt` wins, firstSeenAt/lastSeenAt widen. An update that would leave the entity with more than
 * MAX_TRAITS_PER_ENTITY traits or MAX_TRAITS_BYTES of them (and grows it) is refused as a whole and the others still
 * apply (docs/api.md#limits). Pure, so the in-memory and DynamoDB stores agree.
 */
export function mergeEntity(
  entityType: EntityLevel,
  entityId: string,
  current: EntityState | undefined,
  updates: readonly TraitsUpdate[],
): MergedEntity {
  const record: EntityRecord = current
    ? { ...current.record, traits: { ...current.record.traits } }
    : { entityType, entityId, traits: {} };
  let accountLinkedAt = current?.accountLinkedAt;
  const refused: TraitsRefusal[] = [];
  let size = traitsSize(record.traits);
  for (const update of updates) {
    const changes = Object.entries(update.traits ?? {});
    if (changes.length > 0) {
      const next = { ...record.traits };
      for (const [key, value] of changes) {
        if (value === null) delete next[key];
        else if (value !== undefined) next[key] = value;
      }
      const nextSize = traitsSize(next);
      const problem = traitLimitProblem(size, nextSize);
      if (problem !== undefined) {
        refused.push({ update, path: 'traits', message: problem });
        continue;
      }
      record.traits = next;
      size = nextSize;
    }
    if (update.accountId !== undefined && (accountLinkedAt === undefined || update.seenAt >= accountLinkedAt)) {
      record.accountId = update.accountId;
      accountLinkedAt = update.seenAt;
    }
    record.firstSeenAt = Math.min(record.firstSeenAt ?? update.seenAt, update.seenAt);
    record.lastSeenAt = Math.max(record.lastSeenAt ?? update.seenAt, update.seenAt);
  }
  return { record, accountLinkedAt, refused };
}

interface TraitsSize {
  count: number;
  bytes: number;
}

/** Trait count and UTF-8 bytes (names plus values as the JSON text they are stored as). */
export function traitsSize(traits: Traits): TraitsSize {
  let count = 0;
  let bytes = 0;
  for (const key in traits) {
    const value = traits[key];
    if (value === undefined) continue;
    count++;
    bytes += utf8Bytes(key) + utf8Bytes(JSON.stringify(value) ?? '');
  }
  return { count, bytes };
}

/** Past a limit and growing: data stored before a limit existed may stay as it is, but not grow. */
function traitLimitProblem(before: TraitsSize, after: TraitsSize): string | undefined {
  if (after.count > MAX_TRAITS_PER_ENTITY && after.count > before.count) {
    return `would give the entity ${after.count} traits; an entity may hold at most ${MAX_TRAITS_PER_ENTITY} (remove traits by setting them to null)`;
  }
  if (after.bytes > MAX_TRAITS_BYTES && after.bytes > before.bytes) {
    return `would give the entity ${after.bytes.toLocaleString('en-US')} bytes of traits; an entity may hold at most ${MAX_TRAITS_BYTES.toLocaleString('en-US')} bytes (names plus values as JSON)`;
  }
  return undefined;
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
