import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_SHARD_COUNT } from '../../config/defaults.js';
import { DynamoAlertStore } from './alert-store.js';
import { DynamoEntityDataEraser } from './entity-eraser.js';
import { DynamoEntityEventReader } from './entity-event-reader.js';
import { DynamoEntityStore } from './entity-store.js';
import { DynamoErasureLog } from './erasure-log.js';
import { DynamoEventStore } from './event-store.js';
import { DynamoOverrideStore } from './override-store.js';
import type { RetryPolicy } from './retry.js';
import { DynamoRunStore } from './run-store.js';
import { DynamoScoreStore } from './score-store.js';

export interface DynamoTables {
  /** The events table (docs/data-model.md#events-table). */
  events: string;
  /** The single scores table: scores, history, entities, runs, alerts, overrides, erasures. */
  scores: string;
}

export interface DynamoStoresOptions {
  client: DynamoDBClient;
  tables: DynamoTables;
  /** Default: DEFAULT_SHARD_COUNT. Every store must agree on it, so it is given once here. */
  shardCount?: number | undefined;
  /** Days an event item lives in the events table (its TTL): the hot window, else the retention period. */
  eventTtlDays?: number | undefined;
  /** Events read per Query page (default: DynamoDB's 1 MB pages). */
  eventPageSize?: number | undefined;
  retry?: RetryPolicy | undefined;
}

/**
 * Every DynamoDB adapter over one client and one pair of tables, built the same way by each function and by
 * local mode. Construction only records options; a function uses the stores it needs.
 */
export function dynamoStores(options: DynamoStoresOptions) {
  const { client, tables, retry } = options;
  const shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
  const scores = { client, tableName: tables.scores, retry };
  return {
    shardCount,
    events: new DynamoEventStore({
      client,
      tableName: tables.events,
      shardCount,
      retentionDays: options.eventTtlDays,
      pageSize: options.eventPageSize,
      retry,
    }),
    entityEvents: new DynamoEntityEventReader({ client, tableName: tables.events, shardCount, retry }),
    entities: new DynamoEntityStore({ ...scores, shardCount }),
    scores: new DynamoScoreStore({ ...scores, shardCount }),
    runs: new DynamoRunStore(scores),
    alerts: new DynamoAlertStore(scores),
    overrides: new DynamoOverrideStore(scores),
    erasureLog: new DynamoErasureLog(scores),
    entityData: new DynamoEntityDataEraser({
      client,
      eventsTable: tables.events,
      scoresTable: tables.scores,
      shardCount,
      retry,
    }),
  };
}

export type DynamoStores = ReturnType<typeof dynamoStores>;
