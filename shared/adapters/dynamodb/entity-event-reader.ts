import type { DynamoDBClient, QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { DEFAULT_SHARD_COUNT } from '../../config/defaults.js';
import type { ScoringEvent } from '../../domain/event.js';
import { shardOf } from '../../domain/shard.js';
import type { EntityLevel } from '../../ports/event-store.js';
import { eventFromItem } from './event-store.js';
import { eventSortKey, shardPartition, userPartition, utcDaysOverlapping } from './keys.js';
import { queryPages } from './query-pages.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { EVENTS_BY_ACCOUNT_INDEX } from './tables.js';

/** Day partitions queried at once. */
const QUERY_CONCURRENCY = 16;

/** Events an export returns at most (docs/api.md#export): about 10 MB of JSON at a typical event's size. */
export const EXPORT_EVENT_CAP = 25_000;

/**
 * One entity's events from the events table, for an export in AWS (docs/api.md#export): a user's are found by key
 * (its day partitions, sort key prefix `<n>#<userId>#`), an account's through the `byAccount` index (its day
 * partitions, filtered to the account). Stops at `cap` events and says so, so one request is bounded whatever the
 * entity holds.
 */
export class DynamoEntityEventReader {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly shardCount: number;
  private readonly retry: RetryPolicy;

  constructor(options: {
    client: DynamoDBClient;
    tableName: string;
    shardCount?: number | undefined;
    retry?: RetryPolicy | undefined;
  }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  async read(
    level: EntityLevel,
    entityId: string,
    from: number,
    to: number,
    cap = EXPORT_EVENT_CAP,
  ): Promise<{ events: ScoringEvent[]; truncated: boolean }> {
    const days = utcDaysOverlapping(from, to);
    const events: ScoringEvent[] = [];
    let truncated = false;
    let next = 0;
    const worker = async () => {
      while (next < days.length && !truncated) {
        const day = days[next++]!;
        const input = this.queryOf(level, entityId, day);
        for await (const page of queryPages(this.client, input, { retry: this.retry, what: 'exporting events' })) {
          for (const item of page.Items ?? []) {
            const event = eventFromItem(item);
            if (event.timestamp < from || event.timestamp >= to) continue;
            if (events.length >= cap) {
              truncated = true;
              break;
            }
            events.push(event);
          }
          if (truncated) break;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, days.length) }, worker));
    return { events, truncated };
  }

  private queryOf(level: EntityLevel, entityId: string, day: number): QueryCommandInput {
    if (level === 'user')
      return {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': { S: userPartition(entityId, day, this.shardCount) },
          ':prefix': { S: eventSortKey(entityId, '') },
        },
      };
    return {
      TableName: this.tableName,
      IndexName: EVENTS_BY_ACCOUNT_INDEX,
      KeyConditionExpression: 'apk = :apk',
      FilterExpression: 'a = :a',
      ExpressionAttributeValues: {
        ':apk': { S: shardPartition('account', shardOf(entityId, this.shardCount), day) },
        ':a': { S: entityId },
      },
    };
  }
}
