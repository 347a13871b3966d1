import type { EntityLevel } from '../domain/entity.js';
import type { ScoringEvent } from '../domain/event.js';

export type { EntityLevel } from '../domain/entity.js';

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
