import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleGroup, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENTS_TABLE, SCORES_TABLE } from '../../shared/adapters/dynamodb/tables.js';
import { ARCHIVE_PREFIX } from '../../shared/archive/keys.js';
import { ENV } from '../../shared/config-names.js';
import { DEFAULT_RETENTION_DAYS, type HotWindow, hotWindowOf } from '../../shared/domain/hot-window.js';
import type { LoadedModel } from '../../shared/domain/model/load.js';
import { INGEST_PATHS } from '../../shared/http/ingest-paths.js';
import { DEPLOYMENT } from '../cost/deployment.js';
import { AlertWebhook, type AlertWebhookProps } from './alert-webhook.js';
import { EventArchiveTable } from './event-archive-table.js';
import { scheduleExpressionFor } from './models.js';
import { PulseMonitoring } from './monitoring.js';
import { acknowledge } from './nag.js';
import type { PulseDataResources } from './pulse-data.js';
import { PROJECT_ROOT, PulseFunction, type ShippedModels } from './pulse-function.js';
import { RUN_SCRATCH_PREFIX, ScoringPipeline } from './scoring-pipeline.js';
import { SnapshotTable } from './snapshot-table.js';

/** Entry points of the Lambda functions, relative to the project root. */
export const FUNCTION_ENTRIES = {
  ingest: 'functions/ingest/handler.ts',
  api: 'functions/api/handler.ts',
  runPlan: 'functions/run-plan/handler.ts',
  runWorker: 'functions/run-worker/handler.ts',
  runFinalise: 'functions/run-finalise/handler.ts',
} as const;

/** The routes the gateway sends to the ingest function, unauthenticated there (the write key is checked inside). */
export const INGEST_ROUTES = INGEST_PATHS;

/** Scores API routes (all authenticated). */
export const API_ROUTES: ReadonlyArray<readonly [HttpMethod, string]> = [
  [HttpMethod.GET, '/v1/scores'],
  [HttpMethod.GET, '/v1/scores/{entityType}/{entityId}'],
  [HttpMethod.GET, '/v1/scores/{entityType}/{entityId}/history'],
  [HttpMethod.GET, '/v1/models'],
  [HttpMethod.POST, '/v1/runs'],
  [HttpMethod.GET, '/v1/runs/{runId}'],
  [HttpMethod.GET, '/v1/alerts'],
  [HttpMethod.GET, '/v1/overrides'],
  [HttpMethod.PUT, '/v1/overrides/{entityType}/{entityId}'],
  [HttpMethod.DELETE, '/v1/overrides/{entityType}/{entityId}'],
  [HttpMethod.GET, '/openapi.json'],
];

export interface JwtAuthProps {
  /** Token issuer URL, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id> or your IdP. */
  readonly issuer: string;
  readonly audience: readonly string[];
}

export interface PulseServiceProps {
  readonly data: PulseDataResources;
  /** Validated models (see loadModelsForSynth). Each gets a schedule and ships with the functions. */
  readonly models: readonly LoadedModel[];
  /** Scores API auth: IAM (SigV4) by default; a JWT authorizer when issuer and audience are given. */
  readonly jwt?: JwtAuthProps;
  /** Event shards (must match the ingest key design; changing it needs a re-shard). @default 16 */
  readonly shardCount?: number;
  /** Days events are kept (TTL). @default 400 */
  readonly retentionDays?: number;
  /** Days added to the models' longest lookback for the events table's TTL. @default DEPLOYMENT.hotMarginDays (7) */
  readonly hotMarginDays?: number;
  /** Steady-state requests per second of the HTTP API stage. @default 1000 */
  readonly throttleRateLimit?: number;
  /** @default 2000 */
  readonly throttleBurstLimit?: number;
  /** Worker Lambdas at once per run (one per shard at most). @default the shard count, at most 500 */
  readonly maxConcurrency?: number;
  /** Create the schedules enabled. @default true */
  readonly schedulesEnabled?: boolean;
  /** Log retention of functions, state machine and API access logs. @default one month */
  readonly logRetention?: RetentionDays;
  /**
   * Glue database name (unique per account and region; the standalone app derives it from `pulse:stackPrefix`).
   * @default derived from this construct's unique path
   */
  readonly glueDatabaseName?: string;
  /**
   * Create the Glue database and table (and Athena workgroup) over the snapshots. `false` for an account whose
   * catalog is governed by Lake Formation and managed elsewhere (docs/deploy.md#lake-formation). @default true
   */
  readonly glue?: boolean;
  readonly alarmActions?: readonly IAlarmAction[];
  /** @default the repository root */
  readonly projectRoot?: string;
  /** Deliver every alert to an HTTPS webhook through an EventBridge API destination (docs/deploy.md#alert-webhook). */
  readonly alertWebhook?: Omit<AlertWebhookProps, 'bus'>;
}

