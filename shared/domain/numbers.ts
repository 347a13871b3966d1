/** Six decimals: enough for any weight, and makes sums independent of the order events arrived in. */
export function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6 + 0;
}

/** Scores are shown and compared with two decimals. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100 + 0;
}
