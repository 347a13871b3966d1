import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, INGEST_ROUTES } from '../../infra/constructs/pulse-service.js';
import { RETRYABLE_ERRORS } from '../../infra/constructs/scoring-pipeline.js';
import { ENV } from '../../shared/config-names.js';
import { loadModels } from '../../shared/domain/model/load.js';
import { SNAPSHOT_COLUMNS } from '../../shared/domain/snapshot-schema.js';
import {
  actionsOf,
  actionsOn,
  FIXTURE_MODELS,
  REPO_MODELS,
  resourcesOf,
  type Statement,
  statementsOfRole,
  synthApp,
  Template,
} from './support.js';

/** The parts of the Distributed Map state these tests read. */
interface MapState {
  ItemProcessor: { ProcessorConfig: unknown; StartAt: string; States: Record<string, { Retry?: unknown }> };
  ItemReader: unknown;
  ItemBatcher?: unknown;
  MaxConcurrency: number;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  ResultWriter: unknown;
  ResultSelector: unknown;
}

const FUNCTIONS = ['PulseIngest', 'PulseApi', 'PulseRunPlan', 'PulseRunWorker', 'PulseRunFinalise'] as const;
const EVENTS = 'EventsTable';
const SCORES = 'ScoresTable';
const BUCKET = 'SnapshotBucket';
const DDB_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'];

