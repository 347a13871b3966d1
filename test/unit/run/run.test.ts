import { gunzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { scoreEvents } from '../../../shared/domain/engine/index.js';
import { shardOf } from '../../../shared/domain/shard.js';
import { SNAPSHOT_COLUMNS } from '../../../shared/domain/snapshot-schema.js';
import { InvalidRunRequestError, UnknownModelError } from '../../../shared/run/errors.js';
import { finaliseRun } from '../../../shared/run/finalise.js';
import { latestKey, manifestKey, partitionPrefix, rawRowsKey, shardItemsKey } from '../../../shared/run/keys.js';
import { LocalRunner } from '../../../shared/run/local-runner.js';
import { createRun, planRun } from '../../../shared/run/plan.js';
import type { SnapshotManifest } from '../../../shared/run/snapshot.js';
import { readAhead, runShard, type ScoredShard, skipUnwritable } from '../../../shared/run/worker.js';
import { model } from '../../support/engine.js';
import { events, memoryDeps, SHARDS, USAGE_MODEL } from '../../support/run-fixture.js';

const usage = USAGE_MODEL;

async function readParquet(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return (await parquetReadObjects({ file })) as Record<string, unknown>[];
}

describe('plan', () => {
  it('resolves "scheduled" to the last complete day and lists one item per shard', async () => {
    // Arrange
    const deps = memoryDeps([usage]);

    // Act
    const run = await createRun(deps, { model: 'usage', asOf: 'scheduled' });
    const plan = await planRun(deps, run.runId);

    // Assert
    expect(run.date).toBe('2026-03-09');
    expect(run.asOf).toBe('2026-03-10T00:00:00.000Z');
    expect(run.runId).toMatch(/^usage-20260309-[0-9a-z]{6}$/);
    expect(plan.items).toEqual(Array.from({ length: SHARDS }, (_, shard) => ({ runId: run.runId, shard })));
    const stored = JSON.parse(new TextDecoder().decode(await deps.objects.get(shardItemsKey(run.runId))));
    expect(stored).toEqual(plan.items);
    expect((await deps.runs.get(run.runId))?.status).toBe('running');
  });

  it('rejects an unknown model and a malformed asOf naming the field', async () => {
    const deps = memoryDeps([usage]);

    await expect(createRun(deps, { model: 'nope', asOf: '2026-03-01' })).rejects.toBeInstanceOf(UnknownModelError);
    await expect(createRun(deps, { model: 'usage', asOf: '03/01/2026' })).rejects.toThrow(InvalidRunRequestError);
    await expect(createRun(deps, { model: 'usage', asOf: '03/01/2026' })).rejects.toThrow(/^asOf:/);
  });
});

describe('a run in memory: plan → workers → finalise', () => {
  it('counts only events as activity: a recent identify call does not lift the inactivity penalty', async () => {
    // Arrange: identified the day before the as-of date, no event for weeks.
    const deps = memoryDeps([usage]);
    await deps.entities.upsert([
      {
        entityType: 'user',
        entityId: 'identified',
        traits: { plan: 'pro' },
        seenAt: Date.parse('2026-03-08T12:00:00Z'),
      },
    ]);

    // Act
    await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-09' });

    // Assert
    const score = deps.scores.allCurrent('usage').find((c) => c.entityId === 'identified')!;
    expect(score.penalties).toEqual([{ rule: 'inactive', points: -4 }]);
    expect(score.coverage.lastSeenAt).toBeNull();
  });

  it('scores active and known-but-inactive entities and writes current scores, history and a snapshot', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    for (const [i, user] of users.entries()) {
      await deps.events.putEvents(events(user, 'login', '2026-03-08', i + 1));
      if (i % 3 === 0) await deps.events.putEvents(events(user, 'report_exported', '2026-03-09', 1));
    }
    await deps.events.putEvents(events('old-user', 'login', '2026-01-01', 3)); // outside the lookback
    await deps.entities.upsert([
      { entityType: 'user', entityId: 'quiet', traits: { plan: 'pro' }, seenAt: Date.parse('2026-02-01') },
    ]);
    const runner = new LocalRunner(deps, { concurrency: 2 });

    // Act
    const run = await runner.run({ model: 'usage', asOf: '2026-03-09' });

    // Assert
    expect(run.status).toBe('succeeded');
    expect(run.counts).toEqual({ entities: 13, events: (12 * 13) / 2 + 4, skipped: 0 });
    const current = deps.scores.allCurrent('usage');
    expect(current.map((c) => c.entityId).sort()).toEqual([...users, 'quiet'].sort());
    const quiet = current.find((c) => c.entityId === 'quiet')!;
    expect(quiet.penalties).toEqual([{ rule: 'inactive', points: -4 }]);
    expect(quiet.band).toBe('low');
    const u3 = current.find((c) => c.entityId === 'user-3')!;
    expect(u3.rawScore).toBe(2 * 4 + 5);
    expect(await deps.scores.history({ entityType: 'user', entityId: 'user-3', model: 'usage' })).toEqual([
      expect.objectContaining({ asOf: '2026-03-10T00:00:00.000Z', score: 13, band: 'mid', delta: null }),
    ]);

    const manifest = JSON.parse(
      new TextDecoder().decode(await deps.objects.get(manifestKey('usage', '2026-03-09'))),
    ) as SnapshotManifest;
    expect(manifest).toMatchObject({ runId: run.runId, model: 'usage', modelVersion: 1, rowCount: 13, windowDays: 7 });
    expect(run.snapshot).toEqual({
      uri: 's3://test-bucket/snapshots/model=usage/dt=2026-03-09/',
      manifest: 's3://test-bucket/snapshots/model=usage/dt=2026-03-09/_manifest.json',
    });
    const keys = await deps.objects.list(partitionPrefix('usage', '2026-03-09'));
    expect(keys).toEqual([...manifest.files.map((f) => f.key), manifestKey('usage', '2026-03-09')].sort());
    const rows = (
      await Promise.all(manifest.files.map(async (f) => readParquet((await deps.objects.get(f.key))!)))
    ).flat();
    expect(rows).toHaveLength(13);
    expect(Object.keys(rows[0]!)).toEqual(SNAPSHOT_COLUMNS.map((c) => c.name));
    const row3 = rows.find((r) => r.entity_id === 'user-3')!;
    expect(row3).toMatchObject({ score: 13, raw_score: 13, band: 'mid', event_count: 5n, previous_score: null });
    expect(row3.as_of).toEqual(new Date('2026-03-10T00:00:00.000Z'));
    expect(JSON.parse(row3.contributions as string)).toEqual({ contributions: u3.contributions, penalties: [] });
    const latest = JSON.parse(new TextDecoder().decode(await deps.objects.get(latestKey('usage'))));
    expect(latest).toEqual({
      model: 'usage',
      date: '2026-03-09',
      runId: run.runId,
      manifest: manifestKey('usage', '2026-03-09'),
    });
    // Intermediate objects are cleaned up after success.
    expect(await deps.objects.list(`runs/${run.runId}/`)).toEqual([]);
  });

  it('passes only pointers between steps and leaves raw rows per shard for finalise', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    await deps.events.putEvents(events('a', 'login', '2026-03-08', 2));
    const run = await createRun(deps, { model: 'usage', asOf: '2026-03-09' });
    const plan = await planRun(deps, run.runId);

    // Act
    const results = await Promise.all(plan.items.map((item) => runShard(deps, item)));

    // Assert
    const shard = shardOf('a', SHARDS);
    expect(results[shard]).toEqual({
      runId: run.runId,
      shard,
      done: true,
      entities: 1,
      events: 2,
      skipped: 0,
      rawKey: rawRowsKey(run.runId, shard),
    });
    const lines = gunzipSync((await deps.objects.get(rawRowsKey(run.runId, shard)))!)
      .toString()
      .trim()
      .split('\n');
    expect(JSON.parse(lines[1]!)).toMatchObject({ raw: { entityId: 'a', rawScore: 4 }, previous: null, current: true });
    expect(JSON.stringify(results).length).toBeLessThan(1024);
  });

  it('finalise refuses to run when a shard result is missing, and the run can be completed later', async () => {
    const deps = memoryDeps([usage]);
    await deps.events.putEvents(events('a', 'login', '2026-03-08', 2));
    const run = await createRun(deps, { model: 'usage', asOf: '2026-03-09' });
    const plan = await planRun(deps, run.runId);
    await runShard(deps, plan.items[0]!);

    await expect(finaliseRun(deps, run.runId)).rejects.toThrow(/shard 1 has no result/);
    for (const item of plan.items.slice(1)) await runShard(deps, item);
    const result = await finaliseRun(deps, run.runId);

    expect(result).toMatchObject({ status: 'succeeded', done: true, next: null });
    expect(deps.scores.allCurrent('usage')).toHaveLength(1);
  });
});

