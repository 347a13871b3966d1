import { columns, type SnapshotColumn } from './snapshot-schema.js';

/**
 * The raw event archive (docs/data-model.md#event-archive): one Parquet file per UTC day and user shard under
 * `events/dt=<YYYY-MM-DD>/shard=<N>/`. One source of truth for the writer, the reader, the Glue table and the docs;
 * a change of names or types bumps EVENT_ARCHIVE_SCHEMA_VERSION.
 */
export const EVENT_ARCHIVE_SCHEMA_VERSION = 1;

export const EVENT_ARCHIVE_COLUMNS: readonly SnapshotColumn[] = columns(`
  event_id     string     not null  event id (unique per user)
  user_id      string     not null  the user who did it
  account_id   string     null      the event's account, or its user's account at ingest
  name         string     not null  event name
  occurred_at  timestamp  not null  event timestamp (UTC)
  properties   string     null      event properties as JSON text
`);

/** Partition columns of the archive (Hive style, in the object keys). */
export const EVENT_ARCHIVE_PARTITIONS = [
  { name: 'dt', type: 'string', comment: 'UTC day of occurred_at (yyyy-MM-dd)' },
  { name: 'shard', type: 'int', comment: "the user's shard (same sharding as the events table)" },
] as const;
