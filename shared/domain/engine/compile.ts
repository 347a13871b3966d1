import type { Model, Penalty, Signal } from '../model/schema.js';

/** How a signal keeps its state in an entity's slot array. */
export type SignalKind = 'plain' | 'perDay' | 'days' | 'weeks' | 'users';

/** The kinds as small integers for the hot loop (a switch on numbers, not strings). */
export const KIND_PLAIN = 0;
export const KIND_PER_DAY = 1;
export const KIND_DAYS = 2;
export const KIND_WEEKS = 3;
export const KIND_USERS = 4;
const KIND_CODES: Record<SignalKind, number> = { plain: 0, perDay: 1, days: 2, weeks: 3, users: 4 };

export interface CompiledSignal {
  index: number;
  signal: Signal;
  kind: SignalKind;
  kindCode: number;
  /** The numeric property a `sum` signal adds up; null for other aggregates. */
  sumProperty: string | null;
  /** First slot in the entity's Float64Array (unused for 'users', which keep a Set). */
  slot: number;
  /** Index into the entity's user sets ('users' only). */
  setIndex: number;
  where: ((properties: Record<string, unknown> | undefined) => boolean) | null;
  halfLifeDays: number | null;
  /*
   * What scoring a row reads of the signal, copied out of it: signals of different kinds are objects of different
   * shapes, and reading them once per entity per signal would make every read a megamorphic one.
   */
  name: string;
  /** The signal's cap, or +Infinity. */
  cap: number;
  /** capPerDay ('perDay' kind), else +Infinity. */
  capPerDay: number;
  /** Weight (NaN with tiers) and transform, or the tiers (null for weighted signals). */
  weight: number;
  transform: Signal['transform'];
  tiers: { min: number; points: number }[] | null;
  /**
   * Contributions already made for whole values below CONTRIBUTION_CACHE_SIZE, by value: the same (frozen) object for
   * every entity with that value. Counts, days and most sums are small whole numbers, so a run of a million entities
   * allocates a few hundred contributions instead of millions (each is fresh memory, and on some hosts touching fresh
   * memory costs more than computing the score).
   */
  contributionByValue: (Readonly<{ signal: string; value: number; points: number }> | undefined)[];
}

/** Whole values 0 … this − 1 share their contribution objects (CompiledSignal.contributionByValue). */
export const CONTRIBUTION_CACHE_SIZE = 4096;

export interface CompiledPenalty {
  penalty: Penalty;
  /** What the rule checks: PENALTY_ABSENT, PENALTY_INACTIVE or PENALTY_THRESHOLD (above/below a signal's value). */
  kindCode: number;
  /** Copied out of the penalty (see CompiledSignal). */
  name: string;
  points: number;
  /** Threshold rules: above or below (+Infinity / −Infinity when not given). */
  above: number;
  below: number;
  /** Slot counting events of the `absent` name. */
  slot: number;
  signalIndex: number;
}

export const PENALTY_ABSENT = 0;
export const PENALTY_INACTIVE = 1;
export const PENALTY_THRESHOLD = 2;

/** Everything one event name triggers: its signals (named ones first, then "*") and its `absent` penalty slots. */
export interface EventHandler {
  signals: CompiledSignal[];
  absentSlots: number[];
}

export const EVENTS_SLOT = 0;
export const FIRST_SEEN_SLOT = 1;
export const LAST_SEEN_SLOT = 2;
/** User models: timestamp of the event that named the user's current account. */
export const ACCOUNT_AT_SLOT = 3;

/**
 * A model turned into lookup tables for the hot loop: signals indexed by event name, and a fixed slot layout so
 * an entity's whole numeric state is one Float64Array (small, no per-event allocation).
 */
export interface CompiledModel {
  model: Model;
  signals: CompiledSignal[];
  penalties: CompiledPenalty[];
  byEvent: Map<string, CompiledSignal[]>;
  anyEvent: CompiledSignal[];
  absentByEvent: Map<string, number[]>;
  /** One lookup per event: what its name triggers. Names not in the map trigger `anyHandler`. */
  handlers: Map<string, EventHandler>;
  anyHandler: EventHandler;
  /** Slots: 0 events in window, 1 first seen, 2 last seen, 3 when the account was set, then the active-day bitmap. */
  activeSlot: number;
  slotCount: number;
  setCount: number;
  windowDayCount: number;
  weekWords: number;
  dayWords: number;
}

