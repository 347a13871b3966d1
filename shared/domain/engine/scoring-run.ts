import type { EntityLevel } from '../entity.js';
import { eventIdentity, type ScoringEvent } from '../event.js';
import type { Model, TraitCondition, Traits } from '../model/schema.js';
import { round6, transformValue } from '../numbers.js';
import { DAY_MS, minusCalendarDays, RunCalendar } from '../time.js';
import {
  ACCOUNT_AT_SLOT,
  type CompiledModel,
  type CompiledSignal,
  compileModel,
  EVENTS_SLOT,
  FIRST_SEEN_SLOT,
  KIND_DAYS,
  KIND_PER_DAY,
  KIND_PLAIN,
  KIND_USERS,
  KIND_WEEKS,
  LAST_SEEN_SLOT,
} from './compile.js';
import { StringIndex } from './string-index.js';
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

/** The slots of one state table, rows back to back, and its distinctUsers sets (per row, per set). */
export interface StateTableExport {
  count: number;
  data: Float64Array;
  sets: string[][][] | null;
}

/**
 * A run's entity state as plain data and typed arrays: what `exportState()` gives and `importState()` merges, so a
 * run can be scored in parts (worker threads, processes) and merged. Structured-clonable; pass `transferables()`
 * as the transfer list to move the arrays instead of copying them.
 */
export interface ScoringRunState {
  /** Checked on import: the same model layout and instant. */
  modelName: string;
  asOf: number;
  slotCount: number;
  /** Entity ids; row i of `main` belongs to `keys[i]`. */
  keys: string[];
  accountIds: (string | undefined)[];
  known: (KnownEntity | undefined)[];
  main: StateTableExport;
  /** rollup mean/max: per entity row, its users in first-seen order and their rows in `members`. */
  users: ([string[], number[]] | undefined)[] | null;
  members: StateTableExport;
  /** breakdown: per entity row, its groups as [key, users, row in `groupRows`] in first-seen order. */
  groups: [string, string[], number][][] | null;
  groupRows: StateTableExport;
  stats: ScoringRunStats;
}

/** The typed arrays of a state, for a postMessage transfer list. */
export function stateTransferables(state: ScoringRunState): ArrayBuffer[] {
  return [state.main.data.buffer, state.members.data.buffer, state.groupRows.data.buffer] as ArrayBuffer[];
}

/** How a slot merges across runs. */
const MERGE_ADD = 0;
const MERGE_OR = 1;
const MERGE_MIN = 2;
const MERGE_MAX = 3;
const MERGE_SKIP = 4;

/** Rows are stored in chunks of 4096 (the first one grows from 16), so growing never copies a large array. */
const CHUNK_BITS = 12;
const CHUNK_ROWS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_ROWS - 1;
const FIRST_CHUNK_ROWS = 16;

/**
 * The numeric state of many entities (or users, or groups): `stride` slots a row in chunked Float64Arrays. No
 * object or typed array per entity, so a million entities cost little more than their slots.
 */
class StateTable {
  readonly chunks: Float64Array[] = [];
  count = 0;
  /** distinctUsers sets per row, when the model has such signals. */
  readonly sets: Set<string>[][] | null;

  constructor(
    readonly stride: number,
    private readonly setCount: number,
  ) {
    this.sets = setCount > 0 ? [] : null;
  }

  /** Append a row and return its index. */
  alloc(): number {
    const row = this.count++;
    const chunk = row >>> CHUNK_BITS;
    const base = (row & CHUNK_MASK) * this.stride;
    let data = this.chunks[chunk];
    if (data === undefined) {
      data = new Float64Array(this.stride * (chunk === 0 ? FIRST_CHUNK_ROWS : CHUNK_ROWS));
      this.chunks.push(data);
    } else if (base + this.stride > data.length) {
      const grown = new Float64Array(Math.min(data.length * 2, this.stride * CHUNK_ROWS));
      grown.set(data);
      this.chunks[chunk] = data = grown;
    }
    data[base + FIRST_SEEN_SLOT] = Number.POSITIVE_INFINITY;
    data[base + LAST_SEEN_SLOT] = Number.NEGATIVE_INFINITY;
    data[base + ACCOUNT_AT_SLOT] = Number.NEGATIVE_INFINITY;
    if (this.sets) this.sets.push(Array.from({ length: this.setCount }, () => new Set<string>()));
    return row;
  }

