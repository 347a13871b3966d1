import { round2 } from '../domain/numbers.js';

/**
 * Band cut-offs for a suggested model, refitted on its own score scale (docs/calibrate.md#bands): by default each
 * band keeps the share of the fit data the current model gave it; or the cut-offs sit where the fitted churn
 * probability falls below target rates.
 */

export type BandFit = { method: 'shares' } | { method: 'bad-rates'; rates: number[] };

/** A band of the suggested model on the fit data. */
export interface BandRow {
  band: string;
  /** Lower bound (null for the first band). */
  min: number | null;
  n: number;
  share: number;
  bad: number;
  badRate: number | null;
}

/** Above this share of entities in one band, the report warns: the band no longer tells entities apart. */
export const MAX_BAND_SHARE = 0.7;

const STEPS = [1000, 500, 100, 50, 10, 5, 1, 0.5, 0.1, 0.05, 0.01];

/** The roundest number c with lo < c ≤ hi (scores carry 2 decimals, so one always exists when hi − lo ≥ 0.01). */
export function niceCut(lo: number, hi: number): number {
  for (const step of STEPS) {
    const c = round2((Math.floor(lo / step + 1e-9) + 1) * step);
    if (c > lo && c <= hi + 1e-9) return c;
  }
  return round2(hi);
}

/**
 * Cut-off between position m − 1 and m of ascending `sorted`: entities before m fall below it. A cut cannot split
 * equal scores, so m moves to the nearest place where the score changes.
 */
function cutAt(sorted: readonly number[], target: number): number {
  const n = sorted.length;
  let m = Math.max(0, Math.min(n, target));
  if (m > 0 && m < n && sorted[m - 1] === sorted[m]) {
    let down = m;
    while (down > 0 && sorted[down - 1] === sorted[m]) down--;
    let up = m;
    while (up < n && sorted[up] === sorted[m - 1]) up++;
    m = m - down <= up - m ? down : up;
  }
  if (m <= 0) return round2(sorted[0]!);
  if (m >= n) return niceCut(sorted[n - 1]!, sorted[n - 1]! + Math.max(1, Math.abs(sorted[n - 1]!)));
  return niceCut(sorted[m - 1]!, sorted[m]!);
}

/** Make mins strictly increasing (a band squeezed to nothing gets a 0.01-wide slot). */
function increasing(cuts: number[]): number[] {
  for (let k = 1; k < cuts.length; k++) if (cuts[k]! <= cuts[k - 1]!) cuts[k] = round2(cuts[k - 1]! + 0.01);
  return cuts;
}

/** Cut-offs (one per band after the first) giving each band `shares[k]` of `scores` as nearly as ties allow. */
export function cutsByShares(scores: readonly number[], shares: readonly number[]): number[] {
  const sorted = [...scores].sort((a, b) => a - b);
  const n = sorted.length;
  const cuts: number[] = [];
  let cumulative = 0;
  for (let k = 0; k < shares.length - 1; k++) {
    cumulative += shares[k]!;
    cuts.push(cutAt(sorted, Math.round(cumulative * n)));
  }
  return increasing(cuts);
}

/**
 * Cut-offs where the fitted churn probability falls to each target: an entity is in band k + 1 or above when its
 * score reaches the first score (ascending) whose churn probability is at most `rates[k]`.
 */
export function cutsByBadRates(
  scores: readonly number[],
  churnProbability: readonly number[],
  rates: readonly number[],
): number[] {
  const order = [...scores.keys()].sort(
    (a, b) => scores[a]! - scores[b]! || churnProbability[b]! - churnProbability[a]!,
  );
  const sorted = order.map((i) => scores[i]!);
  const cuts = rates.map((rate) => {
    const m = order.findIndex((i) => churnProbability[i]! <= rate);
    return cutAt(sorted, m < 0 ? sorted.length : m);
  });
  return increasing(cuts);
}

/** Which band (index) a score falls in, given the cut-offs of bands 1..K−1. */
export function bandIndex(cuts: readonly number[], score: number): number {
  let k = 0;
  for (let i = 0; i < cuts.length; i++) if (score >= cuts[i]!) k = i + 1;
  return k;
}

/** The band table for scores under the given cut-offs. */
export function bandTable(
  names: readonly string[],
  cuts: readonly (number | null)[],
  bandOfRow: readonly number[],
  good: readonly boolean[],
): BandRow[] {
  const rows = names.map((band, k) => ({ band, min: k === 0 ? null : (cuts[k - 1] ?? null), n: 0, bad: 0 }));
  bandOfRow.forEach((k, i) => {
    rows[k]!.n++;
    if (!good[i]) rows[k]!.bad++;
  });
  const total = Math.max(1, bandOfRow.length);
  return rows.map((r) => ({ ...r, share: r.n / total, badRate: r.n === 0 ? null : r.bad / r.n }));
}

/** Parse `--band-bad-rates 0.5,0.2,0.05`: one churn rate per cut-off, each in (0, 1), decreasing. */
export function parseBadRates(text: string, bands: number): number[] | string {
  const parts = text.split(',').map((s) => s.trim());
  const rates = parts.map(Number);
  if (parts.some((p) => p === '') || rates.some((r) => !Number.isFinite(r) || r <= 0 || r >= 1))
    return `--band-bad-rates must be churn rates between 0 and 1, comma-separated, got "${text}"`;
  if (rates.length !== bands - 1)
    return `--band-bad-rates needs ${bands - 1} rate(s), one per band after the first (the model has ${bands} bands), got ${rates.length}`;
  if (rates.some((r, i) => i > 0 && r >= rates[i - 1]!))
    return `--band-bad-rates must decrease (higher bands churn less), got "${text}"`;
  return rates;
}
