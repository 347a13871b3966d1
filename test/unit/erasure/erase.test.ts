import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { InMemoryEntityDataEraser, InMemoryErasureLog } from '../../../shared/adapters/memory/erasure.js';
import { InMemoryOverrideStore } from '../../../shared/adapters/memory/override-store.js';
import { archiveDates } from '../../../shared/archive/archive-step.js';
import { archivePartKey } from '../../../shared/archive/keys.js';
import { decodeEventsParquet } from '../../../shared/archive/parquet-events.js';
import { erasureHash } from '../../../shared/domain/erasure.js';
import { shardOf } from '../../../shared/domain/shard.js';
import { type EraseDeps, eraseEntity, liftTombstone } from '../../../shared/erasure/erase.js';
import { sweepObjects, sweepPendingErasures } from '../../../shared/erasure/sweep.js';
import { TombstoneCache } from '../../../shared/erasure/tombstones.js';
import { storeBatch } from '../../../shared/ingest/ingest.js';
import { DEFAULT_LIMITS } from '../../../shared/ingest/limits.js';
import { normaliseNative } from '../../../shared/ingest/native.js';
import { partitionPrefix } from '../../../shared/run/keys.js';
import { LocalRunner } from '../../../shared/run/local-runner.js';
import { weeklyLogins } from '../../support/engine.js';
import { events, loaded, type MemoryDeps, memoryDeps, SHARDS } from '../../support/run-fixture.js';

const usage = weeklyLogins('usage', { perLogin: 2, high: 5, drop: 1 });
const NOW = Date.parse('2026-03-10T12:00:00Z');

async function rowsOf(deps: MemoryDeps, prefix: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const key of await deps.objects.list(prefix)) {
    if (!key.endsWith('.parquet')) continue;
    const bytes = (await deps.objects.get(key))!;
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    rows.push(...((await parquetReadObjects({ file })) as Record<string, unknown>[]));
  }
  return rows;
}

/** Two users scored on two dates (a drop alert for `gone`), an override, a day archived; erasure wired in memory. */
async function arrange(sweepNow: boolean) {
  const deps = memoryDeps([usage], NOW);
  const log = new InMemoryErasureLog();
  const tombstones = new TombstoneCache(log, 60_000, () => NOW);
  deps.erased = tombstones;
  const overrides = new InMemoryOverrideStore();
  await deps.events.putEvents([
    ...events('gone', 'login', '2026-03-02', 4, 'acme'),
    ...events('kept', 'login', '2026-03-02', 3, 'acme'),
    ...events('gone', 'login', '2026-03-08', 1, 'acme'),
  ]);
  await deps.entities.upsert([{ entityType: 'user', entityId: 'gone', traits: { plan: 'pro' }, seenAt: NOW - 1000 }]);
  await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-05' });
  await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-09' });
  await overrides.put({
    entityType: 'user',
    entityId: 'gone',
    model: 'usage',
    band: 'high',
    reason: 'call',
    expiresAt: '2026-04-01T00:00:00.000Z',
    createdAt: '2026-03-09T00:00:00.000Z',
  });
  await archiveDates({ hot: deps.events, objects: deps.objects }, ['2026-03-02']);
  const eraseDeps: EraseDeps = {
    models: () => [loaded(usage)],
    data: new InMemoryEntityDataEraser({
      events: deps.events,
      entities: deps.entities,
      scores: deps.scores,
      alerts: deps.alertStore,
    }),
    overrides,
    log,
    shardCount: SHARDS,
    retentionDays: 400,
    sweepNow: sweepNow ? (records) => sweepObjects(deps.objects, records, () => NOW) : undefined,
    onTombstonesChanged: (type) => tombstones.invalidate(type),
    clock: () => NOW,
  };
  return { deps, log, tombstones, overrides, eraseDeps };
}

