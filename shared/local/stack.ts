import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { migrateEventKeys } from '../adapters/dynamodb/migrate-event-keys.js';
import { SoleWriterEntityStore } from '../adapters/dynamodb/sole-writer-entity-store.js';
import { SoleWriterEventStore } from '../adapters/dynamodb/sole-writer-event-store.js';
import { dynamoStores } from '../adapters/dynamodb/stores.js';
import { EVENTS_TABLE, ensureTable, SCORES_TABLE } from '../adapters/dynamodb/tables.js';
import { S3SnapshotStore } from '../adapters/s3/snapshot-store.js';
import { WebhookAlertSink } from '../adapters/webhook/alert-sink.js';
import { EventArchive } from '../archive/event-archive.js';
import { TieredEventStore } from '../archive/tiered-event-store.js';
import { LocalDashboardData } from '../dashboard/local-data.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { hotWindowOf } from '../domain/hot-window.js';
import { type LoadedModel, loadModels } from '../domain/model/load.js';
import { type EraseDeps, eraseEntity, liftTombstone } from '../erasure/erase.js';
import { sweepObjects } from '../erasure/sweep.js';
import { TombstoneCache } from '../erasure/tombstones.js';
import { RunsUnavailableError } from '../http/api-errors.js';
import type { ApiRouteDeps, RunProgressView } from '../http/api-routes.js';
import { apiRoutes } from '../http/api-routes.js';
import { createApp } from '../http/app.js';
import { staticWriteKeys } from '../http/auth.js';
import type { IngestTelemetry } from '../http/ingest-routes.js';
import { limitsWith } from '../ingest/limits.js';
import type { AlertSink } from '../ports/alert-sink.js';
import { modelMap, type RunDeps, type RunLogger } from '../run/deps.js';
import { exportEntity } from '../run/export.js';
import { LocalRunner, RunnerStoppedError, type RunProgress } from '../run/local-runner.js';
import { shadowRun } from '../run/shadow.js';
import { LocalArchiver } from './archive.js';
import { type LocalConfig, LocalConfigError } from './config.js';
import { type EmbeddedDynamo, type EmbeddedS3, openLocalDynamo, openLocalS3 } from './embedded.js';

/** Everything local mode runs, built once: the same app object the Lambdas serve, over embedded stores. */
export interface LocalStack {
  app: Hono;
  dataDir: string;
  models: readonly LoadedModel[];
  runner: LocalRunner;
  runDeps: RunDeps;
  /** Table names (PULSE_TABLE_PREFIX). */
  tables: { events: string; scores: string };
  /** Days the events table keeps an event; older days are read from the archive (docs/data-model.md#hot-window). */
  hotDays: number;
  /** The daily archive step (docs/local-mode.md#event-archive). */
  archiver: LocalArchiver;
  dynamo: EmbeddedDynamo;
  s3: EmbeddedS3;
  /** Resolves when no run is executing. */
  idle(): Promise<void>;
  /**
   * Stop the runner at its next checkpoint and the archive step, then close the stores (after the HTTP server
   * stopped). Returns the runs that did not end (resumed by the next `npm start`, docs/local-mode.md#stopping).
   */
  close(): Promise<{ unfinishedRuns: string[] }>;
}

/**
 * Local mode has no event bus: fired alerts are kept by the alert store and served at /v1/alerts, and POSTed to
 * PULSE_ALERT_WEBHOOK_URL when it is set.
 */
const localAlertSink: AlertSink = {
  publish: async (alerts) => ({ published: alerts.length, failed: 0 }),
};

const quietTelemetry: IngestTelemetry = { record() {} };

/** The event key layout this version writes (docs/data-model.md#migrating-event-keys); 1 was the bare event id. */
const EVENT_KEY_LAYOUT = 2;

interface StoreInfo {
  shardCount?: number;
  eventKeyLayout?: number;
}

