import type { Model } from '../model/schema.js';
import { round2, round6 } from '../numbers.js';
import { overridden, overrideView, type ScoreOverride } from '../override.js';
import type {
  AppliedPenalty,
  Contribution,
  EntityScore,
  FiredAlert,
  PreviousScore,
  RawScore,
  ReasonForChange,
} from './types.js';

/** Maps a raw score to the model's scale. Percentile needs every raw score of the run (docs/models.md#semantics-exact). */
export type Normalizer = (raw: number) => number;

/**
 * Build the run's normaliser. For `percentile`, pass every raw score of the run (any order): ranks are computed
 * on a sorted copy, and equal raw scores share their average rank.
 */
export function createNormalizer(model: Model, allRawScores: ArrayLike<number> = []): Normalizer {
  const n = model.normalize;
  switch (n.method) {
    case 'none':
      return (raw) => round2(raw);
    case 'target':
      return (raw) => {
        const score = (100 * raw) / n.target;
        return round2(n.clamp ? Math.min(100, Math.max(0, score)) : score);
      };
    case 'percentile': {
      const sorted = Float64Array.from(allRawScores).sort();
      const count = sorted.length;
      return (raw) => {
        if (count <= 1) return 50;
        const below = lowerBound(sorted, raw);
        const equal = lowerBound(sorted, nextUp(raw)) - below;
        // Average 0-based rank of the tied group, scaled so the lowest is 0 and the highest 100.
        const rank = below + (Math.max(equal, 1) - 1) / 2;
        return round2((100 * rank) / (count - 1));
      };
    }
  }
}

/** The last band whose min ≤ score; the first band catches everything below the second. */
export function bandOf(model: Model, score: number): string {
  let band = model.bands[0]!.name;
  for (let i = 1; i < model.bands.length; i++) {
    const b = model.bands[i]!;
    if (b.min !== undefined && score >= b.min) band = b.name;
  }
  return band;
}

export interface FinalizeContext {
  asOf: string;
  normalize: Normalizer;
  previous?: PreviousScore | undefined;
  /** An active manual override: published band/score (docs/api.md#overrides); raw score and contributions stay. */
  override?: ScoreOverride | undefined;
}

/** Normalise, band, compare with the previous run, explain the change, and fire the model's alert rules. */
export function finalizeScore(model: Model, raw: RawScore, ctx: FinalizeContext): EntityScore {
  const computed = ctx.normalize(raw.rawScore);
  const { score, band } = ctx.override
    ? overridden(model, { score: computed, band: bandOf(model, computed) }, ctx.override)
    : { score: computed, band: bandOf(model, computed) };
  const previous = ctx.previous;
  const delta = previous ? round2(score - previous.score) : null;
  const entity: EntityScore = {
    entityType: raw.entityType,
    entityId: raw.entityId,
    accountId: raw.accountId,
    model: model.name,
    modelVersion: model.version,
    asOf: ctx.asOf,
    windowDays: model.windowDays,
    rawScore: raw.rawScore,
    score,
    band,
    previousScore: previous?.score ?? null,
    delta,
    previousBand: previous?.band ?? null,
    coverage: raw.coverage,
    contributions: raw.contributions,
    penalties: raw.penalties,
    reasons: previous && delta !== 0 ? reasonsForChange(raw.contributions, raw.penalties, previous) : [],
    alerts: [],
  };
  if (raw.groups) {
    entity.groups = raw.groups.map((g) => ({
      ...g,
      score: model.normalize.method === 'percentile' ? null : ctx.normalize(g.rawScore),
    }));
  }
  if (ctx.override) entity.override = overrideView(ctx.override);
  entity.alerts = alertsFor(model, entity);
  return entity;
}

/** Convenience for one whole run held in memory (files, tests, local mode). */
export function finalizeScores(
  model: Model,
  raws: readonly RawScore[],
  asOf: string,
  previousOf: (raw: RawScore) => PreviousScore | undefined = () => undefined,
): EntityScore[] {
  const normalize = createNormalizer(
    model,
    raws.map((r) => r.rawScore),
  );
  return raws.map((raw) => finalizeScore(model, raw, { asOf, normalize, previous: previousOf(raw) }));
}

