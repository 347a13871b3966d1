import { describe, expect, it } from 'vitest';
import { ScoringRun } from '../../../shared/domain/engine/index.js';
import { AS_OF, IN_WINDOW, WINDOW_END } from '../../support/as-of.js';
import { daysBefore, event, model, pointsOf, repeat, scoreOnly, signalValue } from '../../support/engine.js';

describe('count and sum', () => {
  it('multiplies a count by its weight, negative weights included', async () => {
    const m = model({
      signals: [
        { name: 'projects', event: 'project_created', weight: 4 },
        { name: 'payment-failures', event: 'payment_failed', weight: -10 },
      ],
    });
    const events = [...repeat(3, 'project_created', IN_WINDOW), ...repeat(2, 'payment_failed', IN_WINDOW)];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(score.contributions).toEqual([
      { signal: 'projects', value: 3, points: 12 },
      { signal: 'payment-failures', value: 2, points: -20 },
    ]);
    expect(score.rawScore).toBe(-8);
  });

  it('sums a numeric property, reading numeric text and skipping values that are not numbers', async () => {
    const m = model({
      signals: [{ name: 'minutes', event: 'session_ended', aggregate: 'sum', property: 'minutes', weight: 0.1 }],
    });
    const events = [
      event('session_ended', IN_WINDOW, { properties: { minutes: 10 } }),
      event('session_ended', IN_WINDOW, { properties: { minutes: 20.5 } }),
      event('session_ended', IN_WINDOW, { properties: { minutes: '5' } }),
      event('session_ended', IN_WINDOW, { properties: { minutes: 'lots' } }),
      event('session_ended', IN_WINDOW, { properties: { minutes: null } }),
      event('session_ended', IN_WINDOW),
    ];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(signalValue(score, 'minutes')).toBe(35.5);
    expect(pointsOf(score, 'minutes')).toBe(3.55);
  });

  it('filters by where: every key must match, an array means any value, numbers match their text', async () => {
    const m = model({
      signals: [{ name: 'premium', event: 'feature_used', where: { tier: ['premium', 'gold'], seats: 3 }, weight: 1 }],
    });
    const events = [
      event('feature_used', IN_WINDOW, { properties: { tier: 'premium', seats: 3 } }),
      event('feature_used', IN_WINDOW, { properties: { tier: 'gold', seats: '3' } }),
      event('feature_used', IN_WINDOW, { properties: { tier: 'basic', seats: 3 } }),
      event('feature_used', IN_WINDOW, { properties: { tier: 'premium' } }),
      event('feature_used', IN_WINDOW),
    ];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(signalValue(score, 'premium')).toBe(2);
  });

  it('counts one event toward every signal that selects it, including "*"', async () => {
    const m = model({
      signals: [
        { name: 'logins', event: 'login', weight: 1 },
        { name: 'logins-again', event: 'login', weight: 2 },
        { name: 'anything', event: '*', weight: 0.5 },
      ],
    });

    const score = await scoreOnly(m, repeat(2, 'login', IN_WINDOW), { asOf: AS_OF });

    expect(score.rawScore).toBe(2 + 4 + 1);
  });
});

describe('unknown event names', () => {
  it('are ignored by signals but count as activity (events, active days, last seen)', async () => {
    const m = model({
      signals: [{ name: 'logins', event: 'login', weight: 1 }],
      penalties: [{ name: 'inactive', inactiveDays: 7, points: -5 }],
    });
    const events = [event('page_viewed', '2026-11-23T10:00:00Z'), event('something_new', '2026-11-22T10:00:00Z')];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(score.contributions).toEqual([{ signal: 'logins', value: 0, points: 0 }]);
    expect(score.penalties).toEqual([]);
    expect(score.coverage).toMatchObject({ events: 2, activeDays: 2, lastSeenAt: Date.parse('2026-11-23T10:00:00Z') });
  });
});

