import { WORKER_TIME_RESERVE_MS } from './handlers.js';
import { WORKER_EVENTS_PER_SECOND } from './worker-speed.js';

/**
 * How a run's work spreads over workers, from the plan's output (one Map item per shard) and the deployed limits:
 * arithmetic only, so a 1,000-shard, 500M-event window is checked without a Lambda (docs/operations.md#runs).
 */
export interface FanOutInput {
  /** Map items: the plan writes one per shard. */
  items: number;
  /** The Map's MaxConcurrency. */
  maxConcurrency: number;
  /** Events a run reads: every event of the lookback window. */
  eventsPerWindow: number;
  /** @default WORKER_EVENTS_PER_SECOND (measured, `npm run bench`) */
  workerEventsPerSecond?: number;
  /** @default 15 minutes (the worker's Lambda timeout) */
  workerTimeoutMs?: number;
  /** Time a worker keeps in hand for its last day and the checkpoint. @default WORKER_TIME_RESERVE_MS */
  reserveMs?: number;
  /** Per invocation: cold start, listing the shard's entities and current scores. @default 2 s */
  startSeconds?: number;
  /** Bytes DynamoDB bills a Query per event read (projected attributes and key). @default 120 */
  bytesPerEventRead?: number;
  /**
   * Read request units a second the events table may serve (on-demand's default per-table quota; raise it in
   * Service Quotas). Workers beyond it are throttled and slow down rather than fail. @default 40,000
   */
  tableReadUnitsPerSecond?: number;
}

export interface FanOut {
  items: number;
  /** Workers at once: min(items, maxConcurrency). */
  concurrency: number;
  /** Rounds of workers when there are more items than concurrency. */
  waves: number;
  /** Events one item reads, if the shards are even (FNV-1a spreads ids evenly; one huge entity is not). */
  eventsPerItem: number;
  /** Events one invocation can read before it checkpoints. */
  eventBudgetPerInvocation: number;
  /** Invocations per item: 1 unless it must checkpoint and carry on. */
  invocationsPerItem: number;
  secondsPerItem: number;
  /** Wall time of the map: waves × the slowest item. */
  wallSeconds: number;
  /** DynamoDB read request units a second at full concurrency (eventually consistent Query: 0.5 per 4 KB). */
  readUnitsPerSecond: number;
  /** Events a second one worker reads: its own speed, or its share of the table's read quota if that is lower. */
  workerEventsPerSecond: number;
}

export function fanOut(input: FanOutInput): FanOut {
  const rate = input.workerEventsPerSecond ?? WORKER_EVENTS_PER_SECOND;
  const timeoutMs = input.workerTimeoutMs ?? 15 * 60_000;
  const reserveMs = input.reserveMs ?? WORKER_TIME_RESERVE_MS;
  const start = input.startSeconds ?? 2;
  const bytesPerEvent = input.bytesPerEventRead ?? 120;
  const items = Math.max(1, input.items);
  const concurrency = Math.max(1, Math.min(items, input.maxConcurrency));
  const waves = Math.ceil(items / concurrency);
  const eventsPerItem = Math.ceil(input.eventsPerWindow / items);
  const unitsPerEvent = (bytesPerEvent / 4096) * 0.5;
  const readUnitsPerSecond = Math.ceil(concurrency * rate * unitsPerEvent);
  const quota = input.tableReadUnitsPerSecond ?? 40_000;
  const workerRate = readUnitsPerSecond > quota ? quota / concurrency / unitsPerEvent : rate;
  const eventBudgetPerInvocation = Math.floor(((timeoutMs - reserveMs) / 1000 - start) * workerRate);
  const invocationsPerItem = Math.max(1, Math.ceil(eventsPerItem / eventBudgetPerInvocation));
  const secondsPerItem = eventsPerItem / workerRate + invocationsPerItem * start;
  return {
    items,
    concurrency,
    waves,
    eventsPerItem,
    eventBudgetPerInvocation,
    invocationsPerItem,
    secondsPerItem,
    wallSeconds: waves * secondsPerItem,
    readUnitsPerSecond,
    workerEventsPerSecond: Math.floor(workerRate),
  };
}
