import { Document, parseDocument } from 'yaml';
import { bandOf, createNormalizer } from '../domain/engine/finalize.js';
import type { RawScore } from '../domain/engine/types.js';
import { parseModel } from '../domain/model/load.js';
import type { Model, Transform } from '../domain/model/schema.js';
import { round6, transformValue } from '../domain/numbers.js';
import { fitProcedure, type ProcedureFit, transformRows } from './fit.js';

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
  /** The suggested weight (per unit of the transformed value), or the factor applied to every tier's points. */
  suggested: number;
  /** The current model's transform and the one the fit chose (always 'none' for tiers). */
  currentTransform: Transform;
  transform: Transform;
  /** Fitted log-odds change per standard deviation of the (transformed) feature (0 when it never varies). */
  standardized: number;
  /** The feature never varied in the data: the current value is kept. */
  kept: boolean;
  /** The sign constraint held it at 0: alone it predicts the other way than the fit wanted. */
  bound: boolean;
  /** Its own AUC (NaN when it never varies). */
  auc: number;
}

export interface SuggestedPenalty {
  name: string;
  current: number;
  suggested: number;
  standardized: number;
  kept: boolean;
  bound: boolean;
  auc: number;
}

export interface Suggestion {
  signals: SuggestedSignal[];
  penalties: SuggestedPenalty[];
  /** Suggested tier points per tiered signal (same order as its tiers). */
  tiers: Record<string, { min: number; points: number }[]>;
  /** Band lower bounds of the suggested model (bands after the first; set by the band refit). */
  bandMins: number[];
  procedure: ProcedureFit;
  features: Feature[];
  /** Raw points per unit of log-odds: coefficients were multiplied by this to land on the user's scale. */
  scale: number;
  lambda: number;
}

export interface SuggestOptions {
  /** `--allow-sign-flip`: no sign constraints. */
  allowSignFlip?: boolean | undefined;
  seed?: number | undefined;
  folds?: number | undefined;
  /** The current model's raw scores of the same rows: the suggestion's raw scores get the same spread. */
  currentRaw?: readonly number[] | undefined;
  /** Per row, the values sign constraints read (directionRow): a tiered signal's value, not its points. */
  directionRows?: readonly number[][] | undefined;
}

export function featuresOf(model: Model): Feature[] {
  return [
    ...model.signals.map((s, index): Feature => ({ kind: s.tiers ? 'tiers' : 'weight', name: s.name, index })),
    ...model.penalties.map((p, index): Feature => ({ kind: 'penalty', name: p.name, index })),
  ];
}

/**
 * The regression's inputs for one score: each signal's value (untransformed; the fit chooses the transform; a
 * tiered signal: the points its tier gives, so one fitted factor scales the whole tier table) and each penalty's
 * share of firing (1 or 0; a mean rollup can give a fraction).
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
 * What the sign constraints read for one score: each signal's own value (for a tiered signal too: its points tie
 * heavily, so their AUC can point the other way) and each penalty's firing.
 */
