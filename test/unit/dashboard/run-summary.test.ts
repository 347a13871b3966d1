import { describe, expect, it } from 'vitest';
import { RunSummaryBuilder, type SummarisedScore } from '../../../shared/domain/run-summary.js';

const score = (id: string, value: number, band: string, previous: number | null, previousBand: string | null) =>
  ({
    entityType: 'account',
    entityId: id,
    score: value,
    band,
    previousScore: previous,
    delta: previous === null ? null : value - previous,
    previousBand,
  }) satisfies SummarisedScore;

describe('RunSummaryBuilder', () => {
  it('counts every band of the model in model order, zero counts included', () => {
    // Arrange
    const builder = new RunSummaryBuilder(['at-risk', 'low', 'medium', 'high']);

    // Act
    builder.add(score('a', 10, 'low', null, null));
    builder.add(score('b', 20, 'low', 30, 'low'));
    builder.add(score('c', 80, 'high', 60, 'medium'));
    const summary = builder.result();

    // Assert
    expect(summary.bands).toEqual([
      { band: 'at-risk', count: 0 },
      { band: 'low', count: 2 },
      { band: 'medium', count: 0 },
      { band: 'high', count: 1 },
    ]);
    expect(summary.bandChanges).toBe(1);
    expect(summary.mean).toBeCloseTo(36.67, 2);
  });

  it('bins every score into equal-width bins spanning the range', () => {
    // Arrange
    const builder = new RunSummaryBuilder(['low', 'high'], 10, 20);
    const values = Array.from({ length: 101 }, (_, i) => i); // 0..100

    // Act
    for (const v of values) builder.add(score(`e${v}`, v, v < 50 ? 'low' : 'high', null, null));
    const { histogram } = builder.result();

    // Assert
    expect(histogram).toHaveLength(20);
    expect(histogram[0]).toEqual({ lo: 0, hi: 5, count: 5 });
    expect(histogram.reduce((s, b) => s + b.count, 0)).toBe(101);
    // The maximum lands in the last bin (closed on the right).
    expect(histogram[19]).toEqual({ lo: 95, hi: 100, count: 6 });
  });

  it('handles negative and fractional scores and a single value', () => {
    // Arrange
    const spread = new RunSummaryBuilder(['a']);
    const single = new RunSummaryBuilder(['a']);

    // Act
    for (const v of [-22.5, -3, 0.4, 17.9, 121.2]) spread.add(score(String(v), v, 'a', null, null));
    single.add(score('x', 42, 'a', null, null));

    // Assert
    const bins = spread.result().histogram;
    expect(bins[0]!.lo).toBe(-23);
    expect(bins[bins.length - 1]!.hi).toBeGreaterThanOrEqual(122);
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(5);
    expect(single.result().histogram).toEqual([{ lo: 42, hi: 43, count: 1 }]);
    expect(new RunSummaryBuilder(['a']).result()).toMatchObject({ histogram: [], mean: null, rises: [], drops: [] });
  });

  it('keeps the largest rises and drops, biggest first, at most N each', () => {
    // Arrange
    const builder = new RunSummaryBuilder(['low'], 3);
    const deltas = [5, -1, 12, -30, 0, 7, -8, 3, -2, 20];

    // Act
    deltas.forEach((d, i) => {
      builder.add(score(`e${i}`, 50 + d, 'low', 50, 'low'));
    });
    builder.add(score('new', 10, 'low', null, null));
    const { rises, drops } = builder.result();

    // Assert
    expect(rises.map((m) => m.delta)).toEqual([20, 12, 7]);
    expect(drops.map((m) => m.delta)).toEqual([-30, -8, -2]);
    expect(rises[0]).toMatchObject({ entityId: 'e9', score: 70, previousScore: 50 });
  });
});
