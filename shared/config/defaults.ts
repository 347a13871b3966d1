/**
 * Defaults shared by the functions, local mode, the adapters and the CDK app, so one value is stated once
 * (docs/configuration.md).
 */
export { DEFAULT_HOT_MARGIN_DAYS, DEFAULT_RETENTION_DAYS } from '../domain/hot-window.js';

/** Shards a run fans out over, and the partitions events, entities and scores are spread across. */
export const DEFAULT_SHARD_COUNT = 16;
/** Bounds on the shard count (PULSE_SHARD_COUNT). */
export const MIN_SHARD_COUNT = 1;
export const MAX_SHARD_COUNT = 1024;
/** Bounds on a period in days (PULSE_RETENTION_DAYS, PULSE_HOT_DAYS). */
export const MAX_DAYS = 3650;
