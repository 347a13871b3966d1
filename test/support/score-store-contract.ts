import { describe, expect, it } from 'vitest';
import type { EntityScore } from '../../shared/domain/engine/types.js';
import { shardOf } from '../../shared/domain/shard.js';
import { InvalidCursorError } from '../../shared/ports/errors.js';
import {
  historyEntryOf,
  priorOf,
  type ScoreListItem,
  type ScoreStore,
  type StoredScore,
  storedScoreOf,
} from '../../shared/ports/score-store.js';
import { previousOf } from '../../shared/run/previous.js';
import { entityScore } from './scores.js';

/**
 * The ScoreStore port's contract (docs/data-model.md#scores-table), run against every adapter: the in-memory store
 * in unit tests, the DynamoDB store on dynalite and DynamoDB Local in integration tests. `makeStore` returns a
 * fresh, empty store with that many shards whose shard listings return pages of at most `pageSize` scores.
 */
export type MakeScoreStore = (shardCount: number, pageSize: number) => ScoreStore | Promise<ScoreStore>;

const SHARDS = 4;
const PAGE_SIZE = 3;
const BANDS = ['low', 'mid', 'high'];
const day = (d: number) => `2026-03-${String(d).padStart(2, '0')}T00:00:00.000Z`;

const PREVIOUS = {
  score: 4,
  band: 'low',
  asOf: day(1),
  contributions: [{ signal: 'logins', value: 1, points: 2 }],
  penalties: [],
};

/** A score with something in every part a reader shows (contributions, penalties, reasons, an override). */
function fullScore(): EntityScore {
  return entityScore(
    {
      accountId: 'acme',
      asOf: day(2),
      rawScore: 12.5,
      score: 10.25,
      band: 'mid',
      coverage: { activeDays: 3, observedDays: 7, events: 9, firstSeenAt: Date.UTC(2026, 1, 20), lastSeenAt: null },
      contributions: [
        { signal: 'logins', value: 4, points: 8 },
        { signal: 'reports', value: 0.5, points: 4.5 },
      ],
      penalties: [{ rule: 'inactive', points: -2.25 }],
      override: { band: 'high', reason: 'renewal call', expiresAt: day(20), createdAt: day(1) },
    },
    PREVIOUS,
  );
}

/** What a run writes for a current score: compared with `before` (the current score it replaces), if any. */
function currentWrite(score: EntityScore, before?: StoredScore) {
  return {
    score,
    previous: before ? previousOf(before) : null,
    current: true,
    ...(before ? { prior: priorOf(before) } : {}),
  };
}

async function listShards(store: ScoreStore, model: string, pageSize: number): Promise<StoredScore[]> {
  const out: StoredScore[] = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    for await (const page of store.listCurrentShard(model, shard)) {
      expect(page.length).toBeLessThanOrEqual(pageSize);
      for (const row of page) {
        expect(shardOf(row.entityId, SHARDS)).toBe(shard);
        // The open history run a store may hand over for the next write is the store's own business.
        const { historyRun: _run, ...rest } = row;
        out.push(rest);
      }
    }
  }
  return out.sort((a, b) => a.entityId.localeCompare(b.entityId));
}

async function listAll(store: ScoreStore, model: string, limit: number, band?: string): Promise<ScoreListItem[]> {
  const out: ScoreListItem[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ model, bands: BANDS, band, limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    expect(++pages).toBeLessThan(100);
  } while (cursor);
  return out;
}

