import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENV } from '../../shared/config-names.js';
import { acknowledgeWildcardGrants, type WildcardGrant } from './nag.js';

/** The repository root: where package-lock.json, functions/ and shared/ live. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the models are unpacked inside the deployment package (LAMBDA_TASK_ROOT is /var/task). */
export const LAMBDA_MODELS_DIR = '/var/task/models';

/** DynamoDB actions a function may be granted on a table (Scan never: no code path scans). */
export type DynamoAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

const READ_ACTIONS: ReadonlySet<DynamoAction> = new Set(['GetItem', 'BatchGetItem', 'Query']);

/** Key prefixes of the snapshot bucket per kind of access. */
export interface SnapshotBucketAccess {
  readonly read?: readonly string[];
  readonly write?: readonly string[];
  readonly delete?: readonly string[];
  /** ListObjectsV2 (granted anyway with `read`). */
  readonly list?: boolean;
}

/** Validated model files to ship with a function (see `loadModelsForSynth`). */
export interface ShippedModels {
  /** Absolute paths of the model files that passed validation. */
  readonly files: readonly string[];
}

export interface PulseFunctionProps {
  /** Entry file, relative to the project root (e.g. `functions/api/handler.ts`) or absolute. */
  readonly entry: string;
  readonly description: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** Model files copied into the bundle (directory `models/`); `PULSE_MODELS_DIR` points at them. */
  readonly models?: ShippedModels;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** Powertools service name (log field `service`, metrics dimension). */
  readonly serviceName: string;
  /** @default nodejs24.x, the newest Node.js runtime this aws-cdk-lib knows; the bundle targets node22 so 22 works too */
  readonly runtime?: Runtime;
  /** Caps the function's concurrency (protects DynamoDB and downstream systems). @default unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** @default the repository root */
  readonly projectRoot?: string;
  readonly environment?: Record<string, string>;
}

/**
 * The one Lambda function definition of Pulse: Node.js on ARM64, an ESM bundle built by the local esbuild (no
 * Docker), JSON logs into a log group with retention, X-Ray, Powertools settings and source maps. Permissions are
 * never granted by hand outside this class: every `bind*` helper grants exactly what the handler needs on exactly
 * that resource and sets the environment variable (names from shared/config-names.ts) the handler reads.
 */
export class PulseFunction extends NodejsFunction {
  /** Powertools service name: the `service` dimension of the function's metrics. */
  readonly serviceName: string;
  /** The function's own log group (JSON lines from the Powertools logger). */
  readonly functionLogGroup: LogGroup;
  /** Wildcard resources granted on purpose; everything else with a `*` fails cdk-nag. */
  private readonly wildcardGrants: WildcardGrant[] = [
    {
      resource: '*',
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      reason: 'X-Ray trace segment APIs support no resource-level permissions; AWS requires "*".',
    },
  ];

