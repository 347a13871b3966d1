import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  type Chain,
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  ResultWriterV2,
  S3JsonItemReader,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2 } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { DEFAULT_SHARD_COUNT } from '../../shared/config/defaults.js';
import { acknowledgeWildcardGrants } from './nag.js';
import { executionArns, type PulseFunction } from './pulse-function.js';

/**
 * Errors worth another attempt: storage throttled past its own retries, Step Functions' timeouts, and every
 * transient fault AWS documents for Lambda invokes (docs/operations.md#runs). `Lambda.Unknown` is what a worker
 * killed by its own timeout or memory limit raises; the retry resumes from the shard's last checkpoint. Errors of
 * our own that no retry can fix (a missing run, a changed model, bad input) are not listed and fail the run.
 */
export const RETRYABLE_ERRORS = [
  'StoreUnavailableError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
  'States.Timeout',
] as const;

/** Workers at once when `maxConcurrency` is not given: one per shard, up to half the default account Lambda quota. */
export const DEFAULT_MAX_CONCURRENCY_CAP = 500;

/** Key prefix (in the Pulse bucket) of everything a run writes for itself: plan items, worker outputs, map results. */
export const RUN_SCRATCH_PREFIX = 'runs/';
export const MAP_RESULTS_PREFIX = 'runs/map-results';

export interface ScoringPipelineProps {
  readonly bucket: IBucket;
  readonly plan: PulseFunction;
  readonly worker: PulseFunction;
  readonly finalise: PulseFunction;
  /**
   * The function of the daily archive step (input `{ "archive": ... }`, docs/operations.md#event-archive). Without
   * it, executions with an `archive` input fail at the plan step.
   */
  readonly archive?: PulseFunction;
  /** Shards of the event store: the Map has one item per shard. @default 16 */
  readonly shardCount?: number;
  /**
   * Worker Lambdas running at once for one run (bounds the read load on DynamoDB). More than the shard count would
   * change nothing, so it is refused. @default the shard count, at most 500
   */
  readonly maxConcurrency?: number;
  /** A run taking longer than this fails (and alarms). @default 6 hours */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: RetentionDays;
}

/**
 * The run state machine (docs/runs.md "Run"; the step handlers are in shared/run/handlers.ts). Input: `{ "model",
 * "asOf": "scheduled" | "YYYY-MM-DD" | ISO instant }`, a backfill `{ "model", "from", "to" }`, or `{ "runId" }` of a
 * run already recorded (what POST /v1/runs starts).
 *
 *   Plan ─► Planned? ─ done ─► Done
 *             └─► ScoreShards (Distributed Map, one item per shard: ScoreShard ⟲ until done) ─► Finalise ─► More?
 *                                                                                   done ─► Done
 *   Plan ◄── NextRun { runId: next } ◄── (a backfill's next date) ◄───────────────────────────┘
 *   Map or Finalise fails ─► RecordFailure (finalise with { runId, error }) ─► RunFailed
 *   Plan fails ─► RecordPlanFailure when the input named a run, then RunFailed
 *
 * Only pointers travel through the state: the plan writes the shard items to `runs/<runId>/shards.json` and
 * returns `{ runId, itemsKey, done, … }` (kept at `$.plan`); a worker gets one item `{ runId, shard }` (or its own
 * `{ runId, shard, done: false, checkpoint }` to carry on from) and writes its rows under `runs/<runId>/`; the map's
 * own results go to `runs/map-results/`, of which the state keeps only the location.
 */