/**
 * The stateless half of Pulse: functions, HTTP API, run state machine, schedules, alert bus, Glue table, alarms and
 * dashboard. Safe to destroy and redeploy: it holds no data.
 */
export class PulseService extends Construct {
  readonly functions: {
    ingest: PulseFunction;
    api: PulseFunction;
    runPlan: PulseFunction;
    runWorker: PulseFunction;
    runFinalise: PulseFunction;
  };
  readonly httpApi: HttpApi;
  readonly pipeline: ScoringPipeline;
  readonly alertBus: EventBus;
  /** Present when `alertWebhook` was configured. */
  readonly alertWebhook?: AlertWebhook;
  readonly scheduleDlq: Queue;
  readonly schedules: Record<string, Schedule> = {};
  /** The Glue database and table over the snapshots (absent with `glue: false`). */
  readonly snapshotTable: SnapshotTable | undefined;
  /** The Glue table over the daily event archive (absent with `glue: false`). */
  readonly eventArchiveTable: EventArchiveTable | undefined;
  /** The events table's TTL and how it was derived from the models. */
  readonly hotWindow: HotWindow;
  readonly archiveSchedule: Schedule;
  readonly monitoring: PulseMonitoring;

  constructor(scope: Construct, id: string, props: PulseServiceProps) {
    super(scope, id);
    if (props.models.length === 0) throw new Error('PulseService needs at least one model');
    const { eventsTable, scoresTable, snapshotBucket, writeKeys } = props.data;
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const shardCount = String(props.shardCount ?? DEPLOYMENT.shardCount);
    // The events table's TTL, from the models being deployed (docs/data-model.md#hot-window).
    this.hotWindow = hotWindowOf(
      props.models.map((m) => m.model),
      props.hotMarginDays ?? DEPLOYMENT.hotMarginDays,
    );
    const retentionDays = String(props.retentionDays ?? DEFAULT_RETENTION_DAYS);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const models: ShippedModels = { files: props.models.map((m) => m.file) };
    const eventIndexes = EVENTS_TABLE.globalSecondaryIndexes.map((i) => i.indexName);
    const scoreIndexes = SCORES_TABLE.globalSecondaryIndexes.map((i) => i.indexName);
    this.alertBus = new EventBus(this, 'AlertBus', {
      description: 'Pulse alerts: source "pulse", detail types ScoreDropped, ScoreSpiked, BandChanged',
    });
    // Every function knows every resource name (the shared configuration parsers check them at cold start);
    // what it may do with each is decided by IAM, granted below by the bind* helpers only where needed.
    const common = {
      projectRoot,
      logRetention,
      environment: {
        [ENV.shardCount]: shardCount,
        [ENV.retentionDays]: retentionDays,
        [ENV.hotDays]: String(this.hotWindow.days),
        [ENV.eventsTable]: eventsTable.tableName,
        [ENV.scoresTable]: scoresTable.tableName,
        [ENV.snapshotBucket]: snapshotBucket.bucketName,
        [ENV.alertBus]: this.alertBus.eventBusName,
      },
    };

    const fn = (
      fnId: string,
      entry: string,
      extra: Omit<ConstructorParameters<typeof PulseFunction>[2], 'entry' | 'projectRoot'>,
    ) =>
      new PulseFunction(this, fnId, {
        ...common,
        entry: entryFile(projectRoot, entry),
        ...extra,
        environment: { ...common.environment, ...extra.environment },
      });

    // ---- Functions, each with exactly the access its handler needs ----
    const ingest = fn('Ingest', FUNCTION_ENTRIES.ingest, {
      serviceName: 'pulse-ingest',
      description: 'Pulse ingest: native and Segment-compatible event and trait endpoints',
      memorySize: DEPLOYMENT.memoryMb.ingest,
      timeout: Duration.seconds(25),
    });
    // Grants are exactly the SDK commands each handler's code issues (checked by a test, docs/deploy.md#security-notes).
    // Events: one conditional put each (exactly-once answers). Entity records (traits, user→account links)
    // live in the scores table: read-merge-conditional-write.
    // Tombstones of erased entities: one Query of their partition a minute (docs/api.md#erasure).
    ingest
      .bindEventsTable(eventsTable, ['PutItem'])
      .bindScoresTable(scoresTable, ['GetItem', 'BatchGetItem', 'PutItem', 'Query'])
      .bindWriteKeys(writeKeys);

    const api = fn('Api', FUNCTION_ENTRIES.api, {
      serviceName: 'pulse-api',
      description: 'Pulse scores API: scores, history, models, runs, alerts, overrides, export, erasure',
      memorySize: DEPLOYMENT.memoryMb.api,
      timeout: Duration.seconds(25),
      models,
    });
    // readwrite on scores: POST /v1/runs records the queued run (runs live in the scores table); lists use byScore;
    // overrides are put and deleted (docs/api.md#overrides); erasure deletes an entity's items and keeps its
    // tombstone and audit record (docs/api.md#erasure).
    api.bindScoresTable(
      scoresTable,
      ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'DeleteItem', 'BatchWriteItem'],
      scoreIndexes,
    );
    // Events: export reads one entity's day partitions (a user's by key, an account's through byAccount), capped;
    // erasure deletes a user's events by key (docs/api.md#export, docs/api.md#erasure). Never a Scan.
    api.bindEventsTable(eventsTable, ['Query', 'BatchWriteItem'], eventIndexes);

