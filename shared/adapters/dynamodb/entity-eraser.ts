import { DEFAULT_SHARD_COUNT } from '../../config/defaults.js';
import type { ErasedLevel } from '../../domain/erasure.js';
import { shardOf } from '../../domain/shard.js';
import type { EntityDataEraser } from '../../ports/erasure-store.js';
import { entityPartition, eventSortKey, userPartition, utcDaysOverlapping } from './keys.js';
import { batchDeleteAll } from './retry.js';
import { DynamoTable, type DynamoTableOptions, type Item, type TableQuery } from './table.js';

/** Day partitions queried at once when looking for a user's events. */
const QUERY_CONCURRENCY = 16;

interface EraserOptions extends DynamoTableOptions {
  shardCount?: number | undefined;
}

/** The keys of the items a Query of `table` reaches. */
async function keysOf(table: DynamoTable, input: TableQuery): Promise<Item[]> {
  const keys: Item[] = [];
  for await (const items of table.items({ ...input, ProjectionExpression: 'pk, sk' }, 'finding items to erase')) {
    for (const item of items) keys.push({ pk: item.pk!, sk: item.sk! });
  }
  return keys;
}

function deleteKeys(table: DynamoTable, keys: readonly Item[]): Promise<void> {
  return batchDeleteAll(table.client, table.name, keys, table.retry, 'erasing items');
}

/**
 * Deletes one user's events from the events table (docs/api.md#erasure): for each UTC day, a key-only Query of the
 * user's day partition on the sort key prefix `<n>#<userId>#` (docs/data-model.md#event-identity), then
 * BatchWriteItem deletes. The `byAccount` index entries go with the items. Costs one small Query per day of the
 * range (about 400 for the default retention) plus one write unit per event.
 */
export class DynamoEventEraser {
  private readonly table: DynamoTable;
  private readonly shardCount: number;

  constructor(options: EraserOptions) {
    this.table = new DynamoTable(options);
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
  }

  async deleteUserEvents(userId: string, from: number, to: number): Promise<number> {
    const days = utcDaysOverlapping(from, to);
    const prefix = eventSortKey(userId, '');
    let deleted = 0;
    let next = 0;
    const worker = async () => {
      while (next < days.length) {
        const pk = userPartition(userId, days[next++]!, this.shardCount);
        const keys = await keysOf(this.table, {
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
          ConsistentRead: true,
        });
        await deleteKeys(this.table, keys);
        deleted += keys.length;
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, days.length) }, worker));
    return deleted;
  }
}

/**
 * Deletes one entity's items from the scores table (docs/data-model.md#erasure-items): the entity record
 * (`ENT#…`), current scores (`CUR#<model>#<shard>`, for the given models and any model its history names), every
 * history row (`HIST#<type>#<id>`) and its alerts (`ALERT#<model>`, whose sort key ends with `<type>#<id>`).
 */
export class DynamoScoresEraser {
  private readonly table: DynamoTable;
  private readonly shardCount: number;

  constructor(options: EraserOptions) {
    this.table = new DynamoTable(options);
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
  }

  async deleteEntityRecord(entityType: ErasedLevel, entityId: string): Promise<number> {
    return this.deleteOne({
      pk: { S: entityPartition(entityType, entityId, this.shardCount) },
      sk: { S: entityId },
    });
  }

  async deleteScores(
    entityType: ErasedLevel,
    entityId: string,
    models: readonly string[],
  ): Promise<{ scores: number; history: number }> {
    const history = await keysOf(this.table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `HIST#${entityType}#${entityId}` } },
      ConsistentRead: true,
    });
    // History sort keys are `<model>#<asOf>`: models no longer deployed may still hold a current row.
    const all = new Set(models);
    for (const key of history) {
      const sk = key.sk?.S ?? '';
      const cut = sk.lastIndexOf('#');
      if (cut > 0) all.add(sk.slice(0, cut));
    }
    const shard = shardOf(entityId, this.shardCount);
    let scores = 0;
    for (const model of all)
      scores += await this.deleteOne({ pk: { S: `CUR#${model}#${shard}` }, sk: { S: `${entityType}#${entityId}` } });
    await deleteKeys(this.table, history);
    return { scores, history: history.length };
  }

  async deleteAlerts(
    entityType: ErasedLevel,
    entityId: string,
    models: readonly string[],
    since: string,
  ): Promise<number> {
    let deleted = 0;
    const suffix = `#${entityType}#${entityId}`;
    for (const model of new Set(models)) {
      const keys = await keysOf(this.table, {
        KeyConditionExpression: 'pk = :pk AND sk >= :since',
        ExpressionAttributeValues: { ':pk': { S: `ALERT#${model}` }, ':since': { S: since } },
      });
      // `<asOf>#<alertType>#<entityType>#<entityId>`: neither the as-of nor the type holds '#', so the rest is exact.
      const mine = keys.filter((k) => {
        const sk = k.sk?.S ?? '';
        const second = nthIndexOf(sk, '#', 1);
        return second > 0 && sk.slice(second) === suffix;
      });
      await deleteKeys(this.table, mine);
      deleted += mine.length;
    }
    return deleted;
  }

  private async deleteOne(key: Item): Promise<number> {
    return (await this.table.delete(key, 'erasing an item')) ? 1 : 0;
  }
}

/** Both tables' erasers as one EntityDataEraser. */
export class DynamoEntityDataEraser implements EntityDataEraser {
  private readonly events: DynamoEventEraser;
  private readonly scores: DynamoScoresEraser;

  constructor(options: Omit<EraserOptions, 'tableName'> & { eventsTable: string; scoresTable: string }) {
    const { client, shardCount, retry } = options;
    this.events = new DynamoEventEraser({ client, tableName: options.eventsTable, shardCount, retry });
    this.scores = new DynamoScoresEraser({ client, tableName: options.scoresTable, shardCount, retry });
  }

  deleteUserEvents(userId: string, from: number, to: number): Promise<number> {
    return this.events.deleteUserEvents(userId, from, to);
  }

  deleteEntityRecord(entityType: ErasedLevel, entityId: string): Promise<number> {
    return this.scores.deleteEntityRecord(entityType, entityId);
  }

  deleteScores(entityType: ErasedLevel, entityId: string, models: readonly string[]) {
    return this.scores.deleteScores(entityType, entityId, models);
  }

  deleteAlerts(entityType: ErasedLevel, entityId: string, models: readonly string[], since: string) {
    return this.scores.deleteAlerts(entityType, entityId, models, since);
  }
}

/** Index of the (n+1)-th `char` in `text` (n = 0: the first), or -1. */
function nthIndexOf(text: string, char: string, n: number): number {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(char, at + 1);
    if (at < 0) return -1;
  }
  return at;
}
