import type { SchemaElement } from 'hyparquet-writer';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SnapshotColumn } from '../domain/snapshot-schema.js';

/**
 * Parquet encoding of a column list (the snapshot rows and the event archive both declare their columns as data,
 * so the writer, the Glue table and the docs come from one definition): UTF-8 strings, INT32, INT64, DOUBLE and
 * UTC millisecond timestamps.
 */
const TIMESTAMP = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } as const;

export function parquetSchemaOf(columns: readonly SnapshotColumn[]): SchemaElement[] {
  return [
    { name: 'root', num_children: columns.length },
    ...columns.map((c): SchemaElement => {
      const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
      switch (c.type) {
        case 'string':
          return { name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
        case 'int':
          return { name: c.name, type: 'INT32', repetition_type };
        case 'bigint':
          return { name: c.name, type: 'INT64', repetition_type };
        case 'double':
          return { name: c.name, type: 'DOUBLE', repetition_type };
        default: // 'timestamp'
          return {
            name: c.name,
            type: 'INT64',
            converted_type: 'TIMESTAMP_MILLIS',
            logical_type: TIMESTAMP,
            repetition_type,
          };
      }
    }),
  ];
}

export interface ParquetFileOptions {
  /** Rows per row group. @default 100_000 */
  rowGroupSize?: number;
  /** Key/value metadata written in the footer (e.g. the schema version). */
  metadata?: Record<string, string>;
}

/**
 * Encode rows (keyed by column name, values in the column's JS form: numbers for ints, doubles, bigints and epoch
 * millisecond timestamps) as one snappy-compressed Parquet file.
 */
export function encodeParquet(
  columns: readonly SnapshotColumn[],
  rows: readonly Record<string, unknown>[],
  options: ParquetFileOptions = {},
): Uint8Array {
  const schema = parquetSchemaOf(columns);
  const columnData = columns.map((c) => {
    if (c.type === 'bigint' || c.type === 'timestamp') {
      return {
        name: c.name,
        data: rows.map((r) => {
          const v = r[c.name];
          return v === null || v === undefined ? null : BigInt(v as number);
        }),
      };
    }
    return { name: c.name, data: rows.map((r) => r[c.name] ?? null) };
  });
  const buffer = parquetWriteBuffer({
    columnData,
    schema,
    rowGroupSize: options.rowGroupSize ?? 100_000,
    createdBy: 'pulse',
    kvMetadata: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return new Uint8Array(buffer);
}
