import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { DynamoAlertStore } from '../../shared/adapters/dynamodb/alert-store.js';
import { DynamoEntityDataEraser } from '../../shared/adapters/dynamodb/entity-eraser.js';
import { DynamoEntityEventReader } from '../../shared/adapters/dynamodb/entity-event-reader.js';
import { DynamoEntityStore } from '../../shared/adapters/dynamodb/entity-store.js';
import { DynamoErasureLog } from '../../shared/adapters/dynamodb/erasure-log.js';
import { DynamoOverrideStore } from '../../shared/adapters/dynamodb/override-store.js';
import { DynamoRunStore } from '../../shared/adapters/dynamodb/run-store.js';
import { DynamoScoreStore } from '../../shared/adapters/dynamodb/score-store.js';
import { ENV } from '../../shared/config-names.js';
import { DEFAULT_RETENTION_DAYS } from '../../shared/domain/hot-window.js';
import { type LoadedModel, loadModels } from '../../shared/domain/model/load.js';
import { type EraseDeps, eraseEntity, liftTombstone } from '../../shared/erasure/erase.js';
import type { ApiRouteDeps, RunLauncher } from '../../shared/http/api-routes.js';
import type { EventStore } from '../../shared/ports/event-store.js';
import type { RunStore } from '../../shared/ports/run-store.js';
import type { SnapshotStore } from '../../shared/ports/snapshot-store.js';
import { modelMap } from '../../shared/run/deps.js';
import { exportEntity } from '../../shared/run/export.js';
import { createBackfill, createRun } from '../../shared/run/plan.js';

/** The API function's configuration, checked once at cold start: a missing variable fails fast. */
export const ApiConfigSchema = z.object({
  [ENV.scoresTable]: z.string().min(1),
  [ENV.eventsTable]: z.string().min(1),
  [ENV.modelsDir]: z.string().min(1),
  [ENV.stateMachineArn]: z.string().startsWith('arn:', 'must be a Step Functions state machine ARN'),
  [ENV.shardCount]: z.coerce.number().int().min(1).max(1024).default(16),
  [ENV.retentionDays]: z.coerce.number().int().min(1).max(3650).default(DEFAULT_RETENTION_DAYS),
});

export interface ApiConfig {
  scoresTable: string;
  eventsTable: string;
  retentionDays: number;
  modelsDir: string;
  stateMachineArn: string;
  shardCount: number;
}

export function parseApiConfig(env: Record<string, string | undefined>): ApiConfig {
  const parsed = ApiConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid API configuration: ${problems}`);
  }
  const c = parsed.data;
  return {
    scoresTable: c[ENV.scoresTable],
    eventsTable: c[ENV.eventsTable],
    retentionDays: c[ENV.retentionDays],
    modelsDir: c[ENV.modelsDir],
    stateMachineArn: c[ENV.stateMachineArn],
    shardCount: c[ENV.shardCount],
  };
}

/**
 * Runs through the run state machine: the queued run is recorded first (so `GET /v1/runs/{id}` finds it at
 * once), then an execution named after the run id is started with `{ runId }` (a retried request cannot start a
 * second execution of the same run: Step Functions refuses a duplicate name).
 */
export function stateMachineLauncher(deps: {
  sfn: SFNClient;
  stateMachineArn: string;
  models: readonly LoadedModel[];
  runs: RunStore;
  shardCount: number;
}): RunLauncher {
  // Recording a run needs only the event store's shard count; the API function has no access to events or snapshots.
  const events: EventStore = {
    shardCount: deps.shardCount,
    putEvents: () => Promise.reject(new Error('the API function does not write events')),
    readShard: () => {
      throw new Error('the API function does not read events');
    },
  };
  const objects: SnapshotStore = {
    put: () => Promise.reject(new Error('the API function does not write snapshots')),
    get: () => Promise.reject(new Error('the API function does not read snapshots')),
    list: () => Promise.reject(new Error('the API function does not list snapshots')),
    delete: () => Promise.reject(new Error('the API function does not delete snapshots')),
    uri: (key) => key,
  };
  const planDeps = { models: modelMap(deps.models), runs: deps.runs, events, objects };
  return {
    async start(request) {
      const run = 'from' in request ? await createBackfill(planDeps, request) : await createRun(planDeps, request);
      await deps.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: deps.stateMachineArn,
          name: run.runId,
          input: JSON.stringify({ runId: run.runId }),
        }),
      );
      return run;
    },
  };
}

/** The scores API's dependencies in AWS: the gateway authorises (IAM or JWT), DynamoDB holds scores and runs. */
export function apiDeps(config: ApiConfig, clients: { dynamo: DynamoDBClient; sfn: SFNClient }): ApiRouteDeps {
  const { dynamo, sfn } = clients;
  const tableName = config.scoresTable;
  const models = loadModels(config.modelsDir);
  const runs = new DynamoRunStore({ client: dynamo, tableName });
  const scores = new DynamoScoreStore({ client: dynamo, tableName, shardCount: config.shardCount });
  const alerts = new DynamoAlertStore({ client: dynamo, tableName });
  const overrides = new DynamoOverrideStore({ client: dynamo, tableName });
  const entities = new DynamoEntityStore({ client: dynamo, tableName, shardCount: config.shardCount });
  const eventReader = new DynamoEntityEventReader({
    client: dynamo,
    tableName: config.eventsTable,
    shardCount: config.shardCount,
  });
  const erasureLog = new DynamoErasureLog({ client: dynamo, tableName });
  // No sweepNow: snapshots and the archive are rewritten by the daily archive step (docs/api.md#erasure).
  const eraseDeps: EraseDeps = {
    models: () => models,
    data: new DynamoEntityDataEraser({
      client: dynamo,
      eventsTable: config.eventsTable,
      scoresTable: tableName,
      shardCount: config.shardCount,
    }),
    overrides,
    log: erasureLog,
    shardCount: config.shardCount,
    retentionDays: config.retentionDays,
  };
  return {
    auth: { mode: 'gateway' },
    models: () => models,
    scores,
    runs,
    alerts,
    overrides,
    entities,
    // A bounded read of the entity's own partitions of the events table (docs/api.md#export).
    exportEntity: (entityType, entityId) =>
      exportEntity(
        {
          models: () => models,
          readEvents: (level, id, from, to) => eventReader.read(level, id, from, to),
          entities,
          scores,
          alertStore: alerts,
          overrides,
          retentionDays: config.retentionDays,
        },
        entityType,
        entityId,
      ),
    erasure: {
      erase: (request) => eraseEntity(eraseDeps, request),
      lift: (request) => liftTombstone(eraseDeps, request),
      list: (limit, cursor) => erasureLog.list(limit, cursor),
    },
    launcher: stateMachineLauncher({
      sfn,
      stateMachineArn: config.stateMachineArn,
      models,
      runs,
      shardCount: config.shardCount,
    }),
  };
}
