/**
 * Object keys of a run in the snapshot bucket. Snapshots follow docs/runs.md#snapshots exactly; `runs/<runId>/` holds a run's
 * intermediate objects (the shard list the state machine's Distributed Map reads, each shard's raw scores), which
 * a bucket lifecycle rule may expire after a few days.
 */
const pad = (n: number) => String(n).padStart(5, '0');

export const runPrefix = (runId: string) => `runs/${runId}/`;
/** JSON array of `{ runId, shard }`: the Distributed Map's ItemReader input. */
export const shardItemsKey = (runId: string) => `runs/${runId}/shards.json`;
/** One shard's raw scores: gzipped JSON lines (a header line, then one row per entity). */
export const rawRowsKey = (runId: string, shard: number) => `runs/${runId}/raw/shard-${pad(shard)}.jsonl.gz`;
/** Where a worker left a shard it could not finish in one invocation (see checkpoint.ts). */
export const checkpointKey = (runId: string, shard: number) => `runs/${runId}/checkpoints/shard-${pad(shard)}.bin`;
/** One shard's raw score numbers as little-endian float64 (percentile models only). */
export const rawNumbersKey = (runId: string, shard: number) => `runs/${runId}/raw/shard-${pad(shard)}.f64`;

export const modelPrefix = (model: string) => `snapshots/model=${model}/`;
export const partitionPrefix = (model: string, date: string) => `snapshots/model=${model}/dt=${date}/`;
export const partKey = (model: string, date: string, runId: string, part: number) =>
  `${partitionPrefix(model, date)}part-${runId}-${pad(part)}.parquet`;
export const manifestKey = (model: string, date: string) => `${partitionPrefix(model, date)}_manifest.json`;
export const latestKey = (model: string) => `snapshots/model=${model}/latest.json`;
