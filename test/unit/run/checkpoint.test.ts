import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../../shared/run/checkpoint.js';
import { makeFinaliseHandler, makePlanHandler, makeWorkerHandler } from '../../../shared/run/handlers.js';
import type { ShardProgress, ShardResult } from '../../../shared/run/worker.js';
import { model } from '../../support/engine.js';
import { events, type MemoryDeps, memoryDeps } from '../../support/run-fixture.js';

const usage = model({
  name: 'usage',
  windowDays: 7,
  signals: [
    { name: 'logins', event: 'login', weight: 2 },
    { name: 'active-days', event: 'login', aggregate: 'distinctDays', weight: 1 },
  ],
  penalties: [{ name: 'quiet', inactiveDays: 3, points: -5 }],
  bands: [{ name: 'low' }, { name: 'high', min: 5 }],
});
const accounts = model({
  name: 'accounts',
  level: 'account',
  rollup: 'mean',
  windowDays: 7,
  signals: [{ name: 'logins', event: 'login', weight: 1 }],
  bands: [{ name: 'all' }],
});

async function seeded(): Promise<MemoryDeps> {
  const deps = memoryDeps([usage, accounts]);
  await deps.events.putEvents([
    ...events('a', 'login', '2026-03-03', 3, 'acme'),
    ...events('a', 'login', '2026-03-05', 1, 'acme'),
    ...events('b', 'login', '2026-03-04', 2, 'acme'),
    ...events('b', 'login', '2026-03-08', 4, 'acme'),
    ...events('c', 'login', '2026-03-02', 1, 'globex'),
    ...events('d', 'login', '2026-03-09', 6),
  ]);
  return deps;
}

/** Plan → every item through the worker (looping on its progress, as the state machine does) → finalise. */
async function run(deps: MemoryDeps, modelName: string, remainingMs: number) {
  const planned = await makePlanHandler(deps, 'bucket')({ model: modelName, asOf: '2026-03-10' });
  const worker = makeWorkerHandler(deps);
  const items = JSON.parse(new TextDecoder().decode((await deps.objects.get(planned.itemsKey))!)) as unknown[];
  let invocations = 0;
  const progress: ShardProgress[] = [];
  for (const item of items) {
    let input: unknown = item;
    for (;;) {
      invocations++;
      const out = (await worker(input, { getRemainingTimeInMillis: () => remainingMs })) as ShardResult | ShardProgress;
      if (out.done) break;
      progress.push(out);
      input = out;
    }
  }
  await makeFinaliseHandler(deps)({ runId: planned.runId });
  return { invocations, progress, scores: deps.scores.allCurrent(modelName) };
}

describe('a worker that runs short of time checkpoints and carries on', () => {
  for (const m of [usage, accounts])
    it(`scores the ${m.level} model exactly as one uninterrupted invocation does`, async () => {
      // Arrange
      const whole = await run(await seeded(), m.name, 15 * 60_000);

      // Act: no time left after every day, so each invocation reads one day and checkpoints.
      const pieces = await run(await seeded(), m.name, 0);

      // Assert
      expect(whole.progress).toEqual([]);
      expect(pieces.progress.length).toBeGreaterThan(4);
      expect(pieces.invocations).toBe(whole.invocations + pieces.progress.length);
      for (const p of pieces.progress) expect(p.checkpoint).toMatch(/^runs\/.+\/checkpoints\/shard-\d{5}\.bin$/);
      expect(whole.scores.length).toBeGreaterThan(0);
      expect(pieces.scores).toEqual(whole.scores);
    });

  it('starts the shard afresh when its checkpoint is gone, and refuses another shard’s checkpoint', async () => {
    // Arrange
    const deps = await seeded();
    const planned = await makePlanHandler(deps, 'bucket')({ model: 'usage', asOf: '2026-03-10' });
    const worker = makeWorkerHandler(deps);
    const paused = (await worker({ runId: planned.runId, shard: 0 }, { getRemainingTimeInMillis: () => 0 })) as
      | ShardResult
      | ShardProgress;
    if (paused.done) throw new Error('expected a checkpoint');

    // Act
    await deps.objects.delete([paused.checkpoint]);
    const afresh = await worker(paused);

    // Assert
    expect(afresh).toMatchObject({ done: true, shard: 0 });
    await expect(worker({ runId: planned.runId, shard: 1, checkpoint: paused.checkpoint })).rejects.toThrow(
      /not shard 1's/,
    );
  });

  it('round-trips a checkpoint exactly, infinities and absent values included', () => {
    // Arrange
    const checkpoint = {
      runId: 'r',
      shard: 3,
      resumeFrom: 1_772_000_000_000,
      events: 12,
      invocations: 2,
      accounts: ['acme'],
      state: {
        modelName: 'usage',
        asOf: 1,
        slotCount: 2,
        keys: ['a', 'b'],
        accountIds: [undefined, 'acme'],
        known: [undefined, { entityId: 'b' }],
        main: {
          count: 2,
          data: Float64Array.from([1.5, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0]),
          sets: null,
        },
        users: null,
        members: { count: 0, data: new Float64Array(0), sets: null },
        groups: null,
        groupRows: { count: 1, data: Float64Array.from([7, 8]), sets: [[['x']]] },
        stats: { counted: 3, duplicates: 0, outOfRange: 1, unattributed: 0 },
      },
    };

    // Act
    const back = decodeCheckpoint(encodeCheckpoint(checkpoint));

    // Assert
    expect(back).toEqual(checkpoint);
    expect(back.state.accountIds[0]).toBeUndefined();
  });
});
