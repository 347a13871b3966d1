import { InvalidFieldError } from '../../shared/domain/errors.js';
import { WORKER_EVENTS_PER_SECOND } from '../../shared/run/worker-speed.js';
import { DEPLOYMENT } from './deployment.js';
import { PRICES, PRICES_AS_OF, type UnitPrice } from './prices.js';

/**
 * Monthly AWS cost of a Pulse deployment (docs/operations.md#cost-model shows the arithmetic). Every line is a
 * formula over the input, the unit prices (prices.ts) and the deployment's own constants (deployment.ts, the ones
 * the CDK app builds the stack from). Two designs are priced (DESIGNS): `tiered` (what this version deploys) and
 * `before` (the design this work started from), so `pulse cost --compare` shows what changed.
 */
export type CostDesign = 'tiered' | 'before';

export interface CostInput {
  /** Events ingested a month. */
  eventsPerMonth: number;
  /** Entities (users + accounts) scored by each run. */
  entities: number;
  /** Models running side by side. @default 1 */
  models?: number;
  /** Runs per model a month (daily = 30, weekly ≈ 4.35). @default 30 */
  runsPerMonth?: number;
  /** Window of the models, days. @default 30 */
  windowDays?: number;
  /** The longest `inactiveDays` penalty (a run reads back max(window, this)). @default 14 */
  inactiveDays?: number;
  /** Events a request carries (Segment libraries batch up to ~100; native up to 500). @default 50 */
  eventsPerRequest?: number;
  /** Stored size of one event item, bytes (short attribute names, properties as JSON). @default 300 */
  eventBytes?: number;
  /** Share of events that carry or resolve an account (written to the byAccount index too). @default 1 */
  accountShare?: number;
  /** Days events are kept (in the archive; in the table too in the `before` design). @default 400 */
  retentionDays?: number;
  /** Months of dated snapshots kept in S3 (they have no expiry; lifecycle them if you like). @default 12 */
  snapshotMonthsKept?: number;
  /** Share of scored entities that raise an alert in a run. @default 0.02 */
  alertShare?: number;
  /** Shards of the event store. @default DEPLOYMENT.shardCount */
  shardCount?: number;
  /**
   * Share of scores whose history entry differs from the run before (score, raw score, band, delta, contributions,
   * penalties, override): only those write a history row (docs/data-model.md#history-runs).
   * @default COST_ASSUMPTIONS.historyChangeShare (measured)
   */
  historyChangeShare?: number;
}

/** What distinguishes the priced designs. */
export interface DesignParameters {
  description: string;
  /** Events older than the hot window live in the S3 archive (else in the table for the retention period). */
  archive: boolean;
  /** A read of each event id before it is written (the ingest before conditional puts). */
  duplicateChecks: boolean;
  /** Stored bytes of a current score item and of a history row. */
  scoreItemBytes: number;
  historyItemBytes: number;
  /** A history row for every score of every run (else only when the entry changed). */
  historyEveryRun: boolean;
}

export interface CostLineItem {
  /** Stable id of the line (the same in both designs, for comparisons). */
  id: string;
  service: string;
  item: string;
  quantity: number;
  unit: string;
  monthlyUsd: number;
  /** How the quantity was computed, in words and numbers. */
  formula: string;
}

export interface CostEstimate {
  design: CostDesign;
  input: Required<CostInput>;
  /** Days the events table keeps an event (the TTL). */
  hotDays: number;
  pricesAsOf: string;
  lineItems: CostLineItem[];
  totalUsd: number;
  /** Cost per million ingested events, all-in. */
  usdPerMillionEvents: number;
}

/**
 * Share of daily scores whose history entry differs from the day before (bench section "history": 30 daily runs
 * over real CDNOW purchases, 23,570 customers, a 90-day model with a decaying signal like the example models): 0.24
 * (0.05 without decay).
 */
const MEASURED_HISTORY_CHANGE_SHARE = 0.24;