export class ScoringPipeline extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  readonly distributedMap: DistributedMap;

  constructor(scope: Construct, id: string, props: ScoringPipelineProps) {
    super(scope, id);
    // Result writer v2 (scoped IAM, JSON output) — set before any child exists, so it holds for this subtree only.
    this.node.setContext(STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    const { bucket } = props;
    // payload undefined: the Lambda receives the state's input as it is (with payloadResponseOnly, an explicit
    // `$` would render as an invalid `"Parameters": "$"`).
    const invoke = (
      stepId: string,
      fn: PulseFunction,
      payload: TaskInput | undefined,
      comment: string,
      resultPath?: string,
    ) =>
      new LambdaInvoke(this, stepId, {
        lambdaFunction: fn,
        payload,
        payloadResponseOnly: true,
        // Retried below, with our error list and backoff.
        retryOnServiceExceptions: false,
        resultPath,
        comment,
      });

    const done = new Succeed(this, 'Done');
    const failed = new Fail(this, 'RunFailed', {
      errorPath: JsonPath.stringAt('$.error.Error'),
      causePath: JsonPath.stringAt('$.error.Cause'),
    });

    const plan = invoke(
      'Plan',
      props.plan,
      undefined,
      'Record or continue the run, write its shard items to S3, return { runId, itemsKey, done, ... }',
      '$.plan',
    );
    plan.addRetry(retryWithBackoff(Duration.seconds(2), 4));

    const shardCount = props.shardCount ?? DEFAULT_SHARD_COUNT;
    const maxConcurrency = props.maxConcurrency ?? Math.min(shardCount, DEFAULT_MAX_CONCURRENCY_CAP);
    if (maxConcurrency > shardCount)
      throw new Error(
        `maxConcurrency ${maxConcurrency} exceeds the ${shardCount} shards: a run has one worker per shard, so more would change nothing`,
      );

    // One shard per item. A worker whose time runs short checkpoints and returns { done: false, checkpoint }; the
    // state machine hands that straight back to a fresh invocation until the shard is done.
    const scoreShard = invoke(
      'ScoreShard',
      props.worker,
      undefined,
      "Score one shard from the window's events; rows go to S3, the result is a small summary or a checkpoint",
    );
    scoreShard.addRetry(retryWithBackoff(Duration.seconds(5), 5));
    scoreShard.next(
      new Choice(this, 'ShardDone?')
        .when(Condition.booleanEquals('$.done', false), scoreShard)
        .otherwise(new Succeed(this, 'ShardScored')),
    );

    this.distributedMap = new DistributedMap(this, 'ScoreShards', {
      comment: 'Fan out over the shards of the run',
      label: 'ScoreShards',
      itemReader: new PrefixScopedJsonItemReader(bucket, RUN_SCRATCH_PREFIX, JsonPath.stringAt('$.plan.itemsKey')),
      maxConcurrency,
      // No tolerated failures (the ASL default): one failed shard fails the run; a partial run is never published.
      mapExecutionType: StateMachineType.STANDARD,
      resultWriterV2: new PrefixScopedResultWriter(bucket, MAP_RESULTS_PREFIX),
      resultSelector: { 'ResultWriterDetails.$': '$.ResultWriterDetails' },
      resultPath: '$.map',
    });
    this.distributedMap.itemProcessor(scoreShard);

    const finalise = invoke(
      'Finalise',
      props.finalise,
      TaskInput.fromObject({ runId: JsonPath.stringAt('$.plan.runId') }),
      'Normalise, band, trend, write scores and history, publish the snapshot, emit alerts',
      '$.result',
    );
    finalise.addRetry(retryWithBackoff(Duration.seconds(5), 4));

    /** Finalise marks the run at `runIdPath` failed with the caught error. */
    const recordFailureOf = (id: string, runIdPath: string, comment: string) =>
      invoke(
        id,
        props.finalise,
        TaskInput.fromObject({ runId: JsonPath.stringAt(runIdPath), error: JsonPath.objectAt('$.error') }),
        comment,
        JsonPath.DISCARD,
      );
    const recordFailure = recordFailureOf('RecordFailure', '$.plan.runId', 'Mark the run failed; publishes nothing');
    const recordPlanFailure = recordFailureOf(
      'RecordPlanFailure',
      '$.runId',
      'Mark the named run failed (its plan failed); publishes nothing',
    );
    for (const record of [recordFailure, recordPlanFailure]) {
      record.addRetry(retryWithBackoff(Duration.seconds(2), 3));
      record.addCatch(failed, { resultPath: JsonPath.DISCARD });
      record.next(failed);
    }
    const planFailedFor = new Choice(this, 'PlanFailedForRun?')
      .when(Condition.isPresent('$.runId'), recordPlanFailure)
      .otherwise(failed);
    plan.addCatch(planFailedFor, { resultPath: '$.error' });
    this.distributedMap.addCatch(recordFailure, { resultPath: '$.error' });
    finalise.addCatch(recordFailure, { resultPath: '$.error' });

    const nextRun = new Pass(this, 'NextRun', {
      comment: "A backfill continues with its next date's run",
      parameters: { 'runId.$': '$.result.next' },
    });
    const runs = plan.next(
      new Choice(this, 'Planned?')
        .when(Condition.booleanEquals('$.plan.done', true), done)
        .otherwise(
          this.distributedMap.next(
            finalise.next(
              new Choice(this, 'More?')
                .when(Condition.booleanEquals('$.result.done', true), done)
                .otherwise(nextRun.next(plan)),
            ),
          ),
        ),
    );
    // `{ "archive": "scheduled" | { from, to } }`: the daily event archive step, then done.
    let definition: Chain | Choice = runs;
    if (props.archive) {
      const archive = invoke(
        'ArchiveEvents',
        props.archive,
        undefined,
        'Write the days of the input from the events table to S3 Parquet under events/ (merging what is there)',
        '$.archived',
      );
      archive.addRetry(retryWithBackoff(Duration.seconds(5), 4));
      archive.addCatch(failed, { resultPath: '$.error' });
      definition = new Choice(this, 'ArchiveOrRun?')
        .when(Condition.isPresent('$.archive'), archive.next(new Succeed(this, 'Archived')))
        .otherwise(runs);
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      // The vendedlogs prefix keeps the CloudWatch Logs resource policy small however many state machines log.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 80 })}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Pulse scoring run: plan, score shards in parallel, finalise',
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });

    acknowledgeWildcardGrants(this, [
      ...[props.plan, props.worker, props.finalise].map((fn) => ({
        resource: `${fn.functionArn}:*`,
        actions: ['lambda:InvokeFunction'],
        reason: 'Step Functions may invoke a version or alias of the run functions; the grant names each function.',
      })),
      {
        resource: '*',
        actions: [
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
        ],
        reason: 'X-Ray APIs support no resource-level permissions; AWS requires "*".',
      },
      {
        resource: '*',
        actions: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        reason: 'CloudWatch Logs vended-log delivery APIs support no resource-level permissions; AWS requires "*".',
      },
      {
        resource: bucket.arnForObjects(`${RUN_SCRATCH_PREFIX}*`),
        actions: ['s3:GetObject'],
        reason: "The Distributed Map reads the plan's shard items, whose key is generated per run under runs/.",
      },
      {
        resource: bucket.arnForObjects(`${MAP_RESULTS_PREFIX}/*`),
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        reason: 'The Distributed Map writes its result manifest under runs/map-results/<map run id>/.',
      },
      {
        resource: executionArns(this.stateMachine),
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        reason:
          'A Distributed Map manages its child executions, whose ARNs are generated; limited to this state machine.',
      },
      {
        resource: executionArns(this.stateMachine, 'ScoreShards'),
        actions: ['states:RedriveExecution'],
        reason:
          'Redriving a failed map run restarts its generated child executions; limited to this map of this state machine.',
      },
    ]);
  }
}

