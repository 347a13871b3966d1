import { describe, expect, it } from 'vitest';
import { ScoringRun } from '../../../shared/domain/engine/index.js';
import type { Traits } from '../../../shared/domain/model/schema.js';
import type { EntityLevel } from '../../../shared/ports/event-store.js';
import { AS_OF, IN_WINDOW, WINDOW_END } from '../../support/as-of.js';
import { event, model, repeat, scoreById, scoreOnly, signalValue } from '../../support/engine.js';

function traits(table: Record<string, Traits>): (type: EntityLevel, id: string) => Traits | undefined {
  return (type, id) => table[`${type}:${id}`];
}

describe('account rollup: pooled', () => {
  const pooled = model({
    level: 'account',
    signals: [
      { name: 'projects', event: 'project_created', weight: 4 },
      { name: 'active-users', event: '*', aggregate: 'distinctUsers', weight: 10 },
    ],
  });

  it('scores the events of all users of an account as one stream, via the event accountId', async () => {
    const events = [
      ...repeat(2, 'project_created', IN_WINDOW, { userId: 'u1', accountId: 'acme' }),
      ...repeat(1, 'project_created', IN_WINDOW, { userId: 'u2', accountId: 'acme' }),
      event('login', IN_WINDOW, { userId: 'u3', accountId: 'acme' }),
      event('project_created', IN_WINDOW, { userId: 'u4', accountId: 'globex' }),
    ];

    const scores = await scoreById(pooled, events, { asOf: AS_OF });

    expect([...scores.keys()]).toEqual(['acme', 'globex']);
    expect(scores.get('acme')).toMatchObject({
      entityType: 'account',
      accountId: 'acme',
      rawScore: 3 * 4 + 3 * 10,
      contributions: [
        { signal: 'projects', value: 3, points: 12 },
        { signal: 'active-users', value: 3, points: 30 },
      ],
    });
    expect(scores.get('globex')?.rawScore).toBe(4 + 10);
  });

  it('falls back to accountOf for events without an accountId, and the event’s own account wins', async () => {
    const accountOf = (userId: string) => ({ u1: 'acme', u2: 'acme', u3: 'globex' })[userId];
    const events = [
      event('project_created', IN_WINDOW, { userId: 'u1' }),
      event('project_created', IN_WINDOW, { userId: 'u2' }),
      event('project_created', IN_WINDOW, { userId: 'u3', accountId: 'acme' }),
      event('project_created', IN_WINDOW, { userId: 'stranger' }),
    ];

    const run = new ScoringRun(pooled, { asOf: WINDOW_END, accountOf });
    run.add(events);
    const raws = run.finish();

    expect(raws.map((r) => [r.entityId, r.contributions[0]?.value])).toEqual([['acme', 3]]);
    expect(run.stats.unattributed).toBe(1);
  });
});

describe('account rollup: mean and max of users', () => {
  const userSignals = [{ name: 'projects', event: 'project_created', weight: 10 }];
  const events = [
    ...repeat(1, 'project_created', IN_WINDOW, { userId: 'u1', accountId: 'acme' }),
    ...repeat(3, 'project_created', IN_WINDOW, { userId: 'u2', accountId: 'acme' }),
  ];

  it('mean: the account raw score is the mean of its users’ raw scores, explained the same way', async () => {
    const m = model({
      level: 'account',
      rollup: 'mean',
      signals: userSignals,
      penalties: [{ name: 'few', signal: 'projects', below: 2, points: -6 }],
    });

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    // u1: 10 − 6 = 4; u2: 30. Mean 17.
    expect(score.rawScore).toBe(17);
    expect(score.contributions).toEqual([{ signal: 'projects', value: 2, points: 20 }]);
    expect(score.penalties).toEqual([{ rule: 'few', points: -3 }]);
    expect(score.coverage.events).toBe(4);
  });

  it('max: the account takes its best user’s score and explanation', async () => {
    const m = model({ level: 'account', rollup: 'max', signals: userSignals });

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(score.rawScore).toBe(30);
    expect(score.contributions).toEqual([{ signal: 'projects', value: 3, points: 30 }]);
  });
});