export const COST_DEFAULTS: Required<Omit<CostInput, 'eventsPerMonth' | 'entities'>> = {
  models: 1,
  runsPerMonth: 30,
  windowDays: 30,
  inactiveDays: 14,
  eventsPerRequest: 50,
  eventBytes: 300,
  accountShare: 1,
  retentionDays: DEPLOYMENT.retentionDays,
  snapshotMonthsKept: 12,
  alertShare: 0.02,
  shardCount: DEPLOYMENT.shardCount,
  historyChangeShare: MEASURED_HISTORY_CHANGE_SHARE,
};

const MB_PER_GB = 1024;

/** Engineering constants (measured, or conservative where marked; docs/operations.md#assumptions). */
export const COST_ASSUMPTIONS = {
  /** Ingest Lambda: fixed ms a request plus ms per event (validation, DynamoDB batch round trips). */
  ingestBaseMs: 25,
  ingestMsPerEvent: 0.4,
  ingestMemoryGb: DEPLOYMENT.memoryMb.ingest / MB_PER_GB,
  /** Worker: events a second one worker streams from DynamoDB Query pages through the engine (bench: ~500k). */
  workerEventsPerSecond: WORKER_EVENTS_PER_SECOND,
  workerMemoryGb: DEPLOYMENT.memoryMb.runWorker / MB_PER_GB,
  /** Finalise: entities a second (normalise, band, trend, write scores, Parquet). */
  finaliseEntitiesPerSecond: 5_000,
  finaliseMemoryGb: DEPLOYMENT.memoryMb.runFinalise / MB_PER_GB,
  /** Archive step: events a second read from the table and written as Parquet (conservative; bench "archive"). */
  archiveEventsPerSecond: 50_000,
  archiveMemoryGb: DEPLOYMENT.memoryMb.archive / MB_PER_GB,
  /** Each day is archived twice, a day apart (late events; docs/operations.md#event-archive). */
  archivePassesPerDay: 2,
  /** Parquet bytes per archived event (bench "archive: Parquet bytes per event": 29 B, rounded up). */
  archiveBytesPerEvent: 30,
  /** Entity record read per entity and run (listing the shard's known entities, 4 KB pages, eventually consistent). */
  entityRecordBytes: 400,
  /**
   * Measured (test/integration/run/score-items.test.ts, an active user of the example `customer` model: 8 signals,
   * 3 penalties, a previous score): a current score item in the compact layout, with its open history run, is
   * 792 B (1,706 B before), so it and its `byScore` copy are one write unit each.
   */
  scoreItemBytes: 810,
  /** Measured there too: a history row is 367 B (~650 B before). */
  historyItemBytes: 370,
  historyChangeShare: MEASURED_HISTORY_CHANGE_SHARE,
  /** Parquet bytes per snapshot row (compressed, contributions JSON included). */
  snapshotRowBytes: 150,
  /** Per-item overhead DynamoDB bills in storage. */
  dynamoItemOverheadBytes: 100,
  /** Bytes of logs per ingest request: one JSON log line + one access-log line (platform logs at WARN only). */
  logBytesPerRequest: 900,
  /** X-Ray default sampling: 1 request a second, plus 5% of the rest. */
  xrayReservoirPerMonth: 2_592_000,
  xrayRate: 0.05,
  /** CloudWatch alarms the stack creates (test/infra/cost.test.ts counts them in the template). */
  alarms: 17,
  /** Step Functions transitions: per run (plan, choices, map, finalise) and per shard item (its child execution). */
  transitionsPerRunFixed: 8,
  transitionsPerShard: 2,
  /** Per archive execution: choice, archive task, done. */
  transitionsPerArchive: 3,
} as const;

/** A cost input out of range: `field` names it (a CLI flag's value, not an HTTP request: kind `invalid-input`). */
export class CostInputError extends InvalidFieldError {
  constructor(field: string, message: string) {
    super(field, message, { kind: 'invalid-input' });
    this.name = 'CostInputError';
  }
}

const GB = 1024 ** 3;

/** Write units of one item write: 1 per started KB. */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

