import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auc, bootstrapAucCi, quantile, rocCurve } from '../../../shared/calibrate/auc.js';

/** O(n²) definition: P(good scores higher than bad), ties half. */
function bruteAuc(scores: number[], good: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((si, i) => {
    scores.forEach((sj, j) => {
      if (!good[i] || good[j]) return;
      pairs++;
      wins += si > sj ? 1 : si === sj ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('auc', () => {
  it('is 0.5 when every score is equal', () => {
    // Arrange
    const scores = [7, 7, 7, 7, 7];
    const good = [true, false, true, false, false];

    // Act / Assert
    expect(auc(scores, good)).toBe(0.5);
  });

  it('is 1.0 for perfect separation and 0.0 when perfectly reversed', () => {
    expect(auc([10, 9, 8, 1, 2], [true, true, true, false, false])).toBe(1);
    expect(auc([1, 2, 3, 9, 10], [true, true, true, false, false])).toBe(0);
  });

  it('counts ties between a good and a bad outcome as half', () => {
    // good: 3, 2 · bad: 2, 1 → pairs (3>2) 1, (3>1) 1, (2=2) ½, (2>1) 1 = 3.5 of 4
    expect(auc([3, 2, 2, 1], [true, true, false, false])).toBe(0.875);
  });

  it('matches a hand-computed case with interleaved scores', () => {
    // good: 0.9, 0.6, 0.4 · bad: 0.7, 0.5, 0.1
    // 0.9 beats 3; 0.6 beats 0.5 and 0.1; 0.4 beats 0.1 → 6 of 9
    expect(auc([0.9, 0.7, 0.6, 0.5, 0.4, 0.1], [true, false, true, false, true, false])).toBeCloseTo(6 / 9, 12);
  });

  it('is NaN when one class is missing', () => {
    expect(auc([1, 2, 3], [true, true, true])).toBeNaN();
  });

  it('agrees with the pairwise definition on random data with many ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 60 }),
        (pairs) => {
          const scores = pairs.map((p) => p[0]);
          const good = pairs.map((p) => p[1]);
          fc.pre(good.some(Boolean) && good.some((g) => !g));
          expect(auc(scores, good)).toBeCloseTo(bruteAuc(scores, good), 12);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('bootstrapAucCi', () => {
  const scores = Array.from({ length: 400 }, (_, i) => (i * 7919) % 400);
  const good = scores.map((s, i) => s + ((i * 104729) % 160) > 250);

  it('brackets the point estimate and is the same for the same seed', () => {
    // Act
    const point = auc(scores, good);
    const a = bootstrapAucCi(scores, good, { seed: 7, replicates: 400 });
    const b = bootstrapAucCi(scores, good, { seed: 7, replicates: 400 });

    // Assert
    expect(a).toEqual(b);
    expect(a[0]).toBeLessThan(point);
    expect(a[1]).toBeGreaterThan(point);
    expect(a[1] - a[0]).toBeLessThan(0.15);
  });

  it('is narrower with four times the data', () => {
    const big = [...scores, ...scores, ...scores, ...scores];
    const bigGood = [...good, ...good, ...good, ...good];
    const small = bootstrapAucCi(scores, good, { replicates: 300 });
    const wide = bootstrapAucCi(big, bigGood, { replicates: 300 });
    expect(wide[1] - wide[0]).toBeLessThan(0.7 * (small[1] - small[0]));
  });
});

describe('rocCurve', () => {
  it('runs from (0,0) to (1,1) with one diagonal step per group of tied scores', () => {
    // Act
    const roc = rocCurve([3, 2, 2, 1], [true, true, false, false]);

    // Assert
    expect(roc).toEqual([
      { fpr: 0, tpr: 0 },
      { fpr: 0, tpr: 0.5 },
      { fpr: 0.5, tpr: 1 },
      { fpr: 1, tpr: 1 },
    ]);
  });
});

describe('quantile', () => {
  it('interpolates between neighbours', () => {
    expect(quantile([0, 10, 20, 30], 0.5)).toBe(15);
    expect(quantile([0, 10, 20, 30], 0)).toBe(0);
    expect(quantile([0, 10, 20, 30], 1)).toBe(30);
  });
});
