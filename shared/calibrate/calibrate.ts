import { bandOf, createNormalizer } from '../domain/engine/finalize.js';
import type { Model } from '../domain/model/schema.js';
import { auc } from './auc.js';
import type { BacktestResult } from './backtest.js';
import { type BandFit, type BandRow, bandTable, cutsByBadRates, cutsByShares, MAX_BAND_SHARE } from './bands.js';
import { CalibrateError } from './errors.js';
import { evaluateScores, type ScoreEvaluation, type SignalAuc, signalAucs } from './evaluate.js';
import { bestSingleAuc, type FeatureKind, fitProcedure, nestedCvAuc, predict } from './fit.js';
import { sigmoid } from './logistic.js';
import {
  applySuggestion,
  directionRow,
  featureRow,
  featuresOf,
  type Suggestion,
  suggestedRawScore,
  suggestWeights,
} from './suggest.js';

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
  /** Out-of-sample AUC of the whole fitting procedure (5-fold cross-validation, everything refitted per fold). */
  crossValidatedAuc: number;
  /** The best single signal's AUC (either direction): what a suggestion must beat out of sample. */
  bestSingle: { name: string; auc: number } | null;
  /** Fit on earlier outcomes, scored on later ones, when outcome dates span enough time (else null). */
  outOfTime: OutOfTime | null;
  /** Why there is no out-of-time figure (when outOfTime is null). */
  outOfTimeSkipped: string | null;
  /** Band table on the fit data: the current model's bands and the suggested model's refitted ones. */
  bandsBefore: BandRow[];
  bandsAfter: BandRow[];
  bandFit: BandFit;
  /** Signals and penalties whose sign constraint bound (held at 0). */
  constraints: { name: string; kind: 'signal' | 'penalty'; auc: number }[];
  warnings: string[];
  bandChanges: BandChange[];
  /** from band → to band → count, for every row (including unchanged). */
  bandMatrix: Record<string, Record<string, number>>;
}

/** Out-of-time check: the procedure fitted on outcomes before `splitDate`, AUCs on those from it on. */
export interface OutOfTime {
  splitDate: string;
  fitN: number;
  testN: number;
  suggestedAuc: number;
  currentAuc: number;
  bestSingleAuc: number;
}

export interface CalibrationOptions {
  horizonDays: number;
  bootstrapReplicates?: number | undefined;
  seed?: number | undefined;
  /** `--allow-sign-flip`. */
  allowSignFlip?: boolean | undefined;
  /** How the suggested model's bands are cut (default: the current model's band shares). */
  bandFit?: BandFit | undefined;
  now?: Date | undefined;
}

/** Out-of-time needs outcome dates spread over at least this many days. */
export const OUT_OF_TIME_MIN_SPAN_DAYS = 28;
/** Share of the outcomes (earliest first) the out-of-time fit uses; the rest are scored. */
const OUT_OF_TIME_FIT_SHARE = 0.7;