describe('service stack (repository models)', () => {
  let template: Template;
  let statements: Record<(typeof FUNCTIONS)[number], Statement[]>;

  beforeAll(() => {
    const { service } = synthApp({ 'pulse:modelsDir': REPO_MODELS });
    template = Template.fromStack(service);
    statements = Object.fromEntries(
      FUNCTIONS.map((f) => [f, statementsOfRole(template, `${f}Role`)]),
    ) as typeof statements;
  });

  describe('functions', () => {
    it('run Node.js on ARM64 with JSON logs, X-Ray, Powertools settings and source maps', () => {
      // Act
      const fns = template.findResources('AWS::Lambda::Function', {
        Properties: { Handler: 'index.handler' },
      });

      // Assert
      expect(Object.keys(fns)).toHaveLength(5);
      for (const fn of Object.values(fns)) {
        expect(fn.Properties.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
        expect(fn.Properties).toMatchObject({
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/Logs/) } },
          Environment: {
            Variables: expect.objectContaining({
              POWERTOOLS_METRICS_NAMESPACE: 'Pulse',
              POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^pulse-/),
              NODE_OPTIONS: '--enable-source-maps',
              [ENV.shardCount]: '16',
              [ENV.retentionDays]: '400',
            }),
          },
        });
      }
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('never hold `*` actions, and `*` resources only for X-Ray (which supports no resource-level permissions)', () => {
      for (const [fn, list] of Object.entries(statements)) {
        for (const s of list) {
          expect(
            actionsOf(s).filter((a) => a.includes('*')),
            fn,
          ).toEqual([]);
          if (resourcesOf(s).includes('*'))
            expect(
              actionsOf(s).every((a) => a.startsWith('xray:')),
              fn,
            ).toBe(true);
        }
      }
    });

    it('ingest writes events and entity records, reads the write keys, and touches nothing else', () => {
      // Arrange
      const s = statements.PulseIngest;

      // Assert
      // Conditional puts (docs/data-model.md#idempotent-writes-counted-exactly): no Query, Get, Update or Delete on events.
      expect([...actionsOn(s, EVENTS)].sort()).toEqual(['dynamodb:PutItem']);
      // Query: the tombstones of erased entities (docs/api.md#erasure).
      expect([...actionsOn(s, SCORES)].sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
      expect([...actionsOn(s, 'WriteKeys')]).toEqual(['secretsmanager:GetSecretValue']);
      expect(actionsOn(s, BUCKET).size).toBe(0);
      expect(
        s.flatMap(actionsOf).some((a) => a.startsWith('states:') || a.startsWith('events:') || a.startsWith('s3:')),
      ).toBe(false);
    });

    it('the scores API reads scores through the byScore index and starts runs; events only by key for export and erasure, no objects', () => {
      // Arrange
      const s = statements.PulseApi;

      // Assert: export queries one entity's partitions, erasure deletes a user's events (docs/api.md#erasure): no
      // Scan, no PutItem, no Get on events.
      expect([...actionsOn(s, EVENTS)].sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query']);
      expect(
        s.some(
          (st) => actionsOf(st).includes('dynamodb:Query') && JSON.stringify(st.Resource).includes('/index/byAccount'),
        ),
      ).toBe(true);
      expect([...actionsOn(s, SCORES)]).toEqual(
        expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']),
      );
      expect(actionsOn(s, BUCKET).size).toBe(0);
      expect(
        s.some(
          (st) => actionsOf(st).includes('dynamodb:Query') && JSON.stringify(st.Resource).includes('/index/byScore'),
        ),
      ).toBe(true);
      expect(JSON.stringify(s)).not.toContain('/index/*');
      expect(s.flatMap(actionsOf).filter((a) => a.startsWith('states:'))).toEqual(['states:StartExecution']);
    });

    it('run plan records the run and writes only its shard list, never events or snapshots', () => {
      // Arrange
      const s = statements.PulseRunPlan;

      // Assert
      expect(actionsOn(s, EVENTS).size).toBe(0);
      expect([...actionsOn(s, BUCKET)]).toEqual(['s3:PutObject']);
      for (const st of s.filter((x) => actionsOf(x).includes('s3:PutObject')))
        expect(JSON.stringify(st.Resource)).toContain('/runs/*');
    });

    it('the run worker reads events and scores, writes run scratch objects, the archive and (sweeping erasures) snapshots', () => {
      // Arrange
      const s = statements.PulseRunWorker;
      const objectResources = s
        .filter((st) => actionsOf(st).includes('s3:PutObject'))
        .flatMap(resourcesOf)
        .map((r) => JSON.stringify(r));

      // Assert
      expect([...actionsOn(s, EVENTS)].filter((a) => DDB_WRITES.includes(a))).toEqual([]);
      // The only scores write: the audit record of a swept erasure (docs/api.md#erasure).
      expect([...actionsOn(s, SCORES)].filter((a) => DDB_WRITES.includes(a))).toEqual(['dynamodb:PutItem']);
      expect(objectResources.length).toBeGreaterThan(0);
      // Run scratch objects, the event archive (read for days before the hot window, written as the archive step) and
      // snapshots (rewritten without erased entities by the archive step).
      for (const r of objectResources) expect(r).toMatch(/\/(runs|events|snapshots)\/\*/);
      expect(s.flatMap(actionsOf)).not.toContain('s3:DeleteObject');
      expect(
        s.some(
          (st) => actionsOf(st).includes('dynamodb:Query') && JSON.stringify(st.Resource).includes('/index/byAccount'),
        ),
      ).toBe(true);
    });

    it('lets every function that reads objects list the bucket without a prefix condition (404, not 403, for a missing key)', () => {
      // Arrange
      const readers = FUNCTIONS.filter((fn) => statements[fn].some((s) => actionsOf(s).includes('s3:GetObject')));

      // Assert: finalise reads latest.json (absent on a model's first run) and shard results; a worker reads its
      // checkpoint, which may have expired.
      expect(readers).toEqual(['PulseRunWorker', 'PulseRunFinalise']);
      for (const fn of readers) {
        const list = statements[fn].filter((s) => actionsOf(s).includes('s3:ListBucket'));
        expect(list, fn).toHaveLength(1);
        expect(list[0]!.Condition, fn).toBeUndefined();
        expect(JSON.stringify(list[0]!.Resource), fn).toContain(BUCKET);
        expect(JSON.stringify(list[0]!.Resource), fn).not.toContain('/*');
      }
    });

    it('only finalise publishes alerts and snapshots; the worker (archive step) only rewrites them for erasures', () => {
      // Arrange
      const putEvents = (fn: (typeof FUNCTIONS)[number]) =>
        statements[fn].some((s) => actionsOf(s).includes('events:PutEvents'));
      const writesSnapshots = (fn: (typeof FUNCTIONS)[number]) =>
        statements[fn].some(
          (s) => actionsOf(s).includes('s3:PutObject') && JSON.stringify(s.Resource).includes('/snapshots/*'),
        );

      // Assert
      expect(FUNCTIONS.filter(putEvents)).toEqual(['PulseRunFinalise']);
      expect(FUNCTIONS.filter(writesSnapshots)).toEqual(['PulseRunWorker', 'PulseRunFinalise']);
    });

    it('set the environment each handler reads, with ARNs and names only', () => {
      // Act
      const env = (prefix: string) => {
        const [fn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
          ([id]) => id.startsWith(prefix) && !id.includes('Role'),
        );
        return fn![1].Properties.Environment.Variables as Record<string, unknown>;
      };

      // Assert
      expect(Object.keys(env('PulseIngest'))).toEqual(
        expect.arrayContaining([ENV.eventsTable, ENV.scoresTable, ENV.writeKeysSecretArn]),
      );
      expect(Object.keys(env('PulseIngest'))).not.toContain(ENV.modelsDir);
      expect(Object.keys(env('PulseApi'))).toEqual(
        expect.arrayContaining([ENV.scoresTable, ENV.stateMachineArn, ENV.modelsDir, ENV.snapshotBucket]),
      );
      // The run steps share one configuration parser: each gets every name it checks at cold start.
      for (const fn of ['PulseRunPlan', 'PulseRunWorker', 'PulseRunFinalise'])
        expect(Object.keys(env(fn))).toEqual(
          expect.arrayContaining([ENV.eventsTable, ENV.scoresTable, ENV.snapshotBucket, ENV.alertBus, ENV.modelsDir]),
        );
      expect(env('PulseRunFinalise')).toMatchObject({ [ENV.modelsDir]: '/var/task/models' });
      expect(Object.keys(env('PulseRunFinalise'))).toContain(ENV.alertBus);
      // The secret is referenced by ARN (a CloudFormation reference), never inlined as a value.
      expect(env('PulseIngest')[ENV.writeKeysSecretArn]).toEqual({
        'Fn::ImportValue': expect.stringMatching(/WriteKeys/),
      });
    });
  });

  describe('run state machine', () => {
    let definition: Record<string, unknown> & { States: Record<string, Record<string, unknown>> };

    beforeAll(() => {
      const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
      const body = sm!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
      // Tokens (ARNs, bucket names) become placeholders: the shape is what matters.
      const text = body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
      definition = JSON.parse(text);
    });

    it('runs plan → distributed map → finalise, looping over a backfill, with failures recorded on the run', () => {
      // Arrange
      const states = definition.States;

      // Assert
      // The archive step branches off first (test/infra/event-archive.test.ts); everything else is a run.
      expect(definition.StartAt).toBe('ArchiveOrRun?');
      expect(states['ArchiveOrRun?']).toMatchObject({ Default: 'Plan' });
      expect(states.Plan).toMatchObject({ Next: 'Planned?', ResultPath: '$.plan' });
      // No Parameters: plan and workers receive their state input unchanged (the execution input, a { runId }, a batch).
      expect(states.Plan!.Parameters).toBeUndefined();
      const processor = (states.ScoreShards as unknown as MapState).ItemProcessor;
      expect(processor.States.ScoreShard).not.toHaveProperty('Parameters');
      // A worker that checkpointed is invoked again with its own output until the shard is done.
      expect(processor).toMatchObject({ StartAt: 'ScoreShard' });
      expect(processor.States.ScoreShard).toMatchObject({ Next: 'ShardDone?' });
      expect(processor.States['ShardDone?']).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.done', BooleanEquals: false, Next: 'ScoreShard' }],
        Default: 'ShardScored',
      });
      expect(processor.States.ShardScored).toMatchObject({ Type: 'Succeed' });
      expect(states['Planned?']).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.plan.done', BooleanEquals: true, Next: 'Done' }],
        Default: 'ScoreShards',
      });
      expect(states.ScoreShards).toMatchObject({ Type: 'Map', Next: 'Finalise' });
      expect(states.Finalise).toMatchObject({
        Parameters: { 'runId.$': '$.plan.runId' },
        ResultPath: '$.result',
        Next: 'More?',
      });
      expect(states['More?']).toMatchObject({
        Choices: [{ Variable: '$.result.done', BooleanEquals: true, Next: 'Done' }],
        Default: 'NextRun',
      });
      expect(states.NextRun).toMatchObject({ Type: 'Pass', Parameters: { 'runId.$': '$.result.next' }, Next: 'Plan' });
      for (const state of ['ScoreShards', 'Finalise'])
        expect(states[state]!.Catch).toEqual([
          expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' }),
        ]);
      expect(states.RecordFailure).toMatchObject({
        Parameters: { 'runId.$': '$.plan.runId', 'error.$': '$.error' },
        Next: 'RunFailed',
      });
      expect(states.Plan!.Catch).toEqual([
        expect.objectContaining({ Next: 'PlanFailedForRun?', ResultPath: '$.error' }),
      ]);
      expect(states['PlanFailedForRun?']).toMatchObject({
        Choices: [{ Variable: '$.runId', IsPresent: true, Next: 'RecordPlanFailure' }],
        Default: 'RunFailed',
      });
      expect(states.RunFailed).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    });

    it('fans out in distributed mode over S3 items, one per shard, one worker per shard, with S3 results — pointers, not data', () => {
      // Arrange
      const map = definition.States.ScoreShards as unknown as MapState;

      // Assert
      expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      expect(map.ItemReader).toMatchObject({
        Resource: expect.stringContaining(':states:::s3:getObject'),
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Key.$': '$.plan.itemsKey' },
      });
      expect(map.ItemBatcher).toBeUndefined();
      // The default shard count (16): every shard has its worker.
      expect(map.MaxConcurrency).toBe(16);
      expect(map.ToleratedFailurePercentage ?? 0).toBe(0);
      expect(map.ToleratedFailureCount ?? 0).toBe(0);
      expect(map.ResultWriter).toMatchObject({ Parameters: { Prefix: 'runs/map-results' } });
      expect(map.ResultSelector).toEqual({ 'ResultWriterDetails.$': '$.ResultWriterDetails' });
    });

    it('retries transient failures with exponential backoff and jitter', () => {
      // Arrange
      const map = definition.States.ScoreShards as unknown as MapState;
      const worker = map.ItemProcessor.States.ScoreShard!;

      // Assert: every transient Lambda fault AWS documents, plus Lambda.Unknown (a worker killed by its limits).
      expect(RETRYABLE_ERRORS).toEqual(
        expect.arrayContaining([
          'StoreUnavailableError',
          'Lambda.ServiceException',
          'Lambda.Unknown',
          'States.Timeout',
        ]),
      );
      for (const task of [worker, definition.States.Plan, definition.States.Finalise])
        expect(task?.Retry).toEqual([
          expect.objectContaining({
            ErrorEquals: [...RETRYABLE_ERRORS],
            BackoffRate: 2,
            JitterStrategy: 'FULL',
            MaxAttempts: expect.any(Number),
          }),
        ]);
    });

    it('logs everything, traces with X-Ray and alarms on failed runs', () => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ExecutionsFailed',
        Namespace: 'AWS/States',
        Threshold: 1,
      });
    });

    it('lets the state machine read only run scratch objects', () => {
      // Arrange
      const s = statementsOfRole(template, 'PulseRunsStateMachineRole');
      const s3 = s.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')));

      // Assert
      expect(s3.length).toBeGreaterThan(0);
      for (const st of s3)
        for (const r of resourcesOf(st)) expect(JSON.stringify(r)).toMatch(/\/runs\/(map-results\/)?\*/);
    });
  });

  describe('schedules', () => {
    it('has one schedule per example model, starting a run of that model as of "scheduled", with a DLQ', () => {
      // Arrange
      const models = loadModels(REPO_MODELS).map((m) => m.model);

      // Act
      // The daily archive schedule is tested with the archive (test/infra/cost.test.ts).
      const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter(
        (s) => !('archive' in JSON.parse(s.Properties.Target.Input)),
      );

      // Assert
      expect(schedules).toHaveLength(models.length);
      for (const model of models) {
        const schedule = schedules.find((s) => JSON.parse(s.Properties.Target.Input).model === model.name);
        expect(schedule, model.name).toBeDefined();
        expect(JSON.parse(schedule!.Properties.Target.Input)).toEqual({ model: model.name, asOf: 'scheduled' });
        expect(schedule!.Properties).toMatchObject({
          ScheduleExpressionTimezone: model.timezone,
          State: 'ENABLED',
          Target: {
            RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21600 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/ScheduleDlq/), 'Arn'] } },
          },
        });
      }
    });

    it('keeps the DLQ encrypted and TLS-only, and alarms on its depth', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
    });
  });

  describe('HTTP API', () => {
    const routes = () => Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);

    it('routes ingest without an authorizer (the write key is checked in the function)', () => {
      for (const path of INGEST_ROUTES)
        expect(routes().find((r) => r.RouteKey === `POST ${path}`)).toMatchObject({ AuthorizationType: 'NONE' });
    });

    it('protects every scores route with IAM by default; /healthz stays open', () => {
      for (const [method, path] of API_ROUTES)
        expect(
          routes().find((r) => r.RouteKey === `${method} ${path}`),
          path,
        ).toMatchObject({ AuthorizationType: 'AWS_IAM' });
      expect(routes().find((r) => r.RouteKey === 'GET /healthz')).toMatchObject({ AuthorizationType: 'NONE' });
      expect(routes()).toHaveLength(INGEST_ROUTES.length + API_ROUTES.length + 1);
    });

    it('throttles and writes access logs', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      });
    });
  });

  describe('alerts, Athena, monitoring', () => {
    it('creates the alert bus', () => {
      template.resourceCountIs('AWS::Events::EventBus', 1);
    });

    it('generates the Glue columns from the snapshot schema, with partition projection on model and dt', () => {
      // Act
      const [table] = Object.values(template.findResources('AWS::Glue::Table'));
      const input = table!.Properties.TableInput;

      // Assert
      const partitionKeys = input.PartitionKeys.map((k: { Name: string }) => k.Name);
      expect(partitionKeys).toEqual(['model', 'dt']);
      // Athena rejects a table naming a partition key among its columns: `model` is a partition key only.
      expect(input.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(
        SNAPSHOT_COLUMNS.filter((c) => c.name !== 'model').map((c) => [c.name, c.type]),
      );
      const columnNames = input.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name);
      expect(columnNames.filter((n: string) => partitionKeys.includes(n))).toEqual([]);
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      );
      expect(input.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.model.type': 'enum',
        'projection.model.values': loadModels(REPO_MODELS)
          .map((m) => m.model.name)
          .sort()
          .join(','),
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': expect.stringMatching(/^\d{4}-\d{2}-\d{2},NOW$/),
      });
      // Athena substitutes the projected partition values into the template.
      const placeholders = ['model', 'dt'].map((k) => `${k}=\${${k}}`).join('/');
      expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain(`/snapshots/${placeholders}/`);
    });

    it('alarms on function errors, DynamoDB throttles and API 5xx, and has one dashboard', () => {
      // Act
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      const errorAlarms = alarms.filter(
        (a) => a.Properties.MetricName === 'Errors' && a.Properties.Namespace === 'AWS/Lambda',
      );
      const throttleAlarms = alarms.filter((a) =>
        JSON.stringify(a.Properties.Metrics ?? '').includes('ThrottleEvents'),
      );

      // Assert
      expect(errorAlarms).toHaveLength(5);
      expect(throttleAlarms).toHaveLength(2);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5xx', Namespace: 'AWS/ApiGateway' });
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });
  });
});

