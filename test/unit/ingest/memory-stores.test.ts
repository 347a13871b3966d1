import { describe, expect, it } from 'vitest';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { mergeEntity } from '../../../shared/domain/entity-merge.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { MAX_TRAITS_BYTES, MAX_TRAITS_PER_ENTITY } from '../../../shared/domain/input-limits.js';
import { shardOf } from '../../../shared/domain/shard.js';
import { DAY_MS } from '../../../shared/domain/time.js';

const T0 = Date.UTC(2026, 0, 1);

describe('InMemoryEventStore', () => {
  it('is idempotent by (userId, eventId) and UTC day, like the DynamoDB store', async () => {
    // Arrange
    const store = new InMemoryEventStore(4);
    const e: ScoringEvent = { eventId: 'e1', name: 'x', userId: 'u1', timestamp: T0 + 10 };

    // Act
    const first = await store.putEvents([e, e]);
    const sameDay = await store.putEvents([{ ...e, timestamp: T0 + 20 }]);
    const nextDay = await store.putEvents([{ ...e, timestamp: T0 + DAY_MS }]);
    const otherUser = await store.putEvents([{ ...e, userId: 'u2' }]);

    // Assert
    expect(first).toEqual({ stored: 1, duplicates: 1 });
    expect(sameDay).toEqual({ stored: 0, duplicates: 1 });
    expect(nextDay).toEqual({ stored: 1, duplicates: 0 });
    expect(otherUser).toEqual({ stored: 1, duplicates: 0 });
  });

  it('reads one shard and the window [from, to), by user or by account', async () => {
    // Arrange
    const store = new InMemoryEventStore(4, 2);
    const all: ScoringEvent[] = Array.from({ length: 20 }, (_, i) => ({
      eventId: `e${i}`,
      name: 'x',
      userId: `u${i}`,
      accountId: i % 2 ? `a${i % 3}` : undefined,
      timestamp: T0 + i * 1000,
    }));
    await store.putEvents(all);

    // Act
    const read = async (level: 'user' | 'account', shard: number) => {
      const out: ScoringEvent[] = [];
      for await (const page of store.readShard({ level, shard, from: T0 + 5000, to: T0 + 15_000 })) {
        expect(page.length).toBeLessThanOrEqual(2);
        out.push(...page);
      }
      return out;
    };
    const users = (await Promise.all([0, 1, 2, 3].map((s) => read('user', s)))).flat();
    const accounts = (await Promise.all([0, 1, 2, 3].map((s) => read('account', s)))).flat();

    // Assert
    expect(users.map((e) => e.eventId).sort()).toEqual([
      'e10',
      'e11',
      'e12',
      'e13',
      'e14',
      'e5',
      'e6',
      'e7',
      'e8',
      'e9',
    ]);
    expect(accounts.map((e) => e.eventId).sort()).toEqual(['e11', 'e13', 'e5', 'e7', 'e9']);
    expect((await read('user', shardOf('u7', 4))).map((e) => e.eventId)).toContain('e7');
  });
});

describe('entity merge', () => {
  it('merges traits key by key, removes null traits, keeps the newest link and widens seen times', () => {
    // Act
    const state = mergeEntity('user', 'u1', undefined, [
      { entityType: 'user', entityId: 'u1', traits: { plan: 'trial', role: 'dev' }, seenAt: 50 },
      { entityType: 'user', entityId: 'u1', accountId: 'new', seenAt: 40 },
      { entityType: 'user', entityId: 'u1', accountId: 'old', seenAt: 30 },
      { entityType: 'user', entityId: 'u1', traits: { plan: 'pro', role: null }, seenAt: 10 },
    ]);

    // Assert
    expect(state).toEqual({
      record: {
        entityType: 'user',
        entityId: 'u1',
        traits: { plan: 'pro' },
        accountId: 'new',
        firstSeenAt: 10,
        lastSeenAt: 50,
      },
      accountLinkedAt: 40,
      refused: [],
    });
  });

  it('refuses an update that would pass the trait count or size limit, applies the others', () => {
    // Arrange
    const many = Object.fromEntries(Array.from({ length: MAX_TRAITS_PER_ENTITY }, (_, i) => [`t${i}`, i]));
    const oneMore = { entityType: 'user' as const, entityId: 'u1', traits: { extra: 1 }, seenAt: 3 };
    const huge = {
      entityType: 'user' as const,
      entityId: 'u1',
      traits: { t5: 'x'.repeat(MAX_TRAITS_BYTES) },
      seenAt: 4,
    };
    const removal = { entityType: 'user' as const, entityId: 'u1', traits: { t0: null, t1: null }, seenAt: 5 };

    // Act
    const full = mergeEntity('user', 'u1', undefined, [
      { entityType: 'user', entityId: 'u1', traits: many, seenAt: 1 },
    ]);
    const next = mergeEntity('user', 'u1', full, [oneMore, huge, removal, { ...oneMore, seenAt: 6 }]);

    // Assert: the first `extra` and the huge blob are refused; after two removals `extra` fits.
    expect(full.refused).toEqual([]);
    expect(next.refused.map((r) => [r.update, r.path])).toEqual([
      [oneMore, 'traits'],
      [huge, 'traits'],
    ]);
    expect(next.refused[0]!.message).toContain(`at most ${MAX_TRAITS_PER_ENTITY}`);
    expect(next.refused[1]!.message).toContain('bytes of traits');
    expect(Object.keys(next.record.traits)).toHaveLength(MAX_TRAITS_PER_ENTITY - 1);
    expect(next.record.traits.extra).toBe(1);
    expect(next.record.traits.t5).toBe(5);
  });

  it('serves traits and account links through the in-memory store', async () => {
    // Arrange
    const store = new InMemoryEntityStore(4);

    // Act
    await store.upsert([
      { entityType: 'account', entityId: 'a1', traits: { seats: 3 }, seenAt: 1 },
      { entityType: 'user', entityId: 'u1', accountId: 'a1', seenAt: 1 },
    ]);
    const listed = [];
    for await (const page of store.listShard('account', shardOf('a1', 4))) listed.push(...page);

    // Assert
    expect(await store.accountOf(['u1', 'u2'])).toEqual(new Map([['u1', 'a1']]));
    expect(listed.map((r) => r.entityId)).toEqual(['a1']);
  });
});