function checkInput(input: CostInput): Required<CostInput> {
  const full = { ...COST_DEFAULTS, ...input } as Required<CostInput>;
  for (const [field, value] of Object.entries(full)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new CostInputError(field, `must be a number ≥ 0, got ${String(value)}`);
  }
  if (full.eventsPerRequest < 1) throw new CostInputError('eventsPerRequest', 'must be at least 1');
  if (full.shardCount < 1 || !Number.isInteger(full.shardCount))
    throw new CostInputError('shardCount', 'must be a whole number ≥ 1');
  if (full.accountShare > 1) throw new CostInputError('accountShare', 'must be between 0 and 1');
  if (full.alertShare > 1) throw new CostInputError('alertShare', 'must be between 0 and 1');
  if (full.historyChangeShare > 1) throw new CostInputError('historyChangeShare', 'must be between 0 and 1');
  return full;
}

export const DESIGNS: Record<CostDesign, DesignParameters> = {
  tiered: {
    description:
      'events table holds the hot window, then the S3 archive; one conditional put per event; compact score items; history rows only when the entry changed',
    archive: true,
    duplicateChecks: false,
    scoreItemBytes: COST_ASSUMPTIONS.scoreItemBytes,
    historyItemBytes: COST_ASSUMPTIONS.historyItemBytes,
    historyEveryRun: false,
  },
  before: {
    description:
      'every event kept in DynamoDB for the retention period; a duplicate read per event at ingest; whole scores as JSON; a history row per score and run',
    archive: false,
    duplicateChecks: true,
    // Measured then with the example models: ~1.1 KB and ~650 B.
    scoreItemBytes: 1_100,
    historyItemBytes: 650,
    historyEveryRun: true,
  },
};

/** Days a run reads back, and the events table's TTL in the tiered design (shared/domain/hot-window.ts). */
export function hotDaysOf(input: Pick<CostInput, 'windowDays' | 'inactiveDays'>): number {
  const lookback = Math.max(
    input.windowDays ?? COST_DEFAULTS.windowDays,
    input.inactiveDays ?? COST_DEFAULTS.inactiveDays,
  );
  return lookback + 1 + DEPLOYMENT.hotMarginDays;
}

