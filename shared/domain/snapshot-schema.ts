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

export const SNAPSHOT_COLUMNS: readonly SnapshotColumn[] = [
  { name: 'entity_type', type: 'string', nullable: false, description: 'user or account' },
  { name: 'entity_id', type: 'string', nullable: false, description: 'the user or account id' },
  {
    name: 'account_id',
    type: 'string',
    nullable: true,
    description: "the user's account (users), the account itself (accounts)",
  },
  { name: 'model', type: 'string', nullable: false, description: 'model name' },
  { name: 'model_version', type: 'int', nullable: false, description: 'model version' },
  { name: 'as_of', type: 'timestamp', nullable: false, description: 'the instant T the run was evaluated at (UTC)' },
  { name: 'window_days', type: 'int', nullable: false, description: 'window length in days' },
  { name: 'raw_score', type: 'double', nullable: false, description: 'sum of signal points and penalties' },
  { name: 'score', type: 'double', nullable: false, description: 'normalised score' },
  { name: 'band', type: 'string', nullable: false, description: 'band name' },
  { name: 'previous_score', type: 'double', nullable: true, description: "score in the model's previous run" },
  { name: 'delta', type: 'double', nullable: true, description: 'score − previous_score' },
  { name: 'previous_band', type: 'string', nullable: true, description: 'band in the previous run' },
  { name: 'last_seen_at', type: 'timestamp', nullable: true, description: 'latest event before as_of (UTC)' },
  { name: 'event_count', type: 'bigint', nullable: false, description: 'events in the window' },
  {
    name: 'active_days',
    type: 'int',
    nullable: false,
    description: 'local days in the window with at least one event',
  },
  {
    name: 'contributions',
    type: 'string',
    nullable: false,
    description: 'JSON: [{signal, value, points}] and penalties',
  },
  {
    name: 'override',
    type: 'string',
    nullable: true,
    description: 'JSON {band?, score?, reason, expiresAt, createdAt} of a manual override in force (schema version 2)',
  },
];
