import type { ScoringEvent } from '../domain/event.js';

/** Which partitioning of the events to read: by user (user-level models) or by account (account-level models). */
export type EntityLevel = 'user' | 'account';

export interface PutEventsResult {
  /** Events newly stored by this call. */
  stored: number;
  /** Events whose (userId, eventId) was already stored (a retry or a resend): counted once, never twice. */
  duplicates: number;
  /** Events the store refused as invalid (never expected within the input limits); the others are stored. */
  refused?: EventRefusal[] | undefined;
}

export interface EventRefusal {
  event: ScoringEvent;
  message: string;
}

export interface ReadShardQuery {
  level: EntityLevel;
  shard: number;
  /** Inclusive lower bound, epoch ms. */
  from: number;
  /** Exclusive upper bound, epoch ms. */
  to: number;
}

/**
 * Where events live. Writes are idempotent by (userId, eventId); reads return one shard's events in a time range, page by
 * page, so a worker never holds more than a page. Every event of one entity (user or account, per `level`) is in
 * exactly one shard.
 */
export interface EventStore {
  readonly shardCount: number;
  putEvents(events: readonly ScoringEvent[]): Promise<PutEventsResult>;
  readShard(query: ReadShardQuery): AsyncIterable<ScoringEvent[]>;
}

/** Storage was unavailable after retries: the caller must report a retryable failure, never success. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly unprocessed: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
