import type { EntityLevel } from '../entity.js';
import { eventIdentity, type ScoringEvent } from '../event.js';
import type { Model, Traits } from '../model/schema.js';
import { minusCalendarDays, RunCalendar } from '../time.js';
import { Accumulator } from './accumulate.js';
import {
  ACCOUNT_AT_SLOT,
  type CompiledModel,
  compileModel,
  EVENTS_SLOT,
  type EventHandler,
  FIRST_SEEN_SLOT,
  LAST_SEEN_SLOT,
} from './compile.js';
import { EntityRows } from './entity-rows.js';
import { type Evaluation, evaluateRow, matchesCondition, type PenaltyRule, rollupOf } from './evaluate.js';
import type { EventFields } from './event-fields.js';
import { EventIdSet, type EventIdSetExport, hashAscii, splitEventIdentity } from './event-id-set.js';
import { exportRows, importRows, mergeOpsOf, type ScoringRunState, type ScoringRunStats } from './state-export.js';
import { countBits, type StateTable } from './state-table.js';
import type { KnownEntity, RawGroupScore, RawScore } from './types.js';

export type { EventFields } from './event-fields.js';
/*
 * A run is split along its seams: the state tables (state-table.ts, entity-rows.ts), folding events into them
 * (accumulate.ts), their export and merge (state-export.ts) and scoring a row (evaluate.ts). This file ties them
 * together and is the public entry point.
 */
export { type ScoringRunState, type ScoringRunStats, stateTransferables } from './state-export.js';
export type { StateTableExport } from './state-table.js';

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
  /** About how many events will come (a hint, e.g. from a file's size): the dedupe set is sized for it up front. */
  expectedEvents?: number | undefined;
}

/** What counting an event reads of it: an event, or a reader's fields (EventFields). */
type EventIds = Pick<ScoringEvent, 'userId' | 'accountId' | 'timestamp' | 'properties'>;

