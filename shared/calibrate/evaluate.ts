import type { Model } from '../domain/model/schema.js';
import { auc, bootstrapAucCi, type RocPoint, rocCurve } from './auc.js';

/** What one set of scores says about the outcomes. */
export interface ScoreEvaluation {
  n: number;
  good: number;
  bad: number;
  auc: number;
  aucCi: [number, number];
  roc: RocPoint[];
  bands: BandStat[];
  /** Bad rate never rises from a lower band to a higher one (empty bands ignored). */
  monotonic: boolean;
  bottomDecile: DecileLift;
}

export interface BandStat {
  band: string;
  n: number;
  bad: number;
  /** null for an empty band. */
  badRate: number | null;
}

export interface DecileLift {
  /** Entities in the bottom 10% of scores (fractional at a tie on the cut). */
  n: number;
  badRate: number;
  overallBadRate: number;
  /** badRate / overallBadRate: how much likelier churn is among the lowest scorers. */
  lift: number;
}

export interface EvaluateOptions {
  bootstrapReplicates?: number | undefined;
  seed?: number | undefined;
}

/** AUC with its bootstrap interval, ROC curve, bad rate by band and the bottom decile's lift. */
export function evaluateScores(
  model: Model,
  scores: readonly number[],
  bands: readonly string[],
  good: readonly boolean[],
  options: EvaluateOptions = {},
): ScoreEvaluation {
  const n = scores.length;
  const goodCount = good.filter(Boolean).length;
  const stats = new Map(model.bands.map((b) => [b.name, { band: b.name, n: 0, bad: 0 }]));
  bands.forEach((band, i) => {
    const s = stats.get(band)!;
    s.n++;
    if (!good[i]) s.bad++;
  });
  const bandStats: BandStat[] = [...stats.values()].map((s) => ({ ...s, badRate: s.n === 0 ? null : s.bad / s.n }));
  return {
    n,
    good: goodCount,
    bad: n - goodCount,
    auc: auc(scores, good),
    aucCi: bootstrapAucCi(scores, good, { replicates: options.bootstrapReplicates, seed: options.seed }),
    roc: rocCurve(scores, good),
    bands: bandStats,
    monotonic: isNonIncreasing(bandStats.filter((b) => b.badRate !== null).map((b) => b.badRate!)),
    bottomDecile: bottomDecileLift(scores, good),
  };
}

export function isNonIncreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v <= values[i - 1]! + 1e-12);
}

/**
 * Bad rate among the lowest-scoring 10% against the overall bad rate. Entities tied at the cut count with the
 * fraction that fits, so the result does not depend on the order of equal scores.
 */
export function bottomDecileLift(scores: readonly number[], good: readonly boolean[], share = 0.1): DecileLift {
  const n = scores.length;
  const overallBad = good.filter((g) => !g).length / n;
  const target = n * share;
  const order = [...scores.keys()].sort((a, b) => scores[a]! - scores[b]!);
  let taken = 0;
  let bad = 0;
  let i = 0;
  while (i < n && taken < target) {
    const s = scores[order[i]!]!;
    let groupN = 0;
    let groupBad = 0;
    while (i < n && scores[order[i]!] === s) {
      groupN++;
      if (!good[order[i]!]) groupBad++;
      i++;
    }
    const fraction = Math.min(1, (target - taken) / groupN);
    taken += groupN * fraction;
    bad += groupBad * fraction;
  }
  const badRate = taken === 0 ? 0 : bad / taken;
  return { n: taken, badRate, overallBadRate: overallBad, lift: overallBad === 0 ? Number.NaN : badRate / overallBad };
}

export interface SignalAuc {
  name: string;
  /** AUC of the signal's value alone (higher value ⇒ good outcome). */
  auc: number;
  /** The signal's weight (null for tiered signals). */
  weight: number | null;
  /** Whether the weight's sign agrees with the data (AUC above 0.5 for a positive weight, below for a negative). */
  agrees: boolean | null;
}

export function signalAucs(
  model: Model,
  values: readonly (readonly number[])[],
  good: readonly boolean[],
): SignalAuc[] {
  return model.signals.map((s, j) => {
    const a = auc(
      values.map((row) => row[j]!),
      good,
    );
    const weight = s.weight ?? null;
    const direction = s.tiers ? tierDirection(s.tiers) : weight === null || weight === 0 ? 0 : Math.sign(weight);
    return {
      name: s.name,
      auc: a,
      weight,
      agrees: direction === 0 || Number.isNaN(a) || Math.abs(a - 0.5) < 1e-9 ? null : (a - 0.5) * direction > 0,
    };
  });
}

/** +1 when more value earns more tier points, −1 when fewer, 0 when flat. */
function tierDirection(tiers: readonly { min: number; points: number }[]): number {
  const sorted = [...tiers].sort((a, b) => a.min - b.min);
  return Math.sign(sorted[sorted.length - 1]!.points - sorted[0]!.points);
}
