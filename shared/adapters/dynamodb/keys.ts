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

/** GSI partition of an event by account: `A#<shard>#<YYYYMMDD>`. */
export function accountPartition(accountId: string, timestamp: number, shardCount: number): string {
  return `A#${shardOf(accountId, shardCount)}#${utcDayKey(timestamp)}`;
}

export function shardPartition(level: EntityLevel, shard: number, dayStart: number): string {
  return `${level === 'user' ? 'U' : 'A'}#${shard}#${utcDayKey(dayStart)}`;
}

/** Partition of entity records in the scores table: `ENT#<user|account>#<shard>`. */
export function entityPartition(entityType: EntityLevel, entityId: string, shardCount: number): string {
  return `ENT#${entityType}#${shardOf(entityId, shardCount)}`;
}
