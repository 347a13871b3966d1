import type { EntityLevel } from '../../ports/event-store.js';
import type { ScoringEvent } from '../event.js';
import type { Model, TraitCondition, Traits } from '../model/schema.js';
import { round6 } from '../numbers.js';
import { DAY_MS, minusCalendarDays, RunCalendar } from '../time.js';
import {
  type CompiledModel,
  type CompiledSignal,
  compileModel,
  EVENTS_SLOT,
  FIRST_SEEN_SLOT,
  LAST_SEEN_SLOT,
} from './compile.js';
import type { AppliedPenalty, Contribution, KnownEntity, RawGroupScore, RawScore } from './types.js';

export interface ScoringRunOptions {
  /** T, epoch ms: events in [T − windowDays, T) count. */
  asOf: number;
  /** The account a user was last grouped with, for events without an accountId (account-level models). */
  accountOf?: ((userId: string) => string | undefined) | undefined;
  /** Traits of an entity, for appliesTo and breakdowns, when not given with a known entity. */
  traitsOf?: ((entityType: EntityLevel, entityId: string) => Traits | undefined) | undefined;
  /**
   * Drop repeated event ids. On by default for files and streams that may repeat; the DynamoDB store already
   * holds each id once, so workers reading it turn this off and keep memory at O(entities × signals).
   */
  dedupe?: boolean | undefined;
}

export interface ScoringRunStats {
  /** Events that fed at least the entity's activity (in the lookback period). */
  counted: number;
  duplicates: number;
  /** Outside [lookback start, T). */
  outOfRange: number;
  /** Account-level models: events whose user has no account. */
  unattributed: number;
}

interface EntityState {
  num: Float64Array;
  sets: Set<string>[] | null;
  accountId: string | undefined;
  accountAt: number;
  known: KnownEntity | undefined;
  /** rollup mean/max: one state per user of the account. */
  users: Map<string, EntityState> | null;
  /** breakdown: one state per value of the user trait, and its users. */
  groups: Map<string, { state: EntityState; users: Set<string> }> | null;
}

const HALF = 0.5;

/**
 * One model evaluated as of one instant, fed events in any order and in pages. State is per entity and per
 * signal (a Float64Array of slots), never the events themselves, so the same code scores a JSONL file, a local
 * store or one shard in a Lambda worker. `finish()` yields raw scores; normalisation, bands and trends need the
 * whole run and happen in `finalizeScores`.
 */
export class ScoringRun {
  readonly model: Model;
  readonly asOf: number;
  /** Window start (inclusive). */
  readonly from: number;
  /** Earliest event that matters: the window, or longer when an inactivity penalty looks further back. */
  readonly lookbackFrom: number;
  readonly stats: ScoringRunStats = { counted: 0, duplicates: 0, outOfRange: 0, unattributed: 0 };

  private readonly compiled: CompiledModel;
  private readonly calendar: RunCalendar;
  private readonly firstWindowDay: number;
  private readonly firstWindowWeek: number;
  private readonly entities = new Map<string, EntityState>();
  private readonly seen: Set<string> | null;
  private readonly options: ScoringRunOptions;
  private readonly level: EntityLevel;
  private readonly perUser: boolean;

  constructor(model: Model, options: ScoringRunOptions) {
    this.model = model;
    this.options = options;
    this.asOf = options.asOf;
    this.level = model.level;
    const tz = model.timezone;
    this.from = minusCalendarDays(options.asOf, model.windowDays, tz);
    const maxInactive = Math.max(0, ...model.penalties.map((p) => p.inactiveDays ?? 0));
    this.lookbackFrom = Math.min(this.from, minusCalendarDays(options.asOf, maxInactive, tz));
    this.calendar = new RunCalendar(this.lookbackFrom, options.asOf, tz);
    this.firstWindowDay = this.calendar.dayIndex(this.from);
    this.firstWindowWeek = this.calendar.weekOfDay(this.firstWindowDay);
    this.compiled = compileModel(model, this.calendar.dayCount - this.firstWindowDay);
    this.seen = options.dedupe === false ? null : new Set();
    this.perUser = model.level === 'account' && (model.rollup === 'mean' || model.rollup === 'max');
  }

  /** Feed a page of events (any order, any page size). */
  add(events: Iterable<ScoringEvent>): void {
    for (const event of events) this.addOne(event);
  }