  /** The chunk holding a row; its slots start at `baseOf(row)`. */
  dataOf(row: number): Float64Array {
    return this.chunks[row >>> CHUNK_BITS]!;
  }

  baseOf(row: number): number {
    return (row & CHUNK_MASK) * this.stride;
  }

  export(): StateTableExport {
    const data = new Float64Array(this.count * this.stride);
    let at = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(chunk.length, data.length - at);
      data.set(chunk.subarray(0, n), at);
      at += n;
    }
    return {
      count: this.count,
      data,
      sets: this.sets === null ? null : this.sets.map((row) => row.map((s) => [...s])),
    };
  }

  /** Merge row `from` of an exported table into row `row` of this one, slot by slot as `ops` say. */
  mergeRow(row: number, other: StateTableExport, from: number, ops: Uint8Array): void {
    const data = this.dataOf(row);
    const base = this.baseOf(row);
    const src = other.data;
    const at = from * this.stride;
    for (let i = 0; i < ops.length; i++) {
      const v = src[at + i]!;
      const t = base + i;
      switch (ops[i]) {
        case MERGE_ADD:
          data[t]! += v;
          break;
        case MERGE_OR:
          data[t] = (data[t]! | v) >>> 0;
          break;
        case MERGE_MIN:
          if (v < data[t]!) data[t] = v;
          break;
        case MERGE_MAX:
          if (v > data[t]!) data[t] = v;
          break;
      }
    }
    const sets = other.sets?.[from];
    if (sets !== undefined) {
      const own = this.sets![row]!;
      for (let i = 0; i < sets.length; i++) for (const id of sets[i]!) own[i]!.add(id);
    }
  }
}

/** A breakdown group of an account: its state row and its users. */
interface Group {
  row: number;
  users: Set<string>;
}

const HALF = 0.5;

