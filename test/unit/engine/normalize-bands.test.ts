import { describe, expect, it } from 'vitest';
import { bandOf, createNormalizer } from '../../../shared/domain/engine/index.js';
import { AS_OF, IN_WINDOW } from '../../support/as-of.js';
import { event, model, repeat, scoreById, USERPILOT_BANDS } from '../../support/engine.js';

const logins = [{ name: 'logins', event: 'login', weight: 1 }];

const userpilot = model({ signals: logins, bands: USERPILOT_BANDS });

describe('target normalisation', () => {
  it('scales to 100 × raw / target and clamps to [0, 100] by default', () => {
    const normalize = createNormalizer(model({ signals: logins, normalize: { method: 'target', target: 200 } }));

    expect([normalize(100), normalize(200), normalize(500), normalize(-40), normalize(1)]).toEqual([
      50, 100, 100, 0, 0.5,
    ]);
  });

  it('does not clamp with clamp: false', () => {
    const normalize = createNormalizer(
      model({ signals: logins, normalize: { method: 'target', target: 200, clamp: false } }),
    );

    expect([normalize(500), normalize(-40)]).toEqual([250, -20]);
  });

  it('rounds scores to two decimals; none keeps raw', () => {
    const target = createNormalizer(model({ signals: logins, normalize: { method: 'target', target: 3 } }));
    const none = createNormalizer(model({ signals: logins }));

    expect(target(1)).toBe(33.33);
    expect(none(12.345678)).toBe(12.35);
  });
});

describe('percentile normalisation', () => {
  const m = model({ signals: logins, normalize: { method: 'percentile' } });

  it('ranks 0 to 100, ties sharing their average rank', () => {
    const normalize = createNormalizer(m, [30, 10, 20, 20]);

    expect([normalize(10), normalize(20), normalize(30)]).toEqual([0, 50, 100]);
  });

  it('gives a three-way tie in the middle the middle rank', () => {
    const normalize = createNormalizer(m, [5, 7, 7, 7, 9]);

    // Ranks 0..4; the tied 7s hold ranks 1, 2, 3 and share 2 → 100 × 2 / 4.
    expect([normalize(5), normalize(7), normalize(9)]).toEqual([0, 50, 100]);
  });

  it('gives 50 to everyone when all are equal, and to a single entity', () => {
    expect(createNormalizer(m, [4, 4, 4])(4)).toBe(50);
    expect(createNormalizer(m, [17])(17)).toBe(50);
  });

  it('handles negative raw scores and does not depend on input order', () => {
    const a = createNormalizer(m, [-5, 0, 3, 3, 10]);
    const b = createNormalizer(m, [3, 10, -5, 3, 0]);

    expect([-5, 0, 3, 10].map(a)).toEqual([0, 25, 62.5, 100]);
    expect([-5, 0, 3, 10].map(b)).toEqual([-5, 0, 3, 10].map(a));
  });

  it('ranks the entities scored in the run', async () => {
    const events = [
      ...repeat(1, 'login', IN_WINDOW, { userId: 'a' }),
      ...repeat(2, 'login', IN_WINDOW, { userId: 'b' }),
      ...repeat(2, 'login', IN_WINDOW, { userId: 'c' }),
      ...repeat(5, 'login', IN_WINDOW, { userId: 'd' }),
    ];

    const scores = await scoreById(m, events, { asOf: AS_OF });

    expect(['a', 'b', 'c', 'd'].map((id) => scores.get(id)?.score)).toEqual([0, 50, 50, 100]);
  });
});

describe('bands', () => {
  const common = model({
    signals: logins,
    bands: [{ name: 'low' }, { name: 'medium', min: 40 }, { name: 'high', min: 70 }],
  });

  /** [score, band] cases from the scores expected in each band. */
  const cases = (scoresByBand: Record<string, number[]>) =>
    Object.entries(scoresByBand).flatMap(([band, scores]) => scores.map((score) => [score, band] as const));

  it.each(cases({ low: [-1000, 0, 39.99], medium: [40, 69.99], high: [70, 1e9] }))(
    'common bands: %d → %s (min inclusive, first band catches everything below)',
    (score, band) => {
      expect(bandOf(common, score)).toBe(band);
    },
  );

  it.each(
    cases({
      'at-risk': [-0.01, -50],
      disengaged: [0, 40, 40.99],
      'somewhat-engaged': [41, 70],
      'highly-engaged': [71, 100],
      'power-user': [101, 178],
    }),
  )('Userpilot bands: %d → %s', (score, band) => {
    expect(bandOf(userpilot, score)).toBe(band);
  });

  it('ignores a min on the first band: it still catches everything below the second', () => {
    const m = model({
      signals: logins,
      bands: [
        { name: 'first', min: 10 },
        { name: 'second', min: 20 },
      ],
    });

    expect(bandOf(m, 5)).toBe('first');
  });

  it('bands an entity with a negative raw score at risk', async () => {
    const m = model({ ...userpilot, signals: [{ name: 'failures', event: 'payment_failed', weight: -10 }] });

    const scores = await scoreById(m, [event('payment_failed', IN_WINDOW)], { asOf: AS_OF });

    expect(scores.get('u1')).toMatchObject({ rawScore: -10, score: -10, band: 'at-risk' });
  });
});
