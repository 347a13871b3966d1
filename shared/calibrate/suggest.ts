import { Document, parseDocument } from 'yaml';
import { bandOf, createNormalizer } from '../domain/engine/finalize.js';
import type { RawScore } from '../domain/engine/types.js';
import { parseModel } from '../domain/model/load.js';
import type { Model } from '../domain/model/schema.js';
import { round6 } from '../domain/numbers.js';
import { seededRandom } from '../domain/random.js';
import { auc } from './auc.js';
import { fitLogistic, type LogisticFit, linearPredictor } from './logistic.js';

/** One column of the regression: a signal's value (its tier points for a tiered signal) or a penalty's firing. */
export interface Feature {
  kind: 'weight' | 'tiers' | 'penalty';
  name: string;
  /** Index into model.signals or model.penalties. */
  index: number;
}

export interface SuggestedSignal {
  name: string;
  kind: 'weight' | 'tiers';
  /** The current weight, or 1 for a tiered signal (its points are used as they are). */
  current: number;
  /** The suggested weight, or the factor applied to every tier's points. */
  suggested: number;
  /** Fitted log-odds change per standard deviation of the feature (0 when the feature never varies). */
  standardized: number;
  /** The feature never varied in the data: the current value is kept. */
  kept: boolean;
}

export interface SuggestedPenalty {
  name: string;
  current: number;
  suggested: number;
  standardized: number;
  kept: boolean;
}

export interface Suggestion {
  signals: SuggestedSignal[];
  penalties: SuggestedPenalty[];
  /** Suggested tier points per tiered signal (same order as its tiers). */
  tiers: Record<string, { min: number; points: number }[]>;
  fit: LogisticFit;
  features: Feature[];
  /** Raw points per unit of log-odds: coefficients were multiplied by this to land on the user's scale. */
  scale: number;
  lambda: number;
}

export function featuresOf(model: Model): Feature[] {
  return [
    ...model.signals.map((s, index): Feature => ({ kind: s.tiers ? 'tiers' : 'weight', name: s.name, index })),
    ...model.penalties.map((p, index): Feature => ({ kind: 'penalty', name: p.name, index })),
  ];
}

/**
 * The regression's inputs for one score: each signal's value (a tiered signal: the points its tier gives, so one
 * fitted factor scales the whole tier table) and each penalty's share of firing (1 or 0; a mean rollup can give
 * a fraction).
 */
export function featureRow(model: Model, raw: RawScore): number[] {
  const values = new Map(raw.contributions.map((c) => [c.signal, c]));
  const fired = new Map(raw.penalties.map((p) => [p.rule, p.points]));
  return [
    ...model.signals.map((s) => {
      const c = values.get(s.name);
      return s.tiers ? (c?.points ?? 0) : (c?.value ?? 0);
    }),
    ...model.penalties.map((p) => (p.points === 0 ? (fired.has(p.name) ? 1 : 0) : (fired.get(p.name) ?? 0) / p.points)),
  ];
}

/**
 * Fit an L2 logistic regression of the good outcome on the features (standardised inside the fit) and turn the
 * per-unit coefficients into weights on the user's scale: all are multiplied by one factor chosen so the largest
 * suggested |weight| equals the current model's largest |weight| (signs kept), so suggested and current weights read
 * in the same units. Penalty points are scaled by the same factor; a tiered signal gets a factor on its points.
 * Features that never vary keep their current values (the data says nothing about them).
 */
export function suggestWeights(
  model: Model,
  rows: readonly number[][],
  good: readonly boolean[],
  lambda = 1,
): Suggestion {
  const features = featuresOf(model);
  const fit = fitLogistic(rows, good, { lambda });
  const varies = (j: number): boolean => fit.sds[j]! > 0;
  const weightIdx = features.map((f, j) => (f.kind === 'weight' && varies(j) ? j : -1)).filter((j) => j >= 0);
  const tierIdx = features.map((f, j) => (f.kind === 'tiers' && varies(j) ? j : -1)).filter((j) => j >= 0);
  const currentMax = Math.max(0, ...model.signals.map((s) => Math.abs(s.weight ?? 0)));
  const maxOf = (idx: number[]): number => Math.max(0, ...idx.map((j) => Math.abs(fit.coefficients[j]!)));
  let scale = 1;
  if (maxOf(weightIdx) > 0) scale = (currentMax > 0 ? currentMax : 1) / maxOf(weightIdx);
  else if (maxOf(tierIdx) > 0) scale = 1 / maxOf(tierIdx);
  const signals: SuggestedSignal[] = model.signals.map((s, j) => {
    const kept = !varies(j);
    const current = s.tiers ? 1 : s.weight!;
    return {
      name: s.name,
      kind: s.tiers ? 'tiers' : 'weight',
      current,
      suggested: kept ? current : roundSignificant(scale * fit.coefficients[j]!),
      standardized: fit.standardized[j]!,
      kept,
    };
  });
  const tiers: Suggestion['tiers'] = {};
  model.signals.forEach((s, j) => {
    if (s.tiers)
      tiers[s.name] = s.tiers.map((t) => ({ min: t.min, points: roundSignificant(t.points * signals[j]!.suggested) }));
  });
  const offset = model.signals.length;
  const penalties: SuggestedPenalty[] = model.penalties.map((p, k) => {
    const j = offset + k;
    const kept = !varies(j);
    return {
      name: p.name,
      current: p.points,
      suggested: kept ? p.points : roundSignificant(scale * fit.coefficients[j]!),
      standardized: fit.standardized[j]!,
      kept,
    };
  });
  return { signals, penalties, tiers, fit, features, scale, lambda };
}

