/**
 * Monthly AWS cost model of a Pulse deployment (docs/operations.md shows the arithmetic). Pure: no AWS calls, no
 * I/O. Prices are public us-east-1 on-demand list prices as of 2026 — check the AWS pricing pages for your region
 * and date. Free tiers are ignored (the estimate is an upper bound for accounts that already use them up).
 */

/** One unit price: what is billed, per how many units, and the USD price for that many. */
export interface UnitPrice {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
}

export const PRICES_AS_OF = '2026 (us-east-1, on-demand list prices; check https://aws.amazon.com/pricing/)';

export const PRICES = {
  httpApiRequests: { usd: 1.0, per: 1e6, unit: 'HTTP API requests (first 300M a month)' },
  lambdaRequests: { usd: 0.2, per: 1e6, unit: 'Lambda requests' },
  lambdaArmGbSeconds: { usd: 0.0000133334, per: 1, unit: 'Lambda GB-second (arm64)' },
  dynamoWriteRequestUnits: { usd: 0.625, per: 1e6, unit: 'DynamoDB on-demand write request units' },
  dynamoReadRequestUnits: { usd: 0.125, per: 1e6, unit: 'DynamoDB on-demand read request units' },
  dynamoStorageGbMonth: { usd: 0.25, per: 1, unit: 'DynamoDB standard storage GB-month' },
  dynamoPitrGbMonth: { usd: 0.2, per: 1, unit: 'DynamoDB continuous backup (PITR) GB-month' },
  s3StorageGbMonth: { usd: 0.023, per: 1, unit: 'S3 Standard GB-month' },
  s3PutRequests: { usd: 0.005, per: 1000, unit: 'S3 PUT/LIST requests' },
  s3GetRequests: { usd: 0.0004, per: 1000, unit: 'S3 GET requests' },
  stepFunctionsTransitions: { usd: 0.025, per: 1000, unit: 'Step Functions standard state transitions' },
  eventBridgeEvents: { usd: 1.0, per: 1e6, unit: 'EventBridge custom events published' },
  schedulerInvocations: { usd: 1.0, per: 1e6, unit: 'EventBridge Scheduler invocations' },
  logsIngestionGb: { usd: 0.5, per: 1, unit: 'CloudWatch Logs ingestion GB' },
  logsStorageGbMonth: { usd: 0.03, per: 1, unit: 'CloudWatch Logs storage GB-month' },
  xrayTraces: { usd: 5.0, per: 1e6, unit: 'X-Ray traces recorded' },
  secretMonth: { usd: 0.4, per: 1, unit: 'Secrets Manager secret-month' },
  secretApiCalls: { usd: 0.05, per: 10_000, unit: 'Secrets Manager API calls' },
  alarmMonth: { usd: 0.1, per: 1, unit: 'CloudWatch standard alarm-month' },
  dashboardMonth: { usd: 3.0, per: 1, unit: 'CloudWatch dashboard-month' },
} as const satisfies Record<string, UnitPrice>;

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
  /** Events a request carries (Segment libraries batch up to ~100; native up to 500). @default 50 */
  eventsPerRequest?: number;
  /** Stored size of one event item, bytes (short attribute names, properties as JSON). @default 300 */
  eventBytes?: number;
  /** Share of events that carry or resolve an account (written to the byAccount index too). @default 1 */
  accountShare?: number;
  /** Days events are kept (TTL). @default 400 */
  retentionDays?: number;
  /** Months of dated snapshots kept in S3 (they have no expiry; lifecycle them if you like). @default 12 */
  snapshotMonthsKept?: number;
  /** Share of scored entities that raise an alert in a run. @default 0.02 */
  alertShare?: number;
  /** Shards of the event store. @default 16 */
  shardCount?: number;
}

export interface CostLineItem {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  monthlyUsd: number;
  /** How the quantity was computed, in words and numbers. */
  formula: string;
}

export interface CostEstimate {
  input: Required<CostInput>;
  pricesAsOf: string;
  lineItems: CostLineItem[];
  totalUsd: number;
  /** Cost per million ingested events, all-in. */
  usdPerMillionEvents: number;
}

