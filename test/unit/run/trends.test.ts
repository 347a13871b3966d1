import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import type { StoredScore } from '../../../shared/ports/score-store.js';
import type { SnapshotStore } from '../../../shared/ports/snapshot-store.js';
import { manifestKey, partitionPrefix } from '../../../shared/run/keys.js';
import { LocalRunner } from '../../../shared/run/local-runner.js';
import { previousRule } from '../../../shared/run/previous.js';
import { shadowRun } from '../../../shared/run/shadow.js';
import type { SnapshotManifest } from '../../../shared/run/snapshot.js';
import { model } from '../../support/engine.js';
import { events, type MemoryDeps, memoryDeps } from '../../support/run-fixture.js';
import { storedScore } from '../../support/scores.js';

const usage = model({
  name: 'usage',
  windowDays: 3,
  signals: [{ name: 'logins', event: 'login', weight: 2 }],
  bands: [{ name: 'low' }, { name: 'mid', min: 5 }, { name: 'high', min: 15 }],
  alerts: { drop: { points: 5 }, spike: { points: 5 }, bandChange: true },
});

const T = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString();

function stored(asOf: string, score: number, previousScore: number | null): StoredScore {
  const previous =
    previousScore === null
      ? null
      : { score: previousScore, band: 'low', asOf: '2026-01-01T00:00:00.000Z', contributions: [], penalties: [] };
  return storedScore(
    { entityId: 'u', asOf, windowDays: 3, score, band: 'mid', delta: null, previousBand: null },
    previous,
  );
}

async function manifestOf(deps: MemoryDeps, date: string): Promise<SnapshotManifest | undefined> {
  const body = await deps.objects.get(manifestKey('usage', date));
  return body ? (JSON.parse(new TextDecoder().decode(body)) as SnapshotManifest) : undefined;
}

async function snapshotRows(deps: MemoryDeps, date: string): Promise<Record<string, unknown>[]> {
  const manifest = (await manifestOf(deps, date))!;
  const rows: Record<string, unknown>[] = [];
  for (const f of manifest.files) {
    const bytes = (await deps.objects.get(f.key))!;
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    rows.push(...((await parquetReadObjects({ file })) as Record<string, unknown>[]));
  }
  return rows.sort((a, b) => String(a.entity_id).localeCompare(String(b.entity_id)));
}

describe('previous-score rules', () => {
  it('compares with the current score when it is older, its own previous on a re-run, history when newer', () => {
    // Arrange
    const current = stored('2026-03-05T00:00:00.000Z', 10, 4);

    // Act
    const older = previousRule(current, '2026-03-06T00:00:00.000Z');
    const same = previousRule(current, '2026-03-05T00:00:00.000Z');
    const newer = previousRule(current, '2026-03-04T00:00:00.000Z');
    const none = previousRule(undefined, '2026-03-04T00:00:00.000Z');

    // Assert
    expect(older).toMatchObject({ kind: 'resolved', current: true, previous: { score: 10, asOf: current.asOf } });
    expect(same).toMatchObject({ kind: 'resolved', current: true, previous: { score: 4 } });
    expect(newer).toEqual({ kind: 'history', current: false });
    expect(none).toEqual({ kind: 'resolved', current: true, previous: null });
  });

  it('chains trends run to run, and a backfilled older date takes its previous from history without moving current', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    await deps.events.putEvents([...events('u', 'login', '2026-03-01', 2), ...events('u', 'login', '2026-03-03', 5)]);
    const runner = new LocalRunner(deps);

    // Act
    await runner.run({ model: 'usage', asOf: '2026-03-01' }); // 4
    await runner.run({ model: 'usage', asOf: '2026-03-03' }); // 14
    const backfill = await runner.run({ model: 'usage', asOf: '2026-03-02' }); // 4, between the two

    // Assert
    expect(backfill.status).toBe('succeeded');
    const history = await deps.scores.history({ entityType: 'user', entityId: 'u', model: 'usage' });
    expect(history.map((h) => [h.asOf, h.score, h.delta])).toEqual([
      [T('2026-03-01'), 4, null],
      [T('2026-03-02'), 4, 0],
      [T('2026-03-03'), 14, 10],
    ]);
    const [current] = deps.scores.allCurrent('usage');
    expect(current).toMatchObject({ asOf: T('2026-03-03'), score: 14, previousScore: 4 });
  });
});

