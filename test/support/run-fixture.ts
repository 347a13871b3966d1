import { InMemoryAlertSink, InMemoryAlertStore } from '../../shared/adapters/memory/alert-sink.js';
import { InMemoryEntityStore } from '../../shared/adapters/memory/entity-store.js';
import { InMemoryEventStore } from '../../shared/adapters/memory/event-store.js';
import { InMemoryRunStore } from '../../shared/adapters/memory/run-store.js';
import { InMemoryScoreStore } from '../../shared/adapters/memory/score-store.js';
import { InMemorySnapshotStore } from '../../shared/adapters/memory/snapshot-store.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { type LoadedModel, modelContentHash } from '../../shared/domain/model/load.js';
import type { Model } from '../../shared/domain/model/schema.js';
import { seededRandom } from '../../shared/domain/random.js';
import type { RunDeps } from '../../shared/run/deps.js';
import { model } from './engine.js';

export const SHARDS = 4;

/**
 * The model the run tests score: logins and report exports over 7 days, an inactivity penalty, three bands and
 * both alert kinds.
 */
export const USAGE_MODEL = model({
  name: 'usage',
  windowDays: 7,
  signals: [
    { name: 'logins', event: 'login', weight: 2 },
    { name: 'reports', event: 'report_exported', weight: 5 },
  ],
  penalties: [{ name: 'inactive', inactiveDays: 3, points: -4 }],
  bands: [{ name: 'low' }, { name: 'mid', min: 5 }, { name: 'high', min: 15 }],
  alerts: { drop: { points: 5 }, bandChange: true },
});

export interface MemoryDeps extends RunDeps {
  events: InMemoryEventStore;
  entities: InMemoryEntityStore;
  scores: InMemoryScoreStore;
  runs: InMemoryRunStore;
  objects: InMemorySnapshotStore;
  alertSink: InMemoryAlertSink;
  alertStore: InMemoryAlertStore;
}

export function loaded(model: Model): LoadedModel {
  return { model, file: `${model.name}.yaml`, contentHash: modelContentHash(model) };
}

/**
 * In-memory run dependencies over the given models: SHARDS shards and small pages (7 events, 5 entities or scores)
 * so paging is exercised, unless `layout` says otherwise.
 */
export function memoryDeps(
  models: Model[],
  now = Date.parse('2026-03-10T12:00:00Z'),
  layout: { shards?: number; pageSize?: number } = {},
): MemoryDeps {
  const shards = layout.shards ?? SHARDS;
  return {
    models: new Map(models.map((m) => [m.name, loaded(m)])),
    events: new InMemoryEventStore(shards, layout.pageSize ?? 7),
    entities: new InMemoryEntityStore(shards, layout.pageSize ?? 5),
    scores: new InMemoryScoreStore(shards, layout.pageSize ?? 5),
    runs: new InMemoryRunStore(() => now),
    objects: new InMemorySnapshotStore('test-bucket'),
    alertSink: new InMemoryAlertSink(),
    alertStore: new InMemoryAlertStore(),
    clock: () => now,
    random: seededRandom(1),
  };
}

let counter = 0;

/** `count` events named `name` for a user on a UTC date (minutes apart from 10:00). */
export function events(userId: string, name: string, date: string, count = 1, accountId?: string): ScoringEvent[] {
  const start = Date.parse(`${date}T10:00:00Z`);
  return Array.from({ length: count }, (_, i) => ({
    eventId: `ev-${++counter}`,
    name,
    userId,
    accountId,
    timestamp: start + i * 60_000,
  }));
}
