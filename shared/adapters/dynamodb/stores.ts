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
 * local mode. A Lambda function builds only the groups below that it uses, so its code (and the least-privilege
 * test that walks it) holds no adapter it has no grant for.
 */
export function dynamoStores(options: DynamoStoresOptions) {
  return {
    shardCount: options.shardCount ?? DEFAULT_SHARD_COUNT,
    events: dynamoEventStore(options),
    ...dynamoEntityDataStores(options),
    ...dynamoScoresTableStores(options),
  };
}

/** The events table's store: ingest writes through it, runs read shards through it. */
export function dynamoEventStore(options: DynamoStoresOptions): DynamoEventStore {
  const { client, tables, retry } = options;
  return new DynamoEventStore({
    client,
    tableName: tables.events,
    shardCount: options.shardCount ?? DEFAULT_SHARD_COUNT,
    retentionDays: options.eventTtlDays,
    pageSize: options.eventPageSize,
    retry,
  });
}

/** One entity's data across both tables: the bounded export read and erasure (docs/api.md#export, #erasure). */
export function dynamoEntityDataStores(options: DynamoStoresOptions) {
  const { client, tables, retry } = options;
  const shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
  return {
    entityEvents: new DynamoEntityEventReader({ client, tableName: tables.events, shardCount, retry }),
    entityData: new DynamoEntityDataEraser({
      client,
      eventsTable: tables.events,
      scoresTable: tables.scores,
      shardCount,
      retry,
    }),
  };
}

/** The scores table's stores: entities, scores and history, runs, alerts, overrides and the erasure log. */
export function dynamoScoresTableStores(options: DynamoStoresOptions) {
  const { client, tables, retry } = options;
  const shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
  const scores = { client, tableName: tables.scores, retry };
  return {
    entities: new DynamoEntityStore({ ...scores, shardCount }),
    scores: new DynamoScoreStore({ ...scores, shardCount }),
    runs: new DynamoRunStore(scores),
    alerts: new DynamoAlertStore(scores),
    overrides: new DynamoOverrideStore(scores),
    erasureLog: new DynamoErasureLog(scores),
  };
}

export type DynamoStores = ReturnType<typeof dynamoStores>;
