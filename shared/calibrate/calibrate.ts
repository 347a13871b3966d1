import type { Model } from '../domain/model/schema.js';
import type { BacktestResult } from './backtest.js';
import { CalibrateError } from './errors.js';
import { evaluateScores, type ScoreEvaluation, type SignalAuc, signalAucs } from './evaluate.js';
import { crossValidatedAuc, featureRow, type Suggestion, suggestedScores, suggestWeights } from './suggest.js';

/** Below this many outcomes of either kind, an AUC and its interval say little; calibration refuses to run. */
export const MIN_PER_CLASS = 10;

export interface BandChange {
  entityId: string;
  outcomeDate: string;
  good: boolean;
  from: string;
  to: string;
  score: number;
  suggestedScore: number;
}

/** Everything the reports show: one backtest, evaluated for the current and the suggested model. */
export interface CalibrationReport {
  model: Model;
  horizonDays: number;
  generatedAt: string;
  backtest: Omit<BacktestResult, 'rows'>;
  current: ScoreEvaluation;
  signals: SignalAuc[];
  /** Scores of the backtested entities, with their outcome (for the score distribution chart). */
  scores: { score: number; good: boolean }[];
  suggestion: Suggestion;
  suggested: ScoreEvaluation;
  suggestedScores: { score: number; good: boolean }[];
  /** Out-of-sample AUC of the fitted weights (5-fold cross-validation). */
  crossValidatedAuc: number;
  bandChanges: BandChange[];
  /** from band → to band → count, for every row (including unchanged). */
  bandMatrix: Record<string, Record<string, number>>;
}

export interface CalibrationOptions {
  horizonDays: number;
  bootstrapReplicates?: number | undefined;
  seed?: number | undefined;
  lambda?: number | undefined;
  now?: Date | undefined;
}

/** The JSON printed by `pulse calibrate --json` (PRODUCT §9b), exactly these keys. */
export interface CalibrateJson {
  n: number;
  good: number;
  bad: number;
  model: {
    auc: number;
    aucCi: [number, number];
    bands: { band: string; n: number; badRate: number | null }[];
    signals: { name: string; auc: number | null }[];
  };
  suggested: { auc: number; file: string; weights: Record<string, number> };
}

export function checkEnoughOutcomes(good: number, bad: number, context = ''): void {
  if (good >= MIN_PER_CLASS && bad >= MIN_PER_CLASS) return;
  throw new CalibrateError(
    `too few outcomes for a meaningful AUC${context}: ${bad} churned and ${good} retained/renewed/upgraded; need at least ${MIN_PER_CLASS} of each (${Math.max(0, MIN_PER_CLASS - bad)} more churned, ${Math.max(0, MIN_PER_CLASS - good)} more good)`,
  );
}

/** Evaluate the current model on the backtest, fit suggested weights and compare the two. */
export function calibrate(model: Model, result: BacktestResult, options: CalibrationOptions): CalibrationReport {
  const { rows, ...rest } = result;
  const good = rows.map((r) => r.outcome.good);
  const goodCount = good.filter(Boolean).length;
  const leftOut = [
    result.skipped.length > 0 ? `${result.skipped.length} unknown entities` : '',
    result.unscored.length > 0 ? `${result.unscored.length} unscored outcomes` : '',
  ].filter(Boolean);
  checkEnoughOutcomes(
    goodCount,
    rows.length - goodCount,
    leftOut.length > 0 ? ` after leaving out ${leftOut.join(' and ')}` : '',
  );
  const evalOptions = { bootstrapReplicates: options.bootstrapReplicates, seed: options.seed };
  const current = evaluateScores(
    model,
    rows.map((r) => r.score),
    rows.map((r) => r.band),
    good,
    evalOptions,
  );
  const features = rows.map((r) => featureRow(model, r.raw));
  const signalValues = rows.map((r) =>
    model.signals.map((s) => r.raw.contributions.find((c) => c.signal === s.name)?.value ?? 0),
  );
  const lambda = options.lambda ?? 1;
  const suggestion = suggestWeights(model, features, good, lambda);
  const shadow = suggestedScores(
    model,
    suggestion,
    rows.map((r) => r.raw),
  );
  const suggested = evaluateScores(
    model,
    shadow.map((s) => s.score),
    shadow.map((s) => s.band),
    good,
    evalOptions,
  );
  const bandMatrix: Record<string, Record<string, number>> = {};
  for (const b of model.bands) bandMatrix[b.name] = Object.fromEntries(model.bands.map((c) => [c.name, 0]));
  const bandChanges: BandChange[] = [];
  rows.forEach((r, i) => {
    const s = shadow[i]!;
    bandMatrix[r.band]![s.band]!++;
    if (s.band !== r.band)
      bandChanges.push({
        entityId: r.outcome.entityId,
        outcomeDate: r.outcome.outcomeDate,
        good: r.outcome.good,
        from: r.band,
        to: s.band,
        score: r.score,
        suggestedScore: s.score,
      });
  });
  return {
    model,
    horizonDays: options.horizonDays,
    generatedAt: (options.now ?? new Date()).toISOString(),
    backtest: rest,
    current,
    signals: signalAucs(model, signalValues, good),
    scores: rows.map((r) => ({ score: r.score, good: r.outcome.good })),
    suggestion,
    suggested,
    suggestedScores: shadow.map((s, i) => ({ score: s.score, good: good[i]! })),
    crossValidatedAuc: crossValidatedAuc(features, good, lambda, 5, options.seed ?? 1),
    bandChanges,
    bandMatrix,
  };
}

/** The machine-readable summary (PRODUCT §9b). Numbers are rounded to 4 decimals; an undefined AUC is null. */
export function toJson(report: CalibrationReport, suggestedFile: string): CalibrateJson {
  const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
  const weights: Record<string, number> = {};
  for (const s of report.suggestion.signals) weights[s.name] = s.suggested;
  return {
    n: report.current.n,
    good: report.current.good,
    bad: report.current.bad,
    model: {
      auc: r4(report.current.auc),
      aucCi: [r4(report.current.aucCi[0]), r4(report.current.aucCi[1])],
      bands: report.current.bands.map((b) => ({
        band: b.band,
        n: b.n,
        badRate: b.badRate === null ? null : r4(b.badRate),
      })),
      signals: report.signals.map((s) => ({ name: s.name, auc: Number.isNaN(s.auc) ? null : r4(s.auc) })),
    },
    suggested: { auc: r4(report.suggested.auc), file: suggestedFile, weights },
  };
}
