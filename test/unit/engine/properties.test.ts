import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EntityScore, ScoringRun, scoreEvents } from '../../../shared/domain/engine/index.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import type { Model } from '../../../shared/domain/model/schema.js';
import { activeDaysTiers, model, sessionMinutes } from '../../support/engine.js';

/**
 * Properties of the engine over generated event streams. The window is 2026-11-17..2026-11-24 in Berlin
 * (T = 2026-11-24T23:00Z); events are spread over twice the window so some fall outside it.
 */
const AS_OF = '2026-11-24';
const T = Date.parse('2026-11-24T23:00:00Z');
const SPAN = 16 * 86_400_000;
const NAMES = ['login', 'feature_used', 'session_ended', 'ticket_opened', 'report_exported', 'page_viewed'] as const;

/** Every feature at once: where, sum, caps, decay, tiers, weeks, days, negative weights and every penalty. */
const everything = model({
  windowDays: 7,
  timezone: 'Europe/Berlin',
  signals: [
    { name: 'logins', event: 'login', weight: 1, capPerDay: 2, decay: { halfLifeDays: 3 }, transform: 'log1p' },
    { name: 'premium', event: 'feature_used', where: { tier: 'premium' }, weight: 10, cap: 3 },
    sessionMinutes('minutes', 0.1, { decay: { halfLifeDays: 5 }, transform: 'sqrt' }),
    activeDaysTiers('days', [
      [5, 10],
      [0, 0],
      [2, 5],
    ]),
    { name: 'weeks', event: 'login', aggregate: 'distinctWeeks', weight: 2 },
    { name: 'tickets', event: 'ticket_opened', weight: -3 },
  ],
  penalties: [
    { name: 'no-report', absent: 'report_exported', points: -20 },
    { name: 'inactive', inactiveDays: 10, points: -15 },
    { name: 'backlog', signal: 'tickets', below: -6, points: -5 },
  ],
  normalize: { method: 'percentile' },
  bands: [{ name: 'low' }, { name: 'high', min: 50 }],
});

/** The same for accounts: pooled with distinct users, mean and max rollups with a breakdown. */
const accountModels: Model[] = (['pooled', 'mean', 'max'] as const).map((rollup) =>
  model({
    ...everything,
    level: 'account',
    rollup,
    breakdown: { trait: 'role' },
    signals: [...everything.signals, { name: 'users', event: '*', aggregate: 'distinctUsers', weight: 4 }],
  }),
);

const eventArb = fc.record({
  eventId: fc.integer({ min: 0, max: 1_000_000 }).map((n) => `id-${n}`),
  name: fc.constantFrom(...NAMES),
  userId: fc.constantFrom('u1', 'u2', 'u3', 'u4'),
  accountId: fc.option(fc.constantFrom('a1', 'a2'), { nil: undefined }),
  timestamp: fc.integer({ min: T - SPAN, max: T + 3_600_000 }),
  properties: fc.option(
    fc.record({ tier: fc.constantFrom('premium', 'basic'), minutes: fc.integer({ min: 0, max: 120 }) }),
    { nil: undefined },
  ),
}) satisfies fc.Arbitrary<ScoringEvent>;

/** Events with distinct ids (duplicates are their own property below). */
const eventsArb = fc.uniqueArray(eventArb, { selector: (e) => e.eventId, maxLength: 60 });

const traitsOf = (type: string, id: string) =>
  type === 'user' && id !== 'u4' ? { role: id === 'u1' ? 'admin' : 'member' } : undefined;
const accountOf = (userId: string) => (userId === 'u3' ? 'a2' : 'a1');
const options = { asOf: AS_OF, traitsOf, accountOf };

async function score(m: Model, events: ScoringEvent[]): Promise<EntityScore[]> {
  return scoreEvents(m, events, options);
}

/** Split a list into pages at the given cut points. */
function pages<E>(list: E[], cuts: number[]): E[][] {
  const at = [...new Set(cuts.map((c) => c % (list.length + 1)))].sort((a, b) => a - b);
  const out: E[][] = [];
  let start = 0;
  for (const cut of [...at, list.length]) {
    out.push(list.slice(start, cut));
    start = cut;
  }
  return out;
}

async function* asPages<E>(list: E[][]): AsyncIterable<E[]> {
  for (const page of list) yield page;
}

const NUM_RUNS = 150;