describe('re-running the same (model, as-of)', () => {
  it('produces identical rows and replaces the partition', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    for (const [i, u] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      await deps.events.putEvents([
        ...events(u, 'login', '2026-03-01', i + 1),
        ...events(u, 'login', '2026-03-02', 5 - i),
      ]);
    }
    const runner = new LocalRunner(deps);
    await runner.run({ model: 'usage', asOf: '2026-03-01' });
    const first = await runner.run({ model: 'usage', asOf: '2026-03-02' });
    const rowsBefore = await snapshotRows(deps, '2026-03-02');
    const currentBefore = deps.scores.allCurrent('usage');

    // Act
    const second = await runner.run({ model: 'usage', asOf: '2026-03-02' });

    // Assert
    expect(second.runId).not.toBe(first.runId);
    expect(await snapshotRows(deps, '2026-03-02')).toEqual(rowsBefore);
    expect(deps.scores.allCurrent('usage')).toEqual(currentBefore);
    expect(currentBefore.every((c) => c.previousScore !== null)).toBe(true);
    const keys = await deps.objects.list(partitionPrefix('usage', '2026-03-02'));
    expect(keys.every((k) => k.endsWith('_manifest.json') || k.includes(second.runId))).toBe(true);
    expect((await manifestOf(deps, '2026-03-02'))?.runId).toBe(second.runId);
    const history = await deps.scores.history({ entityType: 'user', entityId: 'a', model: 'usage' });
    expect(history).toHaveLength(2);
  });
});

/** A snapshot store whose Parquet PUTs start failing after `okParts` of them. */
function failingParts(inner: SnapshotStore, okParts: number): SnapshotStore & { armed: boolean } {
  let parts = 0;
  const store = {
    armed: true,
    put: async (key: string, body: Uint8Array | string, type: string) => {
      if (store.armed && key.endsWith('.parquet') && ++parts > okParts) throw new Error('S3 PUT failed: SlowDown');
      return inner.put(key, body, type);
    },
    get: (key: string) => inner.get(key),
    list: (prefix: string) => inner.list(prefix),
    delete: (keys: readonly string[]) => inner.delete(keys),
    uri: (key: string) => inner.uri(key),
  };
  return store;
}

describe('S3 failing mid-publication', () => {
  it('leaves no manifest and a failed run; running again publishes a clean partition', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    for (const u of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])
      await deps.events.putEvents(events(u, 'login', '2026-03-01', 3));
    const good = await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-01' });
    const objects = failingParts(deps.objects, 1);
    const runner = new LocalRunner({ ...deps, objects, snapshotPartRows: 2 });

    // Act
    const failed = await runner.run({ model: 'usage', asOf: '2026-03-01' });
    const afterFailure = await deps.objects.list(partitionPrefix('usage', '2026-03-01'));
    objects.armed = false;
    const retried = await runner.run({ model: 'usage', asOf: '2026-03-01' });

    // Assert
    expect(good.status).toBe('succeeded');
    expect(failed).toMatchObject({ status: 'failed', error: 'S3 PUT failed: SlowDown', snapshot: null });
    expect(afterFailure.some((k) => k.endsWith('_manifest.json'))).toBe(false);
    expect(afterFailure.some((k) => k.includes(good.runId))).toBe(false);
    expect(retried.status).toBe('succeeded');
    const manifest = (await manifestOf(deps, '2026-03-01'))!;
    const keys = await deps.objects.list(partitionPrefix('usage', '2026-03-01'));
    expect(keys).toEqual([...manifest.files.map((f) => f.key), manifestKey('usage', '2026-03-01')].sort());
    expect(manifest.files.every((f) => f.key.includes(retried.runId))).toBe(true);
    expect(manifest.rowCount).toBe(8);
  });
});