export function directionRow(model: Model, raw: RawScore): number[] {
  const values = new Map(raw.contributions.map((c) => [c.signal, c.value]));
  const features = featureRow(model, raw);
  return features.map((f, j) => (j < model.signals.length ? (values.get(model.signals[j]!.name) ?? 0) : f));
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function sd(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
}

/**
 * Fit the suggestion (docs/calibrate.md#how-the-suggestion-is-fitted): per-signal transform, λ by cross-validation,
 * sign constraints, on standardised features; then write the coefficients back in the model's units. All are
 * multiplied by one factor chosen so the suggested raw scores spread like the current ones on the same rows
 * (same standard deviation), so cut-offs read on a familiar scale; under a clamped `target` normalisation, so the
 * 99th percentile lands on the target instead (scores above it would all tie at 100). Penalty points are scaled by the
 * same factor; a tiered signal gets a factor on its points. Features that never vary keep their current values.
 */
export function suggestWeights(
  model: Model,
  rows: readonly number[][],
  good: readonly boolean[],
  options: SuggestOptions = {},
): Suggestion {
  const features = featuresOf(model);
  const procedure = fitProcedure(
    rows,
    good,
    features.map((f) => f.kind),
    { allowSignFlip: options.allowSignFlip, seed: options.seed, folds: options.folds },
    options.directionRows ?? rows,
  );
  const { fit } = procedure;
  const varies = (j: number): boolean => fit.sds[j]! > 0 || procedure.bound.includes(j);
  const transformed = transformRows(rows, procedure.transforms);
  const linear = transformed.map((row) => row.reduce((sum, v, j) => sum + fit.coefficients[j]! * v, 0));
  const currentSpread = sd(options.currentRaw ?? []);
  const fittedSpread = sd(linear);
  let scale = 1;
  const normalize = model.normalize;
  const high = quantile(linear, 0.99);
  // A clamped target piles everything above the target at 100 (ties lose ranking): put the 99th percentile there.
  if (normalize.method === 'target' && normalize.clamp && high > 0) scale = normalize.target / high;
  else if (currentSpread > 0 && fittedSpread > 0) scale = currentSpread / fittedSpread;
  else {
    const currentMax = Math.max(0, ...model.signals.map((s) => Math.abs(s.weight ?? 0)));
    const fittedMax = Math.max(0, ...fit.coefficients.map(Math.abs));
    if (fittedMax > 0) scale = (currentMax > 0 ? currentMax : 1) / fittedMax;
  }
  const bound = new Set(procedure.bound);
  const signals: SuggestedSignal[] = model.signals.map((s, j) => {
    const kept = !varies(j);
    const current = s.tiers ? 1 : s.weight!;
    const currentTransform = s.transform ?? 'none';
    return {
      name: s.name,
      kind: s.tiers ? 'tiers' : 'weight',
      current,
      suggested: kept ? current : roundSignificant(scale * fit.coefficients[j]!),
      currentTransform,
      transform: kept ? currentTransform : procedure.transforms[j]!,
      standardized: fit.standardized[j]!,
      kept,
      bound: bound.has(j),
      auc: procedure.featureAucs[j]!,
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
      bound: bound.has(j),
      auc: procedure.featureAucs[j]!,
    };
  });
  const bandMins = model.bands.slice(1).map((b) => b.min!);
  return { signals, penalties, tiers, bandMins, procedure, features, scale, lambda: procedure.lambda };
}

/** The current model with the suggested weights, tier points and penalty points, and its version bumped. */
export function applySuggestion(model: Model, suggestion: Suggestion): Model {
  return {
    ...model,
    version: model.version + 1,
    signals: model.signals.map((s, j) => {
      if (s.tiers) return { ...s, tiers: suggestion.tiers[s.name]! };
      const { transform: _current, ...rest } = s;
      const { suggested, transform } = suggestion.signals[j]!;
      return transform === 'none' && s.transform === undefined
        ? { ...rest, weight: suggested }
        : { ...rest, weight: suggested, transform };
    }),
    penalties: model.penalties.map((p, k) => ({ ...p, points: suggestion.penalties[k]!.suggested })),
    bands: model.bands.map((b, k) => (k === 0 ? b : { ...b, min: suggestion.bandMins[k - 1]! })),
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
    const suggested = suggestion.signals[j]!;
    total += s.tiers
      ? tierPoints(suggestion.tiers[s.name]!, value)
      : round6(suggested.suggested * transformValue(suggested.transform, value));
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
 * The suggested model file as YAML: the current file's text with the weights, transforms, tier points, penalty
 * points, band mins and version changed in place (comments and layout kept), and a header saying where the numbers came from. The result
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
    else {
      const suggested = suggestion.signals[j]!;
      doc.setIn(['signals', j, 'weight'], suggested.suggested);
      if (suggested.transform !== 'none' || s.transform !== undefined)
        doc.setIn(['signals', j, 'transform'], suggested.transform);
    }
  });
  suggestion.bandMins.forEach((min, k) => {
    doc.setIn(['bands', k + 1, 'min'], min);
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