describe('account breakdown by a user trait', () => {
  it('gives one score per trait value, with its users, and "(none)" for users without it', async () => {
    const m = model({
      level: 'account',
      breakdown: { trait: 'role' },
      signals: [
        { name: 'projects', event: 'project_created', weight: 1 },
        { name: 'users', event: '*', aggregate: 'distinctUsers', weight: 1 },
      ],
      normalize: { method: 'target', target: 10 },
    });
    const traitsOf = traits({
      'user:u1': { role: 'admin' },
      'user:u2': { role: 'member' },
      'user:u3': { role: 'member' },
    });
    const events = [
      ...repeat(2, 'project_created', IN_WINDOW, { userId: 'u1', accountId: 'acme' }),
      ...repeat(3, 'project_created', IN_WINDOW, { userId: 'u2', accountId: 'acme' }),
      ...repeat(1, 'project_created', IN_WINDOW, { userId: 'u3', accountId: 'acme' }),
      ...repeat(1, 'login', IN_WINDOW, { userId: 'u4', accountId: 'acme' }),
    ];

    const score = await scoreOnly(m, events, { asOf: AS_OF, traitsOf });

    expect(score.rawScore).toBe(6 + 4);
    expect(score.groups).toEqual([
      { key: '(none)', users: 1, rawScore: 1, score: 10 },
      { key: 'admin', users: 1, rawScore: 3, score: 30 },
      { key: 'member', users: 2, rawScore: 6, score: 60 },
    ]);
  });
});

describe('which entities a run scores', () => {
  const m = model({
    signals: [{ name: 'logins', event: 'login', weight: 1 }],
    penalties: [{ name: 'inactive', inactiveDays: 14, points: -15 }],
  });

  it('scores known entities without events, with their penalties showing', async () => {
    const scores = await scoreById(m, [event('login', IN_WINDOW, { userId: 'active' })], {
      asOf: AS_OF,
      known: [{ entityId: 'quiet', firstSeenAt: Date.parse('2026-01-01T00:00:00Z') }],
    });

    expect([...scores.keys()]).toEqual(['active', 'quiet']);
    expect(scores.get('quiet')).toMatchObject({
      rawScore: -15,
      penalties: [{ rule: 'inactive', points: -15 }],
      contributions: [{ signal: 'logins', value: 0, points: 0 }],
      coverage: { events: 0, activeDays: 0, observedDays: 30 },
    });
  });

  it('does not score archived entities, even with events', async () => {
    const scores = await scoreById(
      m,
      [event('login', IN_WINDOW, { userId: 'gone' }), event('login', IN_WINDOW, { userId: 'here' })],
      {
        asOf: AS_OF,
        known: [
          { entityId: 'gone', archived: true },
          { entityId: 'old', archived: true },
        ],
      },
    );

    expect([...scores.keys()]).toEqual(['here']);
  });

  it('leaves an entity never scored absent (no row), not scored 0', async () => {
    const scores = await scoreById(m, [event('login', IN_WINDOW, { userId: 'here' })], { asOf: AS_OF });

    expect(scores.get('never-seen')).toBeUndefined();
    expect(scores.size).toBe(1);
  });

  it('reports coverage: observed days since first seen, active days and events', async () => {
    const events = [event('login', '2026-11-23T10:00:00Z'), event('x', '2026-11-24T10:00:00Z')];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(score.coverage).toEqual({
      activeDays: 2,
      observedDays: 2,
      events: 2,
      firstSeenAt: Date.parse('2026-11-23T10:00:00Z'),
      lastSeenAt: Date.parse('2026-11-24T10:00:00Z'),
    });
  });
});

describe('appliesTo', () => {
  const m = model({
    appliesTo: [{ trait: 'plan', in: ['pro', 'enterprise'] }],
    signals: [{ name: 'logins', event: 'login', weight: 1 }],
  });

  it('scores only entities whose traits match', async () => {
    const traitsOf = traits({ 'user:u1': { plan: 'pro' }, 'user:u2': { plan: 'free' } });
    const events = [
      event('login', IN_WINDOW, { userId: 'u1' }),
      event('login', IN_WINDOW, { userId: 'u2' }),
      event('login', IN_WINDOW, { userId: 'u3' }),
    ];

    const scores = await scoreById(m, events, { asOf: AS_OF, traitsOf });

    expect([...scores.keys()]).toEqual(['u1']);
  });

  it('lets a user model select on a trait of the user’s account; the user’s own trait wins', async () => {
    const traitsOf = traits({ 'account:acme': { plan: 'enterprise' }, 'user:u2': { plan: 'free' } });
    const events = [
      event('login', IN_WINDOW, { userId: 'u1', accountId: 'acme' }),
      event('login', IN_WINDOW, { userId: 'u2', accountId: 'acme' }),
      event('login', IN_WINDOW, { userId: 'u3' }),
    ];

    const scores = await scoreById(m, events, { asOf: AS_OF, traitsOf });

    expect([...scores.keys()]).toEqual(['u1']);
    expect(scores.get('u1')?.accountId).toBe('acme');
  });

  it('finds the user’s account through accountOf when events carry none', async () => {
    const traitsOf = traits({ 'account:acme': { plan: 'pro' } });

    const scores = await scoreById(m, [event('login', IN_WINDOW, { userId: 'u1' })], {
      asOf: AS_OF,
      traitsOf,
      accountOf: (u) => (u === 'u1' ? 'acme' : undefined),
    });

    expect(scores.get('u1')?.accountId).toBe('acme');
  });

  it('uses the traits given with a known entity', async () => {
    const scores = await scoreById(m, [], {
      asOf: AS_OF,
      known: [
        { entityId: 'k1', traits: { plan: 'enterprise' } },
        { entityId: 'k2', traits: { plan: 'free' } },
      ],
    });

    expect([...scores.keys()]).toEqual(['k1']);
  });

  it.each([
    [{ trait: 'plan', notIn: ['free'] }, ['none', 'pro']],
    [{ trait: 'plan', equals: 'pro' }, ['pro']],
    [{ trait: 'plan', exists: true }, ['free', 'pro']],
    [{ trait: 'plan', exists: false }, ['none']],
  ])('condition %j selects %j', async (condition, expected) => {
    const sel = model({ appliesTo: [condition], signals: [{ name: 'logins', event: 'login', weight: 1 }] });
    const known = [
      { entityId: 'pro', traits: { plan: 'pro' } },
      { entityId: 'free', traits: { plan: 'free' } },
      { entityId: 'none', traits: {} },
    ];

    const scores = await scoreById(sel, [], { asOf: AS_OF, known });

    expect([...scores.keys()]).toEqual(expected);
  });
});

