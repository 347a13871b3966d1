import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../../shared/adapters/memory/event-store.js';
import { InMemorySnapshotStore } from '../../../shared/adapters/memory/snapshot-store.js';
import { dueArchiveDates, EventArchive } from '../../../shared/archive/event-archive.js';
import { archiveManifestKey, archivePartKey } from '../../../shared/archive/keys.js';
import { decodeEventsParquet, encodeEventsParquet } from '../../../shared/archive/parquet-events.js';
import { TieredEventStore } from '../../../shared/archive/tiered-event-store.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { hotWindowOf, lookbackDays } from '../../../shared/domain/hot-window.js';
import { DAY_MS } from '../../../shared/domain/time.js';
import type { EntityLevel, EventStore } from '../../../shared/ports/event-store.js';
import { model } from '../../support/engine.js';

const SHARDS = 4;
const NOW = Date.parse('2026-06-01T09:00:00Z');

/** Deterministic events over `days` days before NOW: 12 users, 3 accounts (one user without), varied properties. */
function history(days: number): ScoringEvent[] {
  const out: ScoringEvent[] = [];
  for (let d = 1; d <= days; d++) {
    const dayStart = Math.floor(NOW / DAY_MS) * DAY_MS - d * DAY_MS;
    for (let u = 0; u < 12; u++) {
      if ((u + d) % 3 === 0) continue;
      out.push({
        eventId: `e-${d}-${u}`,
        name: u % 2 === 0 ? 'login' : 'report_exported',
        userId: `user-${u}`,
        accountId: u === 11 ? undefined : `acct-${u % 3}`,
        timestamp: dayStart + ((u * 977 + d * 131) % DAY_MS),
        properties: u % 4 === 0 ? { minutes: u + d, nested: { ok: true } } : undefined,
      });
    }
  }
  return out;
}

async function readAll(store: EventStore, level: EntityLevel, from: number, to: number): Promise<ScoringEvent[]> {
  const out: ScoringEvent[] = [];
  for (let shard = 0; shard < store.shardCount; shard++)
    for await (const page of store.readShard({ level, shard, from, to })) out.push(...page);
  return out.sort((a, b) => a.timestamp - b.timestamp || (a.eventId < b.eventId ? -1 : 1));
}

describe('archive Parquet codec', () => {
  it('reads back exactly the events it wrote, absent account and properties included', async () => {
    // Arrange
    const events = history(3);

    // Act
    const decoded = await decodeEventsParquet(encodeEventsParquet(events));

    // Assert
    const byId = (a: ScoringEvent, b: ScoringEvent) => (a.eventId < b.eventId ? -1 : 1);
    expect(decoded.sort(byId)).toEqual([...events].sort(byId));
    expect(decoded.some((e) => e.accountId === undefined)).toBe(true);
  });

  it('gives equal bytes for equal content in any order', () => {
    const events = history(2);
    expect(encodeEventsParquet([...events].reverse())).toEqual(encodeEventsParquet(events));
  });
});

describe('EventArchive', () => {
  it('archives a UTC day as one file per user shard, manifest last, and re-archiving after expiry loses nothing', async () => {
    // Arrange
    const hot = new InMemoryEventStore(SHARDS);
    await hot.putEvents(history(5));
    const objects = new InMemorySnapshotStore();
    const archive = new EventArchive(objects, SHARDS);
    const date = '2026-05-29';
    const day = Date.parse(`${date}T00:00:00Z`);
    const expected = await readAll(hot, 'user', day, day + DAY_MS);

    // Act: archive, then the table loses the day (TTL) and receives one late event; archive again.
    const first = await archive.archiveDay(hot, date, () => NOW);
    const late: ScoringEvent = { eventId: 'late-1', name: 'login', userId: 'user-3', timestamp: day + 5 };
    const afterTtl = new InMemoryEventStore(SHARDS);
    await afterTtl.putEvents([late, expected[0]!]);
    const second = await archive.archiveDay(afterTtl, date, () => NOW);

    // Assert
    expect(first.events).toBe(expected.length);
    const manifest = (await archive.manifest(date))!;
    expect(manifest).toMatchObject({ schemaVersion: 1, date, shardCount: SHARDS, rowCount: expected.length + 1 });
    expect(manifest.files.every((f) => f.key === archivePartKey(date, f.shard))).toBe(true);
    expect(second.events).toBe(expected.length + 1);
    const read: ScoringEvent[] = [];
    for (let s = 0; s < SHARDS; s++) read.push(...(await archive.readDay(date, 'user', s)));
    expect(read.map((e) => e.eventId).sort()).toEqual([...expected.map((e) => e.eventId), 'late-1'].sort());
    expect(objects.objects.has(archiveManifestKey(date))).toBe(true);
  });

  it('serves account shards from the user-sharded files, leaving out events without an account', async () => {
    // Arrange
    const hot = new InMemoryEventStore(SHARDS);
    await hot.putEvents(history(2));
    const archive = new EventArchive(new InMemorySnapshotStore(), SHARDS);
    const date = '2026-05-31';
    await archive.archiveDay(hot, date);
    const day = Date.parse(`${date}T00:00:00Z`);

    // Act
    const byAccount: ScoringEvent[] = [];
    for (let s = 0; s < SHARDS; s++) byAccount.push(...(await archive.readDay(date, 'account', s)));

    // Assert
    const expected = await readAll(hot, 'account', day, day + DAY_MS);
    expect(byAccount.map((e) => e.eventId).sort()).toEqual(expected.map((e) => e.eventId).sort());
    expect(byAccount.every((e) => e.accountId !== undefined)).toBe(true);
  });

  it('an unarchived day reads as empty; the archive step is due for the two days before today (UTC)', async () => {
    const archive = new EventArchive(new InMemorySnapshotStore(), SHARDS);
    expect(await archive.readDay('2020-01-01', 'user', 0)).toEqual([]);
    expect(dueArchiveDates(NOW)).toEqual(['2026-05-30', '2026-05-31']);
  });
});

