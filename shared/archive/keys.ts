/** Object keys of the raw event archive (docs/data-model.md#event-archive). */
export const ARCHIVE_PREFIX = 'events/';

export const archiveDayPrefix = (date: string) => `${ARCHIVE_PREFIX}dt=${date}/`;
/** One file per day and user shard; re-archiving a day replaces it in place. */
export const archivePartKey = (date: string, shard: number) => `${archiveDayPrefix(date)}shard=${shard}/events.parquet`;
/** Written last: a day without it has not been archived (readers fall back to the events table). */
export const archiveManifestKey = (date: string) => `${archiveDayPrefix(date)}_manifest.json`;