function retryWithBackoff(interval: Duration, maxAttempts: number) {
  return {
    errors: [...RETRYABLE_ERRORS],
    interval,
    maxAttempts,
    backoffRate: 2,
    maxDelay: Duration.minutes(2),
    jitterStrategy: JitterType.FULL,
  };
}

/** S3 JSON item reader whose grant covers the run scratch prefix only (the stock one grants the whole bucket). */
class PrefixScopedJsonItemReader extends S3JsonItemReader {
  constructor(
    private readonly scopedBucket: IBucket,
    private readonly prefix: string,
    keyPath: string,
  ) {
    super({ bucket: scopedBucket, key: keyPath });
  }

  override providePolicyStatements(): PolicyStatement[] {
    return [
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.scopedBucket.arnForObjects(`${this.prefix}*`)],
      }),
    ];
  }
}

/** Result writer whose grant covers its prefix only (the stock one grants the whole bucket). */
class PrefixScopedResultWriter extends ResultWriterV2 {
  constructor(
    private readonly scopedBucket: IBucket,
    prefix: string,
  ) {
    super({ bucket: scopedBucket, prefix });
  }

  override providePolicyStatements(): PolicyStatement[] {
    return [
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [this.scopedBucket.arnForObjects(`${this.prefix}/*`)],
      }),
    ];
  }
}
