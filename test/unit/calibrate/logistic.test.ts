import { describe, expect, it } from 'vitest';
import { fitLogistic, linearPredictor, sigmoid } from '../../../shared/calibrate/logistic.js';
import { seededRandom } from '../../../shared/domain/random.js';

function simulate(n: number, beta: number[], intercept: number, seed = 3): { rows: number[][]; y: boolean[] } {
  const random = seededRandom(seed);
  const rows: number[][] = [];
  const y: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const row = [random() * 10, random() * 2 - 1, random() < 0.3 ? 1 : 0];
    const eta = intercept + row.reduce((s, x, j) => s + x * beta[j]!, 0);
    rows.push(row);
    y.push(random() < sigmoid(eta));
  }
  return { rows, y };
}

describe('fitLogistic', () => {
  it('recovers the generating coefficients on a large sample with weak regularisation', () => {
    // Arrange
    const beta = [0.3, -1.5, 0.8];
    const { rows, y } = simulate(20_000, beta, -1);

    // Act
    const fit = fitLogistic(rows, y, { lambda: 1e-6 });

    // Assert
    expect(fit.converged).toBe(true);
    fit.coefficients.forEach((c, j) => {
      expect(c).toBeCloseTo(beta[j]!, 1);
    });
    expect(fit.intercept).toBeCloseTo(-1, 1);
  });

  it('gives a constant feature a coefficient of 0', () => {
    // Arrange
    const { rows, y } = simulate(500, [0.3, -1.5, 0.8], 0);
    const withConstant = rows.map((r) => [...r, 5]);

    // Act
    const fit = fitLogistic(withConstant, y);

    // Assert
    expect(fit.coefficients[3]).toBe(0);
    expect(fit.sds[3]).toBe(0);
    expect(fit.coefficients[1]).toBeLessThan(0);
  });

  it('stays finite on perfectly separable data (the L2 penalty bounds the coefficients)', () => {
    // Arrange
    const rows = Array.from({ length: 40 }, (_, i) => [i]);
    const y = rows.map((r) => r[0]! >= 20);

    // Act
    const fit = fitLogistic(rows, y, { lambda: 1 });

    // Assert
    expect(Number.isFinite(fit.coefficients[0])).toBe(true);
    expect(fit.coefficients[0]).toBeGreaterThan(0);
    expect(linearPredictor(fit, [39])).toBeGreaterThan(linearPredictor(fit, [0]));
  });

  it('shrinks coefficients towards zero as lambda grows', () => {
    const { rows, y } = simulate(800, [0.3, -1.5, 0.8], 0);
    const weak = fitLogistic(rows, y, { lambda: 0.01 });
    const strong = fitLogistic(rows, y, { lambda: 500 });
    expect(Math.abs(strong.standardized[1]!)).toBeLessThan(Math.abs(weak.standardized[1]!) * 0.7);
  });
});