/** Monthly cost of Pulse for a volume, as line items with the arithmetic that produced each one. */
export function estimateCost(input: CostInput, design: CostDesign = 'tiered'): CostEstimate {
  const i = checkInput(input);
  const a = COST_ASSUMPTIONS;
  const d = DESIGNS[design];
  const tiered = d.archive;
  const items: CostLineItem[] = [];
  const add = (id: string, service: string, item: string, p: UnitPrice, quantity: number, formula: string) =>
    items.push({ id, service, item, quantity, unit: p.unit, monthlyUsd: (quantity / p.per) * p.usd, formula });

  const runs = i.models * i.runsPerMonth;
  const requests = Math.ceil(i.eventsPerMonth / i.eventsPerRequest);
  const eventsPerDay = i.eventsPerMonth / 30;
  const lookbackDays = tiered ? Math.max(i.windowDays, i.inactiveDays) : i.windowDays;
  const eventsRead = eventsPerDay * lookbackDays;
  const hotDays = tiered ? hotDaysOf(i) : i.retentionDays;
  const bytesPerEvent = i.eventBytes + a.dynamoItemOverheadBytes;

  // ---- Ingest ----
  add(
    'ingest-api',
    'API Gateway',
    'ingest requests',
    PRICES.httpApiRequests,
    requests,
    `${i.eventsPerMonth} events / ${i.eventsPerRequest} a request`,
  );
  add(
    'ingest-invocations',
    'Lambda',
    'ingest requests',
    PRICES.lambdaRequests,
    requests,
    'one invocation per HTTP request',
  );
  const ingestGbs = requests * ((a.ingestBaseMs + a.ingestMsPerEvent * i.eventsPerRequest) / 1000) * a.ingestMemoryGb;
  add(
    'ingest-compute',
    'Lambda',
    'ingest compute',
    PRICES.lambdaArmGbSeconds,
    ingestGbs,
    `${requests} requests × (${a.ingestBaseMs} ms + ${a.ingestMsPerEvent} ms × ${i.eventsPerRequest} events) × ${a.ingestMemoryGb} GB`,
  );
  add(
    'event-writes',
    'DynamoDB',
    'event writes',
    PRICES.dynamoWriteRequestUnits,
    i.eventsPerMonth * (1 + i.accountShare),
    `${i.eventsPerMonth} events × (1 item + ${i.accountShare} byAccount index copy), each ≤ 1 KB = 1 WRU`,
  );
  if (d.duplicateChecks) {
    add(
      'event-duplicate-checks',
      'DynamoDB',
      'duplicate checks at ingest',
      PRICES.dynamoReadRequestUnits,
      i.eventsPerMonth,
      `${i.eventsPerMonth} events × 1 RRU (strongly consistent batch read of the event id)`,
    );
  }

  // ---- Runs ----
  add(
    'run-window-reads',
    'DynamoDB',
    'window reads by runs',
    PRICES.dynamoReadRequestUnits,
    runs * ((eventsRead * bytesPerEvent) / 4096) * 0.5,
    `${runs} runs × ${Math.round(eventsRead)} events in ${lookbackDays} days read back × ${bytesPerEvent} B / 4 KB × 0.5 RRU`,
  );
  add(
    'run-entity-reads',
    'DynamoDB',
    'entity and previous-score reads',
    PRICES.dynamoReadRequestUnits,
    runs * ((i.entities * (a.entityRecordBytes + d.scoreItemBytes)) / 4096) * 0.5,
    `${runs} runs × ${i.entities} entities × ${a.entityRecordBytes + d.scoreItemBytes} B / 4 KB × 0.5 RRU`,
  );
  const currentUnits = writeUnits(d.scoreItemBytes);
  const historyUnits = writeUnits(d.historyItemBytes);
  const changed = d.historyEveryRun ? 1 : i.historyChangeShare;
  // A change after unchanged runs also closes the run before it: its first row is written again with the run's
  // days (docs/data-model.md#history-runs). Independent days: a change follows an unchanged day this often.
  const closes = d.historyEveryRun ? 0 : changed * (1 - changed);
  const historyWrites = (changed + closes) * historyUnits;
  add(
    'run-score-writes',
    'DynamoDB',
    'score and history writes',
    PRICES.dynamoWriteRequestUnits,
    runs * i.entities * (2 * currentUnits + historyWrites),
    d.historyEveryRun
      ? `${runs} runs × ${i.entities} entities × (current ${currentUnits} + byScore copy ${currentUnits} + history ${historyUnits} WRU)`
      : `${runs} runs × ${i.entities} entities × (current ${currentUnits} + byScore copy ${currentUnits} + ${changed} changed × history ${historyUnits} + ${closes.toFixed(3)} closing a run WRU)`,
  );

  // ---- Storage ----
  const storedEvents = eventsPerDay * hotDays;
  const eventGb = (storedEvents * (1 + i.accountShare) * bytesPerEvent) / GB;
  // History rows: one per entity, model and run with a changed entry (every run before), kept for the retention
  // period (a closed run's days are a few bytes on its first row).
  const scoreRuns = i.entities * i.models * i.runsPerMonth * (i.retentionDays / 30);
  const historyBytes = scoreRuns * changed * (d.historyItemBytes + a.dynamoItemOverheadBytes);
  const scoresGb =
    (i.entities * i.models * 2 * (d.scoreItemBytes + a.dynamoItemOverheadBytes) +
      historyBytes +
      i.entities * (a.entityRecordBytes + a.dynamoItemOverheadBytes)) /
    GB;
  add(
    'dynamo-storage',
    'DynamoDB',
    'storage',
    PRICES.dynamoStorageGbMonth,
    eventGb + scoresGb,
    `events ${eventGb.toFixed(2)} GB (${Math.round(storedEvents)} kept ${hotDays} days, with index copies) + scores ${scoresGb.toFixed(2)} GB`,
  );
  const pitrGb = (DEPLOYMENT.pitr.events ? eventGb : 0) + (DEPLOYMENT.pitr.scores ? scoresGb : 0);
  add(
    'dynamo-pitr',
    'DynamoDB',
    'point-in-time recovery',
    PRICES.dynamoPitrGbMonth,
    pitrGb,
    tiered
      ? 'continuous backups of the events table (hot window only) and the scores table'
      : 'continuous backups of both tables',
  );

  // ---- Run compute and orchestration ----
  const workerGbs =
    runs * (eventsRead / a.workerEventsPerSecond) * a.workerMemoryGb + runs * i.shardCount * 0.5 * a.workerMemoryGb;
  add(
    'run-worker-compute',
    'Lambda',
    'run workers compute',
    PRICES.lambdaArmGbSeconds,
    workerGbs,
    `${runs} runs × (${Math.round(eventsRead)} events / ${a.workerEventsPerSecond} per s + ${i.shardCount} shards × 0.5 s start) × ${a.workerMemoryGb} GB`,
  );
  add(
    'run-finalise-compute',
    'Lambda',
    'plan and finalise compute',
    PRICES.lambdaArmGbSeconds,
    runs * (i.entities / a.finaliseEntitiesPerSecond + 1) * a.finaliseMemoryGb,
    `${runs} runs × (${i.entities} entities / ${a.finaliseEntitiesPerSecond} per s + 1 s) × ${a.finaliseMemoryGb} GB`,
  );
  add(
    'run-invocations',
    'Lambda',
    'run invocations',
    PRICES.lambdaRequests,
    runs * (i.shardCount + 2),
    `${runs} runs × (${i.shardCount} shard workers + plan + finalise)`,
  );
  add(
    'run-transitions',
    'Step Functions',
    'state transitions',
    PRICES.stepFunctionsTransitions,
    runs * (a.transitionsPerRunFixed + i.shardCount * a.transitionsPerShard),
    `${runs} runs × (${a.transitionsPerRunFixed} + ${i.shardCount} shards × ${a.transitionsPerShard})`,
  );
  add(
    'run-schedules',
    'EventBridge Scheduler',
    'schedule invocations',
    PRICES.schedulerInvocations,
    runs + (tiered ? 30 : 0),
    tiered ? `${runs} runs + 30 daily archive steps` : 'one per scheduled run',
  );

  // ---- Event archive (tiered design) ----
  if (tiered) {
    const passes = a.archivePassesPerDay;
    add(
      'archive-reads',
      'DynamoDB',
      'archive step reads',
      PRICES.dynamoReadRequestUnits,
      passes * ((i.eventsPerMonth * bytesPerEvent) / 4096) * 0.5,
      `${passes} passes × ${i.eventsPerMonth} events × ${bytesPerEvent} B / 4 KB × 0.5 RRU`,
    );
    add(
      'archive-compute',
      'Lambda',
      'archive step compute',
      PRICES.lambdaArmGbSeconds,
      passes * (i.eventsPerMonth / a.archiveEventsPerSecond) * a.archiveMemoryGb + 30 * a.archiveMemoryGb,
      `${passes} passes × ${i.eventsPerMonth} events / ${a.archiveEventsPerSecond} per s × ${a.archiveMemoryGb} GB + 30 × 1 s start`,
    );
    add(
      'archive-writes',
      'S3',
      'archive writes',
      PRICES.s3PutRequests,
      30 * passes * (i.shardCount + 1),
      `30 days × ${passes} passes × (${i.shardCount} shard files + manifest)`,
    );
    add(
      'archive-gets',
      'S3',
      'archive merge reads',
      PRICES.s3GetRequests,
      30 * passes * i.shardCount,
      `30 days × ${passes} passes × ${i.shardCount} shard files read to merge`,
    );
    const archiveGb = (i.eventsPerMonth * (i.retentionDays / 30) * a.archiveBytesPerEvent) / GB;
    add(
      'archive-storage',
      'S3',
      'archive storage',
      PRICES.s3StorageGbMonth,
      archiveGb,
      `${i.eventsPerMonth} events a month × ${(i.retentionDays / 30).toFixed(1)} months kept × ${a.archiveBytesPerEvent} B (Parquet)`,
    );
    add(
      'archive-transitions',
      'Step Functions',
      'archive transitions',
      PRICES.stepFunctionsTransitions,
      30 * a.transitionsPerArchive,
      `30 daily executions × ${a.transitionsPerArchive}`,
    );
  }

  // ---- Snapshots and alerts ----
  add(
    'snapshot-storage',
    'S3',
    'snapshot storage',
    PRICES.s3StorageGbMonth,
    (i.entities * a.snapshotRowBytes * runs * i.snapshotMonthsKept) / GB,
    `${i.entities} rows × ${a.snapshotRowBytes} B × ${runs} runs a month × ${i.snapshotMonthsKept} months kept`,
  );
  const partFiles = Math.max(1, Math.ceil(i.entities / 100_000));
  add(
    'snapshot-writes',
    'S3',
    'snapshot and run writes',
    PRICES.s3PutRequests,
    runs * (partFiles + 3 + i.shardCount * 2),
    `${runs} runs × (${partFiles} part files + manifest, pointer, plan + 2 per shard)`,
  );
  add(
    'run-gets',
    'S3',
    'run reads',
    PRICES.s3GetRequests,
    runs * (i.shardCount + 2),
    `${runs} runs × (${i.shardCount} shard outputs + plan + map results)`,
  );
  add(
    'alerts',
    'EventBridge',
    'alerts published',
    PRICES.eventBridgeEvents,
    runs * i.entities * i.alertShare,
    `${runs} runs × ${i.entities} entities × ${i.alertShare} alerting`,
  );

  // ---- Observability and configuration ----
  const logGb = (requests * a.logBytesPerRequest) / GB;
  add(
    'logs-ingestion',
    'CloudWatch Logs',
    'ingestion',
    PRICES.logsIngestionGb,
    logGb,
    `${requests} requests × ${a.logBytesPerRequest} B (function + access log line)`,
  );
  add(
    'logs-storage',
    'CloudWatch Logs',
    `storage (${DEPLOYMENT.logRetentionDays}-day retention)`,
    PRICES.logsStorageGbMonth,
    logGb,
    'one month of logs kept at any time',
  );
  add(
    'xray',
    'X-Ray',
    'sampled traces',
    PRICES.xrayTraces,
    Math.min(requests, a.xrayReservoirPerMonth) + Math.max(0, requests - a.xrayReservoirPerMonth) * a.xrayRate,
    `1 request/s reservoir + ${a.xrayRate * 100}% of the rest of ${requests} requests`,
  );
  add('secret', 'Secrets Manager', 'write-key secret', PRICES.secretMonth, 1, 'one secret');
  add(
    'secret-reads',
    'Secrets Manager',
    'secret reads',
    PRICES.secretApiCalls,
    43_200 * 4,
    'up to 4 warm ingest instances × one read a minute (docs/operations.md#revoking-a-write-key)',
  );
  add('alarms', 'CloudWatch', 'alarms', PRICES.alarmMonth, a.alarms, `${a.alarms} alarms`);
  add('dashboard', 'CloudWatch', 'dashboard', PRICES.dashboardMonth, 1, 'one dashboard');

  const totalUsd = items.reduce((sum, item) => sum + item.monthlyUsd, 0);
  return {
    design,
    input: i,
    hotDays,
    pricesAsOf: PRICES_AS_OF,
    lineItems: items,
    totalUsd,
    usdPerMillionEvents: i.eventsPerMonth > 0 ? totalUsd / (i.eventsPerMonth / 1e6) : 0,
  };
}

export interface CostComparisonRow {
  id: string;
  service: string;
  item: string;
  beforeUsd: number;
  afterUsd: number;
}

/** The two designs line by line (a line missing from one design is $0 there). */
export function compareCost(input: CostInput): {
  before: CostEstimate;
  after: CostEstimate;
  rows: CostComparisonRow[];
} {
  const before = estimateCost(input, 'before');
  const after = estimateCost(input, 'tiered');
  const rows = new Map<string, CostComparisonRow>();
  for (const li of before.lineItems)
    rows.set(li.id, { id: li.id, service: li.service, item: li.item, beforeUsd: li.monthlyUsd, afterUsd: 0 });
  for (const li of after.lineItems) {
    const row = rows.get(li.id) ?? { id: li.id, service: li.service, item: li.item, beforeUsd: 0, afterUsd: 0 };
    row.afterUsd = li.monthlyUsd;
    rows.set(li.id, row);
  }
  return { before, after, rows: [...rows.values()] };
}
