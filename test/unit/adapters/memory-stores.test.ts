import { describe, expect, it } from 'vitest';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { InMemoryOverrideStore } from '../../../shared/adapters/memory/override-store.js';
import { InMemoryScoreStore } from '../../../shared/adapters/memory/score-store.js';
import { mergeEntity } from '../../../shared/domain/entity-merge.js';
import { MAX_TRAITS_BYTES, MAX_TRAITS_PER_ENTITY } from '../../../shared/domain/input-limits.js';
import { describeEntityStoreContract } from '../../support/entity-store-contract.js';
import { describeEventStoreContract } from '../../support/event-store-contract.js';
import { describeOverrideStoreContract } from '../../support/override-store-contract.js';
import { describeScoreStoreContract } from '../../support/score-store-contract.js';

describeEventStoreContract('in memory', (shardCount, pageSize) => new InMemoryEventStore(shardCount, pageSize));
// Pages of two entities, so listing crosses pages.
describeEntityStoreContract('in memory', (shardCount) => new InMemoryEntityStore(shardCount, 2));
describeScoreStoreContract('in memory', (shardCount, pageSize) => new InMemoryScoreStore(shardCount, pageSize));
describeOverrideStoreContract('in memory', () => new InMemoryOverrideStore());

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
});