describe('cap', () => {
  it('bounds a count before the weight applies', async () => {
    const m = model({ signals: [{ name: 'invites', event: 'teammate_invited', weight: 5, cap: 10 }] });

    const score = await scoreOnly(m, repeat(12, 'teammate_invited', IN_WINDOW), { asOf: AS_OF });

    expect(score.contributions).toEqual([{ signal: 'invites', value: 10, points: 50 }]);
  });

  it('leaves a count under the cap alone, and bounds sums and distinct days too', async () => {
    const m = model({
      signals: [
        { name: 'invites', event: 'teammate_invited', weight: 1, cap: 10 },
        { name: 'minutes', event: 'session_ended', aggregate: 'sum', property: 'minutes', weight: 1, cap: 60 },
        { name: 'days', event: '*', aggregate: 'distinctDays', weight: 1, cap: 2 },
      ],
    });
    const events = [
      ...repeat(9, 'teammate_invited', '2026-11-20T10:00:00Z'),
      event('session_ended', '2026-11-21T10:00:00Z', { properties: { minutes: 50 } }),
      event('session_ended', '2026-11-22T10:00:00Z', { properties: { minutes: 50 } }),
    ];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(signalValue(score, 'invites')).toBe(9);
    expect(signalValue(score, 'minutes')).toBe(60);
    expect(signalValue(score, 'days')).toBe(2);
  });
});

describe('capPerDay', () => {
  it('counts at most N events a day', async () => {
    const m = model({ signals: [{ name: 'core-use', event: 'core_feature_used', weight: 5, capPerDay: 3 }] });
    const events = [
      ...repeat(10, 'core_feature_used', '2026-11-20T10:00:00Z'), // capped to 3
      ...repeat(2, 'core_feature_used', '2026-11-21T10:00:00Z'), // 2
    ];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(score.contributions).toEqual([{ signal: 'core-use', value: 5, points: 25 }]);
  });

  it('with decay, a capped day keeps the mean decayed value of its events', async () => {
    // Half-life 2 days. Day 2026-11-23 has four events (capped to 2): two aged 2 d (0.5 each) and two aged 1.5 d.
    // Day 2026-11-22 has one event aged 3 d: under the cap, it keeps its own value.
    const m = model({
      signals: [{ name: 'core-use', event: 'use', weight: 1, capPerDay: 2, decay: { halfLifeDays: 2 } }],
    });
    const events = [
      event('use', daysBefore(WINDOW_END, 2)),
      event('use', daysBefore(WINDOW_END, 2)),
      event('use', daysBefore(WINDOW_END, 1.5)),
      event('use', daysBefore(WINDOW_END, 1.5)),
      event('use', daysBefore(WINDOW_END, 3)),
    ];
    const aged = (days: number) => 0.5 ** (days / 2);
    const cappedDay = ((2 * aged(2) + 2 * aged(1.5)) / 4) * 2;

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(signalValue(score, 'core-use')).toBeCloseTo(cappedDay + aged(3), 6);
  });

  it('caps a sum per day by the mean value of the day’s events', async () => {
    const m = model({
      signals: [
        { name: 'minutes', event: 'session_ended', aggregate: 'sum', property: 'minutes', weight: 1, capPerDay: 2 },
      ],
    });
    const events = [10, 20, 30, 40].map((minutes) => event('session_ended', IN_WINDOW, { properties: { minutes } }));

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(signalValue(score, 'minutes')).toBe(50); // mean 25 × 2 events
  });
});

describe('decay', () => {
  it('weighs an event exactly one half-life old at 0.5', async () => {
    const m = model({ signals: [{ name: 'uses', event: 'use', weight: 10, decay: { halfLifeDays: 7 } }] });

    const score = await scoreOnly(m, [event('use', daysBefore(WINDOW_END, 7))], { asOf: AS_OF });

    expect(score.contributions).toEqual([{ signal: 'uses', value: 0.5, points: 5 }]);
  });

  it('weighs two half-lives at 0.25 and a sum property by its decayed amount', async () => {
    const m = model({
      signals: [
        { name: 'uses', event: 'use', weight: 1, decay: { halfLifeDays: 7 } },
        {
          name: 'minutes',
          event: 'session_ended',
          aggregate: 'sum',
          property: 'minutes',
          weight: 1,
          decay: { halfLifeDays: 7 },
        },
      ],
    });
    const events = [
      event('use', daysBefore(WINDOW_END, 14)),
      event('session_ended', daysBefore(WINDOW_END, 7), { properties: { minutes: 30 } }),
    ];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(signalValue(score, 'uses')).toBe(0.25);
    expect(signalValue(score, 'minutes')).toBe(15);
  });
});