    const runPlan = fn('RunPlan', FUNCTION_ENTRIES.runPlan, {
      serviceName: 'pulse-run-plan',
      description: 'Pulse run: resolve the as-of and write the shard items of a run',
      memorySize: DEPLOYMENT.memoryMb.runPlan,
      timeout: Duration.minutes(2),
      models,
    });
    // Records the run; writes its shard list under runs/<runId>/.
    runPlan
      .bindScoresTable(scoresTable, ['GetItem', 'PutItem'])
      .bindSnapshotBucket(snapshotBucket, { write: [RUN_SCRATCH_PREFIX] });

    const runWorker = fn('RunWorker', FUNCTION_ENTRIES.runWorker, {
      serviceName: 'pulse-run-worker',
      description: "Pulse run: score one shard from the window's events (checkpointing when time runs short)",
      memorySize: DEPLOYMENT.memoryMb.runWorker,
      timeout: Duration.minutes(15),
      models,
    });
    runWorker
      .bindEventsTable(eventsTable, ['Query'], eventIndexes)
      // Entity records and previous scores are read by key and by shard partition: no index needed. As the archive
      // step it marks swept erasures done (PutItem of the audit record).
      .bindScoresTable(scoresTable, ['GetItem', 'Query', 'PutItem'])
      // Writes the shard's raw rows under runs/<runId>/raw/; writes and reads its checkpoint (which may be gone).
      // Reads days older than the hot window from the event archive; as the archive step, writes it (events/) and
      // rewrites snapshot parts and archive files without erased entities (snapshots/, docs/api.md#erasure).
      .bindSnapshotBucket(snapshotBucket, {
        read: [RUN_SCRATCH_PREFIX, ARCHIVE_PREFIX, 'snapshots/'],
        write: [RUN_SCRATCH_PREFIX, ARCHIVE_PREFIX, 'snapshots/'],
      });

