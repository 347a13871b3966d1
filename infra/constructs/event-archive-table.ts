import { Stack } from 'aws-cdk-lib';
import { type CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_PREFIX } from '../../shared/archive/keys.js';
import {
  EVENT_ARCHIVE_COLUMNS,
  EVENT_ARCHIVE_PARTITIONS,
  EVENT_ARCHIVE_SCHEMA_VERSION,
} from '../../shared/domain/event-archive-schema.js';
import { parquetTableInput } from './parquet-table.js';
import { glueColumns } from './snapshot-table.js';

export interface EventArchiveTableProps {
  readonly bucket: IBucket;
  /** The Glue database (the snapshot table's). */
  readonly database: CfnDatabase;
  readonly databaseName: string;
  /** Shards of the event store: the values of the `shard` partition. */
  readonly shardCount: number;
  /** @default events */
  readonly tableName?: string;
  /** First `dt` partition Athena considers (yyyy-MM-dd). @default 2024-01-01 */
  readonly firstDate?: string;
}

/**
 * Glue table over the raw event archive `s3://<bucket>/events/dt=<date>/shard=<n>/` (docs/data-model.md#event-archive)
 * with partition projection on `dt` (a date) and `shard` (an integer range), so Athena sees each day as soon as the
 * archive step has written it; `_manifest.json` files are ignored by Athena (leading underscore).
 */
export class EventArchiveTable extends Construct {
  readonly table: CfnTable;
  readonly tableName: string;

  constructor(scope: Construct, id: string, props: EventArchiveTableProps) {
    super(scope, id);
    if (!(Number.isInteger(props.shardCount) && props.shardCount >= 1))
      throw new Error('EventArchiveTable needs a shard count ≥ 1');
    this.tableName = props.tableName ?? 'events';
    const location = `s3://${props.bucket.bucketName}/${ARCHIVE_PREFIX}`;
    this.table = new CfnTable(this, 'Table', {
      catalogId: Stack.of(this).account,
      databaseName: props.databaseName,
      tableInput: parquetTableInput({
        name: this.tableName,
        description: `Pulse raw events, one row per event, archived daily (schema version ${EVENT_ARCHIVE_SCHEMA_VERSION})`,
        schemaVersion: EVENT_ARCHIVE_SCHEMA_VERSION,
        location,
        partitionKeys: EVENT_ARCHIVE_PARTITIONS,
        columns: glueColumns(EVENT_ARCHIVE_COLUMNS),
        firstDate: props.firstDate ?? '2024-01-01',
        projection: { 'projection.shard.type': 'integer', 'projection.shard.range': `0,${props.shardCount - 1}` },
        partitionPath: `dt=\${dt}/shard=\${shard}/`,
      }),
    });
    this.table.addResourceDependency(props.database);
  }
}
