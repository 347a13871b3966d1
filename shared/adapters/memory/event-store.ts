import { type ScoringEvent, storedEventIdentity } from '../../domain/event.js';
import { shardOf } from '../../domain/shard.js';
import type { EventStore, PutEventsResult, ReadShardQuery } from '../../ports/event-store.js';

/**
 * Events in memory, with the same identity and sharding as the DynamoDB store: an event is the same event when
 * its user, its id and its UTC day are the same (storedEventIdentity).
 */
export class InMemoryEventStore implements EventStore {
  private readonly items = new Map<string, ScoringEvent>();

  constructor(
    readonly shardCount = 16,
    private readonly pageSize = 1000,
  ) {}

  async putEvents(events: readonly ScoringEvent[]): Promise<PutEventsResult> {
    let stored = 0;
    let duplicates = 0;
    for (const event of events) {
      const key = storedEventIdentity(event);
      if (this.items.has(key)) {
        duplicates++;
        continue;
      }
      this.items.set(key, structuredClone(event));
      stored++;
    }
    return { stored, duplicates };
  }

  async *readShard(query: ReadShardQuery): AsyncIterable<ScoringEvent[]> {
    const matching: ScoringEvent[] = [];
    for (const event of this.items.values()) {
      if (event.timestamp < query.from || event.timestamp >= query.to) continue;
      const entity = query.level === 'user' ? event.userId : event.accountId;
      if (entity === undefined || shardOf(entity, this.shardCount) !== query.shard) continue;
      matching.push(structuredClone(event));
    }
    for (let i = 0; i < matching.length; i += this.pageSize) yield matching.slice(i, i + this.pageSize);
  }

  /** Delete a user's events with timestamps in [from, to) (erasure); returns how many. */
  deleteUser(userId: string, from: number, to: number): number {
    let deleted = 0;
    for (const [key, event] of this.items)
      if (event.userId === userId && event.timestamp >= from && event.timestamp < to) {
        this.items.delete(key);
        deleted++;
      }
    return deleted;
  }

  /** Every stored event (tests and local tooling). */
  all(): ScoringEvent[] {
    return [...this.items.values()].map((e) => structuredClone(e));
  }

  get size(): number {
    return this.items.size;
  }
}
