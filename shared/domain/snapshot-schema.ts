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

const COLUMN_LINE = /^(\w+)\s+(string|int|bigint|double|timestamp)\s+(not null|null)\s+(\S.*)$/;

/**
 * Columns written as a table, one a line: name, type, `null` or `not null`, description. The schemas below and the
 * event archive's are stated this way, so each reads like the table definition it becomes.
 */
export function columns(table: string): SnapshotColumn[] {
  return table
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const match = COLUMN_LINE.exec(line);
      if (!match) throw new Error(`not a column (name type null|not null description): "${line}"`);
      // The pattern admits only the SnapshotColumnType names.
      const [, name = '', type = '', nulls, description = ''] = match;
      return { name, type: type as SnapshotColumnType, nullable: nulls === 'null', description };
    });
}

export const SNAPSHOT_COLUMNS: readonly SnapshotColumn[] = columns(`
  entity_type     string     not null  user or account
  entity_id       string     not null  the user or account id
  account_id      string     null      the user's account (users), the account itself (accounts)
  model           string     not null  model name
  model_version   int        not null  model version
  as_of           timestamp  not null  the instant T the run was evaluated at (UTC)
  window_days     int        not null  window length in days
  raw_score       double     not null  sum of signal points and penalties
  score           double     not null  normalised score
  band            string     not null  band name
  previous_score  double     null      score in the model's previous run
  delta           double     null      score − previous_score
  previous_band   string     null      band in the previous run
  last_seen_at    timestamp  null      latest event before as_of (UTC)
  event_count     bigint     not null  events in the window
  active_days     int        not null  local days in the window with at least one event
  contributions   string     not null  JSON: [{signal, value, points}] and penalties
  override        string     null      JSON {band?, score?, reason, expiresAt, createdAt} of a manual override in force (schema version 2)
`);
