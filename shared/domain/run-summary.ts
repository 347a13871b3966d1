import type { EntityLevel } from './entity.js';

/**
 * What a dashboard shows about one run without reading its scores again (docs/dashboard.md#aggregates): the
 * band distribution, a score histogram and the biggest movers. Computed while the run finalises its scores (it
 * sees each one once), kept with the run record, so the overview reads one small record per run however many
 * entities were scored.
 */
export interface RunSummary {
  /** Scores per band, in model order (lowest band first); every band of the model, zero counts included. */
  bands: { band: string; count: number }[];
  /** Equal-width bins from the lowest to the highest score; each bin holds lo ≤ score < hi (the last: ≤ hi). */
  histogram: { lo: number; hi: number; count: number }[];
  /** Mean score; null when nothing was scored. */
  mean: number | null;
  /** Scores whose band differs from their previous band. */
  bandChanges: number;
  /** Largest increases (delta > 0), largest first. */
  rises: RunMover[];
  /** Largest decreases (delta < 0), largest drop first. */
  drops: RunMover[];
}

export interface RunMover {
  entityType: EntityLevel;
  entityId: string;
  score: number;
  previousScore: number;
  delta: number;
  band: string;
  previousBand: string | null;
}

/** What the summary needs of a finished score. */
export interface SummarisedScore {
  entityType: EntityLevel;
  entityId: string;
  score: number;
  band: string;
  previousScore: number | null;
  delta: number | null;
  previousBand: string | null;
}

export const SUMMARY_HISTOGRAM_BINS = 20;
export const SUMMARY_MOVERS = 10;

/**
 * Accumulates a RunSummary in bounded memory: a count per integer score (the histogram's bins are chosen at the
 * end, when the range is known) and the top movers so far.
 */
export class RunSummaryBuilder {
  private readonly bandCounts = new Map<string, number>();
  private readonly byInteger = new Map<number, number>();
  private total = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private changes = 0;
  private readonly rises: RunMover[] = [];
  private readonly drops: RunMover[] = [];

  constructor(
    bands: readonly string[],
    private readonly movers = SUMMARY_MOVERS,
    private readonly bins = SUMMARY_HISTOGRAM_BINS,
  ) {
    for (const band of bands) this.bandCounts.set(band, 0);
  }

  add(score: SummarisedScore): void {
    this.total++;
    this.sum += score.score;
    if (score.score < this.min) this.min = score.score;
    if (score.score > this.max) this.max = score.score;
    this.bandCounts.set(score.band, (this.bandCounts.get(score.band) ?? 0) + 1);
    const key = Math.floor(score.score);
    this.byInteger.set(key, (this.byInteger.get(key) ?? 0) + 1);
    if (score.previousBand !== null && score.previousBand !== score.band) this.changes++;
    if (score.delta === null || score.delta === 0 || score.previousScore === null) return;
    const mover: RunMover = {
      entityType: score.entityType,
      entityId: score.entityId,
      score: score.score,
      previousScore: score.previousScore,
      delta: score.delta,
      band: score.band,
      previousBand: score.previousBand,
    };
    if (score.delta > 0) keepTop(this.rises, mover, (a, b) => b.delta - a.delta || compareIds(a, b), this.movers);
    else keepTop(this.drops, mover, (a, b) => a.delta - b.delta || compareIds(a, b), this.movers);
  }

  result(): RunSummary {
    return {
      bands: [...this.bandCounts].map(([band, count]) => ({ band, count })),
      histogram: this.histogram(),
      mean: this.total === 0 ? null : round(this.sum / this.total),
      bandChanges: this.changes,
      rises: [...this.rises],
      drops: [...this.drops],
    };
  }

  private histogram(): RunSummary['histogram'] {
    if (this.total === 0) return [];
    const lo = Math.floor(this.min);
    const hi = Math.max(Math.ceil(this.max), lo + 1);
    // Integer-wide bins at least: the counts are kept per integer score.
    const width = Math.max(1, Math.ceil((hi - lo) / this.bins));
    const count = Math.max(1, Math.ceil((hi - lo) / width));
    const out = Array.from({ length: count }, (_, i) => ({ lo: lo + i * width, hi: lo + (i + 1) * width, count: 0 }));
    for (const [value, n] of this.byInteger) {
      const index = Math.min(count - 1, Math.floor((value - lo) / width));
      out[index]!.count += n;
    }
    return out;
  }
}

function compareIds(a: RunMover, b: RunMover): number {
  const x = `${a.entityType}#${a.entityId}`;
  const y = `${b.entityType}#${b.entityId}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Insert into a list kept sorted by `order`, at most `limit` long. */
function keepTop<T>(list: T[], item: T, order: (a: T, b: T) => number, limit: number): void {
  if (list.length >= limit && order(item, list[list.length - 1]!) >= 0) return;
  let i = list.length;
  while (i > 0 && order(item, list[i - 1]!) < 0) i--;
  list.splice(i, 0, item);
  if (list.length > limit) list.pop();
}

const round = (n: number) => Math.round(n * 100) / 100;