  /** Entities known without events (traits, earlier scores): they are scored too, and their penalties show. */
  addKnown(entities: Iterable<KnownEntity>): void {
    for (const known of entities) {
      const state = this.stateOf(this.entities, known.entityId);
      state.known = known;
      if (known.accountId !== undefined && state.accountId === undefined) state.accountId = known.accountId;
    }
  }

  get entityCount(): number {
    return this.entities.size;
  }

  private addOne(event: ScoringEvent): void {
    const ts = event.timestamp;
    if (!(ts >= this.lookbackFrom && ts < this.asOf)) {
      this.stats.outOfRange++;
      return;
    }
    if (this.seen) {
      if (this.seen.has(event.eventId)) {
        this.stats.duplicates++;
        return;
      }
      this.seen.add(event.eventId);
    }
    let entityId: string | undefined;
    if (this.level === 'user') entityId = event.userId;
    else {
      entityId = event.accountId ?? this.options.accountOf?.(event.userId);
      if (entityId === undefined) {
        this.stats.unattributed++;
        return;
      }
    }
    this.stats.counted++;
    const state = this.stateOf(this.entities, entityId);
    if (this.level === 'user') {
      const account = event.accountId ?? (state.accountId === undefined ? this.options.accountOf?.(event.userId) : undefined);
      if (account !== undefined && (event.accountId === undefined ? state.accountId === undefined : ts >= state.accountAt)) {
        state.accountId = account;
        state.accountAt = ts;
      }
    } else state.accountId = entityId;

    const inWindow = ts >= this.from;
    const day = inWindow ? this.calendar.dayIndex(ts) - this.firstWindowDay : -1;
    this.observe(state, event, day, !this.perUser);
    if (this.perUser) {
      this.observe(this.stateOf((state.users ??= new Map()), event.userId), event, day, true);
    }
    const breakdown = this.model.breakdown;
    if (breakdown) {
      const trait = this.options.traitsOf?.('user', event.userId)?.[breakdown.trait];
      const key = trait === undefined || trait === null ? '(none)' : String(trait);
      state.groups ??= new Map();
      let group = state.groups.get(key);
      if (!group) {
        group = { state: this.newState(), users: new Set() };
        state.groups.set(key, group);
      }
      group.users.add(event.userId);
      this.observe(group.state, event, day, true);
    }
  }

  /** Record activity and, when `withSignals`, signal and penalty state. `day` is the window day or −1. */
  private observe(state: EntityState, event: ScoringEvent, day: number, withSignals: boolean): void {
    const num = state.num;
    const ts = event.timestamp;
    if (ts < num[FIRST_SEEN_SLOT]!) num[FIRST_SEEN_SLOT] = ts;
    if (ts > num[LAST_SEEN_SLOT]!) num[LAST_SEEN_SLOT] = ts;
    if (day < 0) return;
    num[EVENTS_SLOT]!++;
    setBit(num, this.compiled.activeSlot, day);
    if (!withSignals) return;
    const named = this.compiled.byEvent.get(event.name);
    if (named) for (const s of named) this.apply(s, state, event, day);
    for (const s of this.compiled.anyEvent) this.apply(s, state, event, day);
    const absent = this.compiled.absentByEvent.get(event.name);
    if (absent) for (const slot of absent) num[slot]!++;
  }

  private apply(s: CompiledSignal, state: EntityState, event: ScoringEvent, day: number): void {
    if (s.where !== null && !s.where(event.properties)) return;
    const num = state.num;
    switch (s.kind) {
      case 'plain':
      case 'perDay': {
        let value = 1;
        if (s.signal.aggregate === 'sum') {
          value = toNumber(event.properties?.[s.signal.property!]);
          if (Number.isNaN(value)) return;
        }
        if (s.halfLifeDays !== null) value *= HALF ** ((this.asOf - event.timestamp) / DAY_MS / s.halfLifeDays);
        if (s.kind === 'plain') num[s.slot]! += value;
        else {
          num[s.slot + 2 * day]!++;
          num[s.slot + 2 * day + 1]! += value;
        }
        return;
      }
      case 'days':
        setBit(num, s.slot, day);
        return;
      case 'weeks':
        setBit(num, s.slot, this.calendar.weekOfDay(day + this.firstWindowDay) - this.firstWindowWeek);
        return;
      case 'users':
        state.sets![s.setIndex]!.add(event.userId);
        return;
    }
  }

