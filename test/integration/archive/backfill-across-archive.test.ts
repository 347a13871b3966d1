import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoEventStore } from '../../../shared/adapters/dynamodb/event-store.js';
import { InMemoryAlertSink, InMemoryAlertStore } from '../../../shared/adapters/memory/alert-sink.js';
import { InMemoryEntityStore } from '../../../shared/adapters/memory/entity-store.js';
import { InMemoryRunStore } from '../../../shared/adapters/memory/run-store.js';
import { InMemoryScoreStore } from '../../../shared/adapters/memory/score-store.js';
import { InMemorySnapshotStore } from '../../../shared/adapters/memory/snapshot-store.js';
import { S3SnapshotStore } from '../../../shared/adapters/s3/snapshot-store.js';
import { EventArchive, utcDate } from '../../../shared/archive/event-archive.js';
import { TieredEventStore } from '../../../shared/archive/tiered-event-store.js';
import { scoreEvents } from '../../../shared/domain/engine/index.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { hotWindowOf } from '../../../shared/domain/hot-window.js';
import type { Model } from '../../../shared/domain/model/schema.js';
import { seededRandom } from '../../../shared/domain/random.js';
import { DAY_MS, dateRange } from '../../../shared/domain/time.js';
import { runLocalArchive } from '../../../shared/local/archive.js';
import type { RunDeps } from '../../../shared/run/deps.js';
import { LocalRunner } from '../../../shared/run/local-runner.js';
import { useDynamo } from '../../support/dynamo.js';
import { model } from '../../support/engine.js';
import { loaded } from '../../support/run-fixture.js';
import { type S3Harness, startS3rver } from '../../support/s3.js';

const SHARDS = 2;
const NOW = Date.parse('2026-06-01T06:00:00Z');
const TODAY = Math.floor(NOW / DAY_MS) * DAY_MS;
const users = Array.from({ length: 16 }, (_, i) => `user-${i}`);

const usage = model({
  name: 'usage',
  windowDays: 28,
  signals: [
    { name: 'logins', event: 'login', weight: 2, decay: { halfLifeDays: 10 } },
    { name: 'reports', event: 'report_exported', weight: 5, cap: 6 },
    { name: 'active-days', event: '*', aggregate: 'distinctDays', weight: 1 },
  ],
  penalties: [{ name: 'inactive', inactiveDays: 10, points: -8 }],
  bands: [{ name: 'low' }, { name: 'mid', min: 10 }, { name: 'high', min: 30 }],
});
const accounts = model({
  name: 'accounts',
  level: 'account',
  windowDays: 21,
  signals: [
    { name: 'users', event: '*', aggregate: 'distinctUsers', weight: 3 },
    { name: 'reports', event: 'report_exported', weight: 2 },
  ],
  bands: [{ name: 'low' }, { name: 'high', min: 20 }],
});

/** 160 days of events, seeded: users drift in and out of activity so scores move and inactivity penalties fire. */
function eventHistory(): ScoringEvent[] {
  const random = seededRandom(7);
  const out: ScoringEvent[] = [];
  for (let d = 160; d >= 1; d--) {
    const day = TODAY - d * DAY_MS;
    users.forEach((userId, u) => {
      if (random() > 0.15 + 0.5 * Math.abs(Math.sin((d + u * 7) / 17))) return;
      const count = 1 + Math.floor(random() * 3);
      for (let i = 0; i < count; i++) {
        out.push({
          eventId: `e-${d}-${u}-${i}`,
          name: random() < 0.7 ? 'login' : 'report_exported',
          userId,
          accountId: u % 5 === 4 ? undefined : `acct-${u % 3}`,
          timestamp: day + Math.floor(random() * DAY_MS),
          properties: i === 0 ? { plan: u % 2 ? 'pro' : 'free' } : undefined,
        });
      }
    });
  }
  return out;
}

/**
 * What a backfill must produce, computed with every event at hand: the engine over all events for each date in
 * order, entities scored once staying known (they keep being scored, docs/models.md#semantics-exact).
 */
async function expectedHistory(m: Model, events: ScoringEvent[], dates: string[]) {
  const known = new Set<string>();
  const out = new Map<string, { asOf: string; score: number; rawScore: number; band: string }[]>();
  for (const date of dates) {
    const scores = await scoreEvents(m, events, { asOf: date, known: [...known].map((entityId) => ({ entityId })) });
    for (const s of scores) {
      known.add(s.entityId);
      const rows = out.get(s.entityId) ?? [];
      rows.push({ asOf: s.asOf, score: s.score, rawScore: s.rawScore, band: s.band });
      out.set(s.entityId, rows);
    }
  }
  return out;
}

