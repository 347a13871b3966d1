import { utf8Bytes } from '../../domain/input-limits.js';
import { shardOf } from '../../domain/shard.js';
import { DAY_MS } from '../../domain/time.js';
import type { EntityLevel } from '../../ports/event-store.js';

/** Key layout of the events table and the entity records (docs/data-model.md explains the choice). */

const dayCache = new Map<number, string>();

/** YYYYMMDD of the UTC day containing `timestamp` (cached: a batch touches very few days). */
export function utcDayKey(timestamp: number): string {
  const day = Math.floor(timestamp / DAY_MS);
  let key = dayCache.get(day);
  if (key === undefined) {
    key = new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
    if (dayCache.size > 4096) dayCache.clear();
    dayCache.set(day, key);
  }
  return key;
}

/** Start of each UTC day overlapping [from, to), epoch ms. */
export function utcDaysOverlapping(from: number, to: number): number[] {
  const days: number[] = [];
  if (!(to > from)) return days;
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) days.push(day);
  return days;
}

/** Partition of an event by user: `U#<shard>#<YYYYMMDD>`. */
export function userPartition(userId: string, timestamp: number, shardCount: number): string {
  return `U#${shardOf(userId, shardCount)}#${utcDayKey(timestamp)}`;
}

export function shardPartition(level: EntityLevel, shard: number, dayStart: number): string {
  return `${level === 'user' ? 'U' : 'A'}#${shard}#${utcDayKey(dayStart)}`;
}

/** Partition of entity records in the scores table: `ENT#<user|account>#<shard>`. */
export function entityPartition(entityType: EntityLevel, entityId: string, shardCount: number): string {
  return `ENT#${entityType}#${shardOf(entityId, shardCount)}`;
}

/**
 * Sort key of an event: `<n>#<userId>#<eventId>`, n the user id's length in UTF-8 bytes. An event is identified by
 * its user and its id (docs/data-model.md#events-table); the length prefix keeps the key unambiguous for ids that
 * contain `#` (user `a#b` with event `c` and user `a` with event `b#c` are two keys).
 */
export function eventSortKey(userId: string, eventId: string): string {
  return `${utf8Bytes(userId)}#${userId}#${eventId}`;
}

/**
 * The event id inside a sort key written by eventSortKey for `userId`. A key of the earlier layout (the bare event
 * id, before the backfill in docs/data-model.md#migrating-event-keys) is returned as it is.
 */
export function eventIdOfSortKey(sortKey: string, userId: string): string {
  const hash = sortKey.indexOf('#');
  if (hash < 1 || hash > 4) return sortKey;
  const start = hash + 1;
  const end = start + userId.length;
  if (sortKey.charCodeAt(end) !== 35 /* # */ || !sortKey.startsWith(userId, start)) return sortKey;
  if (Number(sortKey.slice(0, hash)) !== utf8Bytes(userId)) return sortKey;
  return sortKey.slice(end + 1);
}