  private newState(): EntityState {
    const num = new Float64Array(this.compiled.slotCount);
    num[FIRST_SEEN_SLOT] = Number.POSITIVE_INFINITY;
    num[LAST_SEEN_SLOT] = Number.NEGATIVE_INFINITY;
    return {
      num,
      sets: this.compiled.setCount > 0 ? Array.from({ length: this.compiled.setCount }, () => new Set<string>()) : null,
      accountId: undefined,
      accountAt: Number.NEGATIVE_INFINITY,
      known: undefined,
      users: null,
      groups: null,
    };
  }

  private stateOf(map: Map<string, EntityState>, id: string): EntityState {
    let state = map.get(id);
    if (!state) {
      state = this.newState();
      map.set(id, state);
    }
    return state;
  }

  /** Raw scores of every entity the model applies to (known or active, not archived), in entity id order. */
  finish(): RawScore[] {
    const out: RawScore[] = [];
    for (const [entityId, state] of this.entities) {
      const known = state.known;
      if (known?.archived) continue;
      if (!this.applies(entityId, state)) continue;
      out.push(this.rawScoreOf(entityId, state));
    }
    return out.sort((a, b) => (a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0));
  }

  private applies(entityId: string, state: EntityState): boolean {
    const conditions = this.model.appliesTo;
    if (!conditions || conditions.length === 0) return true;
    const own = state.known?.traits ?? this.options.traitsOf?.(this.level, entityId) ?? {};
    // A user-level model may select on account traits (e.g. plan): the user's own trait wins.
    const account =
      this.level === 'user' && state.accountId !== undefined ? this.options.traitsOf?.('account', state.accountId) : undefined;
    return conditions.every((c) => matchesCondition(c, own[c.trait] ?? account?.[c.trait]));
  }

