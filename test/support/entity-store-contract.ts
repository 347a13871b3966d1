import { describe, expect, it } from 'vitest';
import type { EntityLevel, EntityRecord } from '../../shared/domain/entity.js';
import { MAX_TRAITS_BYTES } from '../../shared/domain/input-limits.js';
import { shardOf } from '../../shared/domain/shard.js';
import type { EntityStore } from '../../shared/ports/entity-store.js';

/**
 * The EntityStore port's contract (docs/data-model.md#scores-table), run against every adapter: the in-memory store
 * in unit tests, the DynamoDB store on dynalite and DynamoDB Local in integration tests. `makeStore` returns a
 * fresh, empty store with that many shards.
 */
export type MakeEntityStore = (shardCount: number) => EntityStore | Promise<EntityStore>;

const SHARDS = 4;
const SEEN = Date.UTC(2026, 2, 10);

/** Every record of one entity type, shard by shard, checking each comes from the shard its id hashes to. */
async function listAll(store: EntityStore, entityType: EntityLevel): Promise<EntityRecord[]> {
  const out: EntityRecord[] = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    for await (const page of store.listShard(entityType, shard)) {
      for (const record of page) {
        expect(shardOf(record.entityId, SHARDS)).toBe(shard);
        out.push(record);
      }
    }
  }
  return out.sort((a, b) => a.entityId.localeCompare(b.entityId));
}

export function describeEntityStoreContract(name: string, makeStore: MakeEntityStore): void {
  describe(`EntityStore contract: ${name}`, () => {
    it('merges traits key by key, removes null traits, keeps the latest account link and widens seen times', async () => {
      // Arrange
      const store = await makeStore(SHARDS);

      // Act
      await store.upsert([
        { entityType: 'user', entityId: 'u1', traits: { plan: 'trial', role: 'admin', n: 1.5e300 }, seenAt: SEEN },
        { entityType: 'account', entityId: 'a1', traits: { name: 'Acme', seats: 10 }, seenAt: SEEN },
      ]);
      await store.upsert([
        { entityType: 'user', entityId: 'u1', traits: { plan: 'pro', role: null }, seenAt: SEEN + 10 },
        { entityType: 'user', entityId: 'u1', accountId: 'a2', seenAt: SEEN + 20 },
        { entityType: 'user', entityId: 'u1', accountId: 'a1', seenAt: SEEN + 5 },
        { entityType: 'user', entityId: 'u1', traits: { nested: { deep: [1, 'x', null] } }, seenAt: SEEN - 5 },
      ]);

      // Assert
      expect(await store.get('user', 'u1')).toEqual({
        entityType: 'user',
        entityId: 'u1',
        traits: { plan: 'pro', n: 1.5e300, nested: { deep: [1, 'x', null] } },
        accountId: 'a2',
        firstSeenAt: SEEN - 5,
        lastSeenAt: SEEN + 20,
      });
      expect(await store.get('account', 'a1')).toEqual({
        entityType: 'account',
        entityId: 'a1',
        traits: { name: 'Acme', seats: 10 },
        firstSeenAt: SEEN,
        lastSeenAt: SEEN,
      });
      expect(await store.get('user', 'unknown')).toBeUndefined();
      expect(await store.get('account', 'u1')).toBeUndefined();
    });

    it('loses no trait when calls for one entity arrive at once', async () => {
      // Arrange
      const store = await makeStore(SHARDS);
      await store.upsert([
        { entityType: 'account', entityId: 'a1', traits: { name: 'Acme', seats: 10 }, seenAt: SEEN },
      ]);

      // Act
      await Promise.all(
        [1, 2, 3, 4].map((i) =>
          store.upsert([{ entityType: 'account', entityId: 'a1', traits: { [`k${i}`]: i }, seenAt: SEEN + i }]),
        ),
      );

      // Assert
      expect((await store.get('account', 'a1'))?.traits).toEqual({
        name: 'Acme',
        seats: 10,
        k1: 1,
        k2: 2,
        k3: 3,
        k4: 4,
      });
    });

    it('answers the account of each grouped user, and lists entities of each type by shard', async () => {
      // Arrange
      const store = await makeStore(SHARDS);
      const accounts = Array.from({ length: 9 }, (_, i) => `acct-${i}`);

      // Act
      await store.upsert([
        ...accounts.map((id, i) => ({ entityType: 'account' as const, entityId: id, traits: { i }, seenAt: SEEN })),
        { entityType: 'user', entityId: 'u1', accountId: 'acct-1', seenAt: SEEN },
        { entityType: 'user', entityId: 'u2', traits: { plan: 'free' }, seenAt: SEEN },
        { entityType: 'user', entityId: 'u3', accountId: 'acct-3', seenAt: SEEN },
      ]);

      // Assert
      expect(await store.accountOf(['u1', 'u2', 'u3', 'nobody', 'u1'])).toEqual(
        new Map([
          ['u1', 'acct-1'],
          ['u3', 'acct-3'],
        ]),
      );
      expect(await store.accountOf([])).toEqual(new Map());
      expect((await listAll(store, 'account')).map((r) => [r.entityId, r.traits])).toEqual(
        accounts.map((id, i) => [id, { i }]),
      );
      expect((await listAll(store, 'user')).map((r) => r.entityId)).toEqual(['u1', 'u2', 'u3']);
    });

    it('refuses an update past the trait limits whole and applies the others; nothing applied leaves it unknown', async () => {
      // Arrange
      const store = await makeStore(SHARDS);
      const huge = { t: 'x'.repeat(MAX_TRAITS_BYTES) };

      // Act
      const refused = await store.upsert([
        { entityType: 'user', entityId: 'u1', traits: { plan: 'pro' }, seenAt: SEEN },
        { entityType: 'user', entityId: 'u1', traits: huge, seenAt: SEEN + 1 },
        { entityType: 'user', entityId: 'big', traits: huge, seenAt: SEEN },
      ]);

      // Assert
      expect(refused.map((r) => [r.update.entityId, r.path])).toEqual([
        ['u1', 'traits'],
        ['big', 'traits'],
      ]);
      expect(refused[0]!.message).toContain('bytes of traits');
      expect(await store.get('user', 'u1')).toMatchObject({ traits: { plan: 'pro' }, lastSeenAt: SEEN });
      expect(await store.get('user', 'big')).toBeUndefined();
      expect((await listAll(store, 'user')).map((r) => r.entityId)).toEqual(['u1']);
    });
  });
}
