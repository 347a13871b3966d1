import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { dynamoStores } from '../adapters/dynamodb/stores.js';
import { EventBridgeAlertSink } from '../adapters/eventbridge/alert-sink.js';
import { S3SnapshotStore } from '../adapters/s3/snapshot-store.js';
import type { ArchiveDeps } from '../archive/archive-step.js';
import { EventArchive } from '../archive/event-archive.js';
import { TieredEventStore } from '../archive/tiered-event-store.js';
import { envConfig, parseEnv, STORE_FIELDS } from '../config/env.js';
import { loadModels } from '../domain/model/load.js';
import { TombstoneCache } from '../erasure/tombstones.js';
import { logger } from '../observability.js';
import { modelMap, type RunDeps } from './deps.js';

/**
 * The run functions' configuration (plan, worker, finalise), checked once at cold start. `hotDays` is the days the
 * events table keeps; older days are read from the archive. Unset: every read goes to the table.
 */
export const RunConfigSchema = envConfig(...STORE_FIELDS, 'snapshotBucket', 'alertBus', 'modelsDir', 'hotDays');

export type RunConfig = z.output<typeof RunConfigSchema>;

export function parseRunConfig(env: Record<string, string | undefined>): RunConfig {
  return parseEnv(RunConfigSchema, env, 'run');
}

/** The DynamoDB stores over the run's tables (the run reads events, it never writes them: no TTL needed). */
function dynamoStoresOf(config: RunConfig, client: DynamoDBClient) {
  return dynamoStores({
    client,
    tables: { events: config.eventsTable, scores: config.scoresTable },
    shardCount: config.shardCount,
  });
}

/** The run's adapters from the configuration and module-scope AWS clients (models validated at cold start). */
export function awsRunDeps(
  config: RunConfig,
  clients: { dynamo: DynamoDBClient; s3: S3Client; eventBridge: EventBridgeClient },
): RunDeps {
  const { dynamo, s3, eventBridge } = clients;
  const stores = dynamoStoresOf(config, dynamo);
  const objects = new S3SnapshotStore({ client: s3, bucket: config.snapshotBucket });
  const hot = stores.events;
  return {
    models: modelMap(loadModels(config.modelsDir)),
    // Days before the hot window come from the S3 archive (docs/data-model.md#event-archive).
    events:
      config.hotDays === undefined
        ? hot
        : new TieredEventStore({
            hot,
            archive: new EventArchive(objects, config.shardCount),
            hotDays: config.hotDays,
          }),
    entities: stores.entities,
    scores: stores.scores,
    runs: stores.runs,
    objects,
    alertSink: new EventBridgeAlertSink({ client: eventBridge, busName: config.alertBus }),
    alertStore: stores.alerts,
    overrides: stores.overrides,
    // Finalise leaves erased entities out (docs/api.md#erasure).
    erased: new TombstoneCache(stores.erasureLog),
    logger: {
      info: (message, fields) => logger.info(message, fields ?? {}),
      warn: (message, fields) => logger.warn(message, fields ?? {}),
    },
  };
}

/** The archive step's adapters: the events table itself (never the tiered store) and the Pulse bucket. */
export function awsArchiveDeps(config: RunConfig, clients: { dynamo: DynamoDBClient; s3: S3Client }): ArchiveDeps {
  const stores = dynamoStoresOf(config, clients.dynamo);
  return {
    hot: stores.events,
    objects: new S3SnapshotStore({ client: clients.s3, bucket: config.snapshotBucket }),
    // After archiving, the step rewrites the bucket for pending erasures (docs/operations.md#data-subject-requests).
    erasures: stores.erasureLog,
    logger: {
      info: (message, fields) => logger.info(message, fields ?? {}),
      warn: (message, fields) => logger.warn(message, fields ?? {}),
    },
  };
}