  private rawScoreOf(entityId: string, state: EntityState): RawScore {
    const known = state.known;
    const num = state.num;
    let firstSeen = Math.min(num[FIRST_SEEN_SLOT]!, known?.firstSeenAt ?? Number.POSITIVE_INFINITY);
    let lastSeen = num[LAST_SEEN_SLOT]!;
    // A stored lastSeenAt only helps if it lies before T (a backfill must not peek at later activity).
    if (known?.lastSeenAt !== undefined && known.lastSeenAt < this.asOf) lastSeen = Math.max(lastSeen, known.lastSeenAt);
    if (!Number.isFinite(firstSeen) && Number.isFinite(lastSeen)) firstSeen = lastSeen;
    let evaluation: Evaluation;
    if (this.perUser && state.users && state.users.size > 0) {
      evaluation = this.rollup([...state.users.values()].map((u) => this.evaluate(u, u.num[LAST_SEEN_SLOT]!)));
    } else evaluation = this.evaluate(state, lastSeen);
    const windowDays = this.compiled.windowDayCount;
    let observedDays = 0;
    if (Number.isFinite(firstSeen) && firstSeen < this.asOf) {
      observedDays = firstSeen < this.from ? windowDays : windowDays - (this.calendar.dayIndex(firstSeen) - this.firstWindowDay);
    }
    const raw: RawScore = {
      entityType: this.level,
      entityId,
      accountId: this.level === 'account' ? entityId : (state.accountId ?? known?.accountId ?? null),
      rawScore: evaluation.raw,
      contributions: evaluation.contributions,
      penalties: evaluation.penalties,
      coverage: {
        activeDays: countBits(num, this.compiled.activeSlot, this.compiled.dayWords),
        observedDays,
        events: num[EVENTS_SLOT]!,
        firstSeenAt: Number.isFinite(firstSeen) ? firstSeen : null,
        lastSeenAt: Number.isFinite(lastSeen) ? lastSeen : null,
      },
    };
    if (state.groups) {
      const groups: RawGroupScore[] = [];
      for (const [key, group] of state.groups) {
        groups.push({ key, users: group.users.size, rawScore: this.evaluate(group.state, group.state.num[LAST_SEEN_SLOT]!).raw });
      }
      raw.groups = groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    return raw;
  }

  /** Signals and penalties of one state: points = weight × value (or tiers), raw = Σ points + Σ penalties. */
  private evaluate(state: EntityState, lastSeen: number): Evaluation {
    const values = this.compiled.signals.map((s) => signalValue(s, state, this.compiled));
    const contributions: Contribution[] = this.compiled.signals.map((s, i) => {
      const value = values[i]!;
      return { signal: s.signal.name, value, points: round6(signalPoints(s, value)) };
    });
    const penalties: AppliedPenalty[] = [];
    for (const { penalty, slot, signalIndex } of this.compiled.penalties) {
      let applies = false;
      if (penalty.absent !== undefined) applies = state.num[slot] === 0;
      else if (penalty.inactiveDays !== undefined) {
        applies = !Number.isFinite(lastSeen) || lastSeen < minusCalendarDays(this.asOf, penalty.inactiveDays, this.model.timezone);
      } else {
        const value = values[signalIndex]!;
        applies =
          (penalty.above !== undefined && value > penalty.above) || (penalty.below !== undefined && value < penalty.below);
      }
      if (applies) penalties.push({ rule: penalty.name, points: penalty.points });
    }
    const raw = round6(contributions.reduce((sum, c) => sum + c.points, 0) + penalties.reduce((sum, p) => sum + p.points, 0));
    return { raw, contributions, penalties };
  }

  /** rollup mean/max: the account's raw score is the mean (or max) of its users' raw scores, explained the same way. */
  private rollup(users: Evaluation[]): Evaluation {
    if (this.model.rollup === 'max') {
      return users.reduce((best, u) => (u.raw > best.raw ? u : best));
    }
    const n = users.length;
    const contributions = this.compiled.signals.map((s, i) => ({
      signal: s.signal.name,
      value: round6(users.reduce((sum, u) => sum + u.contributions[i]!.value, 0) / n),
      points: round6(users.reduce((sum, u) => sum + u.contributions[i]!.points, 0) / n),
    }));
    const penalties: AppliedPenalty[] = [];
    for (const { penalty } of this.compiled.penalties) {
      const total = users.reduce((sum, u) => sum + (u.penalties.find((p) => p.rule === penalty.name)?.points ?? 0), 0);
      if (total !== 0) penalties.push({ rule: penalty.name, points: round6(total / n) });
    }
    return { raw: round6(users.reduce((sum, u) => sum + u.raw, 0) / n), contributions, penalties };
  }
}

interface Evaluation {
  raw: number;
  contributions: Contribution[];
  penalties: AppliedPenalty[];
}

function signalValue(s: CompiledSignal, state: EntityState, compiled: CompiledModel): number {
  const num = state.num;
  let value: number;
  switch (s.kind) {
    case 'plain':
      value = num[s.slot]!;
      break;
    case 'perDay': {
      // At most capPerDay events a day count; a capped day keeps the mean (decayed) value of its events.
      const cap = s.signal.capPerDay!;
      value = 0;
      for (let d = 0; d < compiled.windowDayCount; d++) {
        const count = num[s.slot + 2 * d]!;
        if (count > 0) value += num[s.slot + 2 * d + 1]! * Math.min(1, cap / count);
      }
      break;
    }
    case 'days':
      value = countBits(num, s.slot, compiled.dayWords);
      break;
    case 'weeks':
      value = countBits(num, s.slot, compiled.weekWords);
      break;
    case 'users':
      value = state.sets![s.setIndex]!.size;
      break;
  }
  if (s.signal.cap !== undefined) value = Math.min(value, s.signal.cap);
  return round6(value);
}

function signalPoints(s: CompiledSignal, value: number): number {
  const tiers = s.signal.tiers;
  if (!tiers) return s.signal.weight! * value;
  // Highest matching min wins, whatever order the tiers are written in.
  let best: { min: number; points: number } | undefined;
  for (const tier of tiers) if (value >= tier.min && (best === undefined || tier.min > best.min)) best = tier;
  return best?.points ?? 0;
}

function matchesCondition(c: TraitCondition, value: unknown): boolean {
  if (c.exists !== undefined) return (value !== undefined && value !== null) === c.exists;
  if (value === undefined || value === null) return c.notIn !== undefined;
  const text = String(value);
  if (c.in) return c.in.some((v) => String(v) === text);
  if (c.notIn) return !c.notIn.some((v) => String(v) === text);
  return String(c.equals) === text;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}


function setBit(num: Float64Array, slot: number, bit: number): void {
  const word = slot + (bit >>> 5);
  num[word] = (num[word]! | (1 << (bit & 31))) >>> 0;
}

function countBits(num: Float64Array, slot: number, words: number): number {
  let total = 0;
  for (let w = 0; w < words; w++) {
    let v = num[slot + w]! >>> 0;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    total += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return total;
}
