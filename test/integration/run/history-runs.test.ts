import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoScoreStore } from '../../../shared/adapters/dynamodb/score-store.js';
import { InMemoryScoreStore } from '../../../shared/adapters/memory/score-store.js';
import type { EntityScore, PreviousScore } from '../../../shared/domain/engine/types.js';
import { priorOf, type ScoreStore, type StoredScore } from '../../../shared/ports/score-store.js';
import { previousOf, previousRule } from '../../../shared/run/previous.js';
import { useDynamo } from '../../support/dynamo.js';
import { entityScore } from '../../support/scores.js';

const SHARDS = 4;
const day = (d: number) => `2026-03-${String(d).padStart(2, '0')}T23:59:59.999Z`;
const DAYS = Array.from({ length: 12 }, (_, i) => day(i + 1));

/** Raw score of each entity on each day (index = day - 1); undefined = not scored that day. */
const SCRIPT: Record<string, (number | undefined)[]> = {
  // Unchanged for days, a change, unchanged again (runs of equal entries, delta 0 after the first day).
  steady: [10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20, 20],
  // Changes every day: a history row each day.
  busy: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  // Scored until day 5, then gone (no runs score it any more).
  gone: [5, 5, 5, 5, 5, undefined, undefined, undefined, undefined, undefined, undefined, undefined],
  // First seen on day 4, then unchanged.
  late: [undefined, undefined, undefined, 7, 7, 7, 7, 7, 7, 7, 7, 7],
  // Alternates between two values after a long run.
  flip: [3, 3, 3, 3, 3, 3, 4, 3, 4, 3, 3, 3],
};

function scoreOf(id: string, asOf: string, raw: number, previous: PreviousScore | null): EntityScore {
  return entityScore(
    {
      entityId: id,
      model: 'm',
      asOf,
      windowDays: 30,
      rawScore: raw,
      score: raw * 2,
      band: raw >= 10 ? 'high' : 'low',
      coverage: { activeDays: 1, observedDays: 30, events: 1, firstSeenAt: null, lastSeenAt: null },
      contributions: [{ signal: 'logins', value: raw, points: raw }],
    },
    previous,
  );
}

/** What a run's worker and finalise hand the store for one day (the previous rules of shared/run/previous.ts). */
async function runDay(store: ScoreStore, asOf: string, raws: Map<string, number>): Promise<void> {
  const currents = new Map<string, StoredScore>();
  for (let shard = 0; shard < SHARDS; shard++)
    for await (const page of store.listCurrentShard('m', shard)) for (const s of page) currents.set(s.entityId, s);
  const backfilled = [...raws.keys()].filter((id) => previousRule(currents.get(id), asOf).kind === 'history');
  const earlier = await store.latestBefore('user', backfilled, 'm', asOf);
  await store.write(
    [...raws].map(([id, raw]) => {
      const stored = currents.get(id);
      const rule = previousRule(stored, asOf);
      const previous = rule.kind === 'resolved' ? rule.previous : earlier.has(id) ? previousOf(earlier.get(id)!) : null;
      const score = scoreOf(id, asOf, raw, previous);
      return rule.kind === 'resolved'
        ? { score, previous, current: true, ...(stored ? { prior: priorOf(stored) } : {}) }
        : { score, previous, current: false };
    }),
  );
}

async function play(store: ScoreStore): Promise<void> {
  for (let i = 0; i < DAYS.length; i++) {
    const raws = new Map<string, number>();
    for (const [id, values] of Object.entries(SCRIPT)) if (values[i] !== undefined) raws.set(id, values[i]!);
    await runDay(store, DAYS[i]!, raws);
    // A re-run of the same day with the same result (a retried run).
    if (i === 4) await runDay(store, DAYS[i]!, raws);
  }
  // A backfill of two days in the middle of runs (new values for steady and flip), and one of a day of `gone`.
  await runDay(
    store,
    day(3),
    new Map([
      ['steady', 11],
      ['flip', 9],
    ]),
  );
  await runDay(store, day(8), new Map([['steady', 21]]));
  await runDay(store, day(4), new Map([['gone', 6]]));
  // A re-run of the last day with a changed value for one entity, unchanged for the others.
  await runDay(
    store,
    day(12),
    new Map([
      ['steady', 25],
      ['busy', 12],
      ['late', 7],
      ['flip', 3],
    ]),
  );
}

describe('history rows only when the entry changed (DynamoDB) answer as one row a day (reference store)', () => {
  const dynamo = useDynamo();
  let store: DynamoScoreStore;
  const reference = new InMemoryScoreStore(SHARDS);

  beforeAll(async () => {
    store = new DynamoScoreStore({ client: dynamo.client, tableName: dynamo.scoresTable, shardCount: SHARDS });
    await play(store);
    await play(reference);
  }, 120_000);

  it('returns the same history for every entity and every range (ranges starting mid-run included)', async () => {
    // Arrange
    const bounds = [undefined, ...DAYS, '2026-03-05T12:00:00.000Z', '2026-02-01T00:00:00.000Z'];
    let compared = 0;

    for (const entityId of [...Object.keys(SCRIPT), 'never']) {
      for (const from of bounds) {
        for (const to of bounds) {
          if (from !== undefined && to !== undefined && from > to) continue;
          const query = { entityType: 'user' as const, entityId, model: 'm', from, to };

          // Act
          const got = await store.history(query);
          const want = await reference.history(query);

          // Assert
          expect(JSON.stringify(got), `${entityId} ${from} → ${to}`).toBe(JSON.stringify(want));
          compared += want.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  }, 120_000);

  it('finds the same latest entry before any day (what backfills compare with)', async () => {
    for (const before of [...DAYS, '2026-03-20T00:00:00.000Z']) {
      // Act
      const ids = [...Object.keys(SCRIPT), 'never'];
      const got = await store.latestBefore('user', ids, 'm', before);
      const want = await reference.latestBefore('user', ids, 'm', before);

      // Assert
      expect(JSON.stringify([...got].sort()), before).toBe(JSON.stringify([...want].sort()));
    }
  });

  it('returns the same current scores, without the run it carries', async () => {
    for (const id of Object.keys(SCRIPT)) {
      expect(await store.getCurrent('user', id, ['m'])).toEqual(await reference.getCurrent('user', id, ['m']));
    }
  });

  it('stores a row only for days whose entry changed (plus backfilled days)', async () => {
    // Act
    const rowsOf = async (id: string) => {
      const result = await dynamo.client.send(
        new QueryCommand({
          TableName: dynamo.scoresTable,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `HIST#user#${id}` } },
        }),
      );
      return (result.Items ?? []).map((i) => i.sk!.S!.slice(2));
    };

    // Assert: steady is stored on day 1 (first), 2 (delta 0 from then on), 6 (change), 7 (delta 0 again),
    // 12 (re-run with a new value), and the backfilled days 3 and 8 as rows of their own.
    expect(await rowsOf('steady')).toEqual([day(1), day(2), `${day(3)}+`, day(6), day(7), `${day(8)}+`, day(12)]);
    expect(await rowsOf('busy')).toHaveLength(12);
    expect(await rowsOf('gone')).toEqual([day(1), day(2), `${day(4)}+`]);
    expect(await rowsOf('late')).toEqual([day(4), day(5)]);
  });
});
