import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Fail,
  ItemBatcher,
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
import { acknowledgeWildcardGrants } from './nag.js';
import { executionArns, type PulseFunction } from './pulse-function.js';

/** Errors a worker may throw that are worth another attempt (storage throttled past its own retries, timeouts). */
export const RETRYABLE_ERRORS = [
  'StoreUnavailableError',
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'States.Timeout',
] as const;

/** Key prefix (in the Pulse bucket) of everything a run writes for itself: plan items, worker outputs, map results. */
export const RUN_SCRATCH_PREFIX = 'runs/';
export const MAP_RESULTS_PREFIX = 'runs/map-results';

export interface ScoringPipelineProps {
  readonly bucket: IBucket;
  readonly plan: PulseFunction;
  readonly worker: PulseFunction;
  readonly finalise: PulseFunction;
  /** Worker Lambdas running at once for one run. Bounds the read load on DynamoDB. @default 16 */
  readonly maxConcurrency?: number;
  /** Shard items handed to one worker invocation. @default 4 */
  readonly itemsPerBatch?: number;
  /** A run taking longer than this fails (and alarms). @default 6 hours */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: RetentionDays;
}

/**
 * The run state machine (PRODUCT §2 "Run"; the step handlers are in shared/run/handlers.ts). Input: `{ "model",
 * "asOf": "scheduled" | "YYYY-MM-DD" | ISO instant }`, a backfill `{ "model", "from", "to" }`, or `{ "runId" }` of a
 * run already recorded (what POST /v1/runs starts).
 *
 *   Plan ─► Planned? ─ done ─► Done
 *             └─► ScoreShards (Distributed Map over the plan's shard items in S3, batched) ─► Finalise ─► More?
 *                                                                                   done ─► Done
 *   Plan ◄── NextRun { runId: next } ◄── (a backfill's next date) ◄───────────────────────────┘
 *   Map or Finalise fails ─► RecordFailure (finalise with { runId, error }) ─► RunFailed
 *   Plan fails ─► RecordPlanFailure when the input named a run, then RunFailed
 *
 * Only pointers travel through the state: the plan writes the shard items to `runs/<runId>/shards.json` and
 * returns `{ runId, itemsKey, done, … }` (kept at `$.plan`); a worker gets `{ BatchInput: { runId }, Items:
 * [{ runId, shard }, …] }` and writes its rows under `runs/<runId>/`; the map's own results go to
 * `runs/map-results/`, of which the state keeps only the location.
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

    const scoreBatch = invoke(
      'ScoreBatch',
      props.worker,
      undefined,
      "Score a batch of shards from the window's events; rows go to S3, the result is a small summary",
    );
    scoreBatch.addRetry(retryWithBackoff(Duration.seconds(5), 5));

    this.distributedMap = new DistributedMap(this, 'ScoreShards', {
      comment: 'Fan out over the shards of the run',
      label: 'ScoreShards',
      itemReader: new PrefixScopedJsonItemReader(bucket, RUN_SCRATCH_PREFIX, JsonPath.stringAt('$.plan.itemsKey')),
      itemBatcher: new ItemBatcher({
        maxItemsPerBatch: props.itemsPerBatch ?? 4,
        batchInput: { 'runId.$': '$.plan.runId' },
      }),
      maxConcurrency: props.maxConcurrency ?? 16,
      // No tolerated failures (the ASL default): one failed shard fails the run; a partial run is never published.
      mapExecutionType: StateMachineType.STANDARD,
      resultWriterV2: new PrefixScopedResultWriter(bucket, MAP_RESULTS_PREFIX),
      resultSelector: { 'ResultWriterDetails.$': '$.ResultWriterDetails' },
      resultPath: '$.map',
    });
    this.distributedMap.itemProcessor(scoreBatch);

    const finalise = invoke(
      'Finalise',
      props.finalise,
      TaskInput.fromObject({ runId: JsonPath.stringAt('$.plan.runId') }),
      'Normalise, band, trend, write scores and history, publish the snapshot, emit alerts',
      '$.result',
    );
    finalise.addRetry(retryWithBackoff(Duration.seconds(5), 4));

    const recordFailure = invoke(
      'RecordFailure',
      props.finalise,
      TaskInput.fromObject({ runId: JsonPath.stringAt('$.plan.runId'), error: JsonPath.objectAt('$.error') }),
      'Mark the run failed; publishes nothing',
      JsonPath.DISCARD,
    );
    const recordPlanFailure = invoke(
      'RecordPlanFailure',
      props.finalise,
      TaskInput.fromObject({ runId: JsonPath.stringAt('$.runId'), error: JsonPath.objectAt('$.error') }),
      'Mark the named run failed (its plan failed); publishes nothing',
      JsonPath.DISCARD,
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
    const definition = plan.next(
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
