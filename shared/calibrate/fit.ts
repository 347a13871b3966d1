import type { Transform } from '../domain/model/schema.js';
import { transformValue } from '../domain/numbers.js';
import { seededRandom } from '../domain/random.js';
import { auc } from './auc.js';
import { fitLogistic, type LogisticFit, linearPredictor, sigmoid } from './logistic.js';

/**
 * The fitting procedure behind `pulse calibrate`'s suggestion (docs/calibrate.md#how-the-suggestion-is-fitted):
 * per-signal transform, L2 strength by k-fold cross-validation, sign constraints, all on standardised features.
 * Pure: the same inputs and seed give the same fit on every machine.
 */

/** A regression column: a weighted signal's value (transform chosen by the fit), tier points, or a penalty firing. */
export type FeatureKind = 'weight' | 'tiers' | 'penalty';

export interface FitProcedureOptions {
  /** Let a coefficient take the sign opposite to its feature's own AUC (`--allow-sign-flip`). */
  allowSignFlip?: boolean | undefined;
  folds?: number | undefined;
  seed?: number | undefined;
  /** L2 strengths tried, as multiples of n (the objective sums n log-losses). */
  lambdaGrid?: readonly number[] | undefined;
}

export interface ProcedureFit {
  /** Per feature: the transform applied before the fit (always 'none' for tiers and penalties). */
  transforms: Transform[];
  /** Per feature: +1 (coefficient must be ≥ 0), −1 (≤ 0) or 0 (free). */
  directions: number[];
  /** Per feature: its own AUC (NaN when one class is empty or it never varies). */
  featureAucs: number[];
  lambda: number;
  /** Mean held-out log-loss per λ tried (same order as `lambdas`). */
  cvLoss: number[];
  lambdas: number[];
  fit: LogisticFit;
  /** Features the sign constraint held at 0 (their unconstrained fit had the wrong sign). */
  bound: number[];
}

export const DEFAULT_LAMBDA_GRID = [1e-4, 1e-3, 1e-2, 0.1, 1] as const;
const TRANSFORM_CANDIDATES: readonly Transform[] = ['none', 'log1p', 'sqrt'];

/** Stratified fold of each row (0..k-1), seeded: each fold gets the same share of good and bad outcomes. */
export function stratifiedFolds(good: readonly boolean[], k: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  const fold = new Int32Array(good.length);
  for (const label of [true, false]) {
    const idx = [...good.keys()].filter((i) => good[i] === label);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((row, n) => {
      fold[row] = n % k;
    });
  }
  return fold;
}

/** Apply each column's transform. */
export function transformRows(rows: readonly number[][], transforms: readonly Transform[]): number[][] {
  return rows.map((row) => row.map((v, j) => transformValue(transforms[j], v)));
}

/**
 * L2 logistic fit where a coefficient may not take the sign its feature's own AUC forbids: a feature whose
 * unconstrained coefficient has the wrong sign is held at 0 (the worst one first) and the rest refitted, until
 * every free coefficient agrees. The bound features are returned.
 */
export function fitSignConstrained(
  rows: readonly number[][],
  good: readonly boolean[],
  lambda: number,
  directions: readonly number[],
): { fit: LogisticFit; bound: number[] } {
  const p = directions.length;
  const held = new Set<number>();
  for (;;) {
    const data = held.size === 0 ? rows : rows.map((row) => row.map((v, j) => (held.has(j) ? 0 : v)));
    const fit = fitLogistic(data, good, { lambda });
    let worst = -1;
    let worstSize = 1e-9;
    for (let j = 0; j < p; j++) {
      const wrong = -directions[j]! * fit.standardized[j]!;
      if (wrong > worstSize) {
        worst = j;
        worstSize = wrong;
      }
    }
    if (worst < 0) return { fit, bound: [...held].sort((a, b) => a - b) };
    held.add(worst);
  }
}

/** Mean log-loss of predictions (log-odds of good) against the outcomes. */
function logLoss(eta: ArrayLike<number>, good: readonly boolean[], idx: readonly number[]): number {
  let total = 0;
  for (const i of idx) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(eta[i]!)));
    total -= good[i] ? Math.log(p) : Math.log(1 - p);
  }
  return total / Math.max(1, idx.length);
}

/** The transform that fits a single feature best on its own (largest log-likelihood of a one-feature fit). */
function chooseTransform(column: readonly number[], good: readonly boolean[]): Transform {
  let best: Transform = 'none';
  let bestLoss = Number.POSITIVE_INFINITY;
  const all = [...column.keys()];
  for (const t of TRANSFORM_CANDIDATES) {
    const rows = column.map((v) => [transformValue(t, v)]);
    const fit = fitLogistic(rows, good, { lambda: 1e-6 });
    const loss = logLoss(
      rows.map((r) => linearPredictor(fit, r)),
      good,
      all,
    );
    // A transform must earn its place: keep the simpler form unless it fits clearly better.
    if (loss < bestLoss - 1e-6) {
      best = t;
      bestLoss = loss;
    }
  }
  return best;
}

