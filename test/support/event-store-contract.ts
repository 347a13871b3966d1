import { describe, expect, it } from 'vitest';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { shardOf } from '../../shared/domain/shard.js';
import { DAY_MS } from '../../shared/domain/time.js';
import type { EntityLevel, EventStore } from '../../shared/ports/event-store.js';

/**
 * The EventStore port's contract (docs/data-model.md#events-table), run against every adapter: the in-memory store
 * in unit tests, the DynamoDB store on dynalite and DynamoDB Local in integration tests. `makeStore` returns a
 * fresh, empty store with that many shards whose reads return pages of at most `pageSize` events.
 */
export type MakeEventStore = (shardCount: number, pageSize: number) => EventStore | Promise<EventStore>;

const SHARDS = 4;
const PAGE_SIZE = 3;
const T0 = Date.UTC(2026, 2, 10, 0, 0, 0);

export function loginEvent(
  eventId: string,
  userId: string,
  timestamp: number,
  extra: Partial<ScoringEvent> = {},
): ScoringEvent {
  return { eventId, name: 'login', userId, timestamp, ...extra };
}

/**
 * Every event of one shard in [from, to), by user or by account, sorted by event id; checks on the way that each
 * event comes from the shard its entity hashes to and that no page is larger than `pageSize`.
 */
export async function readAllShards(
  store: EventStore,
  level: EntityLevel,
  from: number,
  to: number,
  pageSize = Number.POSITIVE_INFINITY,
): Promise<ScoringEvent[]> {
  const out: ScoringEvent[] = [];
  for (let shard = 0; shard < store.shardCount; shard++) {
    for await (const page of store.readShard({ level, shard, from, to })) {
      expect(page.length).toBeLessThanOrEqual(pageSize);
      for (const event of page) {
        const entity = level === 'user' ? event.userId : event.accountId!;
        expect(shardOf(entity, store.shardCount)).toBe(shard);
        out.push(event);
      }
    }
  }
  return out.sort((a, b) => a.eventId.localeCompare(b.eventId));
}

const counts = (result: { stored: number; duplicates: number; refused?: unknown[] | undefined }) => ({
  stored: result.stored,
  duplicates: result.duplicates,
  refused: result.refused ?? [],
});

export function describeEventStoreContract(name: string, makeStore: MakeEventStore): void {
  describe(`EventStore contract: ${name}`, () => {
    it('stores and counts an event once however often and in whatever order it is sent', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const ts = T0 + 3_600_000;
      const batch = ['dup-a', 'dup-b', 'dup-c'].map((id, i) =>
        loginEvent(id, `dup-user-${i}`, ts, { properties: { n: i, nested: { ok: true }, list: [1, 'x', null] } }),
      );

      // Act
      const first = await store.putEvents(batch);
      const second = await store.putEvents([batch[2]!, batch[0]!, batch[0]!, batch[1]!]);
      const third = await store.putEvents([batch[1]!, loginEvent('dup-d', 'dup-user-3', ts)]);
      const concurrent = await Promise.all(
        [1, 2, 3].map(() => store.putEvents([loginEvent('dup-e', 'dup-user-4', ts)])),
      );

      // Assert
      expect(counts(first)).toEqual({ stored: 3, duplicates: 0, refused: [] });
      expect(counts(second)).toEqual({ stored: 0, duplicates: 4, refused: [] });
      expect(counts(third)).toEqual({ stored: 1, duplicates: 1, refused: [] });
      expect(concurrent.reduce((n, r) => n + r.stored, 0)).toBe(1);
      expect(concurrent.reduce((n, r) => n + r.duplicates, 0)).toBe(2);
      const stored = await readAllShards(store, 'user', ts, ts + 1, PAGE_SIZE);
      expect(stored.map((e) => e.eventId)).toEqual(['dup-a', 'dup-b', 'dup-c', 'dup-d', 'dup-e']);
      expect(stored[0]).toEqual(batch[0]);
    });

    it('identifies an event by (userId, eventId) and its UTC day', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const e = loginEvent('e1', 'u1', T0 + 10);

      // Act
      const first = await store.putEvents([e, e]);
      const sameDay = await store.putEvents([{ ...e, timestamp: T0 + 20 }]);
      const nextDay = await store.putEvents([{ ...e, timestamp: T0 + DAY_MS }]);
      const otherUser = await store.putEvents([{ ...e, userId: 'u2' }]);

      // Assert
      expect(counts(first)).toEqual({ stored: 1, duplicates: 1, refused: [] });
      expect(counts(sameDay)).toEqual({ stored: 0, duplicates: 1, refused: [] });
      expect(counts(nextDay)).toEqual({ stored: 1, duplicates: 0, refused: [] });
      expect(counts(otherUser)).toEqual({ stored: 1, duplicates: 0, refused: [] });
    });

    it('reads one shard and the window [from, to), by user or by account, page by page', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const all = Array.from({ length: 20 }, (_, i) =>
        loginEvent(`e${String(i).padStart(2, '0')}`, `u${i}`, T0 + i * 1000, {
          accountId: i % 2 ? `a${i % 3}` : undefined,
        }),
      );
      await store.putEvents(all);

      // Act
      const users = await readAllShards(store, 'user', T0 + 5000, T0 + 15_000, PAGE_SIZE);
      const accounts = await readAllShards(store, 'account', T0 + 5000, T0 + 15_000, PAGE_SIZE);

      // Assert
      expect(users.map((e) => e.eventId)).toEqual([
        'e05',
        'e06',
        'e07',
        'e08',
        'e09',
        'e10',
        'e11',
        'e12',
        'e13',
        'e14',
      ]);
      expect(accounts.map((e) => e.eventId)).toEqual(['e05', 'e07', 'e09', 'e11', 'e13']);
    });

    it('reads exactly the window [from, to) across days', async () => {
      // Arrange: events around both edges of a window that starts and ends mid-day, three days apart.
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const from = T0 + 20 * DAY_MS + 6 * 3_600_000;
      const to = from + 2 * DAY_MS;
      const stamps = [from - 1, from, from + 1, from + DAY_MS, to - 1, to, to + 1, from - DAY_MS, to + DAY_MS];
      const all = stamps.map((ts, i) => loginEvent(`win-${String(i).padStart(2, '0')}`, `win-user-${i % 5}`, ts));
      await store.putEvents(all);

      // Act
      const read = await readAllShards(store, 'user', from, to, PAGE_SIZE);

      // Assert
      const expected = all.filter((e) => e.timestamp >= from && e.timestamp < to).map((e) => e.eventId);
      expect(read.map((e) => e.eventId)).toEqual(expected);
      expect(expected).toHaveLength(4);
    });
  });
}
