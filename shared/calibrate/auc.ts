import { seededRandom } from '../domain/random.js';

/**
 * Area under the ROC curve: the probability that a randomly chosen positive (good outcome) scores higher than a
 * randomly chosen negative (bad outcome), ties counting half — the Mann–Whitney U statistic divided by n₊·n₋.
 * O(n log n). Returns NaN when either class is empty.
 */
export function auc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = sortedOrder(scores);
  const weights = new Float64Array(scores.length).fill(1);
  return weightedAuc(order, scores, positive, weights);
}

/** Indices of `scores` in ascending score order. */
export function sortedOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[a]! - scores[b]!);
}

/**
 * AUC with a weight (multiplicity) per item, given the ascending order once: one linear pass over groups of equal
 * scores. Each positive beats every negative in lower groups and ties half the negatives in its own group.
 */
export function weightedAuc(
  order: Uint32Array,
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean>,
  weights: ArrayLike<number>,
): number {
  let negBelow = 0;
  let wins = 0;
  let pos = 0;
  let i = 0;
  while (i < order.length) {
    const s = scores[order[i]!]!;
    let groupPos = 0;
    let groupNeg = 0;
    while (i < order.length && scores[order[i]!] === s) {
      const k = order[i]!;
      if (positive[k]) groupPos += weights[k]!;
      else groupNeg += weights[k]!;
      i++;
    }
    wins += groupPos * (negBelow + groupNeg / 2);
    negBelow += groupNeg;
    pos += groupPos;
  }
  return pos === 0 || negBelow === 0 ? Number.NaN : wins / (pos * negBelow);
}

export interface BootstrapOptions {
  replicates?: number | undefined;
  seed?: number | undefined;
  /** Confidence level, default 0.95. */
  level?: number | undefined;
}

/**
 * Percentile bootstrap confidence interval of the AUC. Resampling is stratified (each replicate draws as many
 * positives and negatives as the data has, with replacement), so no replicate lacks a class. Seeded: the same
 * input gives the same interval.
 */
export function bootstrapAucCi(
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean>,
  options: BootstrapOptions = {},
): [number, number] {
  const replicates = options.replicates ?? 1000;
  const level = options.level ?? 0.95;
  const random = seededRandom(options.seed ?? 1);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) (positive[i] ? pos : neg).push(i);
  if (pos.length === 0 || neg.length === 0) return [Number.NaN, Number.NaN];
  const order = sortedOrder(scores);
  const weights = new Float64Array(scores.length);
  const values = new Float64Array(replicates);
  for (let r = 0; r < replicates; r++) {
    weights.fill(0);
    for (let j = 0; j < pos.length; j++) weights[pos[Math.floor(random() * pos.length)]!]!++;
    for (let j = 0; j < neg.length; j++) weights[neg[Math.floor(random() * neg.length)]!]!++;
    values[r] = weightedAuc(order, scores, positive, weights);
  }
  values.sort();
  const alpha = (1 - level) / 2;
  return [quantile(values, alpha), quantile(values, 1 - alpha)];
}

/** Linear-interpolated quantile of an ascending array. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface RocPoint {
  /** False positive rate: share of bad outcomes at or above the threshold. */
  fpr: number;
  /** True positive rate: share of good outcomes at or above the threshold. */
  tpr: number;
}

/** The ROC curve from the highest threshold down; tied scores make one diagonal step. Starts at (0,0), ends at (1,1). */
export function rocCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean>): RocPoint[] {
  const order = sortedOrder(scores);
  let totalPos = 0;
  for (let i = 0; i < scores.length; i++) if (positive[i]) totalPos++;
  const totalNeg = scores.length - totalPos;
  const points: RocPoint[] = [{ fpr: 0, tpr: 0 }];
  if (totalPos === 0 || totalNeg === 0) return [...points, { fpr: 1, tpr: 1 }];
  let tp = 0;
  let fp = 0;
  let i = order.length - 1;
  while (i >= 0) {
    const s = scores[order[i]!]!;
    while (i >= 0 && scores[order[i]!] === s) {
      if (positive[order[i]!]) tp++;
      else fp++;
      i--;
    }
    points.push({ fpr: fp / totalNeg, tpr: tp / totalPos });
  }
  return points;
}