describe('an empty run', () => {
  it('succeeds with zero rows and still publishes a readable part with the schema', async () => {
    // Arrange
    const deps = memoryDeps([usage]);

    // Act
    const run = await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-09' });

    // Assert
    expect(run).toMatchObject({ status: 'succeeded', counts: { entities: 0, events: 0 } });
    const manifest = JSON.parse(
      new TextDecoder().decode(await deps.objects.get(manifestKey('usage', '2026-03-09'))),
    ) as SnapshotManifest;
    expect(manifest.rowCount).toBe(0);
    expect(manifest.files).toHaveLength(1);
    expect(await readParquet((await deps.objects.get(manifest.files[0]!.key))!)).toEqual([]);
  });
});

describe('percentile normalisation across shards', () => {
  it('ranks every entity of the run, not per shard: the same scores as one in-memory evaluation', async () => {
    // Arrange
    const pct = model({
      name: 'pct',
      windowDays: 7,
      signals: [{ name: 'logins', event: 'login', weight: 1 }],
      normalize: { method: 'percentile' },
      bands: [{ name: 'low' }, { name: 'high', min: 50 }],
    });
    const deps = memoryDeps([pct]);
    const all = Array.from({ length: 40 }, (_, i) => events(`p-${i}`, 'login', '2026-03-05', 1 + (i % 9))).flat();
    await deps.events.putEvents(all);

    // Act
    await new LocalRunner(deps).run({ model: 'pct', asOf: '2026-03-09' });
    const expected = await scoreEvents(pct, all, { asOf: '2026-03-09' });

    // Assert
    const current = new Map(deps.scores.allCurrent('pct').map((c) => [c.entityId, c.score]));
    expect(current.size).toBe(40);
    for (const e of expected) expect(current.get(e.entityId)).toBe(e.score);
    expect(new Set(deps.scores.allCurrent('pct').map((c) => shardOf(c.entityId, SHARDS))).size).toBe(SHARDS);
  });
});

