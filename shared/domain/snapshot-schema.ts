/**
 * The snapshot row schema (docs/runs.md#snapshots): one source of truth for the Parquet writer, the Glue table and the docs.
 * Column names and types are stable; any change bumps SNAPSHOT_SCHEMA_VERSION.
 */
export const SNAPSHOT_SCHEMA_VERSION = 2;

export type SnapshotColumnType = 'string' | 'int' | 'bigint' | 'double' | 'timestamp';

export interface SnapshotColumn {
  name: string;
  type: SnapshotColumnType;
  nullable: boolean;
  description: string;
}

/** One column, written as in a table definition: `column('band', 'string', 'not null', 'band name')`. */
export function column(
  name: string,
  type: SnapshotColumnType,
  nulls: 'null' | 'not null',
  description: string,
): SnapshotColumn {
  return { name, type, nullable: nulls === 'null', description };
}

export const SNAPSHOT_COLUMNS: readonly SnapshotColumn[] = [
  column('entity_type', 'string', 'not null', 'user or account'),
  column('entity_id', 'string', 'not null', 'the user or account id'),
  column('account_id', 'string', 'null', "the user's account (users), the account itself (accounts)"),
  column('model', 'string', 'not null', 'model name'),
  column('model_version', 'int', 'not null', 'model version'),
  column('as_of', 'timestamp', 'not null', 'the instant T the run was evaluated at (UTC)'),
  column('window_days', 'int', 'not null', 'window length in days'),
  column('raw_score', 'double', 'not null', 'sum of signal points and penalties'),
  column('score', 'double', 'not null', 'normalised score'),
  column('band', 'string', 'not null', 'band name'),
  column('previous_score', 'double', 'null', "score in the model's previous run"),
  column('delta', 'double', 'null', 'score − previous_score'),
  column('previous_band', 'string', 'null', 'band in the previous run'),
  column('last_seen_at', 'timestamp', 'null', 'latest event before as_of (UTC)'),
  column('event_count', 'bigint', 'not null', 'events in the window'),
  column('active_days', 'int', 'not null', 'local days in the window with at least one event'),
  column('contributions', 'string', 'not null', 'JSON: [{signal, value, points}] and penalties'),
  column(
    'override',
    'string',
    'null',
    'JSON {band?, score?, reason, expiresAt, createdAt} of a manual override in force (schema version 2)',
  ),
];
