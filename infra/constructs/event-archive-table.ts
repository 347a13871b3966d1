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
      tableInput: {
        name: this.tableName,
        description: `Pulse raw events, one row per event, archived daily (schema version ${EVENT_ARCHIVE_SCHEMA_VERSION})`,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: EVENT_ARCHIVE_PARTITIONS.map((p) => ({ ...p })),
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          'pulse.schema.version': String(EVENT_ARCHIVE_SCHEMA_VERSION),
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${props.firstDate ?? '2024-01-01'},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.shard.type': 'integer',
          'projection.shard.range': `0,${props.shardCount - 1}`,
          'storage.location.template': `${location}dt=\${dt}/shard=\${shard}/`,
        },
        storageDescriptor: {
          location,
          columns: glueColumns(EVENT_ARCHIVE_COLUMNS),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            parameters: { 'serialization.format': '1' },
          },
          compressed: true,
          storedAsSubDirectories: false,
        },
      },
    });
    this.table.addResourceDependency(props.database);
  }
}
