import { describe, expect, it } from 'vitest';
import {
  finalizeScore,
  type PreviousScore,
  type RawScore,
  reasonsForChange,
} from '../../../shared/domain/engine/index.js';
import type { ModelInput } from '../../../shared/domain/model/schema.js';
import { AS_OF, IN_WINDOW } from '../../support/as-of.js';
import { model, repeat, scoreOnly } from '../../support/engine.js';

const bands = [{ name: 'low' }, { name: 'medium', min: 40 }, { name: 'high', min: 70 }];
const loginsAndProjects = [
  { name: 'logins', event: 'login', weight: 1 },
  { name: 'projects', event: 'project_created', weight: 5 },
];

function raw(
  rawScore: number,
  contributions: RawScore['contributions'] = [],
  penalties: RawScore['penalties'] = [],
): RawScore {
  return {
    entityType: 'user',
    entityId: 'u1',
    accountId: null,
    rawScore,
    contributions,
    penalties,
    coverage: { activeDays: 1, observedDays: 1, events: 1, firstSeenAt: 0, lastSeenAt: 0 },
  };
}

function previous(score: number, band = 'low', extra: Partial<PreviousScore> = {}): PreviousScore {
  return { score, band, asOf: '2026-11-24T00:00:00.000Z', contributions: [], penalties: [], ...extra };
}

function finalize(alerts: ModelInput['alerts'], score: number, prev: PreviousScore | undefined) {
  const m = model({ signals: [{ name: 'logins', event: 'login', weight: 1 }], bands, alerts });
  return finalizeScore(m, raw(score), { asOf: '2026-11-25T00:00:00.000Z', normalize: (r) => r, previous: prev });
}

describe('trend', () => {
  it('has previous, delta and previous band when the entity was scored before', async () => {
    const m = model({ signals: [{ name: 'logins', event: 'login', weight: 10 }], bands });

    const score = await scoreOnly(m, repeat(5, 'login', IN_WINDOW), {
      asOf: AS_OF,
      previousOf: () => previous(62.5, 'medium'),
    });

    expect(score).toMatchObject({
      score: 50,
      previousScore: 62.5,
      delta: -12.5,
      previousBand: 'medium',
      band: 'medium',
    });
  });

  it('is null (not 0) for an entity never scored before', async () => {
    const m = model({ signals: [{ name: 'logins', event: 'login', weight: 10 }], bands, alerts: { bandChange: true } });

    const score = await scoreOnly(m, repeat(5, 'login', IN_WINDOW), { asOf: AS_OF });

    expect(score).toMatchObject({ previousScore: null, delta: null, previousBand: null, reasons: [], alerts: [] });
  });
});

describe('reasons for change', () => {
  it('lists the signals and penalties that moved most, largest first, at most three', () => {
    const before = previous(40, 'medium', {
      contributions: [
        { signal: 'logins', value: 10, points: 10 },
        { signal: 'projects', value: 5, points: 20 },
        { signal: 'invites', value: 1, points: 5 },
        { signal: 'exports', value: 1, points: 5 },
      ],
      penalties: [{ rule: 'no-report', points: -20 }],
    });
    const now = [
      { signal: 'logins', value: 12, points: 12 }, // +2
      { signal: 'projects', value: 1, points: 4 }, // −16
      { signal: 'invites', value: 1, points: 5 }, // 0
      { signal: 'exports', value: 2, points: 10 }, // +5
      { signal: 'new-signal', value: 1, points: 3 }, // +3 (not in the previous run)
    ];

    const reasons = reasonsForChange(now, [], before);

    expect(reasons).toEqual([
      { kind: 'penalty', name: 'no-report', previousPoints: -20, points: 0, delta: 20 },
      { kind: 'signal', name: 'projects', previousPoints: 20, points: 4, delta: -16 },
      { kind: 'signal', name: 'exports', previousPoints: 5, points: 10, delta: 5 },
    ]);
  });

  it('are empty when the score did not move', async () => {
    const m = model({ signals: [{ name: 'logins', event: 'login', weight: 10 }], bands });
    const prev = previous(50, 'medium', { contributions: [{ signal: 'logins', value: 4, points: 40 }] });

    const score = await scoreOnly(m, repeat(5, 'login', IN_WINDOW), { asOf: AS_OF, previousOf: () => prev });

    expect(score.delta).toBe(0);
    expect(score.reasons).toEqual([]);
  });

  it('explain a real run against its previous contributions', async () => {
    const m = model({ signals: loginsAndProjects, bands });
    const prev = previous(10, 'low', {
      contributions: [
        { signal: 'logins', value: 5, points: 5 },
        { signal: 'projects', value: 1, points: 5 },
      ],
    });
    const events = [...repeat(6, 'login', IN_WINDOW), ...repeat(4, 'project_created', IN_WINDOW)];

    const score = await scoreOnly(m, events, { asOf: AS_OF, previousOf: () => prev });

    expect(score.delta).toBe(16);
    expect(score.reasons.map((r) => [r.name, r.delta])).toEqual([
      ['projects', 15],
      ['logins', 1],
    ]);
  });
});

