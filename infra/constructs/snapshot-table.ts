import { Names, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  SNAPSHOT_COLUMNS,
  SNAPSHOT_SCHEMA_VERSION,
  type SnapshotColumn,
  type SnapshotColumnType,
} from '../../shared/domain/snapshot-schema.js';
import { parquetTableInput } from './parquet-table.js';

/** Hive/Athena type of each snapshot column type: the Glue schema is generated, never written by hand. */
const GLUE_TYPES: Record<SnapshotColumnType, string> = {
  string: 'string',
  int: 'int',
  bigint: 'bigint',
  double: 'double',
  timestamp: 'timestamp',
};

/** Partition keys of the snapshot table, in key order (`snapshots/model=<name>/dt=<date>/`). */
export const PARTITION_KEYS: readonly CfnTable.ColumnProperty[] = [
  { name: 'model', type: 'string', comment: 'model name' },
  { name: 'dt', type: 'string', comment: "as-of date (yyyy-MM-dd) in the model's time zone" },
];

/**
 * The table's data columns: the snapshot columns less the partition keys. `model` stays in the Parquet files, but
 * Athena rejects a table that declares a name both as a column and as a partition key (docs/data-model.md#athena).
 */
export function glueColumns(columns: readonly SnapshotColumn[] = SNAPSHOT_COLUMNS): CfnTable.ColumnProperty[] {
  const partitioned = new Set(PARTITION_KEYS.map((k) => k.name));
  return columns
    .filter((c) => !partitioned.has(c.name))
    .map((c) => ({ name: c.name, type: GLUE_TYPES[c.type], comment: c.description }));
}

/**
 * A Glue database name from a stack prefix or construct name: lower case letters, digits and `_` (what Athena
 * accepts unquoted), at most 255 characters. `Pulse` gives `pulse`, `PulseStaging` gives `pulsestaging`.
 */
export function glueDatabaseNameFor(prefix: string): string {
  const name = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name.length === 0) throw new Error(`cannot derive a Glue database name from "${prefix}"`);
  return name.slice(0, 255);
}

export interface SnapshotTableProps {
  readonly bucket: IBucket;
  /** Model names: the values of the `model` partition (an enum, so `SELECT … WHERE dt = …` spans every model). */
  readonly modelNames: readonly string[];
  /**
   * Glue database name, unique per account and region: two copies of Pulse need two names.
   * @default derived from the construct's unique path (see glueDatabaseNameFor)
   */
  readonly databaseName?: string;
  /** @default snapshots */
  readonly tableName?: string;
  /** First `dt` partition Athena considers (yyyy-MM-dd). @default 2024-01-01 */
  readonly firstDate?: string;
  /** Create an Athena workgroup that writes query results to `athena-results/` in the bucket. @default true */
  readonly workGroup?: boolean;
}

/**
 * Glue database and table over `s3://<bucket>/snapshots/` with partition projection on `model` and `dt`, so Athena
 * (and anything reading the Glue catalog) sees every new snapshot partition at once, with no crawler and no
 * `MSCK REPAIR`. Files starting with `_` (the `_manifest.json`) are ignored by Athena.
 */
export class SnapshotTable extends Construct {
  readonly database: CfnDatabase;
  readonly table: CfnTable;
  readonly databaseName: string;
  readonly tableName: string;
  readonly workGroupName?: string;

  constructor(scope: Construct, id: string, props: SnapshotTableProps) {
    super(scope, id);
    if (props.modelNames.length === 0) throw new Error('SnapshotTable needs at least one model name');
    this.databaseName = props.databaseName ?? glueDatabaseNameFor(Names.uniqueResourceName(this, { maxLength: 200 }));
    this.tableName = props.tableName ?? 'snapshots';
    const account = Stack.of(this).account;
    const location = `s3://${props.bucket.bucketName}/snapshots/`;

    this.database = new CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: { name: this.databaseName, description: 'Pulse engagement score snapshots' },
    });

    this.table = new CfnTable(this, 'Table', {
      catalogId: account,
      databaseName: this.databaseName,
      tableInput: parquetTableInput({
        name: this.tableName,
        description: `Pulse score snapshots, one row per scored entity and run (schema version ${SNAPSHOT_SCHEMA_VERSION})`,
        schemaVersion: SNAPSHOT_SCHEMA_VERSION,
        location,
        partitionKeys: PARTITION_KEYS,
        columns: glueColumns(),
        firstDate: props.firstDate ?? '2024-01-01',
        projection: {
          'projection.model.type': 'enum',
          'projection.model.values': [...props.modelNames].sort().join(','),
        },
        partitionPath: `model=\${model}/dt=\${dt}/`,
      }),
    });
    this.table.addResourceDependency(this.database);

    if (props.workGroup ?? true) {
      const workGroup = new CfnWorkGroup(this, 'WorkGroup', {
        name: `${this.databaseName}-${Stack.of(this).stackName}`.toLowerCase().slice(0, 128),
        description: 'Pulse snapshots: query results kept 30 days in the Pulse bucket',
        recursiveDeleteOption: true,
        workGroupConfiguration: {
          enforceWorkGroupConfiguration: true,
          publishCloudWatchMetricsEnabled: true,
          // 10 GB scanned per query at most: a runaway query costs cents, not dollars.
          bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
          resultConfiguration: {
            outputLocation: `s3://${props.bucket.bucketName}/athena-results/`,
            encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          },
        },
      });
      this.workGroupName = workGroup.name;
    }
  }
}