describe('TieredEventStore', () => {
  it.each(['user', 'account'] as const)(
    'reads a %s window across the hot boundary exactly as if every event were in the table',
    async (level) => {
      // Arrange: 60 days of events; the table keeps 20 (the older ones expired after the archive took them).
      const all = history(60);
      const full = new InMemoryEventStore(SHARDS, 7);
      await full.putEvents(all);
      const objects = new InMemorySnapshotStore();
      const archive = new EventArchive(objects, SHARDS);
      for (let d = 60; d >= 1; d--) {
        await archive.archiveDay(
          full,
          new Date(Math.floor(NOW / DAY_MS) * DAY_MS - d * DAY_MS).toISOString().slice(0, 10),
        );
      }
      const hotDays = 20;
      const hot = new InMemoryEventStore(SHARDS, 7);
      await hot.putEvents(all.filter((e) => e.timestamp >= NOW - (hotDays + 1) * DAY_MS));
      const tiered = new TieredEventStore({ hot, archive, hotDays, clock: () => NOW, pageSize: 5 });
      const from = NOW - 45.5 * DAY_MS;
      const to = NOW - 2.25 * DAY_MS;

      // Act
      const read = await readAll(tiered, level, from, to);

      // Assert
      const expected = await readAll(full, level, from, to);
      expect(expected.length).toBeGreaterThan(100);
      expect(read).toEqual(expected);
      expect(tiered.hotFrom()).toBe(Math.floor(NOW / DAY_MS) * DAY_MS - 19 * DAY_MS);
    },
  );

  it('writes go to the events table', async () => {
    const hot = new InMemoryEventStore(SHARDS);
    const tiered = new TieredEventStore({
      hot,
      archive: new EventArchive(new InMemorySnapshotStore(), SHARDS),
      hotDays: 10,
    });
    expect(await tiered.putEvents(history(1))).toMatchObject({ duplicates: 0 });
    expect(hot.size).toBe(history(1).length);
  });
});

describe('hot window', () => {
  it('is the longest lookback (window or inactiveDays) of the models, plus a day, plus the margin', () => {
    // Arrange
    const trial = model({
      name: 'trial',
      windowDays: 14,
      signals: [{ name: 'l', event: 'login', weight: 1 }],
      penalties: [{ name: 'idle', inactiveDays: 45, points: -5 }],
    });
    const customer = model({ name: 'customer', windowDays: 30, signals: [{ name: 'l', event: 'login', weight: 1 }] });

    // Act
    const hot = hotWindowOf([trial, customer], 7);

    // Assert
    expect(lookbackDays(trial)).toBe(45);
    expect(hot).toEqual({ days: 53, lookbackDays: 45, marginDays: 7, longestModel: 'trial' });
    expect(() => hotWindowOf([customer], -1)).toThrow(RangeError);
  });
});

describe('archive step input', () => {
  it('scheduled means the two days before today; a range is checked before any work', async () => {
    const { archiveDatesOf, ArchiveRequestError } = await import('../../../shared/archive/archive-step.js');
    expect(archiveDatesOf({ archive: 'scheduled' }, NOW)).toEqual(['2026-05-30', '2026-05-31']);
    expect(archiveDatesOf({ archive: { from: '2026-05-01', to: '2026-05-03' } }, NOW)).toEqual([
      '2026-05-01',
      '2026-05-02',
      '2026-05-03',
    ]);
    expect(() => archiveDatesOf({ archive: { from: '2026-05-03', to: '2026-05-01' } }, NOW)).toThrow(/^from:/);
    expect(() => archiveDatesOf({ archive: { from: '2026-05-30', to: '2026-06-01' } }, NOW)).toThrow(/^to: .*over/);
    expect(() => archiveDatesOf({ archive: { from: '2024-01-01', to: '2026-01-01' } }, NOW)).toThrow(/at most 366/);
    expect(() => archiveDatesOf({ archive: { from: '2026-02-30', to: '2026-03-01' } }, NOW)).toThrow(
      ArchiveRequestError,
    );
    expect(() => archiveDatesOf({ archive: 'yesterday' } as never, NOW)).toThrow(/^archive/);
  });
});
