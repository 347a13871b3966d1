/**
 * The deployment's sizing constants: the CDK constructs build the stack from these, and `pulse cost` prices the
 * same numbers (test/infra/cost.test.ts checks the synthesised template against them). No CDK imports here: the
 * CLI loads this file.
 */
export const DEPLOYMENT = {
  /** Event shards (events table partitions, run workers, archive files per day). */
  shardCount: 16,
  /** Lambda memory (MB), arm64. */
  memoryMb: {
    ingest: 1024,
    api: 1024,
    runPlan: 512,
    runWorker: 2048,
    runFinalise: 3008,
    archive: 1024,
  },
  /** Days an archived event is kept in S3 (lifecycle rule on `events/`), and how old an ingested event may be. */
  retentionDays: 400,
  /** Days added to the models' longest lookback for the events table's TTL (docs/data-model.md#hot-window). */
  hotMarginDays: 7,
  /**
   * Point-in-time recovery on the events table (the hot window only; older days are in the archive) and on the
   * scores table, which holds what no event does: traits and account links, overrides, alert history
   * (docs/operations.md#cheaper-writes-what-was-decided).
   */
  pitr: { events: true, scores: true },
  /** Log retention of functions, the state machine and API access logs, days. */
  logRetentionDays: 30,
  /** The daily archive step, UTC: after the day is over, before the model schedules (00:15 local). */
  archiveScheduleUtc: { hour: 0, minute: 30 },
  /** Dated snapshot objects are kept (no expiry rule); the cost model assumes this many months. */
} as const;
