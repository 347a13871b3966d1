import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type ITable,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EVENTS_TABLE, type KeySpec, SCORES_TABLE, type TableSpec } from '../../shared/adapters/dynamodb/tables.js';
import { ARCHIVE_PREFIX } from '../../shared/archive/keys.js';
import { DEPLOYMENT } from '../cost/deployment.js';
import { acknowledge } from './nag.js';

/** What the compute side needs from the stateful side. */
export interface PulseDataResources {
  readonly eventsTable: ITable;
  readonly scoresTable: ITable;
  readonly snapshotBucket: IBucket;
  readonly writeKeys: ISecret;
}

export interface PulseDataProps {
  /**
   * Customer-managed KMS key for both tables. Default: the AWS-managed key `aws/dynamodb` — encrypted at rest,
   * key usage in CloudTrail, no key policy to maintain and no KMS request charges to budget. Pass a key when a
   * policy requires you to own (and be able to revoke) it; every function is granted use of it automatically.
   */
  readonly tableEncryptionKey?: IKey;
  /** Days after which a noncurrent snapshot object version is deleted. @default 30 */
  readonly noncurrentVersionDays?: number;
  /** Days after which run scratch objects (`runs/`: plans, worker outputs, map results) are deleted. @default 14 */
  readonly runScratchDays?: number;
  /**
   * Days an archived event is kept in S3 (`events/`, docs/data-model.md#event-archive); counted from the day's last
   * archiving. @default DEPLOYMENT.retentionDays (400)
   */
  readonly archiveRetentionDays?: number;
  /** Days S3 server access logs are kept. @default 90 */
  readonly accessLogDays?: number;
  /**
   * Pre-warm the events table and its index to this many write units a second, for bursts above on-demand's
   * initial 4,000/s from day one (see docs/data-model.md). Billed once per increase. @default not pre-warmed
   */
  readonly eventsWarmWriteUnits?: number;
  /** Protect tables against deletion and keep them (and the bucket) when the stack is deleted. @default true */
  readonly retain?: boolean;
}

/**
 * The stateful half of Pulse: the events and scores tables, the snapshot bucket (plus its access-log bucket) and
 * the write-key secret. Everything is retained on stack deletion and protected against accidental deletion, so
 * compute can be destroyed and redeployed freely without losing data.
 */
export class PulseData extends Construct implements PulseDataResources {
  readonly eventsTable: Table;
  readonly scoresTable: Table;
  readonly snapshotBucket: Bucket;
  readonly accessLogBucket: Bucket;
  readonly writeKeys: Secret;

  constructor(scope: Construct, id: string, props: PulseDataProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.eventsTable = this.table(
      'EventsTable',
      EVENTS_TABLE,
      props.tableEncryptionKey,
      retain,
      // PITR of the events table covers the hot window only; older events are in the versioned bucket.
      DEPLOYMENT.pitr.events,
      props.eventsWarmWriteUnits,
    );
    this.scoresTable = this.table(
      'ScoresTable',
      SCORES_TABLE,
      props.tableEncryptionKey,
      retain,
      DEPLOYMENT.pitr.scores,
    );

    this.accessLogBucket = new Bucket(this, 'AccessLogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Server access log delivery supports SSE-S3 only.
      encryption: BucketEncryption.S3_MANAGED,
      // Object ownership left to CDK: log delivery by bucket policy or ACL, per the host app's feature flags.
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogDays ?? 90) }],
      removalPolicy,
    });
    acknowledge(
      this.accessLogBucket,
      'AwsSolutions-S1',
      'This bucket is the server access log target of the snapshot bucket; logging it would log its own log writes.',
    );

    this.snapshotBucket = new Bucket(this, 'SnapshotBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // SSE-S3: Athena, Glue, QuickSight and BI tools read the Parquet snapshots without extra KMS grants.
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'snapshot-bucket/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          expiredObjectDeleteMarker: true,
        },
        { id: 'expire-run-scratch', prefix: 'runs/', expiration: Duration.days(props.runScratchDays ?? 14) },
        { id: 'expire-athena-results', prefix: 'athena-results/', expiration: Duration.days(30) },
        {
          id: 'expire-archived-events',
          prefix: ARCHIVE_PREFIX,
          expiration: Duration.days(props.archiveRetentionDays ?? DEPLOYMENT.retentionDays),
        },
      ],
      removalPolicy,
    });

    // The initial write key is generated by Secrets Manager: it never appears in code, templates or environment.
    // Operators add keys to rotate (`writeKeys` becomes a list), see docs/operations.md.
    this.writeKeys = new Secret(this, 'WriteKeys', {
      description: 'Pulse ingest write keys: {"writeKeys": "<key>"} or {"writeKeys": ["<key>", ...]}',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'writeKeys',
        passwordLength: 40,
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy,
    });
    acknowledge(
      this.writeKeys,
      'AwsSolutions-SMG4',
      'Write keys are embedded in customer tracking code; they are rotated by hand (add the new key, move clients, remove the old one — docs/operations.md), which automatic rotation would break.',
    );
  }

  private table(
    id: string,
    spec: TableSpec,
    key: IKey | undefined,
    retain: boolean,
    pitr: boolean,
    warmWrites?: number,
  ): Table {
    const warmThroughput = warmWrites ? { writeUnitsPerSecond: warmWrites, readUnitsPerSecond: 12_000 } : undefined;
    const table = new Table(this, id, {
      warmThroughput,
      partitionKey: attribute(spec.partitionKey),
      sortKey: attribute(spec.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pitr },
      ...(key
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
        : { encryption: TableEncryption.AWS_MANAGED }),
      timeToLiveAttribute: spec.timeToLiveAttribute,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of spec.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: ProjectionType.ALL,
        warmThroughput,
      });
    }
    return table;
  }
}

/** CDK attribute of a key in the shared table spec (the one definition local mode, tests and CDK use). */
function attribute(key: KeySpec): { name: string; type: AttributeType } {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}