/**
 * One model evaluated as of one instant, fed events in any order and in pages. State is per entity and per
 * signal (a row of numeric slots), never the events themselves, so the same code scores a JSONL file, a local
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
  /** Event identities (user and id, eventIdentity) seen so far (dedupe); exact, see StringIndex. */
  private readonly seen: StringIndex | null;
  private readonly options: ScoringRunOptions;
  private readonly level: EntityLevel;
  private readonly perUser: boolean;
  /** The compiled penalties, with the instant an `inactiveDays` rule starts counting from (computed once). */
  private readonly penaltyRules: (CompiledModel['penalties'][number] & { inactiveSince: number })[];

  /**
   * Entities: id → row of `main` (`ids.keys[row]` is the id), and per row its account, what is known of it, users
   * and groups.
   */
  private readonly ids = new StringIndex({ packed: true });
  private readonly main: StateTable;
  private readonly accountIds: (string | undefined)[] = [];
  private readonly known: (KnownEntity | undefined)[] = [];
  /** rollup mean/max: per account row, its users' rows in `members`. */
  private readonly users: (Map<string, number> | undefined)[] = [];
  private readonly members: StateTable;
  /** breakdown: per account row, one group per value of the user trait, rows in `groupRows`. */
  private readonly groups: (Map<string, Group> | undefined)[] = [];
  private readonly groupRows: StateTable;

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
    this.seen = options.dedupe === false ? null : new StringIndex();
    this.perUser = model.level === 'account' && (model.rollup === 'mean' || model.rollup === 'max');
    this.penaltyRules = this.compiled.penalties.map((p) => ({
      ...p,
      inactiveSince:
        p.penalty.inactiveDays === undefined ? Number.NaN : minusCalendarDays(options.asOf, p.penalty.inactiveDays, tz),
    }));
    const { slotCount, setCount } = this.compiled;
    this.main = new StateTable(slotCount, setCount);
    this.members = new StateTable(slotCount, setCount);
    this.groupRows = new StateTable(slotCount, setCount);
  }

  /** Feed a page of events (any order, any page size). */
  add(events: Iterable<ScoringEvent>): void {
    if (Array.isArray(events)) {
      for (let i = 0; i < events.length; i++) this.addOne(events[i] as ScoringEvent);
    } else for (const event of events) this.addOne(event);
  }

  /** Entities known without events (traits, earlier scores): they are scored too, and their penalties show. */
  addKnown(entities: Iterable<KnownEntity>): void {
    for (const known of entities) {
      const row = this.rowOf(known.entityId);
      this.known[row] = known;
      if (known.accountId !== undefined && this.accountIds[row] === undefined) this.accountIds[row] = known.accountId;
    }
  }

  get entityCount(): number {
    return this.ids.size;
  }

  private rowOf(entityId: string): number {
    const count = this.ids.size;
    const row = this.ids.add(entityId);
    if (row === count) {
      // A new entity: its row in `main` is its index in `ids` (rows are allocated here only).
      this.main.alloc();
      this.accountIds.push(undefined);
      this.known.push(undefined);
      if (this.perUser) this.users.push(undefined);
      if (this.model.breakdown) this.groups.push(undefined);
    }
    return row;
  }

  private addOne(event: ScoringEvent): void {
    const ts = event.timestamp;
    if (!(ts >= this.lookbackFrom && ts < this.asOf)) {
      this.stats.outOfRange++;
      return;
    }
    const seen = this.seen;
    if (seen !== null) {
      const size = seen.size;
      if (seen.add(eventIdentity(event)) < size) {
        this.stats.duplicates++;
        return;
      }
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
    const row = this.rowOf(entityId);
    if (this.level === 'user') this.trackAccount(row, event);
    else this.accountIds[row] = entityId;

    const day = ts >= this.from ? this.calendar.dayIndex(ts) - this.firstWindowDay : -1;
    this.observe(this.main, row, event, day, !this.perUser);
    if (this.perUser) {
      let users = this.users[row];
      if (users === undefined) this.users[row] = users = new Map();
      let member = users.get(event.userId);
      if (member === undefined) {
        member = this.members.alloc();
        users.set(event.userId, member);
      }
      this.observe(this.members, member, event, day, true);
    }
    const breakdown = this.model.breakdown;
    if (breakdown) {
      const trait = this.options.traitsOf?.('user', event.userId)?.[breakdown.trait];
      const key = trait === undefined || trait === null ? '(none)' : String(trait);
      let groups = this.groups[row];
      if (groups === undefined) this.groups[row] = groups = new Map();
      let group = groups.get(key);
      if (!group) {
        group = { row: this.groupRows.alloc(), users: new Set() };
        groups.set(key, group);
      }
      group.users.add(event.userId);
      this.observe(this.groupRows, group.row, event, day, true);
    }
  }

  /**
   * A user's account: the one named by the user's latest event that names one (ties: the greater id, so the
   * order of events never matters); the account the user was grouped with (accountOf) only when none does.
   */
  private trackAccount(row: number, event: ScoringEvent): void {
    const own = event.accountId;
    if (own !== undefined) {
      const data = this.main.dataOf(row);
      const at = this.main.baseOf(row) + ACCOUNT_AT_SLOT;
      const ts = event.timestamp;
      if (ts > data[at]! || (ts === data[at]! && own > this.accountIds[row]!)) {
        this.accountIds[row] = own;
        data[at] = ts;
      }
    } else if (this.accountIds[row] === undefined) this.accountIds[row] = this.options.accountOf?.(event.userId);
  }

  /** Record activity and, when `withSignals`, signal and penalty state. `day` is the window day or −1. */
  private observe(table: StateTable, row: number, event: ScoringEvent, day: number, withSignals: boolean): void {
    const data = table.dataOf(row);
    const base = table.baseOf(row);
    const ts = event.timestamp;
    if (ts < data[base + FIRST_SEEN_SLOT]!) data[base + FIRST_SEEN_SLOT] = ts;
    if (ts > data[base + LAST_SEEN_SLOT]!) data[base + LAST_SEEN_SLOT] = ts;
    if (day < 0) return;
    data[base + EVENTS_SLOT]!++;
    setBit(data, base + this.compiled.activeSlot, day);
    if (!withSignals) return;
    const handler = this.compiled.handlers.get(event.name) ?? this.compiled.anyHandler;
    const signals = handler.signals;
    for (let i = 0; i < signals.length; i++) this.apply(signals[i]!, table, row, data, base, event, day);
    const absent = handler.absentSlots;
    for (let i = 0; i < absent.length; i++) data[base + absent[i]!]!++;
  }

  private apply(
    s: CompiledSignal,
    table: StateTable,
    row: number,
    data: Float64Array,
    base: number,
    event: ScoringEvent,
    day: number,
  ): void {
    if (s.where !== null && !s.where(event.properties)) return;
    switch (s.kindCode) {
      case KIND_PLAIN:
      case KIND_PER_DAY: {
        let value = 1;
        if (s.sumProperty !== null) {
          value = toNumber(event.properties?.[s.sumProperty]);
          if (Number.isNaN(value)) return;
        }
        if (s.halfLifeDays !== null) value *= HALF ** ((this.asOf - event.timestamp) / DAY_MS / s.halfLifeDays);
        if (s.kindCode === KIND_PLAIN) data[base + s.slot]! += value;
        else {
          const at = base + s.slot + 2 * day;
          data[at]!++;
          data[at + 1]! += value;
        }
        return;
      }
      case KIND_DAYS:
        setBit(data, base + s.slot, day);
        return;
      case KIND_WEEKS:
        setBit(data, base + s.slot, this.calendar.weekOfDay(day + this.firstWindowDay) - this.firstWindowWeek);
        return;
      case KIND_USERS:
        table.sets![row]![s.setIndex]!.add(event.userId);
        return;
    }
  }

  /** Identities (eventIdentity) of the events in range this run has taken, first seen first; none without dedupe. */
  seenEventIds(): readonly string[] {
    return this.seen?.keys ?? [];
  }

  /**
   * Add event identities (eventIdentity) seen elsewhere (another part of the same input) to this run's dedupe set, and return those it
   * already held: events another part counted although this run had already counted them. Without dedupe, none.
   */
  addSeenEventIds(ids: readonly string[]): string[] {
    const seen = this.seen;
    if (seen === null) return [];
    const repeated: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const size = seen.size;
      if (seen.add(ids[i]!) < size) repeated.push(ids[i]!);
    }
    return repeated;
  }

  /**
   * This run's entity state as data (see ScoringRunState), for `importState` in another run of the same model and
   * instant. Event ids are not part of it (see `seenEventIds`).
   */
  exportState(): ScoringRunState {
    const n = this.ids.size;
    return {
      modelName: this.model.name,
      asOf: this.asOf,
      slotCount: this.compiled.slotCount,
      keys: this.ids.keys.slice(),
      accountIds: this.accountIds.slice(),
      known: this.known.slice(),
      main: this.main.export(),
      users: this.perUser
        ? Array.from({ length: n }, (_, row) => {
            const users = this.users[row];
            return users === undefined ? undefined : ([[...users.keys()], [...users.values()]] as [string[], number[]]);
          })
        : null,
      members: this.members.export(),
      groups: this.model.breakdown
        ? Array.from({ length: n }, (_, row) =>
            [...(this.groups[row] ?? new Map<string, Group>())].map(
              ([key, g]) => [key, [...g.users], g.row] as [string, string[], number],
            ),
          )
        : null,
      groupRows: this.groupRows.export(),
      stats: { ...this.stats },
    };
  }

  /**
   * Merge a state exported by a run of the same model and instant, as if its events had been fed to this run
   * after this run's own: sums and counts add, day and week bitmaps OR, first seen is the min and last seen the
   * max, a user's account is the one named by the later event (ties: the greater id), distinctUsers sets and
   * breakdown users unite, users of rollup mean/max and breakdown groups merge row by row, stats add. Merging
   * parts in input order keeps first-seen orders (rollup users) as one run would; sums may associate
   * differently, which the rounding of values to 6 decimals at finish absorbs, as it does for any event order.
   *
   * Dedupe is not part of the state: a caller merging parts of one input must make sure no event id was counted
   * in two parts (see `addSeenEventIds`; `mergeFrom` checks it).
   */
  importState(state: ScoringRunState): void {
    if (state.modelName !== this.model.name || state.asOf !== this.asOf || state.slotCount !== this.compiled.slotCount)
      throw new Error('importState: the state comes from a run of another model or instant');
    const ops = this.mergeOps();
    for (let from = 0; from < state.keys.length; from++) {
      const entityId = state.keys[from]!;
      const row = this.rowOf(entityId);
      const data = this.main.dataOf(row);
      const at = this.main.baseOf(row) + ACCOUNT_AT_SLOT;
      const otherAt = state.main.data[from * this.compiled.slotCount + ACCOUNT_AT_SLOT]!;
      const otherAccount = state.accountIds[from];
      if (
        otherAt > data[at]! ||
        (otherAt === data[at]! && otherAt !== Number.NEGATIVE_INFINITY && otherAccount! > this.accountIds[row]!)
      ) {
        this.accountIds[row] = otherAccount;
        data[at] = otherAt;
      } else if (this.accountIds[row] === undefined) this.accountIds[row] = otherAccount;
      if (this.known[row] === undefined) this.known[row] = state.known[from];
      this.main.mergeRow(row, state.main, from, ops);
      const users = state.users?.[from];
      if (users !== undefined) {
        let own = this.users[row];
        if (own === undefined) this.users[row] = own = new Map();
        const [ids, rows] = users;
        for (let i = 0; i < ids.length; i++) {
          let member = own.get(ids[i]!);
          if (member === undefined) {
            member = this.members.alloc();
            own.set(ids[i]!, member);
          }
          this.members.mergeRow(member, state.members, rows[i]!, ops);
        }
      }
      const groups = state.groups?.[from];
      if (groups !== undefined && groups.length > 0) {
        let own = this.groups[row];
        if (own === undefined) this.groups[row] = own = new Map();
        for (const [key, users, groupRow] of groups) {
          let group = own.get(key);
          if (!group) {
            group = { row: this.groupRows.alloc(), users: new Set() };
            own.set(key, group);
          }
          for (const user of users) group.users.add(user);
          this.groupRows.mergeRow(group.row, state.groupRows, groupRow, ops);
        }
      }
    }
    this.stats.counted += state.stats.counted;
    this.stats.duplicates += state.stats.duplicates;
    this.stats.outOfRange += state.stats.outOfRange;
    this.stats.unattributed += state.stats.unattributed;
  }

  /**
   * Merge another run of the same model and instant into this one (its events count as fed after this run's).
   * With dedupe, an event id counted by both runs cannot be undone: that throws, naming how many.
   */
  mergeFrom(other: ScoringRun): void {
    const repeated = this.addSeenEventIds(other.seenEventIds());
    if (repeated.length > 0)
      throw new Error(`mergeFrom: ${repeated.length} event id(s) were counted by both runs; dedupe cannot be exact`);
    this.importState(other.exportState());
  }

  /** Per slot, how it merges (see importState). */
  private mergeOps(): Uint8Array {
    const c = this.compiled;
    const ops = new Uint8Array(c.slotCount).fill(MERGE_ADD);
    ops[FIRST_SEEN_SLOT] = MERGE_MIN;
    ops[LAST_SEEN_SLOT] = MERGE_MAX;
    ops[ACCOUNT_AT_SLOT] = MERGE_SKIP;
    ops.fill(MERGE_OR, c.activeSlot, c.activeSlot + c.dayWords);
    for (const s of c.signals) {
      if (s.kind === 'days') ops.fill(MERGE_OR, s.slot, s.slot + c.dayWords);
      else if (s.kind === 'weeks') ops.fill(MERGE_OR, s.slot, s.slot + c.weekWords);
    }
    return ops;
  }

  /** Raw scores of every entity the model applies to (known or active, not archived), in entity id order. */
  finish(): RawScore[] {
    return [...this.eachRawScore()];
  }

  /**
   * The same raw scores as `finish()`, in the same order, built one at a time: a caller that finalises and writes
   * each score as it comes (or in batches) never holds a million finished scores at once. Run it twice to get
   * the raw scores percentile normalisation needs first.
   */
  *eachRawScore(): Generator<RawScore> {
    const keys = this.ids.keys;
    const rows = Uint32Array.from({ length: keys.length }, (_, i) => i);
    rows.sort((a, b) => {
      const ka = keys[a]!;
      const kb = keys[b]!;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    for (const row of rows) {
      if (this.known[row]?.archived) continue;
      const entityId = keys[row]!;
      if (!this.applies(entityId, row)) continue;
      yield this.rawScoreOf(entityId, row);
    }
  }

  private applies(entityId: string, row: number): boolean {
    const conditions = this.model.appliesTo;
    if (!conditions || conditions.length === 0) return true;
    const own = this.known[row]?.traits ?? this.options.traitsOf?.(this.level, entityId) ?? {};
    // A user-level model may select on account traits (e.g. plan): the user's own trait wins.
    const accountId = this.accountIds[row];
    const account =
      this.level === 'user' && accountId !== undefined ? this.options.traitsOf?.('account', accountId) : undefined;
    return conditions.every((c) => matchesCondition(c, own[c.trait] ?? account?.[c.trait]));
  }

  private rawScoreOf(entityId: string, row: number): RawScore {
    const known = this.known[row];
    const data = this.main.dataOf(row);
    const base = this.main.baseOf(row);
    let firstSeen = Math.min(data[base + FIRST_SEEN_SLOT]!, known?.firstSeenAt ?? Number.POSITIVE_INFINITY);
    let lastSeen = data[base + LAST_SEEN_SLOT]!;
    // A stored lastSeenAt only helps if it lies before T (a backfill must not peek at later activity).
    if (known?.lastSeenAt !== undefined && known.lastSeenAt < this.asOf)
      lastSeen = Math.max(lastSeen, known.lastSeenAt);
    if (!Number.isFinite(firstSeen) && Number.isFinite(lastSeen)) firstSeen = lastSeen;
    let evaluation: Evaluation;
    const users = this.perUser ? this.users[row] : undefined;
    if (users !== undefined && users.size > 0) {
      const members = this.members;
      evaluation = this.rollup(
        [...users.values()].map((m) =>
          this.evaluate(members, m, members.dataOf(m)[members.baseOf(m) + LAST_SEEN_SLOT]!),
        ),
      );
    } else evaluation = this.evaluate(this.main, row, lastSeen);
    const windowDays = this.compiled.windowDayCount;
    let observedDays = 0;
    if (Number.isFinite(firstSeen) && firstSeen < this.asOf) {
      observedDays =
        firstSeen < this.from ? windowDays : windowDays - (this.calendar.dayIndex(firstSeen) - this.firstWindowDay);
    }
    const raw: RawScore = {
      entityType: this.level,
      entityId,
      accountId: this.level === 'account' ? entityId : (this.accountIds[row] ?? known?.accountId ?? null),
      rawScore: evaluation.raw,
      contributions: evaluation.contributions,
      penalties: evaluation.penalties,
      coverage: {
        activeDays: countBits(data, base + this.compiled.activeSlot, this.compiled.dayWords),
        observedDays,
        events: data[base + EVENTS_SLOT]!,
        firstSeenAt: Number.isFinite(firstSeen) ? firstSeen : null,
        lastSeenAt: Number.isFinite(lastSeen) ? lastSeen : null,
      },
    };
    const groups = this.groups[row];
    if (groups !== undefined) {
      const table = this.groupRows;
      const out: RawGroupScore[] = [];
      for (const [key, group] of groups) {
        const lastSeenOfGroup = table.dataOf(group.row)[table.baseOf(group.row) + LAST_SEEN_SLOT]!;
        out.push({ key, users: group.users.size, rawScore: this.evaluate(table, group.row, lastSeenOfGroup).raw });
      }
      raw.groups = out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    return raw;
  }

  /** Signals and penalties of one state row: points = weight × transform(value) (or tiers), raw = Σ points + Σ penalties. */
  private evaluate(table: StateTable, row: number, lastSeen: number): Evaluation {
    const base = table.baseOf(row);
    const data = table.dataOf(row);
    const values = this.compiled.signals.map((s) => signalValue(s, data, base, table.sets?.[row], this.compiled));
    const contributions: Contribution[] = this.compiled.signals.map((s, i) => {
      const value = values[i]!;
      return { signal: s.signal.name, value, points: round6(signalPoints(s, value)) };
    });
    const penalties: AppliedPenalty[] = [];
    for (const { penalty, slot, signalIndex, inactiveSince } of this.penaltyRules) {
      let applies = false;
      if (penalty.absent !== undefined) applies = data[base + slot] === 0;
      else if (penalty.inactiveDays !== undefined) {
        applies = !Number.isFinite(lastSeen) || lastSeen < inactiveSince;
      } else {
        const value = values[signalIndex]!;
        applies =
          (penalty.above !== undefined && value > penalty.above) ||
          (penalty.below !== undefined && value < penalty.below);
      }
      if (applies) penalties.push({ rule: penalty.name, points: penalty.points });
    }
    const raw = round6(
      contributions.reduce((sum, c) => sum + c.points, 0) + penalties.reduce((sum, p) => sum + p.points, 0),
    );
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

function signalValue(
  s: CompiledSignal,
  data: Float64Array,
  base: number,
  sets: Set<string>[] | undefined,
  compiled: CompiledModel,
): number {
  let value: number;
  switch (s.kind) {
    case 'plain':
      value = data[base + s.slot]!;
      break;
    case 'perDay': {
      // At most capPerDay events a day count; a capped day keeps the mean (decayed) value of its events.
      const cap = s.signal.capPerDay!;
      value = 0;
      const at = base + s.slot;
      for (let d = 0; d < compiled.windowDayCount; d++) {
        const count = data[at + 2 * d]!;
        if (count > 0) value += data[at + 2 * d + 1]! * Math.min(1, cap / count);
      }
      break;
    }
    case 'days':
      value = countBits(data, base + s.slot, compiled.dayWords);
      break;
    case 'weeks':
      value = countBits(data, base + s.slot, compiled.weekWords);
      break;
    case 'users':
      value = sets![s.setIndex]!.size;
      break;
  }
  if (s.signal.cap !== undefined) value = Math.min(value, s.signal.cap);
  return round6(value);
}

function signalPoints(s: CompiledSignal, value: number): number {
  const tiers = s.signal.tiers;
  if (!tiers) return s.signal.weight! * transformValue(s.signal.transform, value);
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