describe('eraseEntity over the memory stores', () => {
  it('erases every store and the bucket at once when asked to sweep now, leaving other users alone', async () => {
    // Arrange
    const { deps, log, overrides, eraseDeps } = await arrange(true);
    const alertsBefore = await deps.alertStore.list({ since: '2026-01-01', models: ['usage'] });
    expect(alertsBefore.items.some((a) => a.entityId === 'gone')).toBe(true);

    // Act
    const result = await eraseEntity(eraseDeps, { entityType: 'user', entityId: 'gone', requestedBy: 'tester' });

    // Assert
    expect(result).toMatchObject({
      status: 'completed',
      pending: [],
      erased: { events: 5, entity: 1, scores: 1, history: 2, overrides: 1 },
      objects: { snapshotFiles: 2, snapshotRows: 2, archiveFiles: 1, archiveRows: 4 },
    });
    expect(result.erased.alerts).toBeGreaterThan(0);
    expect(deps.events.all().map((e) => e.userId)).toEqual(['kept', 'kept', 'kept']);
    expect(await deps.entities.get('user', 'gone')).toBeUndefined();
    expect(await deps.scores.getCurrent('user', 'gone', ['usage'])).toEqual([]);
    expect(await deps.scores.history({ entityType: 'user', entityId: 'gone', model: 'usage' })).toEqual([]);
    expect(await overrides.get('user', 'gone', 'usage')).toBeUndefined();
    const alerts = await deps.alertStore.list({ since: '2026-01-01', models: ['usage'] });
    expect(alerts.items.some((a) => a.entityId === 'gone')).toBe(false);
    const snapshot = await rowsOf(deps, 'snapshots/');
    expect(snapshot.map((r) => r.entity_id)).toEqual(['kept', 'kept']);
    const archived = await decodeEventsParquet(
      (await deps.objects.get(archivePartKey('2026-03-02', shardOf('kept', SHARDS))))!,
    );
    expect(archived.map((e) => e.userId)).not.toContain('gone');
    expect(await deps.scores.history({ entityType: 'user', entityId: 'kept', model: 'usage' })).toHaveLength(2);
    const [record] = (await log.list(10)).items;
    expect(record).toMatchObject({ action: 'erase', idHash: erasureHash('user', 'gone'), requestedBy: 'tester' });
    expect(JSON.stringify(record)).not.toContain('"gone"');
  });

  it('is idempotent: a repeat answers completed with nothing left to erase and the first erasure time', async () => {
    // Arrange
    const { eraseDeps } = await arrange(true);
    const first = await eraseEntity(eraseDeps, { entityType: 'user', entityId: 'gone', requestedBy: 'a' });

    // Act
    const again = await eraseEntity(
      { ...eraseDeps, clock: () => NOW + 60_000 },
      { entityType: 'user', entityId: 'gone', requestedBy: 'b' },
    );

    // Assert
    expect(again.status).toBe('completed');
    expect(again.erased).toEqual({ events: 0, entity: 0, scores: 0, history: 0, alerts: 0, overrides: 0 });
    expect(again.objects).toEqual({ snapshotFiles: 0, snapshotRows: 0, archiveFiles: 0, archiveRows: 0 });
    expect(again.erasedSince).toBe(first.requestedAt);
  });

  it('without a sweep, leaves the bucket pending until sweepPendingErasures runs', async () => {
    // Arrange
    const { deps, log, eraseDeps } = await arrange(false);

    // Act
    const result = await eraseEntity(eraseDeps, { entityType: 'user', entityId: 'gone', requestedBy: 'x' });
    const beforeSweep = await rowsOf(deps, 'snapshots/');
    const swept = await sweepPendingErasures({ log, objects: deps.objects, clock: () => NOW });

    // Assert
    expect(result).toMatchObject({ status: 'pending', pending: ['snapshots', 'archive'], objects: null });
    expect(beforeSweep.filter((r) => r.entity_id === 'gone')).toHaveLength(2);
    expect(swept).toMatchObject({ erasures: 1, snapshotRows: 2, archiveRows: 4 });
    expect((await rowsOf(deps, 'snapshots/')).filter((r) => r.entity_id === 'gone')).toEqual([]);
    expect(await log.pending()).toEqual([]);
    expect((await log.list(1)).items[0]).toMatchObject({ pending: [], completedAt: new Date(NOW).toISOString() });
    expect(await sweepPendingErasures({ log, objects: deps.objects })).toMatchObject({ erasures: 0 });
  });

  it('a later run leaves the erased user out even when its events slipped back in; lifting lets it back', async () => {
    // Arrange
    const { deps, eraseDeps } = await arrange(true);
    await eraseEntity(eraseDeps, { entityType: 'user', entityId: 'gone', requestedBy: 'x' });
    await deps.events.putEvents(events('gone', 'login', '2026-03-09', 3));

    // Act
    await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-10' });
    const whileErased = deps.scores.allCurrent('usage').map((s) => s.entityId);
    const snapshot = await rowsOf(deps, partitionPrefix('usage', '2026-03-10'));
    const lifted = await liftTombstone(eraseDeps, { entityType: 'user', entityId: 'gone', requestedBy: 'x' });
    await new LocalRunner(deps).run({ model: 'usage', asOf: '2026-03-10' });

    // Assert
    expect(whileErased).toEqual(['kept']);
    expect(snapshot.map((r) => r.entity_id)).toEqual(['kept']);
    expect(lifted.lifted).toBe(true);
    expect(
      deps.scores
        .allCurrent('usage')
        .map((s) => s.entityId)
        .sort(),
    ).toEqual(['gone', 'kept']);
  });

  it('ingest refuses an erased user by index naming userId, stores the rest', async () => {
    // Arrange
    const { deps, eraseDeps, tombstones } = await arrange(true);
    await eraseEntity(eraseDeps, { entityType: 'user', entityId: 'gone', requestedBy: 'x' });
    const body = {
      events: [
        { eventId: 'n1', name: 'login', userId: 'kept', timestamp: '2026-03-10T10:00:00Z' },
        { eventId: 'n2', name: 'login', userId: 'gone', timestamp: '2026-03-10T10:00:00Z' },
        { eventId: 'n3', name: 'login', userId: 'kept', accountId: 'acme', timestamp: '2026-03-10T10:01:00Z' },
      ],
    };
    const batch = normaliseNative(body, { now: NOW, limits: DEFAULT_LIMITS, bodyBytes: 500 });

    // Act
    const outcome = await storeBatch({ events: deps.events, entities: deps.entities, erased: tombstones }, batch);

    // Assert
    expect(outcome.accepted).toBe(2);
    expect(outcome.rejected).toEqual([
      { index: 1, errors: [{ path: 'userId', message: expect.stringMatching(/erased/) }] },
    ]);
    expect(deps.events.all().filter((e) => e.userId === 'gone')).toEqual([]);
  });

  it('erasing an account keeps its users and their events', async () => {
    // Arrange
    const { deps, eraseDeps } = await arrange(true);
    await deps.entities.upsert([{ entityType: 'account', entityId: 'acme', traits: { tier: 'gold' }, seenAt: NOW }]);

    // Act
    const result = await eraseEntity(eraseDeps, { entityType: 'account', entityId: 'acme', requestedBy: 'x' });

    // Assert
    expect(result).toMatchObject({ status: 'completed', erased: { events: 0, entity: 1 } });
    expect(await deps.entities.get('account', 'acme')).toBeUndefined();
    expect(deps.events.all().length).toBe(8);
    expect(await deps.entities.get('user', 'gone')).toBeDefined();
  });
});
