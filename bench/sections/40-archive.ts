import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoEventStore, eventFromItem } from '../../shared/adapters/dynamodb/event-store.js';
import { InMemoryEntityStore } from '../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../shared/adapters/memory/event-store.js';
import { InMemoryScoreStore } from '../../shared/adapters/memory/score-store.js';
import { InMemorySnapshotStore } from '../../shared/adapters/memory/snapshot-store.js';
import { EventArchive, utcDate } from '../../shared/archive/event-archive.js';
import { archivePartKey } from '../../shared/archive/keys.js';
import { decodeEventsParquet } from '../../shared/archive/parquet-events.js';
import { TieredEventStore } from '../../shared/archive/tiered-event-store.js';
import { ScoringRun } from '../../shared/domain/engine/scoring-run.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { DAY_MS } from '../../shared/domain/time.js';
import type { EventStore, ReadShardQuery } from '../../shared/ports/event-store.js';
import { scoreShard } from '../../shared/run/worker.js';
import type { BenchFn, BenchRow } from '../types.js';
import { AS_OF, benchModel, shardItems, wireClient } from './30-recompute.js';

/**
 * Reading archived events (docs/data-model.md#event-archive): one day's Parquet file decoded into the engine, and a
 * whole 30-day window read by the worker through the tiered store from the archive only, next to the same worker
 * reading the same events as DynamoDB Query pages (the hot path, row "worker: events/s" of recompute).
 */
const SHARD = 3;

/** The day's events for one shard, as an EventStore the archiver reads (one shard of 16; the rest empty). */
class DayEvents implements EventStore {
  readonly shardCount = 16;
  constructor(private readonly byDay: Map<number, ScoringEvent[]>) {}
  putEvents(): never {
    throw new Error('read only');
  }
  async *readShard(query: ReadShardQuery): AsyncIterable<ScoringEvent[]> {
    if (query.shard !== SHARD) return;
    const events = this.byDay.get(query.from);
    if (events) yield events;
  }
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

export const bench: BenchFn = async ({ quick }) => {
  const users = quick ? 1500 : 5000;
  const model = benchModel('target');
  const days = shardItems(users, 4, SHARD);
  const byDay = new Map<number, ScoringEvent[]>();
  let itemBytes = 0;
  let total = 0;
  for (const items of days.values()) {
    for (const item of items as Record<string, AttributeValue>[]) {
      const event = eventFromItem(item);
      const day = Math.floor(event.timestamp / DAY_MS) * DAY_MS;
      const list = byDay.get(day) ?? [];
      list.push(event);
      byDay.set(day, list);
      itemBytes += JSON.stringify(item).length;
      total++;
    }
  }
  const objects = new InMemorySnapshotStore();
  const writer = new EventArchive(objects, 16);
  const source = new DayEvents(byDay);
  let parquetBytes = 0;
  for (const day of byDay.keys()) parquetBytes += (await writer.archiveDay(source, utcDate(day))).bytes;

  // One archived day: fetch + decode the Parquet file, then the engine.
  const [oneDay, oneDayEvents] = [...byDay.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  const file = (await objects.get(archivePartKey(utcDate(oneDay), SHARD)))!;
  let dayBest = 0;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    const run = new ScoringRun(model, { asOf: AS_OF, dedupe: false });
    const events = await decodeEventsParquet(file);
    run.add(events);
    run.finish();
    if (events.length !== oneDayEvents.length) throw new Error('archived day lost events');
    dayBest = Math.max(dayBest, events.length / seconds(start));
  }

  // The same worker over the whole window: DynamoDB Query pages vs the archive only (a fresh archive reader each
  // round, so every file is fetched and decoded; the hot table is empty and the clock a year later).
  const stores = { entities: new InMemoryEntityStore(16), scores: new InMemoryScoreStore(16) };
  const hotPath = new DynamoEventStore({ client: wireClient(days), tableName: 'events', shardCount: 16 });
  let hotBest = 0;
  let coldBest = 0;
  for (let round = 0; round < 3; round++) {
    let start = process.hrtime.bigint();
    const hot = await scoreShard({ ...stores, events: hotPath }, model, AS_OF, SHARD);
    hotBest = Math.max(hotBest, hot.events / seconds(start));
    const tiered = new TieredEventStore({
      hot: new InMemoryEventStore(16),
      archive: new EventArchive(objects, 16),
      hotDays: 30,
      clock: () => AS_OF + 365 * DAY_MS,
    });
    start = process.hrtime.bigint();
    const cold = await scoreShard({ ...stores, events: tiered }, model, AS_OF, SHARD);
    coldBest = Math.max(coldBest, cold.events / seconds(start));
    if (cold.events !== hot.events || JSON.stringify(cold.raws) !== JSON.stringify(hot.raws)) {
      throw new Error('the archive and the table disagree');
    }
  }

  const rows: BenchRow[] = [
    {
      metric: `archive: one archived day, Parquet → engine (${oneDayEvents.length.toLocaleString('en-US')} events, decode included)`,
      value: dayBest,
      unit: 'events/s',
      baseline: { name: 'worker over DynamoDB Query pages (same shard, whole window)', value: hotBest },
      ratio: dayBest / hotBest,
    },
    {
      metric: `archive: worker over a ${byDay.size}-day window read from the archive only (${total.toLocaleString('en-US')} events)`,
      value: coldBest,
      unit: 'events/s',
      baseline: { name: 'worker over DynamoDB Query pages', value: hotBest },
      ratio: coldBest / hotBest,
    },
    {
      metric: 'archive: Parquet bytes per event (snappy, properties as JSON text)',
      value: parquetBytes / total,
      unit: 'B',
      baseline: { name: 'DynamoDB item, wire JSON', value: itemBytes / total },
      ratio: parquetBytes / itemBytes,
    },
  ];
  return {
    name: 'archive',
    rows,
    notes: [
      'DynamoDB page path = DynamoEventStore.readShard over pre-encoded ~1 MB Query responses (SDK parsing included); archive = EventArchive reading in-memory objects (no network on either side)',
    ],
  };
};