export function compileModel(model: Model, windowDayCount: number): CompiledModel {
  const dayWords = Math.ceil(windowDayCount / 32);
  // A window of N days touches at most ceil(N / 7) + 1 ISO weeks.
  const weekWords = Math.ceil((Math.ceil(windowDayCount / 7) + 1) / 32);
  let slot = 4;
  const activeSlot = slot;
  slot += dayWords;
  let setCount = 0;
  const signals: CompiledSignal[] = model.signals.map((signal, index) => {
    const kind = signalKind(signal);
    const compiled: CompiledSignal = {
      index,
      signal,
      kind,
      kindCode: KIND_CODES[kind],
      sumProperty: signal.aggregate === 'sum' ? signal.property! : null,
      slot,
      setIndex: kind === 'users' ? setCount++ : -1,
      where: signal.where ? compileWhere(signal.where) : null,
      halfLifeDays: signal.decay?.halfLifeDays ?? null,
      name: signal.name,
      cap: signal.cap ?? Number.POSITIVE_INFINITY,
      capPerDay: signal.capPerDay ?? Number.POSITIVE_INFINITY,
      weight: signal.weight ?? Number.NaN,
      transform: signal.transform,
      tiers: signal.tiers ?? null,
      contributionByValue: [],
    };
    slot +=
      kind === 'plain'
        ? 1
        : kind === 'perDay'
          ? 2 * windowDayCount
          : kind === 'days'
            ? dayWords
            : kind === 'weeks'
              ? weekWords
              : 0;
    return compiled;
  });
  const absentByEvent = new Map<string, number[]>();
  const penalties: CompiledPenalty[] = model.penalties.map((penalty) => {
    let penaltySlot = -1;
    if (penalty.absent !== undefined) {
      penaltySlot = slot++;
      const list = absentByEvent.get(penalty.absent) ?? [];
      list.push(penaltySlot);
      absentByEvent.set(penalty.absent, list);
    }
    return {
      penalty,
      kindCode:
        penalty.absent !== undefined
          ? PENALTY_ABSENT
          : penalty.inactiveDays !== undefined
            ? PENALTY_INACTIVE
            : PENALTY_THRESHOLD,
      name: penalty.name,
      points: penalty.points,
      above: penalty.above ?? Number.POSITIVE_INFINITY,
      below: penalty.below ?? Number.NEGATIVE_INFINITY,
      slot: penaltySlot,
      signalIndex: penalty.signal === undefined ? -1 : model.signals.findIndex((s) => s.name === penalty.signal),
    };
  });
  const byEvent = new Map<string, CompiledSignal[]>();
  const anyEvent: CompiledSignal[] = [];
  for (const s of signals) {
    if (s.signal.event === '*') anyEvent.push(s);
    else byEvent.set(s.signal.event, [...(byEvent.get(s.signal.event) ?? []), s]);
  }
  const handlers = new Map<string, EventHandler>();
  for (const name of new Set([...byEvent.keys(), ...absentByEvent.keys()])) {
    handlers.set(name, {
      signals: [...(byEvent.get(name) ?? []), ...anyEvent],
      absentSlots: absentByEvent.get(name) ?? [],
    });
  }
  return {
    model,
    signals,
    penalties,
    byEvent,
    anyEvent,
    absentByEvent,
    handlers,
    anyHandler: { signals: anyEvent, absentSlots: [] },
    activeSlot,
    slotCount: slot,
    setCount,
    windowDayCount,
    weekWords,
    dayWords,
  };
}

function signalKind(signal: Signal): SignalKind {
  switch (signal.aggregate) {
    case 'count':
    case 'sum':
      return signal.capPerDay === undefined ? 'plain' : 'perDay';
    case 'distinctDays':
      return 'days';
    case 'distinctWeeks':
      return 'weeks';
    case 'distinctUsers':
      return 'users';
  }
}

type Scalar = string | number | boolean;

/** `where` compares as text so `{ tier: 3 }` matches a property sent as "3"; an array means any of its values. */
function compileWhere(where: Record<string, Scalar | Scalar[]>): (p: Record<string, unknown> | undefined) => boolean {
  const tests = Object.entries(where).map(([key, expected]) => {
    const allowed = new Set((Array.isArray(expected) ? expected : [expected]).map(String));
    return { key, allowed };
  });
  return (properties) => {
    if (!properties) return false;
    for (const { key, allowed } of tests) {
      const actual = properties[key];
      if (actual === undefined || actual === null || !allowed.has(String(actual))) return false;
    }
    return true;
  };
}

/**
 * The event property keys a model's engine reads (`where` keys and `sum` properties, all top level): a reader may
 * build only these and leave the rest of `properties` unbuilt, with the same scores.
 */
export function propertyKeysOf(model: Model): Set<string> {
  const keys = new Set<string>();
  for (const signal of model.signals) {
    if (signal.aggregate === 'sum' && signal.property !== undefined) keys.add(signal.property);
    for (const key of Object.keys(signal.where ?? {})) keys.add(key);
  }
  return keys;
}
