import type { TraitCondition } from '../model/schema.js';
import { round6, transformValue } from '../numbers.js';
import {
  CONTRIBUTION_CACHE_SIZE,
  type CompiledModel,
  type CompiledSignal,
  KIND_DAYS,
  KIND_PER_DAY,
  KIND_PLAIN,
  KIND_WEEKS,
  PENALTY_ABSENT,
  PENALTY_INACTIVE,
} from './compile.js';
import { countBits, type StateTable } from './state-table.js';
import type { AppliedPenalty, Contribution } from './types.js';

/** A compiled penalty with the instant an `inactiveDays` rule starts counting from (computed once a run). */
export type PenaltyRule = CompiledModel['penalties'][number] & { inactiveSince: number };

/** Signals and penalties of one state row: points = weight × transform(value) (or tiers), raw = Σ points + Σ penalties. */
export function evaluateRow(
  compiled: CompiledModel,
  penaltyRules: readonly PenaltyRule[],
  table: StateTable,
  row: number,
  lastSeen: number,
): Evaluation {
  const sets = table.sets?.[row];
  const base = table.baseOf(row);
  const data = table.dataOf(row);
  // Plain loops (no intermediate arrays or callbacks): this runs once per entity, a million times in a large run.
  const signals = compiled.signals;
  // Sized up front: an array grown by push keeps room for 17 elements, and a million of them are kept.
  const contributions = new Array<Contribution>(signals.length);
  let signalPointsSum = 0;
  for (let i = 0; i < signals.length; i++) {
    const s = signals[i]!;
    const value = signalValue(s, data, base, sets, compiled);
    const cacheable = value >= 0 && value < CONTRIBUTION_CACHE_SIZE && Math.floor(value) === value;
    let contribution = cacheable ? s.contributionByValue[value] : undefined;
    if (contribution === undefined) {
      contribution = { signal: s.name, value, points: round6(signalPoints(s, value)) };
      if (cacheable) s.contributionByValue[value] = Object.freeze(contribution);
    }
    contributions[i] = contribution;
    signalPointsSum += contribution.points;
  }
  let penalties = NO_PENALTIES;
  let penaltyPointsSum = 0;
  for (let i = 0; i < penaltyRules.length; i++) {
    const rule = penaltyRules[i]!;
    let applies: boolean;
    if (rule.kindCode === PENALTY_ABSENT) applies = data[base + rule.slot] === 0;
    else if (rule.kindCode === PENALTY_INACTIVE) {
      applies = !Number.isFinite(lastSeen) || lastSeen < rule.inactiveSince;
    } else {
      // A bound not given is ±Infinity, which no value passes.
      const value = contributions[rule.signalIndex]?.value;
      applies = value !== undefined && (value > rule.above || value < rule.below);
    }
    if (applies) {
      if (penalties === NO_PENALTIES) penalties = [];
      penalties.push({ rule: rule.name, points: rule.points });
      penaltyPointsSum += rule.points;
    }
  }
  // Summed as before: signals left to right from 0, penalties the same, then the two (the same double every time).
  return { raw: round6(signalPointsSum + penaltyPointsSum), contributions, penalties };
}

/** The penalties of every row none applies to: one empty array, frozen, rather than one each (fresh memory). */
const NO_PENALTIES: AppliedPenalty[] = Object.freeze([]) as unknown as AppliedPenalty[];

/**
 * rollup mean/max: the account's raw score is the mean (or max) of its users' raw scores, explained the same way.
 * Under max, the first of tied users (callers pass them in user-id order) explains the account.
 */
export function rollupOf(rollup: 'mean' | 'max', compiled: CompiledModel, users: readonly Evaluation[]): Evaluation {
  if (rollup === 'max') {
    return users.reduce((best, u) => (u.raw > best.raw ? u : best));
  }
  const n = users.length;
  const contributions = compiled.signals.map((s, i) => ({
    signal: s.signal.name,
    value: round6(users.reduce((sum, u) => sum + u.contributions[i]!.value, 0) / n),
    points: round6(users.reduce((sum, u) => sum + u.contributions[i]!.points, 0) / n),
  }));
  const penalties: AppliedPenalty[] = [];
  for (const { penalty } of compiled.penalties) {
    const total = users.reduce((sum, u) => sum + (u.penalties.find((p) => p.rule === penalty.name)?.points ?? 0), 0);
    if (total !== 0) penalties.push({ rule: penalty.name, points: round6(total / n) });
  }
  return { raw: round6(users.reduce((sum, u) => sum + u.raw, 0) / n), contributions, penalties };
}

/** A row's raw score and how it came about. */
export interface Evaluation {
  raw: number;
  contributions: Contribution[];
  penalties: AppliedPenalty[];
}

function signalValue(
  s: CompiledSignal,
  data: Float64Array,
  base: number,
  sets: Set<string>[] | undefined,
  compiled: CompiledModel,
): number {
  let value: number;
  switch (s.kindCode) {
    case KIND_PLAIN:
      value = data[base + s.slot]!;
      break;
    case KIND_PER_DAY: {
      // At most capPerDay events a day count; a capped day keeps the mean (decayed) value of its events.
      const cap = s.capPerDay;
      value = 0;
      const at = base + s.slot;
      for (let d = 0; d < compiled.windowDayCount; d++) {
        const count = data[at + 2 * d]!;
        if (count > 0) value += data[at + 2 * d + 1]! * Math.min(1, cap / count);
      }
      break;
    }
    case KIND_DAYS:
      value = countBits(data, base + s.slot, compiled.dayWords);
      break;
    case KIND_WEEKS:
      value = countBits(data, base + s.slot, compiled.weekWords);
      break;
    default:
      value = sets![s.setIndex]!.size;
  }
  value = Math.min(value, s.cap);
  return round6(value);
}

function signalPoints(s: CompiledSignal, value: number): number {
  const tiers = s.tiers;
  if (tiers === null) return s.weight * transformValue(s.transform, value);
  // Highest matching min wins, whatever order the tiers are written in.
  let best: { min: number; points: number } | undefined;
  for (const tier of tiers) if (value >= tier.min && (best === undefined || tier.min > best.min)) best = tier;
  return best?.points ?? 0;
}

/** Whether a trait value meets an appliesTo condition. */
export function matchesCondition(c: TraitCondition, value: unknown): boolean {
  if (c.exists !== undefined) return (value !== undefined && value !== null) === c.exists;
  if (value === undefined || value === null) return c.notIn !== undefined;
  const text = String(value);
  if (c.in) return c.in.some((v) => String(v) === text);
  if (c.notIn) return !c.notIn.some((v) => String(v) === text);
  return String(c.equals) === text;
}