describe('alerts', () => {
  it('fires drops, spikes and band changes for current scores, stores them, and a backfill fires none', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    await deps.events.putEvents([
      ...events('down', 'login', '2026-03-01', 8),
      ...events('up', 'login', '2026-03-01', 1),
      ...events('up', 'login', '2026-03-04', 8),
    ]);
    const runner = new LocalRunner(deps);
    await runner.run({ model: 'usage', asOf: '2026-03-01' });

    // Act
    const run = await runner.run({ model: 'usage', asOf: '2026-03-04' });
    const backfill = await runner.backfill({ model: 'usage', from: '2026-03-02', to: '2026-03-03' });

    // Assert
    expect(run.alertCounts).toEqual({ fired: 4, published: 4, failed: 0 });
    expect(backfill.status).toBe('succeeded');
    const types = deps.alertSink.published.map((a) => `${a.entityId}:${a.type}`).sort();
    expect(types).toEqual(['down:BandChanged', 'down:ScoreDropped', 'up:BandChanged', 'up:ScoreSpiked']);
    const listed = await deps.alertStore.list({ since: T('2026-03-02'), models: ['usage'] });
    expect(listed.items).toHaveLength(4);
    expect(listed.items[0]).toMatchObject({ model: 'usage', asOf: T('2026-03-04'), previousBand: expect.any(String) });
  });
});

describe('backfill', () => {
  it('runs one run per date in order: 30 partitions and a trend series where delta[i] = score[i] − score[i−1]', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    const dates = Array.from({ length: 30 }, (_, i) =>
      new Date(Date.parse('2026-02-01') + i * 86_400_000).toISOString().slice(0, 10),
    );
    for (const [i, date] of dates.entries()) await deps.events.putEvents(events('u', 'login', date, 1 + ((i * 7) % 5)));

    // Act
    const backfill = await new LocalRunner(deps).backfill({ model: 'usage', from: dates[0]!, to: dates[29]! });

    // Assert
    expect(backfill).toMatchObject({ kind: 'backfill', status: 'succeeded' });
    expect(backfill.runs).toHaveLength(30);
    const partitions = new Set(
      (await deps.objects.list('snapshots/model=usage/')).filter((k) => k.endsWith('_manifest.json')),
    );
    expect(partitions.size).toBe(30);
    const history = await deps.scores.history({ entityType: 'user', entityId: 'u', model: 'usage' });
    expect(history.map((h) => h.asOf)).toEqual(dates.map(T));
    expect(history[0]!.delta).toBeNull();
    for (let i = 1; i < history.length; i++)
      expect(history[i]!.delta).toBeCloseTo(history[i]!.score - history[i - 1]!.score, 6);
    expect(backfill.snapshot?.manifest).toContain(`dt=${dates[29]}`);
  });

  it('rejects reversed and oversized ranges naming the field', async () => {
    const runner = new LocalRunner(memoryDeps([usage]));

    await expect(runner.backfill({ model: 'usage', from: '2026-03-02', to: '2026-03-01' })).rejects.toThrow(/^from:/);
    await expect(runner.backfill({ model: 'usage', from: '2024-01-01', to: '2026-03-01' })).rejects.toThrow(/^to:/);
    await expect(runner.backfill({ model: 'usage', from: 'yesterday', to: '2026-03-01' })).rejects.toThrow(/^from:/);
  });
});

describe('shadow run', () => {
  it('reports the entities a draft would move to another band, with reasons, and writes nothing', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    await deps.events.putEvents([...events('a', 'login', '2026-03-01', 3), ...events('b', 'login', '2026-03-01', 1)]);
    await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-01' }); // a: 6 mid, b: 2 low
    const draft = model({ ...usage, version: 2, signals: [{ name: 'logins', event: 'login', weight: 6 }] });
    const objectsBefore = [...deps.objects.objects.keys()];

    // Act
    const report = await shadowRun(deps, { draft, asOf: '2026-03-01' });

    // Assert
    expect(report).toMatchObject({ model: 'usage', draftVersion: 2, entities: 2, newEntities: 0, unchanged: 0 });
    expect(report.bands).toEqual({ live: { mid: 1, low: 1 }, draft: { high: 1, mid: 1 } });
    expect(report.changes).toEqual([
      {
        entityType: 'user',
        entityId: 'a',
        from: { band: 'mid', score: 6, asOf: T('2026-03-01'), modelVersion: 1 },
        to: { band: 'high', score: 18 },
        reasons: [{ kind: 'signal', name: 'logins', previousPoints: 6, points: 18, delta: 12 }],
      },
      expect.objectContaining({
        entityId: 'b',
        from: expect.objectContaining({ band: 'low' }),
        to: { band: 'mid', score: 6 },
      }),
    ]);
    expect([...deps.objects.objects.keys()]).toEqual(objectsBefore);
    expect(deps.scores.allCurrent('usage').map((c) => c.modelVersion)).toEqual([1, 1]);
  });
});