  constructor(scope: Construct, id: string, props: PulseFunctionProps) {
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const entry = isAbsolute(props.entry) ? props.entry : join(projectRoot, props.entry);
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      // Compute is stateless: its logs go with it (and are bounded by the retention anyway).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role: no AWS managed policy (AWSLambdaBasicExecutionRole allows logs on every group).
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Pulse ${props.serviceName} function`,
    });
    const models = props.models;
    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: props.runtime ?? Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role,
      tracing: Tracing.ACTIVE,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel.WARN,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Pulse',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...(models ? { [ENV.modelsDir]: LAMBDA_MODELS_DIR } : {}),
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Pin the SDK version we test with instead of whatever the runtime ships.
        bundleAwsSDK: true,
        mainFields: ['module', 'main'],
        // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
        banner:
          "import { createRequire as __pulseCreateRequire } from 'node:module';const require = __pulseCreateRequire(import.meta.url);",
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) =>
            models
              ? [
                  `mkdir -p ${shellQuote(`${outputDir}/models`)}`,
                  ...models.files.map((file) => `cp ${shellQuote(file)} ${shellQuote(`${outputDir}/models/`)}`),
                ]
              : [],
        },
      },
    });
    this.serviceName = props.serviceName;
    this.functionLogGroup = logGroup;
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    acknowledgeWildcardGrants(role, this.wildcardGrants);
  }

  /**
   * Events table: exactly the DynamoDB actions the handler's code issues on it (a test derives them from the code
   * and compares); Query on the named indexes too when `Query` is granted. The handler reads `PULSE_EVENTS_TABLE`.
   */
  bindEventsTable(table: ITable, actions: readonly DynamoAction[], indexes: readonly string[] = []): this {
    this.grantTable(table, actions, indexes);
    return this.addEnvironment(ENV.eventsTable, table.tableName);
  }

  /** Scores table (current scores, history, runs, alerts, entity records), as bindEventsTable. */
  bindScoresTable(table: ITable, actions: readonly DynamoAction[], indexes: readonly string[] = []): this {
    this.grantTable(table, actions, indexes);
    return this.addEnvironment(ENV.scoresTable, table.tableName);
  }

  /**
   * Snapshot bucket: GetObject, PutObject and DeleteObject each on its own key prefixes (e.g. `snapshots/`,
   * `runs/`). Reading (or `list`) also grants s3:ListBucket on the bucket without a prefix condition: S3 answers a
   * GetObject of a missing key with 404 only to a caller that may list the bucket, otherwise 403 (see
   * docs/deploy.md#security-notes); the bucket holds only Pulse data.
   */
  bindSnapshotBucket(bucket: IBucket, access: SnapshotBucketAccess): this {
    const byPrefix = new Map<string, string[]>();
    const grant = (action: string, prefixes: readonly string[] | undefined) => {
      if (!prefixes || prefixes.length === 0) return;
      this.addToRolePolicy(
        new PolicyStatement({ actions: [action], resources: prefixes.map((p) => bucket.arnForObjects(`${p}*`)) }),
      );
      for (const p of prefixes) byPrefix.set(p, [...(byPrefix.get(p) ?? []), action]);
    };
    grant('s3:GetObject', access.read);
    grant('s3:PutObject', access.write);
    grant('s3:DeleteObject', access.delete);
    if ((access.read?.length ?? 0) > 0 || access.list)
      this.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    for (const [prefix, actions] of byPrefix)
      this.wildcardGrants.push({
        resource: bucket.arnForObjects(`${prefix}*`),
        actions,
        reason:
          'Snapshot and run object keys are generated per model, date and run; the grant is limited to one key prefix of the Pulse bucket.',
      });
    if (bucket.encryptionKey) bucket.encryptionKey.grantEncryptDecrypt(this);
    return this.addEnvironment(ENV.snapshotBucket, bucket.bucketName);
  }

  /** Alert bus: PutEvents on this bus only. */
  bindAlertBus(bus: IEventBus): this {
    this.addToRolePolicy(new PolicyStatement({ actions: ['events:PutEvents'], resources: [bus.eventBusArn] }));
    return this.addEnvironment(ENV.alertBus, bus.eventBusName);
  }

  /** Write keys: GetSecretValue on this secret only (no DescribeSecret); the environment holds the ARN, never a key. */
  bindWriteKeys(secret: ISecret): this {
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    secret.encryptionKey?.grantDecrypt(this);
    return this.addEnvironment(ENV.writeKeysSecretArn, secret.secretArn);
  }

  /** Run state machine: start executions of it; with `describe`, read their status (GET /v1/runs/{id}). */
  bindStateMachine(stateMachine: IStateMachine, access: 'start' | 'start-and-describe'): this {
    stateMachine.grantStartExecution(this);
    if (access === 'start-and-describe') {
      stateMachine.grantExecution(this, 'states:DescribeExecution');
      this.wildcardGrants.push({
        resource: executionArns(stateMachine),
        actions: ['states:DescribeExecution'],
        reason:
          'Execution ARNs are generated per run; the grant covers executions of the Pulse run state machine only.',
      });
    }
    return this.addEnvironment(ENV.stateMachineArn, stateMachine.stateMachineArn);
  }

  private grantTable(table: ITable, actions: readonly DynamoAction[], indexes: readonly string[]): void {
    if (actions.length === 0) throw new Error(`${this.node.path}: grant at least one action on ${table.node.path}`);
    // No Scan anywhere: every access path is a key lookup or a Query on a known partition.
    this.addToRolePolicy(
      new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }),
    );
    // Queries on named GSIs only: no `index/*`.
    if (actions.includes('Query') && indexes.length > 0) {
      this.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['dynamodb:Query'],
          resources: indexes.map((i) => `${table.tableArn}/index/${i}`),
        }),
      );
    }
    if (table.encryptionKey) {
      if (actions.every((a) => READ_ACTIONS.has(a))) table.encryptionKey.grantDecrypt(this);
      else table.encryptionKey.grantEncryptDecrypt(this);
    }
  }
}

/**
 * ARN pattern of the executions of a state machine (with a Distributed Map label: of its child executions), built
 * exactly as aws-cdk-lib builds it in its grants, so cdk-nag acknowledgements match the policy statement.
 */
export function executionArns(stateMachine: IStateMachine, mapLabel?: string): string {
  const name = Arn.split(stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
  return Stack.of(stateMachine).formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: mapLabel ? `${name}/${mapLabel}:*` : `${name}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