const MAX_REASONS = 3;

/** The signals and penalties whose points moved most since the previous run, largest first. */
export function reasonsForChange(
  contributions: readonly Contribution[],
  penalties: readonly AppliedPenalty[],
  previous: PreviousScore,
): ReasonForChange[] {
  const reasons: ReasonForChange[] = [];
  const prevSignals = new Map(previous.contributions.map((c) => [c.signal, c.points]));
  for (const c of contributions) {
    const before = prevSignals.get(c.signal) ?? 0;
    reasons.push({
      kind: 'signal',
      name: c.signal,
      previousPoints: before,
      points: c.points,
      delta: round6(c.points - before),
    });
  }
  const now = new Map(penalties.map((p) => [p.rule, p.points]));
  const before = new Map(previous.penalties.map((p) => [p.rule, p.points]));
  for (const rule of new Set([...now.keys(), ...before.keys()])) {
    const p = now.get(rule) ?? 0;
    const b = before.get(rule) ?? 0;
    reasons.push({ kind: 'penalty', name: rule, previousPoints: b, points: p, delta: round6(p - b) });
  }
  return reasons
    .filter((r) => r.delta !== 0)
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.name.localeCompare(b.name))
    .slice(0, MAX_REASONS);
}

function alertsFor(model: Model, e: EntityScore): FiredAlert[] {
  if (e.previousScore === null || e.delta === null) return [];
  const alerts: FiredAlert[] = [];
  const base = {
    entityType: e.entityType,
    entityId: e.entityId,
    model: e.model,
    asOf: e.asOf,
    score: e.score,
    previousScore: e.previousScore,
    band: e.band,
    previousBand: e.previousBand,
    reasons: e.reasons,
    topContributions: [...e.contributions].sort((a, b) => Math.abs(b.points) - Math.abs(a.points)).slice(0, 3),
  };
  const { drop, spike, bandChange } = model.alerts;
  if (drop && e.delta < 0 && crosses(drop, -e.delta, e.previousScore)) alerts.push({ type: 'ScoreDropped', ...base });
  if (spike && e.delta > 0 && crosses(spike, e.delta, e.previousScore)) alerts.push({ type: 'ScoreSpiked', ...base });
  const minMove = bandChangeMinMove(bandChange);
  // A person set the band of an overridden entity: its change is their decision, not news (docs/api.md#overrides).
  if (
    minMove !== null &&
    !e.override &&
    e.previousBand !== null &&
    e.previousBand !== e.band &&
    Math.abs(e.delta) >= minMove
  )
    alerts.push({ type: 'BandChanged', ...base });
  return alerts;
}

/**
 * Band changes under this many points are flapping around a cut-off, not news (docs/models.md#alerts):
 * `bandChange: true` means the default of 1 point; null when the rule is off.
 */
export const DEFAULT_BAND_CHANGE_MIN_MOVE = 1;

function bandChangeMinMove(rule: Model['alerts']['bandChange']): number | null {
  if (rule === false) return null;
  if (rule === true) return DEFAULT_BAND_CHANGE_MIN_MOVE;
  return rule.minMove;
}

/** A move of `magnitude` points crosses a rule of N points, or of P percent of the previous score. */
function crosses(
  rule: { points?: number | undefined; percent?: number | undefined },
  magnitude: number,
  previous: number,
): boolean {
  if (rule.points !== undefined) return magnitude >= rule.points;
  if (previous === 0) return magnitude > 0;
  return (100 * magnitude) / Math.abs(previous) >= rule.percent!;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest double greater than `x` (raw scores are rounded, so ties are exact). */
function nextUp(x: number): number {
  if (x === Number.POSITIVE_INFINITY) return x;
  const buf = new Float64Array([x === 0 ? 0 : x]);
  const bits = new BigInt64Array(buf.buffer);
  if (x === 0) return Number.MIN_VALUE;
  bits[0] = x > 0 ? bits[0]! + 1n : bits[0]! - 1n;
  return buf[0]!;
}
