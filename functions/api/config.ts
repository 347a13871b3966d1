import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { z } from 'zod';
import { dynamoEntityDataStores, dynamoScoresTableStores } from '../../shared/adapters/dynamodb/stores.js';
import { envConfig, parseEnv, STORE_FIELDS } from '../../shared/config/env.js';
import { type LoadedModel, loadModels } from '../../shared/domain/model/load.js';
import { type EraseDeps, eraseEntity, liftTombstone } from '../../shared/erasure/erase.js';
import type { ApiRouteDeps, RunLauncher } from '../../shared/http/api-routes.js';
import type { RunStore } from '../../shared/ports/run-store.js';
import { modelMap } from '../../shared/run/deps.js';
import { exportEntity } from '../../shared/run/export.js';
import { type CreateRunDeps, createBackfill, createRun } from '../../shared/run/plan.js';

/** The API function's configuration, checked once at cold start: a missing variable fails fast. */
export const ApiConfigSchema = envConfig(...STORE_FIELDS, 'modelsDir', 'stateMachineArn', 'retentionDays');

export type ApiConfig = z.output<typeof ApiConfigSchema>;

export function parseApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return parseEnv(ApiConfigSchema, env, 'API');
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
  // Recording a run needs only the shard count: the API function has no access to events or snapshots.
  const planDeps: CreateRunDeps = {
    models: modelMap(deps.models),
    runs: deps.runs,
    events: { shardCount: deps.shardCount },
  };
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
  const models = loadModels(config.modelsDir);
  // No event store: the API reads events only through the bounded export reader.
  const storeOptions = {
    client: dynamo,
    tables: { events: config.eventsTable, scores: config.scoresTable },
    shardCount: config.shardCount,
  };
  const { runs, scores, alerts, overrides, entities, erasureLog } = dynamoScoresTableStores(storeOptions);
  const { entityEvents, entityData } = dynamoEntityDataStores(storeOptions);
  // No sweepNow: snapshots and the archive are rewritten by the daily archive step (docs/api.md#erasure).
  const eraseDeps: EraseDeps = {
    models: () => models,
    data: entityData,
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
          readEvents: (level, id, from, to) => entityEvents.read(level, id, from, to),
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