/** The JSON printed by `pulse calibrate --json` (docs/calibrate.md#json-output). */
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
  suggested: {
    auc: number;
    /** Out-of-sample AUC of the procedure (k-fold). */
    cvAuc: number;
    /** Out-of-time AUC, when outcome dates span enough time (else null). */
    outOfTimeAuc: number | null;
    /** The suggested model file, or null when no --out was given. */
    file: string | null;
    weights: Record<string, number>;
    transforms: Record<string, string>;
    /** Refitted bands on the fit data. */
    bands: { band: string; min: number | null; n: number; badRate: number | null }[];
    /** Signals and penalties held at 0 by the sign constraint. */
    constraints: string[];
  };
  bestSingleSignal: { name: string; auc: number } | null;
  warnings: string[];
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
  const seed = options.seed ?? 1;
  const fitOptions = { allowSignFlip: options.allowSignFlip, seed };
  const directions = rows.map((r) => directionRow(model, r.raw));
  const suggestion = suggestWeights(model, features, good, {
    ...fitOptions,
    currentRaw: rows.map((r) => r.raw.rawScore),
    directionRows: directions,
  });
  // Suggested scores without bands first: the bands are cut on them.
  const unbanded = applySuggestion(model, suggestion);
  const suggestedRaw = rows.map((r) => suggestedRawScore(model, suggestion, r.raw));
  const normalize = createNormalizer(unbanded, suggestedRaw);
  const suggestedScoreOf = suggestedRaw.map((raw) => normalize(raw));
  const bandFit: BandFit = options.bandFit ?? { method: 'shares' };
  const before = bandTable(
    model.bands.map((b) => b.name),
    model.bands.slice(1).map((b) => b.min!),
    rows.map((r) => model.bands.findIndex((b) => b.name === r.band)),
    good,
  );
  if (model.bands.length > 1) {
    suggestion.bandMins =
      bandFit.method === 'shares'
        ? cutsByShares(
            suggestedScoreOf,
            before.map((b) => b.share),
          )
        : cutsByBadRates(
            suggestedScoreOf,
            features.map((row) => 1 - sigmoid(predict(suggestion.procedure, row))),
            bandFit.rates,
          );
  }
  const suggestedModel = applySuggestion(model, suggestion);
  const shadow = suggestedScoreOf.map((score, i) => ({
    raw: suggestedRaw[i]!,
    score,
    band: bandOf(suggestedModel, score),
  }));
  const after = bandTable(
    model.bands.map((b) => b.name),
    suggestion.bandMins,
    shadow.map((s) => model.bands.findIndex((b) => b.name === s.band)),
    good,
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
  const kinds: FeatureKind[] = featuresOf(model).map((f) => f.kind);
  const crossValidatedAuc = nestedCvAuc(features, good, kinds, fitOptions, directions);
  const signals = signalAucs(model, signalValues, good);
  const bestSingle = signals.reduce<{ name: string; auc: number } | null>((best, s) => {
    if (Number.isNaN(s.auc)) return best;
    const oriented = Math.max(s.auc, 1 - s.auc);
    return best === null || oriented > best.auc ? { name: s.name, auc: oriented } : best;
  }, null);
  const { outOfTime, skipped: outOfTimeSkipped } = outOfTimeCheck(
    rows.map((r) => r.asOf),
    rows.map((r) => r.asOfDate),
    features,
    directions,
    signalValues,
    rows.map((r) => r.score),
    good,
    kinds,
    fitOptions,
  );
  const constraints = [
    ...suggestion.signals.filter((s) => s.bound).map((s) => ({ name: s.name, kind: 'signal' as const, auc: s.auc })),
    ...suggestion.penalties.filter((p) => p.bound).map((p) => ({ name: p.name, kind: 'penalty' as const, auc: p.auc })),
  ];
  const warnings: string[] = [];
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  const f3 = (x: number): string => x.toFixed(3);
  after.forEach((b, k) => {
    if (b.share > MAX_BAND_SHARE)
      warnings.push(
        `the suggested model puts ${pct(b.share)} of entities in band "${b.band}" (more than ${pct(MAX_BAND_SHARE)}; the current model: ${pct(before[k]!.share)}): its bands hardly tell entities apart${bandFit.method === 'shares' ? '; consider --band-bad-rates or new bands' : ''}`,
      );
  });
  if (bestSingle && crossValidatedAuc <= bestSingle.auc)
    warnings.push(
      `the suggestion does not beat the best single signal out of sample: cross-validated AUC ${f3(crossValidatedAuc)} vs "${bestSingle.name}" alone ${f3(bestSingle.auc)}`,
    );
  if (crossValidatedAuc < current.auc)
    warnings.push(
      `the suggestion does not beat the current model out of sample: cross-validated AUC ${f3(crossValidatedAuc)} vs current ${f3(current.auc)}`,
    );
  if (outOfTime && outOfTime.suggestedAuc <= outOfTime.bestSingleAuc)
    warnings.push(
      `out of time (outcomes from ${outOfTime.splitDate}), the suggestion does not beat the best single signal: AUC ${f3(outOfTime.suggestedAuc)} vs ${f3(outOfTime.bestSingleAuc)}`,
    );
  return {
    model,
    horizonDays: options.horizonDays,
    generatedAt: (options.now ?? new Date()).toISOString(),
    backtest: rest,
    current,
    signals,
    scores: rows.map((r) => ({ score: r.score, good: r.outcome.good })),
    suggestion,
    suggested,
    suggestedScores: shadow.map((s, i) => ({ score: s.score, good: good[i]! })),
    crossValidatedAuc,
    bestSingle,
    outOfTime,
    outOfTimeSkipped,
    bandsBefore: before,
    bandsAfter: after,
    bandFit,
    constraints,
    warnings,
    bandChanges,
    bandMatrix,
  };
}