/** Past this many expected events the dedupe set starts at this size and grows as events come (a hint may be wrong). */
const MAX_PRESIZED_EVENTS = 1 << 23;

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
  private readonly accumulator: Accumulator;
  /** Event identities (user and id, eventIdentity) seen so far (dedupe); exact, see EventIdSet. */
  private readonly seen: EventIdSet | null;
  private readonly options: ScoringRunOptions;
  private readonly level: EntityLevel;
  private readonly perUser: boolean;
  private readonly penaltyRules: PenaltyRule[];
  /** The entities and their state rows. */
  private readonly rows: EntityRows;
  /** The key space of the keys cached below (see EventFields), and by key: an id's row + 1 (0: not yet) and a name's handler. */
  private keySpace: object | null = null;
  private rowByKey = new Int32Array(0);
  /** Rows 0 … keyedRows − 1 were made from keys 0 … keyedRows − 1 of the key space, in that order: row = key. */
  private keyedRows = 0;
  /** Scratch of addFieldsBatch: each event's row (−1: not counted), handler and entity id (account models). */
  private batchRows = new Int32Array(64);
  /** User models: each counted event's user key (EventFields.userKey), looked up before the rows. */
  private batchKeys = new Int32Array(64);
  /** The dedupe hashes (hashAscii) of a batch's events read with ASCII ids, computed ahead of their lookups. */
  private batchHashes = new Int32Array(64);
  private readonly batchHandlers: (EventHandler | undefined)[] = [];
  private readonly batchEntities: (string | undefined)[] = [];
  private readonly one: EventFields[] = [];
  /** Where addFieldsBatch puts what it read ahead (kept, so that the reads are not optimised away). */
  private touched = 0;
  private handlerByKey: (EventHandler | undefined)[] = [];
  /** Set by `release`. */
  private released = false;

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
    this.compiled = compileModel(model, this.calendar.dayCount - this.firstWindowDay);
    this.accumulator = new Accumulator(
      this.compiled,
      this.calendar,
      options.asOf,
      this.firstWindowDay,
      this.calendar.weekOfDay(this.firstWindowDay),
    );
    this.seen =
      options.dedupe === false
        ? null
        : new EventIdSet({ initialCapacity: Math.min(options.expectedEvents ?? 512, MAX_PRESIZED_EVENTS) });
    this.perUser = model.level === 'account' && (model.rollup === 'mean' || model.rollup === 'max');
    this.penaltyRules = this.compiled.penalties.map((p) => ({
      ...p,
      inactiveSince:
        p.penalty.inactiveDays === undefined ? Number.NaN : minusCalendarDays(options.asOf, p.penalty.inactiveDays, tz),
    }));
    // Room for an entity per 8 expected events before the id table grows (each growth rehashes every id).
    const expectedEntities = Math.min((options.expectedEvents ?? 0) / 8, MAX_PRESIZED_EVENTS);
    this.rows = new EntityRows(
      this.compiled.slotCount,
      this.compiled.setCount,
      this.perUser,
      !!model.breakdown,
      expectedEntities,
    );
  }

  /** Feed a page of events (any order, any page size). */
  add(events: Iterable<ScoringEvent>): void {
    this.usable();
    if (Array.isArray(events)) {
      for (let i = 0; i < events.length; i++) this.addOne(events[i] as ScoringEvent);
    } else for (const event of events) this.addOne(event);
  }

  /** Entities known without events (traits, earlier scores): they are scored too, and their penalties show. */
  addKnown(entities: Iterable<KnownEntity>): void {
    this.usable();
    const rows = this.rows;
    for (const known of entities) {
      const row = rows.rowOf(known.entityId);
      rows.known[row] = known;
      if (known.accountId !== undefined && rows.accountIds[row] === undefined) rows.accountIds[row] = known.accountId;
    }
  }

  get entityCount(): number {
    return this.rows.size;
  }

  /**
   * Feed one event as a reader holds it (EventFields): the same as `add` of the event it describes, without the
   * event object. The fields' keys find rows and signals by array index while they come from the same key space.
   */
  addFields(fields: EventFields): void {
    this.one[0] = fields;
    this.addFieldsBatch(this.one, 1);
  }

  /**
   * `addFields` of `batch[0 … count − 1]` in order, with the same result, done in one pass over the batch per step:
   * which events count (range, then dedupe), the users' keys, the rows, a read of each row's state, then the counting.
   * Finding an id's key and reading its row are each a cache miss in tables of a hundred thousand entities; in one
   * short loop per step the processor overlaps them, where one event at a time waits for each.
   */
  addFieldsBatch(batch: readonly EventFields[], count: number): void {
    this.usable();
    if (this.batchRows.length < count) {
      this.batchRows = new Int32Array(count);
      this.batchKeys = new Int32Array(count);
      this.batchHashes = new Int32Array(count);
    }
    const batchRows = this.batchRows;
    const handlers = this.batchHandlers;
    const entities = this.batchEntities;
    // Which events count: those in range, then (dedupe) those not seen before. Each dedupe lookup is a cache miss
    // (a table of megabytes): every identity is hashed first, then every first slot read in a loop of nothing else,
    // so the misses overlap, and the lookups find their slots in cache.
    for (let j = 0; j < count; j++) batchRows[j] = this.inRange(batch[j]!) ? 0 : -1;
    const seen = this.seen;
    if (seen !== null) {
      const hashes = this.batchHashes;
      for (let j = 0; j < count; j++) {
        const fields = batch[j]!;
        if (batchRows[j] === 0 && fields.idEnd >= 0 && fields.userEnd >= 0)
          hashes[j] = hashAscii(fields.bytes, fields.userStart, fields.userEnd, fields.idStart, fields.idEnd);
      }
      let touched = 0;
      for (let j = 0; j < count; j++) if (batchRows[j] === 0) touched += seen.touch(hashes[j]!);
      this.touched = touched;
      for (let j = 0; j < count; j++) if (batchRows[j] === 0 && !this.isNew(seen, batch[j]!, j)) batchRows[j] = -1;
    }
    if (this.level === 'user') {
      // The user ids' keys next (a reader numbers ids in the order asked, and the run's rows follow that order, see
      // rowOfNewKey): the first slot of each lookup read ahead, overlapped as above, then the lookups.
      let touched = 0;
      for (let j = 0; j < count; j++) if (batchRows[j] === 0) touched += batch[j]!.touchUserKey();
      this.touched += touched;
      for (let j = 0; j < count; j++) if (batchRows[j] === 0) this.batchKeys[j] = batch[j]!.userKey;
    }
    for (let j = 0; j < count; j++) if (batchRows[j] === 0) batchRows[j] = this.rowOfFields(batch[j]!, j);
    // The first slot each count reads (trackAccount), read now for all: the counting then finds the rows in cache.
    const main = this.rows.main;
    let touched = 0;
    for (let j = 0; j < count; j++) {
      const row = batchRows[j]!;
      if (row >= 0) touched += main.dataOf(row)[main.baseOf(row) + ACCOUNT_AT_SLOT]!;
    }
    this.touched = touched;
    for (let j = 0; j < count; j++) {
      const row = batchRows[j]!;
      if (row < 0) continue;
      const fields = batch[j]!;
      this.count(row, entities[j], handlers[j]!, fields);
    }
  }

  /** Whether an event read as fields is in the run's range; else false, with the stats. */
  private inRange(fields: EventFields): boolean {
    const ts = fields.timestamp;
    if (ts >= this.lookbackFrom && ts < this.asOf) return true;
    this.stats.outOfRange++;
    return false;
  }

  /** Whether batch event `j` (in range) is not a repeat: its identity is added to `seen`; else false, with the stats. */
  private isNew(seen: EventIdSet, fields: EventFields, j: number): boolean {
    const idEnd = fields.idEnd;
    const userEnd = fields.userEnd;
    const isNew =
      idEnd >= 0 && userEnd >= 0
        ? seen.addAsciiHashed(fields.bytes, fields.userStart, userEnd, fields.idStart, idEnd, this.batchHashes[j]!)
        : seen.add(fields.userId, fields.eventIdText());
    if (!isNew) this.stats.duplicates++;
    return isNew;
  }

  /**
   * The row an event that counts (read as fields) counts in, with its handler and (account models) entity id put
   * at `j` of the batch's scratch arrays; −1 if it is unattributed (with the stats).
   */
  private rowOfFields(fields: EventFields, j: number): number {
    if (fields.keySpace !== this.keySpace) this.useKeySpace(fields.keySpace);
    // The ids are read from `fields` only where needed: a reader may look them up from their keys on demand.
    let row: number;
    let entityId: string | undefined;
    if (this.level === 'user') {
      const key = this.batchKeys[j]!;
      row = key >= 0 && key < this.keyedRows ? key : this.rowOfNewKey(key, fields, 'user');
    } else {
      const accountId = fields.accountId;
      if (accountId !== undefined) {
        entityId = accountId;
        const key = fields.accountKey;
        row = key >= 0 && key < this.keyedRows ? key : this.rowOfNewKey(key, fields, 'account');
      } else {
        entityId = this.options.accountOf?.(fields.userId);
        if (entityId === undefined) {
          this.stats.unattributed++;
          return -1;
        }
        row = this.rows.rowOf(entityId);
      }
    }
    const nameKey = fields.nameKey;
    let handler = nameKey >= 0 ? this.handlerByKey[nameKey] : undefined;
    if (handler === undefined) {
      handler = this.accumulator.handlerOf(fields.name);
      if (nameKey >= 0) this.handlerByKey[nameKey] = handler;
    }
    this.batchHandlers[j] = handler;
    this.batchEntities[j] = entityId;
    return row;
  }

  private addOne(event: ScoringEvent): void {
    const ts = event.timestamp;
    if (!(ts >= this.lookbackFrom && ts < this.asOf)) {
      this.stats.outOfRange++;
      return;
    }
    const seen = this.seen;
    if (seen !== null && !seen.add(event.userId, event.eventId)) {
      this.stats.duplicates++;
      return;
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
    const row = this.rows.rowOf(entityId);
    const handler = this.accumulator.handlerOf(event.name);
    this.count(row, entityId, handler, event);
  }

  /**
   * Count an event in range, not a duplicate, of the entity at `row` (account models: `entityId`, the account).
   * `event` is read for its ids and properties (an event, or a reader's fields).
   */
  private count(row: number, entityId: string | undefined, handler: EventHandler, event: EventIds): void {
    // Read here, not passed in: a large number passed to a call is a heap object each time.
    const ts = event.timestamp;
    this.stats.counted++;
    const rows = this.rows;
    if (this.level === 'user') this.trackAccount(row, event);
    else rows.accountIds[row] = entityId;

    const day = ts >= this.from ? this.calendar.dayIndex(ts) - this.firstWindowDay : -1;
    const accumulator = this.accumulator;
    const perUser = this.perUser;
    accumulator.observe(rows.main, row, handler, event, day, !perUser);
    if (perUser) accumulator.observe(rows.members, rows.memberOf(row, event.userId), handler, event, day, true);
    const breakdown = this.model.breakdown;
    if (breakdown) {
      const userId = event.userId;
      const trait = this.options.traitsOf?.('user', userId)?.[breakdown.trait];
      const group = rows.groupOf(row, trait === undefined || trait === null ? '(none)' : String(trait));
      group.users.add(userId);
      accumulator.observe(rows.groupRows, group.row, handler, event, day, true);
    }
  }

  /**
   * The row of the entity whose key (EventFields) is `key`, not below `keyedRows`: while every row of the run was
   * made from its key, in key order (0, 1, 2, …, as a reader numbers the ids it is asked for), the next key makes
   * the next row and row = key from then on; else its row is kept by key in `rowByKey`.
   */
  private rowOfNewKey(key: number, fields: EventFields, level: EntityLevel): number {
    const rows = this.rows;
    const id = level === 'user' ? fields.userId : fields.accountId!;
    if (key >= 0 && key === this.keyedRows && key === rows.size) {
      // Every row so far came from keys 0 … key − 1 of this key space, and a reader gives distinct ids distinct
      // keys: this id has no row yet, so it is not looked up (the id table is built only if a lookup needs it).
      this.keyedRows++;
      return rows.newRow(id);
    }
    if (key < 0) return rows.rowOf(id);
    let byKey = this.rowByKey;
    if (key >= byKey.length) {
      byKey = new Int32Array(Math.max(2 * byKey.length, key + 1));
      byKey.set(this.rowByKey);
      this.rowByKey = byKey;
    }
    const cached = byKey[key]!;
    if (cached > 0) return cached - 1;
    const row = rows.rowOf(id);
    byKey[key] = row + 1;
    return row;
  }

  /** Trust keys of another key space from now on (see EventFields): what was cached by the old one is dropped. */
  private useKeySpace(keySpace: object): void {
    this.keySpace = keySpace;
    this.keyedRows = 0;
    this.rowByKey = new Int32Array(1024);
    this.handlerByKey = [];
  }

  /**
   * A user's account: the one named by the user's latest event that names one (ties: the greater id, so the
   * order of events never matters); the account the user was grouped with (accountOf) only when none does.
   */
  private trackAccount(row: number, event: EventIds): void {
    const ts = event.timestamp;
    const { main, accountIds } = this.rows;
    const data = main.dataOf(row);
    const at = main.baseOf(row) + ACCOUNT_AT_SLOT;
    // An event before the one that named the account changes nothing (and the account was named, so the user has
    // one): its ids are not even read.
    if (ts < data[at]!) return;
    const own = event.accountId;
    if (own !== undefined) {
      if (ts > data[at]! || own > accountIds[row]!) {
        accountIds[row] = own;
        data[at] = ts;
      }
    } else if (accountIds[row] === undefined) accountIds[row] = this.options.accountOf?.(event.userId);
  }

  /** Identities (eventIdentity) of the events in range this run has taken, first seen first; none without dedupe. */
  seenEventIds(): readonly string[] {
    this.usable();
    const seen = this.seen;
    if (seen === null) return [];
    const ids: string[] = [];
    for (const [userId, eventId] of seen.entries()) ids.push(eventIdentity({ userId, eventId }));
    return ids;
  }

  /**
   * Add event identities (eventIdentity) seen elsewhere (another part of the same input) to this run's dedupe set, and return those it
   * already held: events another part counted although this run had already counted them. Without dedupe, none.
   */
  addSeenEventIds(ids: readonly string[]): string[] {
    this.usable();
    const seen = this.seen;
    if (seen === null) return [];
    const repeated: string[] = [];
    for (const identity of ids) {
      const [userId, eventId] = splitEventIdentity(identity);
      if (!seen.add(userId, eventId)) repeated.push(identity);
    }
    return repeated;
  }

  /**
   * This run's dedupe set as data (typed arrays, see eventIdSetTransferables), for `heldEventIds` and
   * `addEventIds` of another run over another part of the same input; this run's set is left empty. Null without
   * dedupe.
   */
  takeEventIds(): EventIdSetExport | null {
    this.usable();
    return this.seen?.export() ?? null;
  }

  /**
   * The identities (eventIdentity) of a `takeEventIds` export this run has already counted: events the other
   * part counted although this run had (the other part must score again without them). None without dedupe.
   */
  heldEventIds(data: EventIdSetExport): string[] {
    this.usable();
    const seen = this.seen;
    if (seen === null) return [];
    return seen.heldOf(EventIdSet.from(data)).map(([userId, eventId]) => eventIdentity({ userId, eventId }));
  }

  /** Add the identities of a `takeEventIds` export to this run's dedupe set (see `heldEventIds`). */
  addEventIds(data: EventIdSetExport): void {
    this.usable();
    this.seen?.addAll(EventIdSet.from(data));
  }

  /**
   * This run's entity state as data (see ScoringRunState), for `importState` in another run of the same model and
   * instant. Event ids are not part of it (see `seenEventIds`).
   */
  exportState(): ScoringRunState {
    this.usable();
    const header = { modelName: this.model.name, asOf: this.asOf, slotCount: this.compiled.slotCount };
    return exportRows(this.rows, header, this.stats);
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
    this.usable();
    if (state.modelName !== this.model.name || state.asOf !== this.asOf || state.slotCount !== this.compiled.slotCount)
      throw new Error('importState: the state comes from a run of another model or instant');
    importRows(this.rows, state, mergeOpsOf(this.compiled));
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

  /**
   * Give this run's memory back for the runs that come after it in this process (array-pool.ts): its state and
   * its dedupe set. The run is done: any use after throws.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.rows.main.release();
    this.rows.members.release();
    this.rows.groupRows.release();
    this.seen?.release();
  }

  /** Throws once the run is released: its memory is another run's now. */
  private usable(): void {
    if (this.released) throw new Error('ScoringRun: this run was released (release()); score again with a new run');
  }

  /** Raw scores of every entity the model applies to (known or active, not archived), in entity id order. */
  finish(): RawScore[] {
    this.usable();
    const keys = this.rows.ids.keys;
    const order = this.rowsInIdOrder();
    // Built in row order, then put in id order: the rows' state is read front to back (in id order each row is a
    // cache miss or two in tables of megabytes), and only the finished scores are gathered at random.
    const byRow: (RawScore | undefined)[] = new Array(order.length);
    for (let row = 0; row < order.length; row++) if (this.scores(row)) byRow[row] = this.rawScoreOf(keys[row]!, row);
    const scores: RawScore[] = [];
    for (let i = 0; i < order.length; i++) {
      const raw = byRow[order[i]!];
      if (raw !== undefined) scores.push(raw);
    }
    return scores;
  }

  /**
   * The same raw scores as `finish()`, in the same order, built one at a time: a caller that finalises and writes
   * each score as it comes (or in batches) never holds a million finished scores at once. Run it twice to get
   * the raw scores percentile normalisation needs first.
   */
  *eachRawScore(): Generator<RawScore> {
    this.usable();
    const keys = this.rows.ids.keys;
    for (const row of this.rowsInIdOrder()) if (this.scores(row)) yield this.rawScoreOf(keys[row]!, row);
  }

  /** Every entity row, in entity id order. */
  private rowsInIdOrder(): Uint32Array {
    return this.rows.ids.indicesInOrder();
  }

  /** Whether the entity at `row` gets a score: not archived, and the model applies to it. */
  private scores(row: number): boolean {
    return !this.rows.known[row]?.archived && this.applies(this.rows.ids.keys[row]!, row);
  }

  private applies(entityId: string, row: number): boolean {
    const conditions = this.model.appliesTo;
    if (!conditions || conditions.length === 0) return true;
    const own = this.rows.known[row]?.traits ?? this.options.traitsOf?.(this.level, entityId) ?? {};
    // A user-level model may select on account traits (e.g. plan): the user's own trait wins.
    const accountId = this.rows.accountIds[row];
    const account =
      this.level === 'user' && accountId !== undefined ? this.options.traitsOf?.('account', accountId) : undefined;
    return conditions.every((c) => matchesCondition(c, own[c.trait] ?? account?.[c.trait]));
  }

  private rawScoreOf(entityId: string, row: number): RawScore {
    const rows = this.rows;
    const known = rows.known[row];
    const data = rows.main.dataOf(row);
    const base = rows.main.baseOf(row);
    let firstSeen = Math.min(data[base + FIRST_SEEN_SLOT]!, known?.firstSeenAt ?? Number.POSITIVE_INFINITY);
    let lastSeen = data[base + LAST_SEEN_SLOT]!;
    // A stored lastSeenAt only helps if it lies before T (a backfill must not peek at later activity).
    if (known?.lastSeenAt !== undefined && known.lastSeenAt < this.asOf)
      lastSeen = Math.max(lastSeen, known.lastSeenAt);
    if (!Number.isFinite(firstSeen) && Number.isFinite(lastSeen)) firstSeen = lastSeen;
    let evaluation: Evaluation;
    const users = this.perUser ? rows.users[row] : undefined;
    if (users !== undefined && users.size > 0) {
      const members = rows.members;
      evaluation = rollupOf(
        this.model.rollup === 'max' ? 'max' : 'mean',
        this.compiled,
        // In user-id order, so a tie under rollup max explains the account by the same user whatever order the
        // events came in (docs/models.md#rollup).
        [...users.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, m]) => this.evaluate(members, m, members.dataOf(m)[members.baseOf(m) + LAST_SEEN_SLOT]!)),
      );
    } else evaluation = this.evaluate(rows.main, row, lastSeen);
    const windowDays = this.compiled.windowDayCount;
    let observedDays = 0;
    if (Number.isFinite(firstSeen) && firstSeen < this.asOf) {
      observedDays =
        firstSeen < this.from ? windowDays : windowDays - (this.calendar.dayIndex(firstSeen) - this.firstWindowDay);
    }
    const raw: RawScore = {
      entityType: this.level,
      entityId,
      accountId: this.level === 'account' ? entityId : (rows.accountIds[row] ?? known?.accountId ?? null),
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
    const groups = rows.groups[row];
    if (groups !== undefined) {
      const table = rows.groupRows;
      const out: RawGroupScore[] = [];
      for (const [key, group] of groups) {
        const lastSeenOfGroup = table.dataOf(group.row)[table.baseOf(group.row) + LAST_SEEN_SLOT]!;
        out.push({ key, users: group.users.size, rawScore: this.evaluate(table, group.row, lastSeenOfGroup).raw });
      }
      raw.groups = out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    return raw;
  }

  private evaluate(table: StateTable, row: number, lastSeen: number): Evaluation {
    return evaluateRow(this.compiled, this.penaltyRules, table, row, lastSeen);
  }
}