/**
 * Shard count is fixed once data exists (it decides where events live): keep it in the data dir, with the event key
 * layout. Returns whether the stored events still need the key backfill.
 */
function checkStore(dataDir: string, shardCount: number): { needsEventKeyMigration: boolean } {
  const file = join(dataDir, 'store.json');
  if (!existsSync(file)) {
    writeStoreInfo(dataDir, { shardCount, eventKeyLayout: EVENT_KEY_LAYOUT });
    return { needsEventKeyMigration: false };
  }
  const info = JSON.parse(readFileSync(file, 'utf8')) as StoreInfo;
  if (info.shardCount !== undefined && info.shardCount !== shardCount) {
    throw new LocalConfigError(
      `PULSE_SHARD_COUNT is ${shardCount} but the data in ${dataDir} was written with ${info.shardCount} shards: unset it, or use another PULSE_DATA_DIR`,
    );
  }
  return { needsEventKeyMigration: (info.eventKeyLayout ?? 1) < EVENT_KEY_LAYOUT };
}

function writeStoreInfo(dataDir: string, info: StoreInfo): void {
  writeFileSync(join(dataDir, 'store.json'), `${JSON.stringify(info, null, 2)}\n`);
}

export interface OpenLocalStackOptions {
  logger?: RunLogger | undefined;
  onRunProgress?: ((progress: RunProgress) => void) | undefined;
}

/**
 * Start the embedded DynamoDB and S3 on the data dir, create the tables and bucket when missing, load the models,
 * and build the app (ingest + scores API) and the in-process runner.
 */
