import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { DynamoAlertStore } from '../adapters/dynamodb/alert-store.js';
import { DynamoEntityStore } from '../adapters/dynamodb/entity-store.js';
import { DynamoErasureLog } from '../adapters/dynamodb/erasure-log.js';
import { DynamoEventStore } from '../adapters/dynamodb/event-store.js';
import { DynamoOverrideStore } from '../adapters/dynamodb/override-store.js';
import { DynamoRunStore } from '../adapters/dynamodb/run-store.js';
import { DynamoScoreStore } from '../adapters/dynamodb/score-store.js';
import { EventBridgeAlertSink } from '../adapters/eventbridge/alert-sink.js';
import { S3SnapshotStore } from '../adapters/s3/snapshot-store.js';
import type { ArchiveDeps } from '../archive/archive-step.js';
import { EventArchive } from '../archive/event-archive.js';
import { TieredEventStore } from '../archive/tiered-event-store.js';
import { ENV } from '../config-names.js';
import { loadModels } from '../domain/model/load.js';
import { TombstoneCache } from '../erasure/tombstones.js';
import { logger } from '../observability.js';
import { modelMap, type RunDeps } from './deps.js';

/** The run functions' configuration (plan, worker, finalise), checked once at cold start. */
export const RunConfigSchema = z.object({
  [ENV.eventsTable]: z.string().min(1),
  [ENV.scoresTable]: z.string().min(1),
  [ENV.snapshotBucket]: z.string().min(1),
  [ENV.alertBus]: z.string().min(1),
  [ENV.modelsDir]: z.string().min(1),
  [ENV.shardCount]: z.coerce.number().int().min(1).max(1024).default(16),
  [ENV.hotDays]: z.coerce.number().int().min(1).max(3650).optional(),
});

export interface RunConfig {
  eventsTable: string;
  scoresTable: string;
  snapshotBucket: string;
  alertBus: string;
  modelsDir: string;
  shardCount: number;
  /** Days the events table keeps; older days are read from the archive. Unset: every read goes to the table. */
  hotDays?: number | undefined;
}

export function parseRunConfig(env: Record<string, string | undefined>): RunConfig {
  const parsed = RunConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid run configuration: ${problems}`);
  }
  const c = parsed.data;
  return {
    eventsTable: c[ENV.eventsTable],
    scoresTable: c[ENV.scoresTable],
    snapshotBucket: c[ENV.snapshotBucket],
    alertBus: c[ENV.alertBus],
    modelsDir: c[ENV.modelsDir],
    shardCount: c[ENV.shardCount],
    hotDays: c[ENV.hotDays],
  };
}

/** The run's adapters from the configuration and module-scope AWS clients (models validated at cold start). */
export function awsRunDeps(
  config: RunConfig,
  clients: { dynamo: DynamoDBClient; s3: S3Client; eventBridge: EventBridgeClient },
): RunDeps {
  const { dynamo, s3, eventBridge } = clients;
  const tableName = config.scoresTable;
  const objects = new S3SnapshotStore({ client: s3, bucket: config.snapshotBucket });
  const hot = new DynamoEventStore({ client: dynamo, tableName: config.eventsTable, shardCount: config.shardCount });
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
    entities: new DynamoEntityStore({ client: dynamo, tableName, shardCount: config.shardCount }),
    scores: new DynamoScoreStore({ client: dynamo, tableName, shardCount: config.shardCount }),
    runs: new DynamoRunStore({ client: dynamo, tableName }),
    objects,
    alertSink: new EventBridgeAlertSink({ client: eventBridge, busName: config.alertBus }),
    alertStore: new DynamoAlertStore({ client: dynamo, tableName }),
    overrides: new DynamoOverrideStore({ client: dynamo, tableName }),
    // Finalise leaves erased entities out (docs/api.md#erasure).
    erased: new TombstoneCache(new DynamoErasureLog({ client: dynamo, tableName })),
    logger: {
      info: (message, fields) => logger.info(message, fields ?? {}),
      warn: (message, fields) => logger.warn(message, fields ?? {}),
    },
  };
}

/** The archive step's adapters: the events table itself (never the tiered store) and the Pulse bucket. */
export function awsArchiveDeps(config: RunConfig, clients: { dynamo: DynamoDBClient; s3: S3Client }): ArchiveDeps {
  return {
    hot: new DynamoEventStore({ client: clients.dynamo, tableName: config.eventsTable, shardCount: config.shardCount }),
    objects: new S3SnapshotStore({ client: clients.s3, bucket: config.snapshotBucket }),
    // After archiving, the step rewrites the bucket for pending erasures (docs/operations.md#data-subject-requests).
    erasures: new DynamoErasureLog({ client: clients.dynamo, tableName: config.scoresTable }),
    logger: {
      info: (message, fields) => logger.info(message, fields ?? {}),
      warn: (message, fields) => logger.warn(message, fields ?? {}),
    },
  };
}