describe('a backfill across the archive boundary (dynalite + s3rver, as local mode runs it)', () => {
  const dynamo = useDynamo();
  let s3: S3Harness;

  beforeAll(async () => {
    s3 = await startS3rver();
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('120 days: scores equal those computed with every event hot', { timeout: 600_000 }, async () => {
    // Arrange: 160 days of events in the table; local mode's archive step at NOW archives the days TTL expires
    // (and the two due days), then deletes what DynamoDB's TTL would have: the table keeps the hot window only.
    const events = eventHistory();
    const hotWindow = hotWindowOf([usage, accounts]);
    const { client, eventsTable } = dynamo;
    const hot = new DynamoEventStore({
      client,
      tableName: eventsTable,
      shardCount: SHARDS,
      retentionDays: hotWindow.days,
      // Each event arrived as it happened (live ingest), so its TTL counts from its own time.
      clock: () => 0,
    });
    await hot.putEvents(events);
    const objects = new S3SnapshotStore({ client: s3.client, bucket: s3.bucket });
    const step = await runLocalArchive({ client, eventsTable, hot, objects, clock: () => NOW });
    const expired = step.expired;
    const deps: RunDeps = {
      models: new Map([
        ['usage', loaded(usage)],
        ['accounts', loaded(accounts)],
      ]),
      events: new TieredEventStore({
        hot,
        archive: new EventArchive(objects, SHARDS),
        hotDays: hotWindow.days,
        clock: () => NOW,
      }),
      // The events are the subject: the table (dynalite) and the archive (s3rver) are real; run outputs are kept in
      // memory so 160 runs stay quick (the run store adapters have their own integration tests).
      entities: new InMemoryEntityStore(SHARDS),
      scores: new InMemoryScoreStore(SHARDS),
      runs: new InMemoryRunStore(() => NOW),
      objects: new InMemorySnapshotStore(),
      alertSink: new InMemoryAlertSink(),
      alertStore: new InMemoryAlertStore(),
      clock: () => NOW,
      random: seededRandom(3),
    };
    const runner = new LocalRunner(deps, { concurrency: 2 });
    const to = utcDate(TODAY - DAY_MS);
    const userDates = dateRange(utcDate(TODAY - 120 * DAY_MS), to);
    // The account model over 40 dates: its windows cross the boundary too (at day −hotWindow.days).
    const accountDates = dateRange(utcDate(TODAY - 40 * DAY_MS), to);

    // Act
    const userRun = await runner.backfill({ model: 'usage', from: userDates[0]!, to });
    const accountRun = await runner.backfill({ model: 'accounts', from: accountDates[0]!, to });

    // Assert: TTL took every event older than the hot window, more than half of them.
    const expiredByNow = events.filter((e) => Math.floor((e.timestamp + hotWindow.days * DAY_MS) / 1000) < NOW / 1000);
    expect(expired).toBe(expiredByNow.length);
    expect(expired).toBeGreaterThan(events.length / 2);
    expect(step.events).toBeGreaterThanOrEqual(expired);
    expect(step.archivedDates).toContain(utcDate(TODAY - DAY_MS));
    expect(userRun).toMatchObject({ status: 'succeeded' });
    expect(accountRun).toMatchObject({ status: 'succeeded' });
    for (const [m, dates, type] of [
      [usage, userDates, 'user'],
      [accounts, accountDates, 'account'],
    ] as const) {
      const expected = await expectedHistory(m, events, dates);
      expect(expected.size).toBeGreaterThan(2);
      for (const [entityId, rows] of expected) {
        const history = await deps.scores.history({ entityType: type, entityId, model: m.name });
        expect(
          history.map(({ asOf, score, rawScore, band }) => ({ asOf, score, rawScore, band })),
          entityId,
        ).toEqual(rows);
      }
    }
    const user1 = await deps.scores.history({ entityType: 'user', entityId: 'user-1', model: 'usage' });
    expect(user1).toHaveLength(120);
    expect(new Set(user1.map((h) => h.score)).size).toBeGreaterThan(5);
  });
});
