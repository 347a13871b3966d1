import type { SnapshotColumnType } from '../../shared/domain/snapshot-schema.js';

/** Column types of the snapshot and event archive schemas as DuckDB names them when it reads the Parquet files. */
export const DUCKDB_TYPES: Record<SnapshotColumnType, string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  timestamp: 'TIMESTAMP WITH TIME ZONE',
};
