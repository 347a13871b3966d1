import type { ScoringEvent } from '../domain/event.js';
import { DAY_MS } from '../domain/time.js';
import type { EventStore, PutEventsResult, ReadShardQuery } from '../ports/event-store.js';
import { type EventArchive, utcDate } from './event-archive.js';
import { eventKey } from './parquet-events.js';

export interface TieredEventStoreOptions {
  /** The events table (the hot window). */
  hot: EventStore;
  archive: EventArchive;
  /** Days the events table keeps an event (docs/data-model.md#hot-window). */
  hotDays: number;
  clock?: (() => number) | undefined;
  /** Events a page yields at most when reading archived days. @default 1000 */
  pageSize?: number | undefined;
}

/**
 * The events of every age behind one EventStore: writes go to the events table; reads of days inside the hot
 * window come from the table, older days from the S3 archive merged with whatever the table still holds for them
 * (events not archived yet, or expired but not yet deleted by TTL), each event once. Runs, backfills, replays and
 * shadow runs see one stream, whatever its age (docs/data-model.md#event-archive).
 */
export class TieredEventStore implements EventStore {
  readonly shardCount: number;
  private readonly hot: EventStore;
  private readonly archive: EventArchive;
  private readonly hotDays: number;
  private readonly clock: () => number;
  private readonly pageSize: number;

  constructor(options: TieredEventStoreOptions) {
    this.hot = options.hot;
    this.archive = options.archive;
    this.hotDays = options.hotDays;
    this.clock = options.clock ?? Date.now;
    this.pageSize = options.pageSize ?? 1000;
    this.shardCount = options.hot.shardCount;
  }

  putEvents(events: readonly ScoringEvent[]): Promise<PutEventsResult> {
    return this.hot.putEvents(events);
  }

  /** Start of the first UTC day whose events are all still in the table (every one of them younger than hotDays). */
  hotFrom(now: number = this.clock()): number {
    return Math.ceil((now - this.hotDays * DAY_MS) / DAY_MS) * DAY_MS;
  }

  async *readShard(query: ReadShardQuery): AsyncIterable<ScoringEvent[]> {
    const boundary = this.hotFrom();
    const coldTo = Math.min(query.to, boundary);
    for (let day = Math.floor(query.from / DAY_MS) * DAY_MS; day < coldTo; day += DAY_MS) {
      const from = Math.max(query.from, day);
      const to = Math.min(coldTo, day + DAY_MS);
      const merged = new Map<string, ScoringEvent>();
      for (const event of await this.archive.readDay(utcDate(day), query.level, query.shard)) {
        if (event.timestamp >= from && event.timestamp < to) merged.set(eventKey(event), event);
      }
      for await (const page of this.hot.readShard({ ...query, from, to })) {
        for (const event of page) merged.set(eventKey(event), event);
      }
      const events = [...merged.values()];
      for (let i = 0; i < events.length; i += this.pageSize) yield events.slice(i, i + this.pageSize);
    }
    if (query.to > boundary) yield* this.hot.readShard({ ...query, from: Math.max(query.from, boundary) });
  }
}
