import type { RunSummary } from '../domain/run-summary.js';

/** A run's lifecycle (docs/api.md `GET /v1/runs/{runId}`). */
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface RunCounts {
  /** Entities scored. */
  entities: number;
  /** Events read in the lookback period. */
  events: number;
  /**
   * Rows that could not be written (an id past the limits, an item DynamoDB refuses), skipped with the reason in the
   * run's log so the run still succeeds (docs/runs.md). Absent on runs recorded before it existed.
   */
  skipped?: number | undefined;
}

export interface RunSnapshot {
  /** `s3://<bucket>/snapshots/model=<name>/dt=<date>/` */
  uri: string;
  /** `s3://<bucket>/snapshots/model=<name>/dt=<date>/_manifest.json` */
  manifest: string;
}

export interface RunAlerts {
  fired: number;
  published: number;
  /** Alerts the sink would not take after retries (they are still stored and served at /v1/alerts). */
  failed: number;
  /** Why deliveries failed: a few distinct messages (status codes, network errors), never alert content. */
  errors?: string[] | undefined;
}

/**
 * One evaluation of one model as of one instant (`kind: 'run'`), or a backfill: one run per date in date order
 * (`kind: 'backfill'`, its `runs` the child run ids; counts are their sums).
 */
export interface RunRecord {
  runId: string;
  kind: 'run' | 'backfill';
  model: string;
  modelVersion: number;
  /** sha256 of the model's canonical JSON when the run was planned; workers refuse another content. */
  contentHash: string;
  /** ISO instant T (for a backfill: the last date's T). */
  asOf: string;
  /** As-of date in the model's time zone: the snapshot partition `dt`. */
  date: string;
  status: RunStatus;
  counts: RunCounts;
  snapshot: RunSnapshot | null;
  error: string | null;
  /** Shards the run was planned with (the event store's shard count). */
  shardCount: number;
  /** Fire alerts for scores that become current (off for backfills). */
  alerts: boolean;
  alertCounts?: RunAlerts | undefined;
  /** Band counts, histogram and movers of a succeeded run (docs/dashboard.md#aggregates); absent on older runs. */
  summary?: RunSummary | undefined;
  /** A backfill's runs, in date order; a child's parent. */
  runs?: string[] | undefined;
  parentRunId?: string | undefined;
  /** ISO instants. */
  createdAt: string;
  updatedAt: string;
}

export type RunPatch = Partial<
  Pick<RunRecord, 'status' | 'counts' | 'snapshot' | 'error' | 'alertCounts' | 'runs' | 'summary'>
>;

export interface RunStore {
  /** Store a new run; throws RunExistsError when the id is taken. */
  create(run: RunRecord): Promise<void>;
  get(runId: string): Promise<RunRecord | undefined>;
  /** Apply a patch (sets updatedAt) and return the updated record; throws RunNotFoundError. */
  update(runId: string, patch: RunPatch): Promise<RunRecord>;
  /** Runs of a model, newest first. */
  list(model: string, limit?: number): Promise<RunRecord[]>;
}