export function describeScoreStoreContract(name: string, makeStore: MakeScoreStore): void {
  describe(`ScoreStore contract: ${name}`, () => {
    it('reads back exactly the current score written, by entity type, id and the models asked for', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const usage = fullScore();
      const other = entityScore({ model: 'other', score: 3, asOf: day(2) });
      const account = entityScore({ entityType: 'account', entityId: 'u1', score: 7 });

      // Act
      const refused = await store.write([
        { score: usage, previous: PREVIOUS, current: true },
        { score: other, previous: null, current: true },
        { score: account, previous: null, current: true },
      ]);

      // Assert: in the order of the models asked for, each once, missing ones left out.
      expect(refused).toEqual([]);
      expect(await store.getCurrent('user', 'u1', ['other', 'missing', 'usage', 'other'])).toEqual([
        storedScoreOf(other, null),
        storedScoreOf(usage, PREVIOUS),
      ]);
      expect(await store.getCurrent('account', 'u1', ['usage'])).toEqual([storedScoreOf(account, null)]);
      expect(await store.getCurrent('user', 'nobody', ['usage'])).toEqual([]);
      expect(await store.history({ entityType: 'user', entityId: 'u1', model: 'usage' })).toEqual([
        historyEntryOf(usage),
      ]);
    });

    it('keeps one history entry a day, oldest first; a later run replaces the current score, a backfill does not', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const first = entityScore({ asOf: day(2), score: 5 });
      const same = entityScore({ asOf: day(3), score: 5 }, previousOf(historyEntryOf(first)));
      const changed = entityScore({ asOf: day(4), score: 9, band: 'mid' }, previousOf(historyEntryOf(same)));
      const backfill = entityScore({ asOf: day(1), score: 2 });

      // Act: day 2, day 3 unchanged, day 4 changed, day 4 re-run with the same result, then a backfill of day 1.
      await store.write([currentWrite(first)]);
      const [afterFirst] = await listedRow(store, 'u1');
      await store.write([currentWrite(same, afterFirst)]);
      const [afterSame] = await listedRow(store, 'u1');
      await store.write([currentWrite(changed, afterSame)]);
      const [afterChanged] = await listedRow(store, 'u1');
      await store.write([
        { score: changed, previous: afterChanged!.previous, current: true, prior: priorOf(afterChanged!) },
      ]);
      await store.write([{ score: backfill, previous: null, current: false }]);

      // Assert
      const { historyRun: _run, ...sameRow } = afterSame!;
      expect(sameRow).toEqual(storedScoreOf(same, previousOf(afterFirst!)));
      expect(await store.history({ entityType: 'user', entityId: 'u1', model: 'usage' })).toEqual(
        [backfill, first, same, changed].map(historyEntryOf),
      );
      expect(await store.getCurrent('user', 'u1', ['usage'])).toEqual([storedScoreOf(changed, previousOf(afterSame!))]);
      expect(await store.history({ entityType: 'user', entityId: 'u1', model: 'other' })).toEqual([]);
      expect(await store.history({ entityType: 'account', entityId: 'u1', model: 'usage' })).toEqual([]);
    });

    it('reads history within inclusive [from, to] bounds, also from inside a run of unchanged days', async () => {
      // Arrange: four unchanged days, each written as a run writes it.
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const days: EntityScore[] = [];
      for (const d of [2, 3, 4, 5]) {
        const [before] = await listedRow(store, 'u1');
        days.push(entityScore({ asOf: day(d), score: 6 }, before ? previousOf(before) : null));
        await store.write([currentWrite(days.at(-1)!, before)]);
      }
      const query = (from?: string, to?: string) =>
        store.history({ entityType: 'user', entityId: 'u1', model: 'usage', from, to });
      const asOfs = async (from?: string, to?: string) => (await query(from, to)).map((h) => h.asOf);

      // Act + Assert
      expect(await query()).toEqual(days.map(historyEntryOf));
      expect(await asOfs(day(3), day(4))).toEqual([day(3), day(4)]);
      expect(await asOfs(day(4))).toEqual([day(4), day(5)]);
      expect(await asOfs(undefined, day(2))).toEqual([day(2)]);
      expect(await asOfs('2026-03-03T12:00:00.000Z', '2026-03-04T12:00:00.000Z')).toEqual([day(4)]);
      expect(await asOfs(day(6))).toEqual([]);
    });

    it('finds each entity’s latest history entry strictly before a day, leaving out entities without one', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      await store.write([
        { score: entityScore({ entityId: 'a', asOf: day(1), score: 1 }), previous: null, current: false },
        { score: entityScore({ entityId: 'a', asOf: day(3), score: 3 }), previous: null, current: true },
        { score: entityScore({ entityId: 'b', asOf: day(5), score: 5 }), previous: null, current: true },
        {
          score: entityScore({ entityId: 'a', asOf: day(2), score: 2, model: 'other' }),
          previous: null,
          current: true,
        },
      ]);

      // Act
      const before3 = await store.latestBefore('user', ['a', 'b', 'nobody'], 'usage', day(3));
      const before6 = await store.latestBefore('user', ['a', 'b'], 'usage', day(6));

      // Assert
      expect([...before3]).toEqual([['a', historyEntryOf(entityScore({ entityId: 'a', asOf: day(1), score: 1 }))]]);
      expect(new Map([...before6].map(([id, h]) => [id, h.score]))).toEqual(
        new Map([
          ['a', 3],
          ['b', 5],
        ]),
      );
      expect(await store.latestBefore('account', ['a'], 'usage', day(6))).toEqual(new Map());
    });

    it('lists every current score of a model by run shard, page by page', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const users = Array.from({ length: 14 }, (_, i) => entityScore({ entityId: `user-${i}`, score: i }));
      await store.write([
        ...users.map((score) => ({ score, previous: null, current: true })),
        { score: entityScore({ entityId: 'user-0', model: 'other' }), previous: null, current: true },
        { score: entityScore({ entityId: 'user-99', asOf: day(1) }), previous: null, current: false },
      ]);

      // Act
      const listed = await listShards(store, 'usage', PAGE_SIZE);

      // Assert
      expect(listed).toEqual(
        users.map((s) => storedScoreOf(s, null)).sort((a, b) => a.entityId.localeCompare(b.entityId)),
      );
      expect(await listShards(store, 'missing', PAGE_SIZE)).toEqual([]);
    });

    it('lists scores by band (highest first), then score and entity (highest first), across pages and by band', async () => {
      // Arrange: ties on score, both entity types, negative and fractional scores, another model.
      const store = await makeStore(SHARDS, PAGE_SIZE);
      const rows = [
        ['user', 'a', 1, 'low'],
        ['user', 'b', -3.5, 'low'],
        ['user', 'c', 1, 'low'],
        ['account', 'c', 1, 'low'],
        ['user', 'd', 12.75, 'mid'],
        ['user', 'e', 30, 'high'],
        ['user', 'f', 12.75, 'mid'],
        ['user', 'g', 8, 'mid'],
        ['user', 'h', 45, 'high'],
        ['user', 'i', 0, 'low'],
      ] as const;
      const scores = rows.map(([entityType, entityId, score, band]) =>
        entityScore({ entityType, entityId, score, band, delta: score === 1 ? null : 2 }),
      );
      await store.write([
        ...scores.map((score) => ({ score, previous: null, current: true })),
        {
          score: entityScore({ entityId: 'z', model: 'other', band: 'high', score: 99 }),
          previous: null,
          current: true,
        },
      ]);
      const item = ([entityType, entityId, score, band]: (typeof rows)[number]) => ({
        entityType,
        entityId,
        model: 'usage',
        score,
        band,
        delta: score === 1 ? null : 2,
      });
      const byBand = (band: string) => rows.filter((r) => r[3] === band);
      const order = (a: (typeof rows)[number], b: (typeof rows)[number]) =>
        b[2] - a[2] || (`${a[0]}#${a[1]}` < `${b[0]}#${b[1]}` ? 1 : -1);
      const expected = [...byBand('high'), ...byBand('mid'), ...byBand('low')].sort(
        (a, b) => BANDS.indexOf(b[3]) - BANDS.indexOf(a[3]) || order(a, b),
      );

      // Act + Assert
      for (const limit of [1, 3, 4, 10, 1000]) {
        expect(await listAll(store, 'usage', limit), `limit ${limit}`).toEqual(expected.map(item));
      }
      expect(await listAll(store, 'usage', 2, 'mid')).toEqual(byBand('mid').sort(order).map(item));
      const whole = await store.list({ model: 'usage', bands: BANDS, limit: rows.length });
      expect(whole.items).toHaveLength(rows.length);
      expect(whole.nextCursor).toBeNull();
      expect(await store.list({ model: 'missing', bands: BANDS, limit: 5 })).toEqual({ items: [], nextCursor: null });
    });

    it('refuses a cursor it did not produce as the caller’s mistake', async () => {
      // Arrange
      const store = await makeStore(SHARDS, PAGE_SIZE);
      await store.write(
        [1, 2, 3].map((i) => ({ score: entityScore({ entityId: `u${i}`, score: i }), previous: null, current: true })),
      );
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

      // Act + Assert
      for (const cursor of ['not base64!', '', b64('x'.repeat(20_000)), b64({ nothing: true }), b64([1, 2])]) {
        await expect(store.list({ model: 'usage', bands: BANDS, limit: 1, cursor }), cursor).rejects.toThrow(
          InvalidCursorError,
        );
      }
    });
  });
}

/** The current row of one entity under `usage` as a run lists it (with any open history run), as `[row]` or `[]`. */
async function listedRow(store: ScoreStore, entityId: string): Promise<StoredScore[]> {
  for await (const page of store.listCurrentShard('usage', shardOf(entityId, SHARDS))) {
    const row = page.find((r) => r.entityId === entityId);
    if (row) return [row];
  }
  return [];
}
