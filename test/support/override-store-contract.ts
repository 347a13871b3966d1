import { describe, expect, it } from 'vitest';
import type { StoredOverride } from '../../shared/domain/override.js';
import type { OverrideStore } from '../../shared/ports/override-store.js';

/**
 * The OverrideStore port's contract (docs/api.md#overrides), run against every adapter: the in-memory store in unit
 * tests, the DynamoDB store on dynalite and DynamoDB Local in integration tests. `makeStore` returns a fresh, empty
 * store.
 */
export type MakeOverrideStore = () => OverrideStore | Promise<OverrideStore>;

function override(fields: Partial<StoredOverride> = {}): StoredOverride {
  return {
    entityType: 'user',
    entityId: 'u1',
    model: 'usage',
    band: 'high',
    reason: 'renewal call',
    expiresAt: '2026-03-20T00:00:00.000Z',
    createdAt: '2026-03-10T09:30:00.000Z',
    ...fields,
  };
}

const byKey = (a: StoredOverride, b: StoredOverride) =>
  `${a.entityType}#${a.entityId}`.localeCompare(`${b.entityType}#${b.entityId}`);

export function describeOverrideStoreContract(name: string, makeStore: MakeOverrideStore): void {
  describe(`OverrideStore contract: ${name}`, () => {
    it('keeps one override per (entity type, entity id, model), exactly as put; a later put replaces it', async () => {
      // Arrange
      const store = await makeStore();
      const band = override();
      const score = override({ entityId: 'u2', band: undefined, score: 42.5, reason: 'pilot: ünïcode ✓' });
      const account = override({ entityType: 'account', band: 'low' });
      const otherModel = override({ model: 'other', band: 'mid' });
      const replaced = override({ band: 'mid', reason: 'second call', expiresAt: '2026-04-01T00:00:00.000Z' });

      // Act
      for (const o of [band, score, account, otherModel]) await store.put(o);
      const before = await store.get('user', 'u1', 'usage');
      await store.put(replaced);

      // Assert
      expect(before).toEqual(band);
      expect(await store.get('user', 'u1', 'usage')).toEqual(replaced);
      expect(await store.get('user', 'u2', 'usage')).toEqual(score);
      expect(await store.get('account', 'u1', 'usage')).toEqual(account);
      expect(await store.get('user', 'u1', 'other')).toEqual(otherModel);
      expect(await store.get('user', 'nobody', 'usage')).toBeUndefined();
    });

    it('lists every override of one model, expired ones included until removed', async () => {
      // Arrange
      const store = await makeStore();
      const usage = [
        override({ entityId: 'a' }),
        override({ entityId: 'b', expiresAt: '2020-01-01T00:00:00.000Z' }),
        override({ entityType: 'account', entityId: 'a', score: 1, band: undefined }),
      ];
      for (const o of [...usage, override({ model: 'other' })]) await store.put(o);

      // Act
      const listed = await store.list('usage');

      // Assert
      expect([...listed].sort(byKey)).toEqual([...usage].sort(byKey));
      expect(await store.list('missing')).toEqual([]);
    });

    it('deletes one override, saying whether there was one', async () => {
      // Arrange
      const store = await makeStore();
      await store.put(override());
      await store.put(override({ model: 'other' }));

      // Act
      const first = await store.delete('user', 'u1', 'usage');
      const again = await store.delete('user', 'u1', 'usage');
      const never = await store.delete('account', 'u1', 'other');

      // Assert
      expect([first, again, never]).toEqual([true, false, false]);
      expect(await store.get('user', 'u1', 'usage')).toBeUndefined();
      expect(await store.list('usage')).toEqual([]);
      expect(await store.get('user', 'u1', 'other')).toEqual(override({ model: 'other' }));
    });
  });
}