export const COST_DEFAULTS: Required<Omit<CostInput, 'eventsPerMonth' | 'entities'>> = {
  models: 1,
  runsPerMonth: 30,
  windowDays: 30,
  eventsPerRequest: 50,
  eventBytes: 300,
  accountShare: 1,
  retentionDays: 400,
  snapshotMonthsKept: 12,
  alertShare: 0.02,
  shardCount: 16,
};

/** Engineering constants of the model (measured or conservative; see docs/operations.md). */
export const COST_ASSUMPTIONS = {
  /** Ingest Lambda: fixed ms a request plus ms per event (validation, two DynamoDB batch round trips per 25). */
  ingestBaseMs: 25,
  ingestMsPerEvent: 0.4,
  ingestMemoryGb: 1,
  /** Worker: events a second one worker streams from DynamoDB Query pages through the engine. */
  workerEventsPerSecond: 50_000,
  workerMemoryGb: 2,
  /** Finalise: entities a second (normalise, band, trend, write scores, Parquet). */
  finaliseEntitiesPerSecond: 5_000,
  finaliseMemoryGb: 3,
  /** Score writes per entity and run: current item (2 KB → 2 WRU) + its byScore index copy (2) + history row (1). */
  scoreWriteUnitsPerEntity: 5,
  /** Entity record read per entity and run (listing the shard's known entities, 4 KB pages, eventually consistent). */
  entityRecordBytes: 400,
  scoreItemBytes: 2_000,
  historyItemBytes: 300,
  /** Parquet bytes per snapshot row (compressed, contributions JSON included). */
  snapshotRowBytes: 150,
  /** Per-item overhead DynamoDB bills in storage. */
  dynamoItemOverheadBytes: 100,
  /** Bytes of logs per ingest request: one JSON log line + one access-log line (platform logs at WARN only). */
  logBytesPerRequest: 900,
  /** X-Ray default sampling: 1 request a second, plus 5% of the rest. */
  xrayReservoirPerMonth: 2_592_000,
  xrayRate: 0.05,
  alarms: 17,
  /** Step Functions transitions per run: plan, map, finalise and ~4 per child batch execution. */
  transitionsPerRunFixed: 8,
  transitionsPerBatch: 4,
  itemsPerBatch: 4,
} as const;

export class CostInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'CostInputError';
  }
}

const GB = 1024 ** 3;

function price(p: UnitPrice, quantity: number): number {
  return (quantity / p.per) * p.usd;
}

function checkInput(input: CostInput): Required<CostInput> {
  const full = { ...COST_DEFAULTS, ...input } as Required<CostInput>;
  for (const [field, value] of Object.entries(full)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new CostInputError(field, `must be a number ≥ 0, got ${String(value)}`);
  }
  if (full.eventsPerRequest < 1) throw new CostInputError('eventsPerRequest', 'must be at least 1');
  if (full.accountShare > 1) throw new CostInputError('accountShare', 'must be between 0 and 1');
  if (full.alertShare > 1) throw new CostInputError('alertShare', 'must be between 0 and 1');
  return full;
}

