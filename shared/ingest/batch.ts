import type { ScoringEvent } from '../domain/event.js';
import type { TraitsUpdate } from '../ports/entity-store.js';
import { type FieldError, PayloadTooLargeError, type RejectedEvent } from './errors.js';
import { type IngestLimits, oldestAccepted } from './limits.js';

/** A request turned into what Pulse stores, plus what it refused and why. */
export interface NormalisedBatch {
  /** Events to store, in request order (their accountId is the one sent; ingest may fill it in). */
  events: ScoringEvent[];
  /** Trait and account-link updates from identify/group calls. */
  traits: TraitsUpdate[];
  /** For each entry of `events`, its index in the request (so an event the store refuses is named). */
  eventIndex?: number[] | undefined;
  /** For each entry of `traits`, the index of the message it came from (so a refused update rejects its call). */
  traitIndex?: number[] | undefined;
  /** Messages that were valid identify/group calls (they count as accepted once their traits are stored). */
  traitMessages: number;
  rejected: RejectedEvent[];
  /** Events or messages in the request. */
  total: number;
  /** Where each rejected item sits in the request, for absolute field paths: `events` or `batch`, or '' for one. */
  itemsPath: string;
}

export interface NormaliseContext {
  /** Server time of the request, epoch ms. */
  now: number;
  limits: IngestLimits;
  /** Size of the decoded body; events are measured one by one only when the body could hold an oversized one. */
  bodyBytes: number;
}

export function emptyBatch(total: number, itemsPath: string): NormalisedBatch {
  return { events: [], eventIndex: [], traits: [], traitIndex: [], traitMessages: 0, rejected: [], total, itemsPath };
}

/** More events or messages than a request may carry (maxEventsPerRequest): a 413 naming the array at `path`. */
export function checkItemCount(count: number, path: string, noun: 'events' | 'messages', ctx: NormaliseContext): void {
  const max = ctx.limits.maxEventsPerRequest;
  if (count <= max) return;
  throw new PayloadTooLargeError(`A request may carry at most ${max} ${noun}; split the batch.`, [
    { path, message: `holds ${count} ${noun}; at most ${max} a request` },
  ]);
}

/** The event is over the per-event size limit: the error names it as a whole (empty path). */
export function checkEventSize(raw: unknown, ctx: NormaliseContext): FieldError | undefined {
  if (ctx.bodyBytes <= ctx.limits.maxEventBytes) return undefined;
  // A cheap upper bound first; only events that might be too big are serialised and measured exactly.
  if (jsonBytesUpperBound(raw, ctx.limits.maxEventBytes) <= ctx.limits.maxEventBytes) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(raw) ?? '');
  if (bytes <= ctx.limits.maxEventBytes) return undefined;
  return {
    path: '',
    message: `is ${bytes.toLocaleString('en-US')} bytes; an event may be at most ${ctx.limits.maxEventBytes.toLocaleString('en-US')} bytes`,
  };
}

/** Timestamps at most `maxFutureMs` ahead of the server clock and not older than retention. */
export function checkTimestamp(timestamp: number, path: string, ctx: NormaliseContext): FieldError | undefined {
  if (!Number.isFinite(timestamp)) return { path, message: 'is not a valid date-time' };
  if (timestamp > ctx.now + ctx.limits.maxFutureMs) {
    return {
      path,
      message: `is more than ${Math.round(ctx.limits.maxFutureMs / 60_000)} minutes in the future (server time ${new Date(ctx.now).toISOString()})`,
    };
  }
  if (timestamp < oldestAccepted(ctx.now, ctx.limits)) {
    return { path, message: `is older than the retention period of ${ctx.limits.retentionDays} days` };
  }
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An upper bound of the UTF-8 size of `value` as JSON, without serialising it: a character takes at most 6 bytes
 * (`\u001f`), a number at most 24. Stops counting once past `budget`.
 */
export function jsonBytesUpperBound(value: unknown, budget: number): number {
  return sizeBound(value, 0, budget);
}

function sizeBound(v: unknown, total: number, budget: number): number {
  if (total > budget) return total;
  if (typeof v === 'string') return total + 6 * v.length + 2;
  if (typeof v === 'number') return total + 24;
  if (v === null || v === undefined || typeof v === 'boolean') return total + 5;
  if (Array.isArray(v)) {
    let t = total + 2;
    for (const item of v) t = sizeBound(item, t + 1, budget);
    return t;
  }
  if (typeof v === 'object') {
    let t = total + 2;
    const record = v as Record<string, unknown>;
    for (const key in record) t = sizeBound(record[key], t + 6 * key.length + 4, budget);
    return t;
  }
  return budget + 1;
}