describe('tiers', () => {
  const tiers = [
    { min: 0, points: 0 },
    { min: 2, points: 5 },
    { min: 5, points: 10 },
    { min: 9, points: 20 },
  ];
  const activeOn = (days: number) =>
    Array.from({ length: days }, (_, i) => event('x', `2026-11-${String(10 + i).padStart(2, '0')}T10:00:00Z`));

  it.each([
    [0, 0],
    [1, 0],
    [2, 5],
    [4, 5],
    [5, 10],
    [8, 10],
    [9, 20],
    [12, 20],
  ])('active %i days → %i points (highest matching min wins)', async (days, points) => {
    const m = model({ signals: [{ name: 'active-days', event: '*', aggregate: 'distinctDays', tiers }] });
    const events = days === 0 ? [event('x', '2026-10-01T00:00:00Z')] : activeOn(days);

    const run = new ScoringRun(m, { asOf: WINDOW_END });
    run.add(events);
    run.addKnown([{ entityId: 'u1' }]);
    const [raw] = run.finish();

    expect(raw?.contributions).toEqual([{ signal: 'active-days', value: days, points }]);
  });

  it('does not depend on the order tiers are written in', async () => {
    const shuffled = [tiers[3]!, tiers[0]!, tiers[2]!, tiers[1]!];
    const m = model({ signals: [{ name: 'active-days', event: '*', aggregate: 'distinctDays', tiers: shuffled }] });

    const score = await scoreOnly(m, activeOn(6), { asOf: AS_OF });

    expect(pointsOf(score, 'active-days')).toBe(10);
  });

  it('gives 0 points when no tier matches, and allows negative points', async () => {
    const m = model({
      signals: [
        { name: 'logins', event: 'login', tiers: [{ min: 3, points: 10 }] },
        { name: 'failures', event: 'payment_failed', tiers: [{ min: 1, points: -25 }] },
      ],
    });

    const score = await scoreOnly(m, [event('login', IN_WINDOW), event('payment_failed', IN_WINDOW)], { asOf: AS_OF });

    expect(score.contributions).toEqual([
      { signal: 'logins', value: 1, points: 0 },
      { signal: 'failures', value: 1, points: -25 },
    ]);
  });

  it('applies after the cap', async () => {
    const m = model({ signals: [{ name: 'logins', event: 'login', cap: 4, tiers: [{ min: 5, points: 10 }] }] });

    const score = await scoreOnly(m, repeat(6, 'login', IN_WINDOW), { asOf: AS_OF });

    expect(score.contributions).toEqual([{ signal: 'logins', value: 4, points: 0 }]);
  });
});

describe('distinctDays and distinctWeeks', () => {
  /** Signals `days` and `weeks`: the distinct days and ISO weeks with an `eventName` event (`*`: any). */
  const daysAndWeeks = (windowDays: number, eventName: string) =>
    model({
      windowDays,
      signals: [
        { name: 'days', event: eventName, aggregate: 'distinctDays', weight: 1 },
        { name: 'weeks', event: eventName, aggregate: 'distinctWeeks', weight: 1 },
      ],
    });

  it('count days and ISO weeks with at least one matching event', async () => {
    const m = daysAndWeeks(28, 'login');
    // 2026-11-16 and 2026-11-22 are Monday and Sunday of one ISO week; 2026-11-23 starts the next.
    const events = [
      ...repeat(3, 'login', '2026-11-16T08:00:00Z'),
      event('login', '2026-11-22T23:59:00Z'),
      event('login', '2026-11-23T00:00:00Z'),
      event('other', '2026-11-10T00:00:00Z'),
    ];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(signalValue(score, 'days')).toBe(3);
    expect(signalValue(score, 'weeks')).toBe(2);
  });

  it('fit a window of a full year: 366 days touching 54 ISO weeks', async () => {
    const m = daysAndWeeks(366, '*');
    // asOf Monday 2026-11-23: the window starts on Sunday 2025-11-23 and ends on a Monday, so it touches
    // one Sunday, 52 whole weeks and one Monday.
    const end = Date.parse('2026-11-24T00:00:00Z');
    const events = Array.from({ length: 366 }, (_, i) => event('x', daysBefore(end, i + 0.5)));

    const score = await scoreOnly(m, events, { asOf: '2026-11-23' });

    expect(signalValue(score, 'days')).toBe(366);
    expect(signalValue(score, 'weeks')).toBe(54);
  });
});
