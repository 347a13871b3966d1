import type { CfnTable } from 'aws-cdk-lib/aws-glue';

/** A Glue table over Parquet files under one S3 prefix, partitioned by `dt` and projected (no crawler). */
export interface ParquetTableInput {
  name: string;
  description: string;
  /** Its schema's version, readable by anyone who reads the Glue catalog (`pulse.schema.version`). */
  schemaVersion: number;
  /** `s3://<bucket>/<prefix>/` */
  location: string;
  partitionKeys: readonly CfnTable.ColumnProperty[];
  columns: CfnTable.ColumnProperty[];
  /** First `dt` partition Athena considers (yyyy-MM-dd). */
  firstDate: string;
  /** Projection of the partitions besides `dt` (`projection.<key>.*`). */
  projection: Record<string, string>;
  /** Where a partition's files are, after `location`: e.g. `model=${model}/dt=${dt}/`. */
  partitionPath: string;
}

/**
 * The table input of a Glue table over Parquet with partition projection on `dt` (a date, daily) and the keys in
 * `projection`, so Athena sees each partition as soon as it is written, with no crawler and no `MSCK REPAIR`.
 */
export function parquetTableInput(input: ParquetTableInput): CfnTable.TableInputProperty {
  return {
    name: input.name,
    description: input.description,
    tableType: 'EXTERNAL_TABLE',
    partitionKeys: input.partitionKeys.map((key) => ({ ...key })),
    parameters: {
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'pulse.schema.version': String(input.schemaVersion),
      'projection.enabled': 'true',
      ...input.projection,
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': `${input.firstDate},NOW`,
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': `${input.location}${input.partitionPath}`,
    },
    storageDescriptor: {
      location: input.location,
      columns: input.columns,
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: {
        serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
        parameters: { 'serialization.format': '1' },
      },
      compressed: true,
      storedAsSubDirectories: false,
    },
  };
}