describe('the user’s account', () => {
  it('is the account of the user’s latest event that names one, whatever the order', async () => {
    const m = model({ signals: [{ name: 'logins', event: 'login', weight: 1 }] });
    const events = [
      event('login', '2026-11-20T10:00:00Z', { accountId: 'new' }),
      event('login', '2026-11-10T10:00:00Z', { accountId: 'old' }),
      event('login', '2026-11-22T10:00:00Z'),
    ];

    const forward = await scoreOnly(m, events, { asOf: AS_OF, accountOf: () => 'grouped' });
    const backward = await scoreOnly(m, [...events].reverse(), { asOf: AS_OF, accountOf: () => 'grouped' });

    expect(forward.accountId).toBe('new');
    expect(backward.accountId).toBe('new');
    expect(signalValue(forward, 'logins')).toBe(3);
  });
});

describe('many entities', () => {
  it('scores each of 10,000 users from its own events (state rows beyond the first chunks)', async () => {
    const m = model({
      signals: [
        { name: 'logins', event: 'login', weight: 1 },
        { name: 'days', event: '*', aggregate: 'distinctDays', weight: 10 },
      ],
    });
    // User i logs in (i mod 7) + 1 times on (i mod 3) + 1 distinct days.
    const events = Array.from({ length: 10_000 }, (_, i) =>
      Array.from({ length: (i % 7) + 1 }, (_, k) =>
        event('login', Date.parse('2026-11-10T12:00:00Z') + (k % ((i % 3) + 1)) * 86_400_000, { userId: `user-${i}` }),
      ),
    ).flat();

    const scores = await scoreById(m, events, { asOf: AS_OF });

    expect(scores.size).toBe(10_000);
    const wrong = [...Array(10_000).keys()].filter((i) => {
      const days = Math.min((i % 3) + 1, (i % 7) + 1);
      return scores.get(`user-${i}`)?.rawScore !== (i % 7) + 1 + 10 * days;
    });
    expect(wrong).toEqual([]);
  });
});

describe('the order of raw scores', () => {
  it('finish() gives them in entity id order, as eachRawScore() does, whatever order entities came in', () => {
    const m = model({
      appliesTo: [{ trait: 'plan', in: ['pro'] }],
      signals: [{ name: 'logins', event: 'login', weight: 1 }],
    });
    // Users come in an order of their own (not the ids' order); every third is not on the plan, one is archived.
    const ids = Array.from({ length: 500 }, (_, i) => `user-${(i * 7919) % 500}`);
    const traitsOf = (_level: EntityLevel, id: string): Traits => ({
      plan: Number(id.slice(5)) % 3 === 0 ? 'free' : 'pro',
    });
    const run = new ScoringRun(m, { asOf: WINDOW_END, traitsOf });
    run.addKnown([{ entityId: 'user-1', archived: true }]);
    run.add(ids.map((userId, i) => event('login', IN_WINDOW, { userId, eventId: `e${i}` })));

    const scores = run.finish();

    const expected = [...ids]
      .filter((id) => Number(id.slice(5)) % 3 !== 0 && id !== 'user-1')
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(scores.map((s) => s.entityId)).toEqual(expected);
    expect([...run.eachRawScore()]).toEqual(scores);
  });
});