/**
 * The whole procedure on one data set: sign directions (from `directionRows`, default the features themselves: a
 * tiered signal's direction comes from its value, not its tier points, which tie heavily) and transforms from each
 * feature alone, λ by k-fold
 * cross-validated log-loss (ties go to the stronger λ), then the sign-constrained fit on all rows.
 */
export function fitProcedure(
  rows: readonly number[][],
  good: readonly boolean[],
  kinds: readonly FeatureKind[],
  options: FitProcedureOptions = {},
  directionRows: readonly number[][] = rows,
): ProcedureFit {
  const n = rows.length;
  const k = Math.max(2, Math.min(options.folds ?? 5, n));
  const featureAucs = kinds.map((_, j) =>
    auc(
      directionRows.map((r) => r[j]!),
      good,
    ),
  );
  const directions = featureAucs.map((a) =>
    options.allowSignFlip || Number.isNaN(a) || Math.abs(a - 0.5) < 1e-12 ? 0 : a > 0.5 ? 1 : -1,
  );
  const transforms: Transform[] = kinds.map((kind, j) =>
    kind === 'weight'
      ? chooseTransform(
          rows.map((r) => r[j]!),
          good,
        )
      : 'none',
  );
  const X = transformRows(rows, transforms);
  const lambdas = (options.lambdaGrid ?? DEFAULT_LAMBDA_GRID).map((f) => f * Math.max(1, n));
  const fold = stratifiedFolds(good, k, options.seed ?? 1);
  const cvLoss = lambdas.map((lambda) => {
    const eta = new Float64Array(n);
    for (let f = 0; f < k; f++) {
      const train = [...rows.keys()].filter((i) => fold[i] !== f);
      if (train.length === 0) continue;
      const { fit } = fitSignConstrained(
        train.map((i) => X[i]!),
        train.map((i) => good[i]!),
        lambda,
        directions,
      );
      for (let i = 0; i < n; i++) if (fold[i] === f) eta[i] = linearPredictor(fit, X[i]!);
    }
    return logLoss(eta, good, [...rows.keys()]);
  });
  let best = 0;
  for (let l = 1; l < lambdas.length; l++) if (cvLoss[l]! <= cvLoss[best]! + 1e-9) best = l;
  const lambda = lambdas[best]!;
  const { fit, bound } = fitSignConstrained(X, good, lambda, directions);
  return { transforms, directions, featureAucs, lambda, cvLoss, lambdas, fit, bound };
}

/** Log-odds of a good outcome for one row of untransformed features under a procedure's fit. */
export function predict(fit: ProcedureFit, row: readonly number[]): number {
  return linearPredictor(
    fit.fit,
    row.map((v, j) => transformValue(fit.transforms[j], v)),
  );
}

/**
 * Out-of-sample AUC of the whole procedure (transforms, λ, signs and weights all chosen again inside each fold):
 * each row is predicted by a fit that never saw it; the AUC of all held-out predictions together.
 */
export function nestedCvAuc(
  rows: readonly number[][],
  good: readonly boolean[],
  kinds: readonly FeatureKind[],
  options: FitProcedureOptions = {},
  directionRows: readonly number[][] = rows,
): number {
  const n = rows.length;
  const k = Math.max(2, Math.min(options.folds ?? 5, n));
  const fold = stratifiedFolds(good, k, (options.seed ?? 1) + 7919);
  const predictions = new Float64Array(n);
  for (let f = 0; f < k; f++) {
    const train = [...rows.keys()].filter((i) => fold[i] !== f);
    const fitted = fitProcedure(
      train.map((i) => rows[i]!),
      train.map((i) => good[i]!),
      kinds,
      options,
      train.map((i) => directionRows[i]!),
    );
    for (let i = 0; i < n; i++) if (fold[i] === f) predictions[i] = predict(fitted, rows[i]!);
  }
  return auc(predictions, good);
}

/** The AUC of the best single signal, read in whichever direction predicts better (max of AUC and 1 − AUC). */
export function bestSingleAuc(values: readonly (readonly number[])[], good: readonly boolean[]): number {
  const p = values[0]?.length ?? 0;
  let best = Number.NaN;
  for (let j = 0; j < p; j++) {
    const a = auc(
      values.map((r) => r[j]!),
      good,
    );
    if (Number.isNaN(a)) continue;
    const oriented = Math.max(a, 1 - a);
    if (Number.isNaN(best) || oriented > best) best = oriented;
  }
  return best;
}