/**
 * Out-of-time: fit the procedure on the earliest 70 % of outcomes (by as-of date, never splitting a date) and score
 * the rest. Needs as-of dates spanning at least OUT_OF_TIME_MIN_SPAN_DAYS and enough of each outcome on both sides.
 */
function outOfTimeCheck(
  asOf: readonly number[],
  asOfDate: readonly string[],
  features: readonly number[][],
  directions: readonly number[][],
  signalValues: readonly number[][],
  currentScores: readonly number[],
  good: readonly boolean[],
  kinds: readonly FeatureKind[],
  fitOptions: { allowSignFlip?: boolean | undefined; seed: number },
): { outOfTime: OutOfTime | null; skipped: string | null } {
  const n = asOf.length;
  const order = [...asOf.keys()].sort((a, b) => asOf[a]! - asOf[b]!);
  const spanDays = (asOf[order[n - 1]!]! - asOf[order[0]!]!) / 86_400_000;
  if (spanDays < OUT_OF_TIME_MIN_SPAN_DAYS)
    return {
      outOfTime: null,
      skipped: `outcome dates span ${Math.round(spanDays)} day(s); out-of-time needs at least ${OUT_OF_TIME_MIN_SPAN_DAYS}`,
    };
  const cutInstant = asOf[order[Math.min(n - 1, Math.floor(n * OUT_OF_TIME_FIT_SHARE))]!]!;
  const fit = order.filter((i) => asOf[i]! < cutInstant);
  const test = order.filter((i) => asOf[i]! >= cutInstant);
  const enough = (idx: number[]): boolean => {
    const g = idx.filter((i) => good[i]).length;
    return g >= MIN_PER_CLASS && idx.length - g >= MIN_PER_CLASS;
  };
  if (!enough(fit) || !enough(test))
    return {
      outOfTime: null,
      skipped: `too few outcomes of each kind before and after ${asOfDate[test[0] ?? order[0]!]} for an out-of-time check`,
    };
  const fitted = fitProcedure(
    fit.map((i) => features[i]!),
    fit.map((i) => good[i]!),
    kinds,
    fitOptions,
    fit.map((i) => directions[i]!),
  );
  const testGood = test.map((i) => good[i]!);
  const best = bestSingleAuc(
    test.map((i) => signalValues[i]!),
    testGood,
  );
  return {
    outOfTime: {
      splitDate: asOfDate[test[0]!]!,
      fitN: fit.length,
      testN: test.length,
      suggestedAuc: auc(
        test.map((i) => predict(fitted, features[i]!)),
        testGood,
      ),
      currentAuc: auc(
        test.map((i) => currentScores[i]!),
        testGood,
      ),
      bestSingleAuc: best,
    },
    skipped: null,
  };
}

/** The machine-readable summary (docs/calibrate.md#json-output). Numbers are rounded to 4 decimals; an undefined AUC is null. */
export function toJson(report: CalibrationReport, suggestedFile: string | null): CalibrateJson {
  const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
  const weights: Record<string, number> = {};
  const transforms: Record<string, string> = {};
  for (const s of report.suggestion.signals) {
    weights[s.name] = s.suggested;
    if (s.kind === 'weight') transforms[s.name] = s.transform;
  }
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
    suggested: {
      auc: r4(report.suggested.auc),
      cvAuc: r4(report.crossValidatedAuc),
      outOfTimeAuc: report.outOfTime ? r4(report.outOfTime.suggestedAuc) : null,
      file: suggestedFile,
      weights,
      transforms,
      bands: report.bandsAfter.map((b) => ({
        band: b.band,
        min: b.min,
        n: b.n,
        badRate: b.badRate === null ? null : r4(b.badRate),
      })),
      constraints: report.constraints.map((c) => c.name),
    },
    bestSingleSignal: report.bestSingle ? { name: report.bestSingle.name, auc: r4(report.bestSingle.auc) } : null,
    warnings: report.warnings,
  };
}