    const runFinalise = fn('RunFinalise', FUNCTION_ENTRIES.runFinalise, {
      serviceName: 'pulse-run-finalise',
      description: 'Pulse run: normalise, band, trend, write scores and history, publish the snapshot and alerts',
      memorySize: DEPLOYMENT.memoryMb.runFinalise,
      timeout: Duration.minutes(15),
      models,
    });
    // Reads the raw rows and the model's overrides (a Query), writes scores, history, alerts and the run record
    // (UpdateItem closes a run of unchanged history days, docs/data-model.md); publishes the snapshot (replacing the
    // partition: list + delete of stale parts).
    runFinalise
      .bindScoresTable(scoresTable, ['GetItem', 'Query', 'PutItem', 'BatchWriteItem', 'UpdateItem'])
      .bindSnapshotBucket(snapshotBucket, {
        read: ['snapshots/', RUN_SCRATCH_PREFIX],
        write: ['snapshots/'],
        delete: ['snapshots/', RUN_SCRATCH_PREFIX],
        list: true,
      });

    this.functions = { ingest, api, runPlan, runWorker, runFinalise };

    // ---- Alerts ----
    runFinalise.bindAlertBus(this.alertBus);
    if (props.alertWebhook) {
      this.alertWebhook = new AlertWebhook(this, 'AlertWebhook', { bus: this.alertBus, ...props.alertWebhook });
    }

    // ---- Run pipeline ----
    this.pipeline = new ScoringPipeline(this, 'Runs', {
      bucket: snapshotBucket,
      plan: runPlan,
      worker: runWorker,
      finalise: runFinalise,
      archive: runWorker,
      shardCount: Number(shardCount),
      maxConcurrency: props.maxConcurrency,
      logRetention,
    });
    // POST /v1/runs records the run, then starts an execution with { runId }; status is read from the run record.
    api.bindStateMachine(this.pipeline.stateMachine, 'start');

