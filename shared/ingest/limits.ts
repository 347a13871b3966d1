import { DEFAULT_RETENTION_DAYS } from '../domain/hot-window.js';
import { DAY_MS } from '../domain/time.js';

/** What one ingest request may carry (docs/data-model.md#ingest-contract-details). */
export interface IngestLimits {
  /** Events (or Segment messages) a request. */
  maxEventsPerRequest: number;
  /** Bytes of the (decompressed) request body. */
  maxRequestBytes: number;
  /** Bytes of one event, serialised as compact JSON. */
  maxEventBytes: number;
  /** How far in the future a timestamp may be (clock skew allowance), ms. */
  maxFutureMs: number;
  /** Events older than this are past retention and would expire at once. */
  retentionDays: number;
}

export const DEFAULT_LIMITS: IngestLimits = Object.freeze({
  maxEventsPerRequest: 500,
  maxRequestBytes: 512 * 1024,
  maxEventBytes: 32 * 1024,
  maxFutureMs: 5 * 60_000,
  retentionDays: DEFAULT_RETENTION_DAYS,
});

export function limitsWith(overrides: Partial<IngestLimits>): IngestLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

/** Oldest timestamp still inside retention at `now`. */
export function oldestAccepted(now: number, limits: IngestLimits): number {
  return now - limits.retentionDays * DAY_MS;
}