describe('alerts', () => {
  it.each([
    [{ drop: { points: 15 } }, 35, 50, ['ScoreDropped']],
    [{ drop: { points: 15 } }, 35.01, 50, []],
    [{ drop: { points: 15 } }, 80, 50, []],
    [{ spike: { points: 25 } }, 75, 50, ['ScoreSpiked']],
    [{ spike: { points: 25 } }, 74.99, 50, []],
    [{ spike: { points: 25 } }, 10, 50, []],
    [{ drop: { percent: 30 } }, 70, 100, ['ScoreDropped']],
    [{ drop: { percent: 30 } }, 71, 100, []],
    [{ spike: { percent: 50 } }, 15, 10, ['ScoreSpiked']],
    [{ spike: { percent: 50 } }, 14.9, 10, []],
    [{ spike: { percent: 50 } }, 5, 0, ['ScoreSpiked']],
    [{ drop: { points: 1 }, spike: { points: 1 } }, 50, 50, []],
  ])('%j: %d after %d → %j', (alerts, score, prev, expected) => {
    const entity = finalize(alerts, score, previous(prev));

    expect(entity.alerts.map((a) => a.type)).toEqual(expected);
  });

  it('fires BandChanged when the band differs from the previous band, and only then', () => {
    const changed = finalize({ bandChange: true }, 75, previous(65, 'medium'));
    const same = finalize({ bandChange: true }, 68, previous(65, 'medium'));
    const off = finalize({ bandChange: false }, 75, previous(65, 'medium'));

    expect(changed.alerts.map((a) => [a.type, a.previousBand, a.band])).toEqual([['BandChanged', 'medium', 'high']]);
    expect(same.alerts).toEqual([]);
    expect(off.alerts).toEqual([]);
  });

  it('suppresses BandChanged for moves under 1 point by default, and under minMove when set', () => {
    const flap = finalize({ bandChange: true }, 40.13, previous(39.74, 'low'));
    const real = finalize({ bandChange: true }, 41, previous(39.74, 'low'));
    const small = finalize({ bandChange: { minMove: 5 } }, 43, previous(39, 'low'));
    const big = finalize({ bandChange: { minMove: 5 } }, 44, previous(39, 'low'));
    const any = finalize({ bandChange: { minMove: 0 } }, 40.13, previous(39.74, 'low'));

    expect(flap.alerts).toEqual([]);
    expect(real.alerts.map((a) => a.type)).toEqual(['BandChanged']);
    expect(small.alerts).toEqual([]);
    expect(big.alerts.map((a) => a.type)).toEqual(['BandChanged']);
    expect(any.alerts.map((a) => a.type)).toEqual(['BandChanged']);
  });

  it('carries the reasons of the score on every alert', () => {
    const before = previous(65, 'medium', { contributions: [{ signal: 'logins', value: 6, points: 65 }] });
    const entity = finalizeScore(
      model({ signals: [{ name: 'logins', event: 'login', weight: 10 }], bands, alerts: { bandChange: true } }),
      raw(30, [{ signal: 'logins', value: 3, points: 30 }]),
      {
        asOf: '2026-11-25T00:00:00.000Z',
        normalize: (r) => r,
        previous: before,
      },
    );

    expect(entity.alerts).toHaveLength(1);
    expect(entity.alerts[0]!.reasons).toEqual(entity.reasons);
    expect(entity.alerts[0]!.reasons[0]).toMatchObject({ name: 'logins', delta: -35 });
  });

  it('fires no alert without a previous score', () => {
    const entity = finalize({ drop: { points: 1 }, spike: { points: 1 }, bandChange: true }, 90, undefined);

    expect(entity.alerts).toEqual([]);
  });

  it('carries the entity, scores, bands and top contributions', async () => {
    const m = model({ signals: loginsAndProjects, bands, alerts: { drop: { points: 15 }, bandChange: true } });

    const score = await scoreOnly(m, [...repeat(2, 'login', IN_WINDOW), ...repeat(1, 'project_created', IN_WINDOW)], {
      asOf: AS_OF,
      previousOf: () => previous(80, 'high'),
    });

    expect(score.alerts).toEqual([
      expect.objectContaining({ type: 'ScoreDropped', entityId: 'u1', model: 'test', score: 7, previousScore: 80 }),
      expect.objectContaining({ type: 'BandChanged', band: 'low', previousBand: 'high' }),
    ]);
    expect(score.alerts[0]?.topContributions).toEqual([
      { signal: 'projects', value: 1, points: 5 },
      { signal: 'logins', value: 2, points: 2 },
    ]);
    expect(score.alerts[0]?.asOf).toBe('2026-11-25T00:00:00.000Z');
  });
});