    // ---- Schedules: one per model, in the model's time zone ----
    this.scheduleDlq = new Queue(this, 'ScheduleDlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.scheduleDlq,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the run schedules; its depth is alarmed and replayed by hand.',
    );
    const scheduleRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Pulse schedules: start scoring runs',
    });
    const group = new ScheduleGroup(this, 'Schedules', {});
    for (const { model } of props.models) {
      const target = new StepFunctionsStartExecution(this.pipeline.stateMachine, {
        role: scheduleRole,
        input: ScheduleTargetInput.fromObject({ model: model.name, asOf: 'scheduled' }),
        deadLetterQueue: this.scheduleDlq,
        retryAttempts: 10,
        maxEventAge: Duration.hours(6),
      });
      this.schedules[model.name] = new Schedule(this, `Schedule-${model.name}`, {
        description: `Pulse: score model "${model.name}" (${model.cadence}, ${model.timezone})`,
        schedule: ScheduleExpression.expression(scheduleExpressionFor(model.cadence), TimeZone.of(model.timezone)),
        scheduleGroup: group,
        target,
        enabled: props.schedulesEnabled ?? true,
      });
    }
    // The daily archive step (docs/operations.md#event-archive): yesterday and the day before, UTC.
    const { hour, minute } = DEPLOYMENT.archiveScheduleUtc;
    this.archiveSchedule = new Schedule(this, 'Schedule-archive', {
      description: 'Pulse: archive the last two days of events to S3 Parquet (events/dt=/shard=/)',
      schedule: ScheduleExpression.expression(`cron(${minute} ${hour} * * ? *)`, TimeZone.ETC_UTC),
      scheduleGroup: group,
      target: new StepFunctionsStartExecution(this.pipeline.stateMachine, {
        role: scheduleRole,
        input: ScheduleTargetInput.fromObject({ archive: 'scheduled' }),
        deadLetterQueue: this.scheduleDlq,
        retryAttempts: 10,
        maxEventAge: Duration.hours(6),
      }),
      enabled: props.schedulesEnabled ?? true,
    });

    // ---- HTTP API ----
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const authorizer: IHttpRouteAuthorizer = props.jwt
      ? new HttpJwtAuthorizer('JwtAuthorizer', props.jwt.issuer, { jwtAudience: [...props.jwt.audience] })
      : new HttpIamAuthorizer();
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Pulse: ingest (write-key auth) and scores API',
      createDefaultStage: false,
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit ?? 1000, burstLimit: props.throttleBurstLimit ?? 2000 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // No query strings, bodies or authorization headers: nothing user-supplied beyond the route.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authError: '$context.authorizer.error',
          }),
        ),
      },
    });
    const ingestIntegration = new HttpLambdaIntegration('IngestIntegration', ingest);
    const apiIntegration = new HttpLambdaIntegration('ApiIntegration', api);
    const noAuth = new HttpNoneAuthorizer();
    for (const path of INGEST_ROUTES) {
      for (const route of this.httpApi.addRoutes({
        path,
        methods: [HttpMethod.POST],
        integration: ingestIntegration,
        authorizer: noAuth,
      }))
        acknowledge(
          route,
          'AwsSolutions-APIG4',
          'Ingest is authorised in the function: Segment and RudderStack libraries send the write key as the HTTP Basic user name, which API Gateway authorizers cannot check without a Lambda authorizer per request; the function compares it with the keys in Secrets Manager and answers 401 otherwise.',
        );
    }
    for (const [method, path] of API_ROUTES) {
      this.httpApi.addRoutes({ path, methods: [method], integration: apiIntegration, authorizer });
    }
    for (const route of this.httpApi.addRoutes({
      path: '/healthz',
      methods: [HttpMethod.GET],
      integration: apiIntegration,
      authorizer: noAuth,
    }))
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'Liveness probe for load balancers and uptime checks: returns no data (docs/api.md: unauthenticated).',
      );

    // ---- Athena ----
    // Optional: an account governed by Lake Formation may prefer to catalog the snapshots itself (docs/deploy.md).
    this.snapshotTable =
      (props.glue ?? true)
        ? new SnapshotTable(this, 'SnapshotTable', {
            bucket: snapshotBucket,
            modelNames: props.models.map((m) => m.model.name),
            databaseName: props.glueDatabaseName,
          })
        : undefined;
    this.eventArchiveTable = this.snapshotTable
      ? new EventArchiveTable(this, 'EventArchiveTable', {
          bucket: snapshotBucket,
          database: this.snapshotTable.database,
          databaseName: this.snapshotTable.databaseName,
          shardCount: Number(shardCount),
        })
      : undefined;

    // ---- Alarms and dashboard ----
    this.monitoring = new PulseMonitoring(this, 'Monitoring', {
      functions: this.functions,
      stateMachine: this.pipeline.stateMachine,
      scheduleDlq: this.scheduleDlq,
      tables: { events: eventsTable, scores: scoresTable },
      api: this.httpApi,
      alarmActions: props.alarmActions,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.apiEndpoint, description: 'Pulse HTTP API base URL' });
    new CfnOutput(this, 'StateMachineArn', { value: this.pipeline.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AlertBusName', { value: this.alertBus.eventBusName });
    new CfnOutput(this, 'EventsHotDays', {
      value: String(this.hotWindow.days),
      description: `Days the events table keeps an event (longest lookback ${this.hotWindow.lookbackDays} days, model ${this.hotWindow.longestModel}, + 1 + margin ${this.hotWindow.marginDays})`,
    });
    if (this.snapshotTable) {
      const { databaseName, tableName, workGroupName } = this.snapshotTable;
      new CfnOutput(this, 'AthenaTable', { value: `${databaseName}.${tableName}` });
      if (this.eventArchiveTable)
        new CfnOutput(this, 'AthenaEventsTable', { value: `${databaseName}.${this.eventArchiveTable.tableName}` });
      if (workGroupName) new CfnOutput(this, 'AthenaWorkGroup', { value: workGroupName });
    }
  }
}

/** The entry file of a function; a missing one fails synth with its path. */
function entryFile(projectRoot: string, entry: string): string {
  const file = isAbsolute(entry) ? entry : join(projectRoot, entry);
  if (!existsSync(file)) throw new Error(`Pulse function entry ${entry} not found under ${projectRoot}`);
  return file;
}