describe('readAhead', () => {
  it('yields every page in order and passes a failure of the source on', async () => {
    // Arrange
    async function* pages(fail: boolean) {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield i;
      }
      if (fail) throw new Error('Query failed');
    }

    // Act
    const seen: number[] = [];
    for await (const page of readAhead(pages(false), 2)) seen.push(page);
    const failing = (async () => {
      for await (const _ of readAhead(pages(true), 2)) {
        // drain
      }
    })();

    // Assert
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    await expect(failing).rejects.toThrow('Query failed');
  });
});

describe('rows that cannot be written', () => {
  it('skips an entity whose id is past the id limits, counting it and logging the reason without the id', () => {
    // Arrange: a 256-emoji id (1,024 UTF-8 bytes) as stored before the limits existed, beside a normal one.
    const raw = (entityId: string) =>
      ({ entityType: 'user', entityId, accountId: null }) as unknown as ScoredShard['raws'][number];
    const scored = { raws: [raw('😀'.repeat(256)), raw('fine')], currents: new Map(), events: 2 } as ScoredShard;
    const reasons: string[] = [];

    // Act
    const skipped = skipUnwritable(scored, (reason) => reasons.push(reason));

    // Assert
    expect(skipped).toBe(1);
    expect(scored.raws.map((r) => r.entityId)).toEqual(['fine']);
    expect(reasons).toEqual(['user id is 1024 bytes in UTF-8; an id may be at most 256 bytes']);
  });
});
