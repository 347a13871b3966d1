/** Six decimals: enough for any weight, and makes sums independent of the order events arrived in. */
export function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6 + 0;
}

/** Scores are shown and compared with two decimals. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100 + 0;
}

/**
 * A signal's transformed value (docs/models.md#semantics-exact): `log1p` and `sqrt` give diminishing returns and are
 * odd functions, t(−v) = −t(v), so a negative sum keeps its sign and every value has a finite image.
 */
export function transformValue(transform: 'none' | 'log1p' | 'sqrt' | undefined, value: number): number {
  switch (transform) {
    case 'log1p':
      return Math.sign(value) * Math.log1p(Math.abs(value));
    case 'sqrt':
      return Math.sign(value) * Math.sqrt(Math.abs(value));
    default:
      return value;
  }
}
