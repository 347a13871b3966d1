import { describe, expect, it } from 'vitest';
import { bottomDecileLift, evaluateScores, isNonIncreasing, signalAucs } from '../../../shared/calibrate/evaluate.js';
import { model } from '../../support/engine.js';

const bandsModel = model({
  signals: [
    { name: 'logins', event: 'login', weight: 1 },
    { name: 'failures', event: 'payment_failed', weight: -5 },
  ],
  bands: [{ name: 'low' }, { name: 'mid', min: 10 }, { name: 'high', min: 20 }, { name: 'top', min: 100 }],
});

describe('evaluateScores', () => {
  it('gives the bad rate per band, every band listed in model order, null for an empty band', () => {
    // Arrange
    const scores = [1, 2, 3, 15, 16, 25, 26, 27];
    const bands = ['low', 'low', 'low', 'mid', 'mid', 'high', 'high', 'high'];
    const good = [false, false, true, false, true, true, true, true];

    // Act
    const e = evaluateScores(bandsModel, scores, bands, good, { bootstrapReplicates: 50 });

    // Assert
    expect(e.bands).toEqual([
      { band: 'low', n: 3, bad: 2, badRate: 2 / 3 },
      { band: 'mid', n: 2, bad: 1, badRate: 0.5 },
      { band: 'high', n: 3, bad: 0, badRate: 0 },
      { band: 'top', n: 0, bad: 0, badRate: null },
    ]);
    expect(e.monotonic).toBe(true);
    expect(e).toMatchObject({ n: 8, good: 5, bad: 3 });
  });

  it('flags bands whose churn rises with the band', () => {
    expect(isNonIncreasing([0.5, 0.3, 0.4])).toBe(false);
    expect(isNonIncreasing([0.5, 0.5, 0.1])).toBe(true);
  });
});

describe('bottomDecileLift', () => {
  it('compares the lowest 10% with the overall bad rate', () => {
    // Arrange: 20 entities, the 2 lowest churned, 6 churned overall
    const scores = Array.from({ length: 20 }, (_, i) => i);
    const good = scores.map((s) => !(s < 2 || s === 10 || s === 11 || s === 12 || s === 13));

    // Act
    const lift = bottomDecileLift(scores, good);

    // Assert
    expect(lift.n).toBe(2);
    expect(lift.badRate).toBe(1);
    expect(lift.overallBadRate).toBe(0.3);
    expect(lift.lift).toBeCloseTo(1 / 0.3, 12);
  });

  it('counts a tie at the cut fractionally, so the order of equal scores does not matter', () => {
    // Arrange: 10 entities all scoring 0, 5 bad: the decile (1 entity) is half a bad one on average
    const scores = new Array(10).fill(0);
    const a = bottomDecileLift(scores, [false, false, false, false, false, true, true, true, true, true]);
    const b = bottomDecileLift(scores, [true, true, true, true, true, false, false, false, false, false]);

    // Assert
    expect(a.badRate).toBe(0.5);
    expect(b.badRate).toBe(0.5);
    expect(a.lift).toBe(1);
  });
});

describe('signalAucs', () => {
  it('says whether each weight’s sign agrees with the data', () => {
    // Arrange: more logins with good outcomes, more payment failures with bad ones
    const values = [
      [10, 0],
      [8, 0],
      [2, 3],
      [1, 1],
    ];
    const good = [true, true, false, false];

    // Act
    const result = signalAucs(bandsModel, values, good);

    // Assert
    expect(result).toEqual([
      { name: 'logins', auc: 1, weight: 1, agrees: true },
      { name: 'failures', auc: 0, weight: -5, agrees: true },
    ]);
  });
});
