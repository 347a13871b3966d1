import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auc } from '../../../shared/calibrate/auc.js';
import {
  bandIndex,
  bandTable,
  cutsByBadRates,
  cutsByShares,
  niceCut,
  parseBadRates,
} from '../../../shared/calibrate/bands.js';
import {
  DEFAULT_LAMBDA_GRID,
  fitProcedure,
  fitSignConstrained,
  nestedCvAuc,
  predict,
} from '../../../shared/calibrate/fit.js';
import { seededRandom } from '../../../shared/domain/random.js';

/** Draw rows and outcomes from P(good) = sigmoid(f(row)), seeded. */
function draw(n: number, seed: number, row: (r: () => number) => number[], eta: (x: number[]) => number) {
  const random = seededRandom(seed);
  const rows: number[][] = [];
  const good: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const x = row(random);
    rows.push(x);
    good.push(random() < 1 / (1 + Math.exp(-eta(x))));
  }
  return { rows, good };
}

const gaussian = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

describe('sign-constrained fit', () => {
  it('never gives a coefficient the sign its direction forbids', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.constantFrom(-1, 0, 1), { minLength: 3, maxLength: 3 }),
        (seed, directions) => {
          const { rows, good } = draw(
            150,
            seed,
            (r) => [gaussian(r), gaussian(r), gaussian(r)],
            (x) => x[0]! - x[1]! + 0.5 * x[2]!,
          );
          const { fit, bound } = fitSignConstrained(rows, good, 1, directions);
          fit.standardized.forEach((b, j) => {
            expect(directions[j]! * b).toBeGreaterThanOrEqual(-1e-9);
          });
          for (const j of bound) expect(fit.standardized[j]).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('holds a signal at 0 when it predicts good outcomes alone but the joint fit wants it negative; --allow-sign-flip lifts it', () => {
    // x2 tracks x1 closely; the outcome rewards x1 and (given x1) punishes x2, so x2 alone still looks good.
    const { rows, good } = draw(
      2000,
      3,
      (r) => {
        const a = gaussian(r);
        return [a, a + 0.3 * gaussian(r)];
      },
      (x) => 2 * x[0]! - 1 * x[1]!,
    );
    expect(
      auc(
        rows.map((x) => x[1]!),
        good,
      ),
    ).toBeGreaterThan(0.55);
    const constrained = fitProcedure(rows, good, ['weight', 'weight']);
    const free = fitProcedure(rows, good, ['weight', 'weight'], { allowSignFlip: true });
    expect(constrained.bound).toEqual([1]);
    expect(constrained.fit.coefficients[1]).toBe(0);
    expect(constrained.fit.coefficients[0]).toBeGreaterThan(0);
    expect(free.bound).toEqual([]);
    expect(free.fit.coefficients[1]).toBeLessThan(0);
  });
});

describe('fitting procedure', () => {
  it('chooses log1p for a heavy-tailed count whose effect is logarithmic, and none for a linear one', () => {
    const { rows, good } = draw(
      3000,
      5,
      (r) => [Math.floor(Math.exp(4 * r())), Math.floor(20 * r())],
      (x) => -2 + 1.5 * Math.log1p(x[0]!) + 0.1 * x[1]!,
    );
    const fitted = fitProcedure(rows, good, ['weight', 'weight']);
    expect(fitted.transforms[0]).toBe('log1p');
    expect(fitted.transforms[1]).toBe('none');
  });

  it('keeps tiers and penalties untransformed', () => {
    const { rows, good } = draw(
      400,
      6,
      (r) => [Math.floor(10 * r()), r() < 0.3 ? 1 : 0],
      (x) => x[0]! / 5 - x[1]!,
    );
    expect(fitProcedure(rows, good, ['tiers', 'penalty']).transforms).toEqual(['none', 'none']);
  });

  it('picks the strongest regularisation for pure noise and a weak one for a strong signal (cross-validated)', () => {
    const noise = draw(
      300,
      7,
      (r) => [gaussian(r), gaussian(r), gaussian(r), gaussian(r)],
      () => 0,
    );
    const strong = draw(
      3000,
      8,
      (r) => [gaussian(r), gaussian(r)],
      (x) => 3 * x[0]! + 2 * x[1]!,
    );
    const noisy = fitProcedure(noise.rows, noise.good, ['weight', 'weight', 'weight', 'weight'], {
      allowSignFlip: true,
    });
    const clear = fitProcedure(strong.rows, strong.good, ['weight', 'weight']);
    expect(noisy.lambda).toBe(DEFAULT_LAMBDA_GRID[DEFAULT_LAMBDA_GRID.length - 1]! * 300);
    expect(clear.lambda).toBeLessThan((noisy.lambda / 300) * 3000);
    expect(clear.cvLoss).toHaveLength(DEFAULT_LAMBDA_GRID.length);
  });

  it('reports an honest out-of-sample AUC: near 0.5 on noise, near the in-sample AUC on real signal', () => {
    const noise = draw(
      300,
      9,
      (r) => [gaussian(r), gaussian(r), gaussian(r), gaussian(r), gaussian(r)],
      () => 0,
    );
    const kinds = ['weight', 'weight', 'weight', 'weight', 'weight'] as const;
    const inSample = fitProcedure(noise.rows, noise.good, kinds, { allowSignFlip: true, lambdaGrid: [1e-6] });
    const inSampleAuc = auc(
      noise.rows.map((x) => predict(inSample, x)),
      noise.good,
    );
    const outOfSample = nestedCvAuc(noise.rows, noise.good, kinds, { allowSignFlip: true, lambdaGrid: [1e-6] });
    expect(inSampleAuc).toBeGreaterThan(outOfSample);
    expect(outOfSample).toBeLessThan(0.58);
    const strong = draw(
      1000,
      10,
      (r) => [gaussian(r)],
      (x) => 2 * x[0]!,
    );
    expect(nestedCvAuc(strong.rows, strong.good, ['weight'])).toBeGreaterThan(0.8);
  });
});

describe('band refit', () => {
  it('cuts at the roundest number between two scores', () => {
    expect(niceCut(12.3, 57.9)).toBe(50);
    expect(niceCut(41.2, 44)).toBe(42);
    expect(niceCut(41.21, 41.23)).toBe(41.22);
    expect(niceCut(-3.5, 2)).toBe(0);
  });

  it('keeps each band’s share as nearly as ties allow, with increasing cut-offs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 20, maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 2, maxLength: 5 }),
        (raw, weights) => {
          const scores = raw.map((x) => x / 100);
          const total = weights.reduce((a, b) => a + b, 0) || 1;
          const shares = weights.map((w) => w / total);
          const cuts = cutsByShares(scores, shares);
          expect(cuts).toHaveLength(shares.length - 1);
          cuts.forEach((c, k) => {
            if (k > 0) expect(c).toBeGreaterThan(cuts[k - 1]!);
          });
          // Distinct scores: every cut lands exactly on the target count.
          if (new Set(scores).size === scores.length) {
            const below = cuts.map((c) => scores.filter((s) => s < c).length);
            let cumulative = 0;
            below.forEach((b, k) => {
              cumulative += shares[k]!;
              const target = Math.round(cumulative * scores.length);
              if (k === 0 || below[k - 1]! < target) expect(b).toBe(target);
            });
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('cuts where the churn probability falls to each target rate', () => {
    const scores = Array.from({ length: 100 }, (_, i) => i);
    const churn = scores.map((s) => 1 - s / 100);
    expect(cutsByBadRates(scores, churn, [0.6, 0.2])).toEqual([40, 80]);
  });

  it('builds the band table with shares and churn rates', () => {
    const cuts = [10, 20];
    const scores = [1, 5, 12, 25, 30];
    const rows = bandTable(
      ['low', 'mid', 'high'],
      cuts,
      scores.map((s) => bandIndex(cuts, s)),
      [false, false, true, true, false],
    );
    expect(rows).toEqual([
      { band: 'low', min: null, n: 2, bad: 2, share: 0.4, badRate: 1 },
      { band: 'mid', min: 10, n: 1, bad: 0, share: 0.2, badRate: 0 },
      { band: 'high', min: 20, n: 2, bad: 1, share: 0.4, badRate: 0.5 },
    ]);
  });

  it('parses --band-bad-rates, naming what is wrong', () => {
    expect(parseBadRates('0.5, 0.2,0.05', 4)).toEqual([0.5, 0.2, 0.05]);
    expect(parseBadRates('0.5,0.2', 4)).toMatch(/needs 3 rate\(s\)/);
    expect(parseBadRates('0.2,0.5,0.1', 4)).toMatch(/must decrease/);
    expect(parseBadRates('0.5,x,0.1', 4)).toMatch(/between 0 and 1/);
    expect(parseBadRates('1,0.5,0.1', 4)).toMatch(/between 0 and 1/);
  });
});

describe('sign direction of a tiered signal', () => {
  it('comes from its value, not its heavily tied tier points', () => {
    // Most values sit in the top tier, so the points tie and their AUC can fall below 0.5 while more value is good.
    const { rows: values, good } = draw(
      1500,
      12,
      (r) => [Math.floor(30 * r() ** 0.3), gaussian(r)],
      (x) => (x[0]! - 20) / 4 - 1.5 * x[1]!,
    );
    const tierPoints = values.map(([v, other]) => [v! >= 13 ? 30 : v! >= 5 ? 15 : 5, other!]);
    const fitted = fitProcedure(tierPoints, good, ['tiers', 'weight'], {}, values);
    expect(fitted.featureAucs[0]).toBeGreaterThan(0.5);
    expect(fitted.directions[0]).toBe(1);
    expect(fitted.fit.coefficients[0]).toBeGreaterThanOrEqual(0);
  });
});