describe('properties of the engine', () => {
  it('gives the same result whatever the order of the events', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length })),
        ),
        fc.constantFrom(everything, ...accountModels),
        async ([events, shuffled], m) => {
          expect(await score(m, shuffled)).toEqual(await score(m, events));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  // Shrunk from two counterexamples found above: u1 and u2 tie under rollup max, and the user that explained the
  // account used to be whichever was seen first.
  it('explains a rollup-max account by the same user whatever the order when its users tie', async () => {
    const max = accountModels[2]!;
    const at = T - 86_400_000;
    const events: ScoringEvent[] = [
      { eventId: 'id-0', name: 'report_exported', userId: 'u1', timestamp: at },
      { eventId: 'id-1', name: 'feature_used', userId: 'u2', timestamp: at, properties: { tier: 'premium' } },
      { eventId: 'id-2', name: 'feature_used', userId: 'u2', timestamp: at, properties: { tier: 'premium' } },
    ];
    const forward = await score(max, events);
    const backward = await score(max, [...events].reverse());

    expect(backward).toEqual(forward);
    // Both users score raw 0 (u1: no penalty, no premium; u2: premium 20, no-report -20): u1 explains it.
    expect(forward[0]!.contributions.find((c) => c.signal === 'premium')!.value).toBe(0);
  });

  it('gives the same result however the events are split into pages', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom(everything, ...accountModels),
        async (events, cuts, m) => {
          const paged = await scoreEvents(m, asPages(pages(events, cuts)), options);

          expect(paged).toEqual(await score(m, events));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('never changes the result for repeated event ids (dedupe on)', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb.filter((events) => events.length > 0),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(everything, ...accountModels),
        async (events, repeats, m) => {
          const withRepeats = [...events];
          for (const [which, where] of repeats) {
            withRepeats.splice(where % (withRepeats.length + 1), 0, { ...events[which % events.length]! });
          }

          expect(await score(m, withRepeats)).toEqual(await score(m, events));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  /*
   * Monotonicity needs a model where more activity can only add points. That holds for counts, sums of
   * non-negative amounts, distinct days and weeks, caps, capPerDay without decay on counts, tiers whose points
   * rise with min, decay on counts (each event adds a positive decayed amount), log1p and sqrt transforms (non-decreasing), and the absent and inactiveDays
   * penalties (an event can only lift them). It does not hold for: negative weights; `above` penalties with
   * negative points (more events can trigger them); capPerDay with decay or on sums (a capped day keeps the
   * mean of its events, so a low-valued extra event lowers the mean); percentile (others' scores move).
   */
  const monotone = model({
    windowDays: 7,
    timezone: 'Europe/Berlin',
    signals: [
      { name: 'logins', event: 'login', weight: 1, capPerDay: 2 },
      { name: 'decayed', event: 'login', weight: 2, decay: { halfLifeDays: 3 }, transform: 'log1p' },
      { name: 'premium', event: 'feature_used', where: { tier: 'premium' }, weight: 10, cap: 3, transform: 'sqrt' },
      sessionMinutes('minutes', 0.1),
      activeDaysTiers('days', [
        [5, 10],
        [0, 0],
        [2, 5],
      ]),
      { name: 'weeks', event: 'login', aggregate: 'distinctWeeks', weight: 2 },
    ],
    penalties: [
      { name: 'no-report', absent: 'report_exported', points: -20 },
      { name: 'inactive', inactiveDays: 10, points: -15 },
    ],
  });

  it('never lowers raw when a positive-weight event is added', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, eventArb, async (events, extra) => {
        const added = { ...extra, userId: 'u1', eventId: 'extra' };
        const before = await score(monotone, events);
        const after = await score(monotone, [...events, added]);
        const rawBefore = before.find((s) => s.entityId === 'u1')?.rawScore;
        const rawAfter = after.find((s) => s.entityId === 'u1')?.rawScore;

        // The extra event may be outside the lookback: then u1 keeps its score (or stays unscored).
        if (rawBefore === undefined) return;
        expect(rawAfter).toBeDefined();
        expect(rawAfter!).toBeGreaterThanOrEqual(rawBefore);
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it('scores an entity with events the same with dedupe on and off when ids are unique', async () => {
    await fc.assert(
      fc.property(eventsArb, (events) => {
        const on = new ScoringRun(everything, { asOf: T });
        const off = new ScoringRun(everything, { asOf: T, dedupe: false });
        on.add(events);
        off.add(events);

        expect(off.finish()).toEqual(on.finish());
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