describe('service stack monitoring of what the handlers emit', () => {
  it('graphs the ingest metrics under the names and service dimension the handler emits, and alarms on unpublished alerts', () => {
    // Arrange
    const template = Template.fromStack(synthApp({}).service);

    // Act
    const dashboard = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'));

    // Assert
    for (const name of ['EventsAccepted', 'EventsDuplicate', 'EventsRejected']) expect(dashboard).toContain(name);
    expect(dashboard).toContain('pulse-ingest');
    expect(filters).toHaveLength(1);
    expect(filters[0]?.Properties.FilterPattern).toContain('alerts not published');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AlertsUnpublished', Namespace: 'Pulse' });
  });
});

describe('service stack (fixture models and options)', () => {
  it('maps each cadence to a cron in the model time zone', () => {
    // Act
    const template = Template.fromStack(synthApp({ 'pulse:modelsDir': FIXTURE_MODELS }).service);
    const byModel = Object.fromEntries(
      Object.values(template.findResources('AWS::Scheduler::Schedule')).flatMap((s) =>
        'archive' in JSON.parse(s.Properties.Target.Input)
          ? []
          : [
              [
                JSON.parse(s.Properties.Target.Input).model,
                [s.Properties.ScheduleExpression, s.Properties.ScheduleExpressionTimezone],
              ],
            ],
      ),
    );

    // Assert
    expect(byModel).toEqual({
      customer: ['cron(15 0 * * ? *)', 'Europe/Berlin'],
      trial: ['cron(15 0 ? * MON *)', 'UTC'],
      renewal: ['cron(15 0 1 * ? *)', 'Asia/Tokyo'],
      enterprise: ['cron(30 3 ? * MON-FRI *)', 'America/New_York'],
    });
  });

  it('uses a JWT authorizer on the scores routes when an issuer and audience are given', () => {
    // Act
    const template = Template.fromStack(
      synthApp({
        'pulse:modelsDir': FIXTURE_MODELS,
        'pulse:jwtIssuer': 'https://auth.example.com/',
        'pulse:jwtAudience': 'pulse-api,pulse-cli',
      }).service,
    );

    // Assert
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://auth.example.com/', Audience: ['pulse-api', 'pulse-cli'] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /v1/scores',
      AuthorizationType: 'JWT',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /v1/events',
      AuthorizationType: 'NONE',
    });
  });

  it('refuses half a JWT configuration', () => {
    expect(() =>
      synthApp({ 'pulse:modelsDir': FIXTURE_MODELS, 'pulse:jwtIssuer': 'https://auth.example.com/' }),
    ).toThrow(/pulse:jwtAudience/);
  });
});