export async function openLocalStack(config: LocalConfig, options: OpenLocalStackOptions = {}): Promise<LocalStack> {
  const models = loadModels(config.modelsDir);
  const { eventsTable, scoresTable } = config.services;
  const dynamo = await openLocalDynamo(config.dataDir, config.services);
  let s3: EmbeddedS3 | undefined;
  try {
    const { needsEventKeyMigration } = checkStore(config.dataDir, config.shardCount);
    s3 = await openLocalS3(config.dataDir, config.s3Port, config.services);
    // Idempotent and safe beside another process creating them (ResourceInUseException is taken as "exists").
    await ensureTable(dynamo.client, EVENTS_TABLE, eventsTable);
    await ensureTable(dynamo.client, SCORES_TABLE, scoresTable);
    if (needsEventKeyMigration) {
      // Data written by an earlier version: give its events the (userId, eventId) key once, before serving.
      const result = await migrateEventKeys({ client: dynamo.client, tableName: eventsTable });
      options.logger?.info('event keys migrated', { ...result });
      writeStoreInfo(config.dataDir, { shardCount: config.shardCount, eventKeyLayout: EVENT_KEY_LAYOUT });
    }
  } catch (error) {
    await s3?.close();
    await dynamo.close();
    throw error;
  }
  const client = dynamo.client;
  const hotWindow = hotWindowOf(models.map((m) => m.model));
  // The table keeps the hot window; the local archive step moves older days to events/ in the local S3.
  // The embedded store has one writer, this process (docs/data-model.md#idempotent-writes-counted-exactly); an
  // external one may be shared, so events go in with the conditional puts the ingest Lambda uses.
  const stores = dynamoStores({
    client,
    tables: { events: eventsTable, scores: scoresTable },
    shardCount: config.shardCount,
    eventTtlDays: hotWindow.days,
  });
  const events = dynamo.table
    ? new SoleWriterEventStore({
        client,
        tableName: eventsTable,
        table: dynamo.table(eventsTable),
        shardCount: config.shardCount,
        retentionDays: hotWindow.days,
      })
    : stores.events;
  const entities = dynamo.table
    ? new SoleWriterEntityStore({
        client,
        tableName: scoresTable,
        table: dynamo.table(scoresTable),
        shardCount: config.shardCount,
      })
    : stores.entities;
  const { scores, runs, alerts: alertStore, overrides, erasureLog } = stores;
  const objects = new S3SnapshotStore({ client: s3.client, bucket: s3.bucket });

  const archiver = new LocalArchiver({
    client,
    eventsTable,
    hot: events,
    objects,
    logger: options.logger,
  });
  archiver.start();
  const archive = new EventArchive(objects, config.shardCount);
  // Refreshed at once after an erasure here (onTombstonesChanged), so local ingest refuses the next request.
  const tombstones = new TombstoneCache(erasureLog);
  const eraseDeps: EraseDeps = {
    models: () => models,
    data: stores.entityData,
    overrides,
    log: erasureLog,
    shardCount: config.shardCount,
    retentionDays: config.retentionDays,
    // Local mode rewrites snapshots and the archive in the request (docs/local-mode.md#erasure).
    sweepNow: async (records) => {
      const swept = await sweepObjects(objects, records);
      archive.forget();
      return swept;
    },
    onTombstonesChanged: (entityType) => tombstones.invalidate(entityType),
  };
  const runDeps: RunDeps = {
    models: modelMap(models),
    // Runs read the hot window from the table and anything older from the archive, as in AWS.
    events: new TieredEventStore({
      hot: events,
      archive,
      hotDays: hotWindow.days,
    }),
    entities,
    scores,
    runs,
    objects,
    alertSink: config.alertWebhookUrl ? new WebhookAlertSink({ url: config.alertWebhookUrl }) : localAlertSink,
    alertStore,
    overrides,
    erased: tombstones,
    logger: options.logger,
  };

  // Shard progress of the run executing now, for GET /v1/runs/{id} (the CLI's progress bar).
  const progress = new Map<string, RunProgressView>();
  const runner = new LocalRunner(runDeps, {
    concurrency: 2,
    onProgress: (p) => {
      if (p.phase === 'done') progress.delete(p.runId);
      else progress.set(p.runId, { done: p.shardsDone, total: p.shardCount + 1 });
      options.onRunProgress?.(p);
    },
  });

  const api: ApiRouteDeps = {
    auth: { mode: 'token', token: config.credentials.apiToken },
    models: () => models,
    scores,
    runs,
    alerts: alertStore,
    entities,
    launcher: {
      start: async (request) => {
        try {
          return await runner.submit(request);
        } catch (error) {
          if (error instanceof RunnerStoppedError)
            throw new RunsUnavailableError('the server is stopping; start the run again once it is back');
          throw error;
        }
      },
    },
    progressOf: (runId) => progress.get(runId),
    shadow: (request) => shadowRun(runDeps, request),
    overrides,
    exportEntity: (entityType, entityId) =>
      exportEntity({ ...runDeps, models: () => models, retentionDays: config.retentionDays }, entityType, entityId),
    erasure: {
      erase: (request) => eraseEntity(eraseDeps, request),
      lift: (request) => liftTombstone(eraseDeps, request),
      list: (limit, cursor) => erasureLog.list(limit, cursor),
    },
  };
  const app = createApp({
    ingest: {
      events,
      entities,
      erased: tombstones,
      writeKeys: staticWriteKeys([config.credentials.writeKey]),
      limits: limitsWith({ retentionDays: config.retentionDays }),
      telemetry: quietTelemetry,
    },
    apiRoutes: apiRoutes(api),
    dashboard: dashboardRoutes({
      data: new LocalDashboardData({ models: () => models, scores, runs, alerts: alertStore, entities }),
      token: config.credentials.apiToken,
    }),
  });

  const s3Server = s3;
  return {
    app,
    dataDir: config.dataDir,
    models,
    runner,
    runDeps,
    tables: { events: eventsTable, scores: scoresTable },
    hotDays: hotWindow.days,
    archiver,
    dynamo,
    s3: s3Server,
    idle: () => runner.idle(),
    close: async () => {
      await runner.stop();
      await archiver.stop();
      await s3Server.close();
      await dynamo.close();
      return { unfinishedRuns: runner.unfinishedRuns() };
    },
  };
}