/** Monthly cost of Pulse for a volume, as line items with the arithmetic that produced each one. */
export function estimateCost(input: CostInput): CostEstimate {
  const i = checkInput(input);
  const a = COST_ASSUMPTIONS;
  const items: CostLineItem[] = [];
  const add = (service: string, item: string, p: UnitPrice, quantity: number, formula: string) =>
    items.push({ service, item, quantity, unit: p.unit, monthlyUsd: price(p, quantity), formula });

  const runs = i.models * i.runsPerMonth;
  const requests = Math.ceil(i.eventsPerMonth / i.eventsPerRequest);
  const eventsPerDay = i.eventsPerMonth / 30;
  const eventsInWindow = eventsPerDay * i.windowDays;

  // ---- Ingest ----
  add(
    'API Gateway',
    'ingest requests',
    PRICES.httpApiRequests,
    requests,
    `${i.eventsPerMonth} events / ${i.eventsPerRequest} a request`,
  );
  const ingestGbs = requests * ((a.ingestBaseMs + a.ingestMsPerEvent * i.eventsPerRequest) / 1000) * a.ingestMemoryGb;
  add('Lambda', 'ingest requests', PRICES.lambdaRequests, requests, 'one invocation per HTTP request');
  add(
    'Lambda',
    'ingest compute',
    PRICES.lambdaArmGbSeconds,
    ingestGbs,
    `${requests} requests × (${a.ingestBaseMs} ms + ${a.ingestMsPerEvent} ms × ${i.eventsPerRequest} events) × ${a.ingestMemoryGb} GB`,
  );
  const eventWrus = i.eventsPerMonth * (1 + i.accountShare);
  add(
    'DynamoDB',
    'event writes',
    PRICES.dynamoWriteRequestUnits,
    eventWrus,
    `${i.eventsPerMonth} events × (1 item + ${i.accountShare} byAccount index copy), each ≤ 1 KB = 1 WRU`,
  );
  add(
    'DynamoDB',
    'duplicate checks at ingest',
    PRICES.dynamoReadRequestUnits,
    i.eventsPerMonth,
    `${i.eventsPerMonth} events × 1 RRU (strongly consistent batch read of the event id)`,
  );

  // ---- Runs ----
  const bytesPerEventRead = i.eventBytes + a.dynamoItemOverheadBytes;
  const runReadRrus = runs * ((eventsInWindow * bytesPerEventRead) / 4096) * 0.5;
  add(
    'DynamoDB',
    'window reads by runs',
    PRICES.dynamoReadRequestUnits,
    runReadRrus,
    `${runs} runs × ${Math.round(eventsInWindow)} events in a ${i.windowDays}-day window × ${bytesPerEventRead} B / 4 KB × 0.5 RRU`,
  );
  const entityReadRrus = runs * ((i.entities * (a.entityRecordBytes + a.scoreItemBytes)) / 4096) * 0.5;
  add(
    'DynamoDB',
    'entity and previous-score reads',
    PRICES.dynamoReadRequestUnits,
    entityReadRrus,
    `${runs} runs × ${i.entities} entities × ${a.entityRecordBytes + a.scoreItemBytes} B / 4 KB × 0.5 RRU`,
  );
  const scoreWrus = runs * i.entities * a.scoreWriteUnitsPerEntity;
  add(
    'DynamoDB',
    'score and history writes',
    PRICES.dynamoWriteRequestUnits,
    scoreWrus,
    `${runs} runs × ${i.entities} entities × ${a.scoreWriteUnitsPerEntity} WRU (current + byScore copy + history)`,
  );

  const storedEvents = eventsPerDay * i.retentionDays;
  const eventGb = (storedEvents * (1 + i.accountShare) * (i.eventBytes + a.dynamoItemOverheadBytes)) / GB;
  // History rows are kept as long as events (retention), one per entity, model and run.
  const historyRows = i.entities * i.models * i.runsPerMonth * (i.retentionDays / 30);
  const scoresGb =
    (i.entities * i.models * 2 * (a.scoreItemBytes + a.dynamoItemOverheadBytes) +
      historyRows * (a.historyItemBytes + a.dynamoItemOverheadBytes) +
      i.entities * (a.entityRecordBytes + a.dynamoItemOverheadBytes)) /
    GB;
  const tableGb = eventGb + scoresGb;
  add(
    'DynamoDB',
    'storage',
    PRICES.dynamoStorageGbMonth,
    tableGb,
    `events ${eventGb.toFixed(2)} GB (${Math.round(storedEvents)} kept ${i.retentionDays} days, with index copies) + scores ${scoresGb.toFixed(2)} GB`,
  );
  add('DynamoDB', 'point-in-time recovery', PRICES.dynamoPitrGbMonth, tableGb, 'continuous backups of both tables');

  const batches = Math.ceil(i.shardCount / a.itemsPerBatch);
  const workerGbs =
    runs * (eventsInWindow / a.workerEventsPerSecond) * a.workerMemoryGb + runs * batches * 0.5 * a.workerMemoryGb;
  add(
    'Lambda',
    'run workers compute',
    PRICES.lambdaArmGbSeconds,
    workerGbs,
    `${runs} runs × (${Math.round(eventsInWindow)} events / ${a.workerEventsPerSecond} per s + ${batches} batches × 0.5 s start) × ${a.workerMemoryGb} GB`,
  );
  const finaliseGbs = runs * (i.entities / a.finaliseEntitiesPerSecond + 1) * a.finaliseMemoryGb;
  add(
    'Lambda',
    'plan and finalise compute',
    PRICES.lambdaArmGbSeconds,
    finaliseGbs,
    `${runs} runs × (${i.entities} entities / ${a.finaliseEntitiesPerSecond} per s + 1 s) × ${a.finaliseMemoryGb} GB`,
  );
  add(
    'Lambda',
    'run invocations',
    PRICES.lambdaRequests,
    runs * (batches + 2),
    `${runs} runs × (${batches} worker batches + plan + finalise)`,
  );
  const transitions = runs * (a.transitionsPerRunFixed + batches * a.transitionsPerBatch);
  add(
    'Step Functions',
    'state transitions',
    PRICES.stepFunctionsTransitions,
    transitions,
    `${runs} runs × (${a.transitionsPerRunFixed} + ${batches} batches × ${a.transitionsPerBatch})`,
  );
  add('EventBridge Scheduler', 'schedule invocations', PRICES.schedulerInvocations, runs, 'one per scheduled run');

  const snapshotGbMonth = (i.entities * a.snapshotRowBytes * runs * i.snapshotMonthsKept) / GB;
  add(
    'S3',
    'snapshot storage',
    PRICES.s3StorageGbMonth,
    snapshotGbMonth,
    `${i.entities} rows × ${a.snapshotRowBytes} B × ${runs} runs a month × ${i.snapshotMonthsKept} months kept`,
  );
  const partFiles = Math.max(1, Math.ceil(i.entities / 100_000));
  const puts = runs * (partFiles + 3 + i.shardCount * 2);
  add(
    'S3',
    'snapshot and run writes',
    PRICES.s3PutRequests,
    puts,
    `${runs} runs × (${partFiles} part files + manifest, pointer, plan + 2 per shard)`,
  );
  add(
    'S3',
    'run reads',
    PRICES.s3GetRequests,
    runs * (i.shardCount + 2),
    `${runs} runs × (${i.shardCount} shard outputs + plan + map results)`,
  );

  const alerts = runs * i.entities * i.alertShare;
  add(
    'EventBridge',
    'alerts published',
    PRICES.eventBridgeEvents,
    alerts,
    `${runs} runs × ${i.entities} entities × ${i.alertShare} alerting`,
  );

  // ---- Observability and configuration ----
  const logGb = (requests * a.logBytesPerRequest) / GB;
  add(
    'CloudWatch Logs',
    'ingestion',
    PRICES.logsIngestionGb,
    logGb,
    `${requests} requests × ${a.logBytesPerRequest} B (function + access log line)`,
  );
  add(
    'CloudWatch Logs',
    'storage (30-day retention)',
    PRICES.logsStorageGbMonth,
    logGb,
    'one month of logs kept at any time',
  );
  const traces =
    Math.min(requests, a.xrayReservoirPerMonth) + Math.max(0, requests - a.xrayReservoirPerMonth) * a.xrayRate;
  add(
    'X-Ray',
    'sampled traces',
    PRICES.xrayTraces,
    traces,
    `1 request/s reservoir + ${a.xrayRate * 100}% of the rest of ${requests} requests`,
  );
  add('Secrets Manager', 'write-key secret', PRICES.secretMonth, 1, 'one secret');
  add(
    'Secrets Manager',
    'secret reads',
    PRICES.secretApiCalls,
    8_640 * 4,
    'up to 4 warm ingest instances × one read per 5 minutes',
  );
  add('CloudWatch', 'alarms', PRICES.alarmMonth, a.alarms, `${a.alarms} alarms`);
  add('CloudWatch', 'dashboard', PRICES.dashboardMonth, 1, 'one dashboard');

  const totalUsd = items.reduce((sum, item) => sum + item.monthlyUsd, 0);
  return {
    input: i,
    pricesAsOf: PRICES_AS_OF,
    lineItems: items,
    totalUsd,
    usdPerMillionEvents: i.eventsPerMonth > 0 ? totalUsd / (i.eventsPerMonth / 1e6) : 0,
  };
}