/** The current model with the suggested weights, tier points and penalty points, and its version bumped. */
export function applySuggestion(model: Model, suggestion: Suggestion): Model {
  return {
    ...model,
    version: model.version + 1,
    signals: model.signals.map((s, j) =>
      s.tiers ? { ...s, tiers: suggestion.tiers[s.name]! } : { ...s, weight: suggestion.signals[j]!.suggested },
    ),
    penalties: model.penalties.map((p, k) => ({ ...p, points: suggestion.penalties[k]!.suggested })),
  };
}

/**
 * The raw score the suggested model gives each backtested entity, from the values already computed (a signal's
 * value does not depend on its weight, and neither does whether a penalty fires), so no second replay is needed.
 * Exact for user models and pooled accounts; for mean/max rollups it re-weights the rolled-up values.
 */
export function suggestedRawScore(model: Model, suggestion: Suggestion, raw: RawScore): number {
  const values = new Map(raw.contributions.map((c) => [c.signal, c.value]));
  let total = 0;
  model.signals.forEach((s, j) => {
    const value = values.get(s.name) ?? 0;
    total += s.tiers ? tierPoints(suggestion.tiers[s.name]!, value) : round6(suggestion.signals[j]!.suggested * value);
  });
  const fired = new Map(raw.penalties.map((p) => [p.rule, p.points]));
  model.penalties.forEach((p, k) => {
    const points = fired.get(p.name);
    if (points === undefined) return;
    const share = p.points === 0 ? 1 : points / p.points;
    total += share * suggestion.penalties[k]!.suggested;
  });
  return round6(total);
}

/** Scores and bands under the suggested model, normalised the way the model says (percentile: among these rows). */
export function suggestedScores(
  model: Model,
  suggestion: Suggestion,
  raws: readonly RawScore[],
): { raw: number; score: number; band: string }[] {
  const suggested = applySuggestion(model, suggestion);
  const rawScores = raws.map((r) => suggestedRawScore(model, suggestion, r));
  const normalize = createNormalizer(suggested, rawScores);
  return rawScores.map((raw) => {
    const score = normalize(raw);
    return { raw, score, band: bandOf(suggested, score) };
  });
}

/**
 * Out-of-sample AUC of the fitting procedure: k stratified folds (seeded), each scored by a fit on the others;
 * the AUC of all held-out predictions together. In-sample AUC of the fitted weights is optimistic; this is not.
 */
export function crossValidatedAuc(
  rows: readonly number[][],
  good: readonly boolean[],
  lambda = 1,
  folds = 5,
  seed = 1,
): number {
  const random = seededRandom(seed);
  const fold = new Int32Array(rows.length);
  for (const label of [true, false]) {
    const idx = [...good.keys()].filter((i) => good[i] === label);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((row, k) => {
      fold[row] = k % folds;
    });
  }
  const predictions = new Float64Array(rows.length);
  for (let f = 0; f < folds; f++) {
    const train = [...rows.keys()].filter((i) => fold[i] !== f);
    const fit = fitLogistic(
      train.map((i) => rows[i]!),
      train.map((i) => good[i]!),
      { lambda },
    );
    for (let i = 0; i < rows.length; i++) if (fold[i] === f) predictions[i] = linearPredictor(fit, rows[i]!);
  }
  return auc(predictions, good);
}

/**
 * The suggested model file as YAML: the current file's text with the weights, tier points, penalty points and
 * version changed in place (comments and layout kept), and a header saying where the numbers came from. The result
 * is validated with the model loader before it is returned.
 */
export function suggestedModelYaml(
  sourceText: string,
  sourceFile: string,
  outFile: string,
  model: Model,
  suggestion: Suggestion,
  header: string,
): string {
  const doc = sourceFile.toLowerCase().endsWith('.json')
    ? new Document(JSON.parse(sourceText))
    : parseDocument(sourceText);
  doc.set('version', model.version + 1);
  model.signals.forEach((s, j) => {
    if (s.tiers)
      suggestion.tiers[s.name]!.forEach((t, k) => {
        doc.setIn(['signals', j, 'tiers', k, 'points'], t.points);
      });
    else doc.setIn(['signals', j, 'weight'], suggestion.signals[j]!.suggested);
  });
  model.penalties.forEach((_, k) => {
    doc.setIn(['penalties', k, 'points'], suggestion.penalties[k]!.suggested);
  });
  doc.commentBefore = [header, doc.commentBefore].filter(Boolean).join('\n');
  const text = doc.toString({ lineWidth: 120 });
  parseModel(text, outFile);
  return text;
}

/** Three significant digits: enough for a weight a person reads, without noise like 3.8471926. */
export function roundSignificant(x: number, digits = 3): number {
  if (x === 0 || !Number.isFinite(x)) return 0;
  const magnitude = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return Math.round(x * magnitude) / magnitude + 0;
}

function tierPoints(tiers: readonly { min: number; points: number }[], value: number): number {
  let best: { min: number; points: number } | undefined;
  for (const tier of tiers) if (value >= tier.min && (best === undefined || tier.min > best.min)) best = tier;
  return best?.points ?? 0;
}
