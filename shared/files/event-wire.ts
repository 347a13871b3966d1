import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { EventFields } from '../domain/engine/event-fields.js';
import { PulseError } from '../domain/errors.js';
import type { ScoringEvent } from '../domain/event.js';
import { Interner } from './event-bytes.js';
import type { JsonlReadIssue } from './jsonl-events.js';

/**
 * The wire between the two threads of a pipelined file scoring (docs/calibrate.md#threads): one thread reads the
 * file's lines (the byte reader) and writes each event into blocks of shared memory; the other reads the blocks in
 * file order as EventFields and counts them. Per event, a few numbers and the bytes of its ids go over; an event name
 * goes once, with the reader's key. The counting side numbers user and account ids itself, in the order its run asks
 * for them, so that the run's rows are its keys as on one thread (see EventFields).
 *
 * What rarely comes (an event the validating path read, an invalid line, properties holding an object or an array,
 * an event too large for a block) goes as a message on a MessagePort, in order: its record in a block says "the next
 * message", which the counting side takes with receiveMessageOnPort when it gets there.
 */

/** Records per block: enough that the two threads meet rarely (a few hundred times a million events). */
export const WIRE_RECORDS = 4096;
/** Blocks in flight: the reading side runs up to this many blocks ahead, then waits. */
export const WIRE_SLOTS = 4;
/** Bytes of ids, names and string properties a block holds (a longer record ends the block early). */
const POOL_BYTES = 1 << 20;
/** Property values a block holds. */
const VALUES = 2 * WIRE_RECORDS;
/** A string property value longer than this goes with its record's properties as a message. */
const MAX_INLINE_STRING = 4096;

/** Control words (Int32Array over a SharedArrayBuffer). */
const PRODUCED = 0;
const CONSUMED = 1;
const DONE = 2;
const CANCELLED = 3;
/** 1 while the counting side waits for a block: only then does the reading side notify it (a notify costs 0.05–0.1 ms). */
const WAITING = 4;
const CONTROL_WORDS = 5;

/** Record kinds. */
const KIND_FIELDS = 0;
/** An event outside the run's range: only its timestamp (a run reads nothing else of it). */
const KIND_OUT = 1;
/** The next message on the port: { event } or { issue }. */
const KIND_MESSAGE = 2;

/** Record flags. */
const USER_ASCII = 1;
const HAS_ACCOUNT = 2;
const ACCOUNT_ASCII = 4;
const NAME_NEW = 8;
const NAME_TEXT = 16;
const ID_ASCII = 32;
const HAS_ID = 64;
const PROPS_NONE = 128;
const PROPS_MESSAGE = 256;

/** Property value types. */
const VALUE_NUMBER = 0;
const VALUE_STRING = 1;
const VALUE_TRUE = 2;
const VALUE_FALSE = 3;
const VALUE_NULL = 4;

/** The shared memory of one wire: plain data, sent to the reading thread with its task. */
export interface WireMemory {
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
}

/** A new wire's memory (about 1.7 MB a slot). */
export function wireMemory(): WireMemory {
  return {
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    slots: Array.from({ length: WIRE_SLOTS }, () => new SharedArrayBuffer(blockBytes())),
  };
}

/** Views of one block: a column per record field. */
class Block {
  readonly header: Int32Array;
  readonly kind: Uint8Array;
  readonly flags: Uint16Array;
  readonly timestamp: Float64Array;
  readonly nameKey: Int32Array;
  /** Byte ranges in `pool`: at and length (−1: not sent). */
  readonly userAt: Int32Array;
  readonly userLength: Int32Array;
  readonly idAt: Int32Array;
  readonly idLength: Int32Array;
  readonly accountAt: Int32Array;
  readonly accountLength: Int32Array;
  readonly nameAt: Int32Array;
  readonly nameLength: Int32Array;
  /** The record's first property value and how many. */
  readonly valueAt: Int32Array;
  readonly valueCount: Uint16Array;
  readonly valueKey: Uint16Array;
  readonly valueType: Uint8Array;
  readonly valueNumber: Float64Array;
  readonly valueStringAt: Int32Array;
  readonly valueStringLength: Int32Array;
  readonly pool: Buffer;

  constructor(memory: SharedArrayBuffer) {
    let at = 0;
    const take = <T>(
      make: (buffer: SharedArrayBuffer, offset: number, length: number) => T,
      bytes: number,
      n: number,
    ) => {
      at = Math.ceil(at / 8) * 8;
      const view = make(memory, at, n);
      at += bytes * n;
      return view;
    };
    const f64 = (n: number) => take((b, o, l) => new Float64Array(b, o, l), 8, n);
    const i32 = (n: number) => take((b, o, l) => new Int32Array(b, o, l), 4, n);
    const u16 = (n: number) => take((b, o, l) => new Uint16Array(b, o, l), 2, n);
    const u8 = (n: number) => take((b, o, l) => new Uint8Array(b, o, l), 1, n);
    const R = WIRE_RECORDS;
    this.header = i32(4);
    this.timestamp = f64(R);
    this.valueNumber = f64(VALUES);
    this.nameKey = i32(R);
    this.userAt = i32(R);
    this.userLength = i32(R);
    this.idAt = i32(R);
    this.idLength = i32(R);
    this.accountAt = i32(R);
    this.accountLength = i32(R);
    this.nameAt = i32(R);
    this.nameLength = i32(R);
    this.valueAt = i32(R);
    this.valueStringAt = i32(VALUES);
    this.valueStringLength = i32(VALUES);
    this.flags = u16(R);
    this.valueCount = u16(R);
    this.valueKey = u16(VALUES);
    this.kind = u8(R);
    this.valueType = u8(VALUES);
    this.pool = take((b, o, l) => Buffer.from(b, o, l), 1, POOL_BYTES);
  }
}

function blockBytes(): number {
  const R = WIRE_RECORDS;
  // Block's columns, each starting at a multiple of 8 (at most 7 bytes of padding each, 22 columns).
  return (
    16 + 8 * R + 8 * VALUES + 10 * 4 * R + 2 * 4 * VALUES + 2 * 2 * R + 2 * VALUES + R + VALUES + 22 * 8 + POOL_BYTES
  );
}

/** Header words of a block. */
const RECORDS = 0;

/** The reading side stopped because the counting side gave up (an error there): nothing more to write. */
export class WireCancelled extends PulseError {
  constructor() {
    super('the counting thread stopped', { kind: 'failed', status: 500 });
    this.name = 'WireCancelled';
  }
}

/**
 * The reading side: EventFields in, records out. Events outside [from, to) go as their timestamp only. User ids go
 * as bytes: the counting side numbers them itself, in the order its run asks, so that its rows are its keys (see
 * EventFields). `ids`: send each event's id too (for a run that dedupes).
 */
export class WireWriter {
  private readonly control: Int32Array;
  private readonly blocks: Block[];
  private produced = 0;
  private block: Block;
  private records = 0;
  private poolUsed = 0;
  private valuesUsed = 0;
  private readonly keyIndex: Map<string, number>;
  /** The name keys whose string the other side holds. */
  private namesSent: Uint8Array = new Uint8Array(256);

  constructor(
    memory: WireMemory,
    private readonly port: MessagePort,
    propertyKeys: readonly string[],
    private readonly from: number,
    private readonly to: number,
    private readonly ids: boolean,
  ) {
    this.control = new Int32Array(memory.control);
    this.blocks = memory.slots.map((slot) => new Block(slot));
    this.block = this.blocks[0]!;
    this.keyIndex = new Map(propertyKeys.map((key, index) => [key, index]));
  }

  /** Events the byte reader read, in file order (readJsonlFieldBatches' batches). */
  addBatch(batch: readonly EventFields[], count: number): void {
    for (let j = 0; j < count; j++) {
      const fields = batch[j]!;
      const ts = fields.timestamp;
      if (!(ts >= this.from && ts < this.to)) {
        this.room(0);
        const r = this.records++;
        this.block.kind[r] = KIND_OUT;
        this.block.timestamp[r] = ts;
      } else if (!this.tryFields(fields)) {
        // No room left in this block for its bytes: in the next one, or as a message if too large for any.
        if (this.records > 0) this.publish();
        if (!this.tryFields(fields)) this.message({ event: eventOf(fields) });
      }
    }
  }

  /** An event the validating path read. */
  addEvent(event: ScoringEvent): void {
    this.message({ event });
  }

  /** An invalid line. */
  addIssue(issue: JsonlReadIssue): void {
    this.message({ issue });
  }

  /** Publish what is left and tell the other side that the file is done. */
  end(): void {
    if (this.records > 0) this.publish(false);
    Atomics.store(this.control, DONE, 1);
    Atomics.notify(this.control, PRODUCED);
  }

  /** Tell the other side that reading failed (it stops waiting; the task's error says why). */
  fail(): void {
    Atomics.store(this.control, DONE, 2);
    Atomics.notify(this.control, PRODUCED);
  }

  private message(value: { event: ScoringEvent } | { issue: JsonlReadIssue }): void {
    this.room(0);
    this.port.postMessage(value);
    this.block.kind[this.records++] = KIND_MESSAGE;
  }

  /** Make room for a record holding `values` property values: publish the block when full. */
  private room(values: number): void {
    if (this.records === WIRE_RECORDS || this.valuesUsed + values > VALUES) this.publish();
  }

  /** Write an event in range as a record; false (nothing written) if the block has no room for its bytes. */
  private tryFields(fields: EventFields): boolean {
    const properties = fields.properties;
    let values = 0;
    if (properties !== undefined) for (const _ in properties) values++;
    if (values > VALUES) return false;
    this.room(values);
    const block = this.block;
    const r = this.records;
    const pool = block.pool;
    let used = this.poolUsed;
    let flags = 0;
    // The name: its key, and its text the first time (or every time, when the reader did not key it).
    const nameKey = fields.nameKey;
    block.nameKey[r] = nameKey;
    let newName = false;
    if (nameKey < 0 || !sent(this.namesSent, nameKey)) {
      used = putText(pool, used, fields.name, block.nameAt, block.nameLength, r);
      if (used < 0) return false;
      if (nameKey < 0) flags |= NAME_TEXT;
      else {
        flags |= NAME_NEW;
        newName = true;
      }
    }
    // The user: its bytes (ASCII, as read) or its text.
    if (fields.userEnd >= 0) {
      used = putBytes(pool, used, fields.bytes, fields.userStart, fields.userEnd, block.userAt, block.userLength, r);
      flags |= USER_ASCII;
    } else used = putText(pool, used, fields.userId, block.userAt, block.userLength, r);
    if (used < 0) return false;
    // The account, as the user: its bytes or its text (the counting side numbers it, if the run asks).
    if (fields.accountEnd >= 0) {
      const { accountStart, accountEnd } = fields;
      used = putBytes(pool, used, fields.bytes, accountStart, accountEnd, block.accountAt, block.accountLength, r);
      flags |= HAS_ACCOUNT | ACCOUNT_ASCII;
    } else {
      const text = fields.accountId;
      if (text !== undefined) {
        used = putText(pool, used, text, block.accountAt, block.accountLength, r);
        flags |= HAS_ACCOUNT;
      }
    }
    if (used < 0) return false;
    // The event id, for the run's dedupe set: ASCII bytes as read, else its text.
    if (this.ids) {
      flags |= HAS_ID;
      if (fields.idEnd >= 0) {
        used = putBytes(pool, used, fields.bytes, fields.idStart, fields.idEnd, block.idAt, block.idLength, r);
        flags |= ID_ASCII;
      } else used = putText(pool, used, fields.eventIdText(), block.idAt, block.idLength, r);
      if (used < 0) return false;
    }
    // The properties the model reads: numbers, strings, booleans and null as values; anything else as a message.
    let count = 0;
    if (properties === undefined) flags |= PROPS_NONE;
    else if (values > 0) {
      let v = this.valuesUsed;
      block.valueAt[r] = v;
      for (const key in properties) {
        const index = this.keyIndex.get(key);
        const value = properties[key];
        if (index === undefined) {
          flags |= PROPS_MESSAGE;
          break;
        }
        block.valueKey[v] = index;
        if (typeof value === 'number') {
          block.valueType[v] = VALUE_NUMBER;
          block.valueNumber[v] = value;
        } else if (typeof value === 'string') {
          if (value.length > MAX_INLINE_STRING) {
            flags |= PROPS_MESSAGE;
            break;
          }
          used = putText(pool, used, value, block.valueStringAt, block.valueStringLength, v);
          if (used < 0) return false;
          block.valueType[v] = VALUE_STRING;
        } else if (value === true) block.valueType[v] = VALUE_TRUE;
        else if (value === false) block.valueType[v] = VALUE_FALSE;
        else if (value === null) block.valueType[v] = VALUE_NULL;
        else {
          flags |= PROPS_MESSAGE;
          break;
        }
        v++;
        count++;
      }
      if ((flags & PROPS_MESSAGE) !== 0) count = 0;
      this.valuesUsed = v;
    }
    block.valueCount[r] = count;
    // Written: the block keeps it, and the other side holds whatever strings went with it.
    if ((flags & PROPS_MESSAGE) !== 0) this.port.postMessage({ properties });
    block.kind[r] = KIND_FIELDS;
    block.flags[r] = flags;
    block.timestamp[r] = fields.timestamp;
    this.records = r + 1;
    this.poolUsed = used;
    if (newName) this.namesSent = mark(this.namesSent, nameKey);
    return true;
  }

  /**
   * Hand the block over, then (`next`) wait for a free one: the other side reads at most WIRE_SLOTS behind.
   */
  private publish(next = true): void {
    const control = this.control;
    this.block.header[RECORDS] = this.records;
    this.produced++;
    Atomics.store(control, PRODUCED, this.produced);
    if (Atomics.load(control, WAITING) !== 0) Atomics.notify(control, PRODUCED);
    if (!next) return;
    for (;;) {
      if (Atomics.load(control, CANCELLED) !== 0) throw new WireCancelled();
      const consumed = Atomics.load(control, CONSUMED);
      if (this.produced - consumed < WIRE_SLOTS) break;
      Atomics.wait(control, CONSUMED, consumed, 1000);
    }
    this.block = this.blocks[this.produced % WIRE_SLOTS]!;
    this.records = 0;
    this.poolUsed = 0;
    this.valuesUsed = 0;
  }
}

function sent(marks: Uint8Array, key: number): boolean {
  return key < marks.length && marks[key] === 1;
}

function mark(marks: Uint8Array, key: number): Uint8Array {
  let out = marks;
  if (key >= marks.length) {
    out = new Uint8Array(Math.max(2 * marks.length, key + 1));
    out.set(marks);
  }
  out[key] = 1;
  return out;
}

/**
 * Bytes [start, end) of `from` into the pool at `used`, their place put in `at` and `length` at record `r`: the
 * pool's new end, or −1 if they do not fit.
 */
function putBytes(
  pool: Buffer,
  used: number,
  from: Uint8Array,
  start: number,
  end: number,
  at: Int32Array,
  length: Int32Array,
  r: number,
): number {
  if (used + end - start > POOL_BYTES) return -1;
  for (let k = start; k < end; k++) pool[used + k - start] = from[k]!;
  at[r] = used;
  length[r] = end - start;
  return used + end - start;
}

/** `text` as UTF-8 into the pool at `used`, as putBytes (at `r`: a record's field or a property value's). */
function putText(pool: Buffer, used: number, text: string, at: Int32Array, length: Int32Array, r: number): number {
  // At most 3 bytes per UTF-16 unit.
  if (used + 3 * text.length > POOL_BYTES) return -1;
  const written = pool.write(text, used, 'utf8');
  at[r] = used;
  length[r] = written;
  return used + written;
}

/** The event some fields describe (for one too large for a block). */
function eventOf(fields: EventFields): ScoringEvent {
  return {
    eventId: fields.eventIdText(),
    name: fields.name,
    userId: fields.userId,
    accountId: fields.accountId,
    timestamp: fields.timestamp,
    properties: fields.properties === undefined ? undefined : { ...fields.properties },
  } as ScoringEvent;
}

/** What the counting side does with what it reads, in file order. */
export interface WireSink {
  batch(batch: readonly EventFields[], count: number): void;
  event(event: ScoringEvent): void;
  issue(issue: JsonlReadIssue): void;
}

/**
 * The counting side: reads the blocks in order and hands their records to `sink` as EventFields in batches (of
 * `batchSize`, valid only during the call) and events. Its key space (EventFields) is its own: the reading side's
 * name keys, with the names that came with them, and user and account keys from its own tables.
 */
export class WireReader {
  private readonly control: Int32Array;
  private readonly blocks: Block[];
  private consumed = 0;
  readonly names: string[] = [];
  /** The user ids, numbered here as the run asks for them (sized as the byte reader's own table). */
  readonly users = new Interner(1 << 14);
  readonly accounts = new Interner(1 << 12);
  private readonly views: WireFields[];
  private readonly propertyKeys: readonly string[];

  constructor(
    memory: WireMemory,
    private readonly port: MessagePort,
    propertyKeys: readonly string[],
    batchSize: number,
  ) {
    this.control = new Int32Array(memory.control);
    this.blocks = memory.slots.map((slot) => new Block(slot));
    this.propertyKeys = propertyKeys;
    this.views = Array.from({ length: batchSize }, () => new WireFields(this));
  }

  /**
   * Read every block as it comes until the other side ends. `stopped`: settles when the reading task ends (its
   * rejection is the error thrown here, so a reader that dies never leaves this waiting).
   */
  async readAll(sink: WireSink, stopped: Promise<unknown>): Promise<void> {
    const control = this.control;
    const ended = stopped.then(() => ENDED);
    ended.catch(() => undefined);
    try {
      for (;;) {
        const produced = Atomics.load(control, PRODUCED);
        if (produced > this.consumed) {
          this.read(this.blocks[this.consumed % WIRE_SLOTS]!, sink);
          this.consumed++;
          Atomics.store(control, CONSUMED, this.consumed);
          Atomics.notify(control, CONSUMED);
          continue;
        }
        const done = Atomics.load(control, DONE);
        if (done !== 0) {
          // Blocks published just before the end flag was set are read first.
          if (Atomics.load(control, PRODUCED) > this.consumed) continue;
          if (done === 2) {
            await stopped; // the reading task failed: its rejection says why
            throw new Error('event wire: the reading thread failed');
          }
          return;
        }
        // Flagged before the wait checks PRODUCED again: a block published after that check finds the flag set.
        Atomics.store(control, WAITING, 1);
        const wait = waitAsync(control, PRODUCED, produced);
        const woken = wait.async ? await Promise.race([wait.value, ended]) : wait.value;
        Atomics.store(control, WAITING, 0);
        if (woken === ENDED && Atomics.load(control, DONE) === 0)
          throw new Error('event wire: the reading thread ended without ending the wire');
      }
    } catch (error) {
      this.cancel();
      throw error;
    }
  }

  /** Give the id tables back for later readers (array-pool.ts) once read: the ids' strings stay. */
  release(): void {
    this.users.release();
    this.accounts.release();
  }

  /** Tell the reading side to stop (it throws WireCancelled at its next block). */
  cancel(): void {
    Atomics.store(this.control, CANCELLED, 1);
    Atomics.notify(this.control, CONSUMED);
  }

  private read(block: Block, sink: WireSink): void {
    const count = block.header[RECORDS]!;
    const views = this.views;
    let pending = 0;
    for (let r = 0; r < count; r++) {
      const kind = block.kind[r]!;
      if (kind === KIND_MESSAGE) {
        if (pending > 0) sink.batch(views, pending);
        pending = 0;
        const value = this.next() as { event?: ScoringEvent; issue?: JsonlReadIssue };
        if (value.issue !== undefined) sink.issue(value.issue);
        else sink.event(value.event!);
        continue;
      }
      const view = views[pending]!;
      if (kind === KIND_OUT) view.setOut(block.timestamp[r]!);
      else this.decode(block, r, view);
      if (++pending === views.length) {
        sink.batch(views, pending);
        pending = 0;
      }
    }
    // The views point into the block, which the other side reuses once handed back.
    if (pending > 0) sink.batch(views, pending);
  }

  private next(): unknown {
    const received = receiveMessageOnPort(this.port);
    if (received === undefined) throw new Error('event wire: a record names a message that did not come');
    return received.message;
  }

  private decode(block: Block, r: number, view: WireFields): void {
    const flags = block.flags[r]!;
    const pool = block.pool;
    view.bytes = pool;
    // Name.
    const nameKey = block.nameKey[r]!;
    if ((flags & (NAME_NEW | NAME_TEXT)) !== 0) {
      const at = block.nameAt[r]!;
      const name = pool.utf8Slice(at, at + block.nameLength[r]!);
      if ((flags & NAME_NEW) !== 0) this.names[nameKey] = name;
      view.name = name;
    } else view.name = this.names[nameKey]!;
    view.nameKey = nameKey;
    // User: its key is looked up when the run asks (see WireFields#userKey).
    const userAt = block.userAt[r]!;
    view.setUser(userAt, userAt + block.userLength[r]!, (flags & USER_ASCII) !== 0);
    // Account: its key too is looked up only when the run asks (see WireFields#accountKey).
    const accountAt = block.accountAt[r]!;
    view.setAccount(accountAt, accountAt + block.accountLength[r]!, flags);
    // Event id.
    view.idSent = (flags & HAS_ID) !== 0;
    view.idAt = block.idAt[r]!;
    view.idTextEnd = view.idAt + block.idLength[r]!;
    if ((flags & ID_ASCII) !== 0) {
      view.idStart = view.idAt;
      view.idEnd = view.idTextEnd;
    } else {
      view.idStart = 0;
      view.idEnd = -1;
    }
    view.timestamp = block.timestamp[r]!;
    view.out = false;
    // Properties.
    if ((flags & PROPS_NONE) !== 0) view.properties = undefined;
    else if ((flags & PROPS_MESSAGE) !== 0)
      view.properties = (this.next() as { properties: Record<string, unknown> }).properties;
    else {
      const count = block.valueCount[r]!;
      if (count === 0) view.properties = NO_PROPERTIES;
      else {
        const properties: Record<string, unknown> = {};
        const keys = this.propertyKeys;
        const at = block.valueAt[r]!;
        for (let v = at; v < at + count; v++) {
          const key = keys[block.valueKey[v]!]!;
          const type = block.valueType[v]!;
          let value: unknown;
          if (type === VALUE_NUMBER) value = block.valueNumber[v]!;
          else if (type === VALUE_STRING) {
            const s = block.valueStringAt[v]!;
            value = pool.utf8Slice(s, s + block.valueStringLength[v]!);
          } else value = type === VALUE_TRUE ? true : type === VALUE_FALSE ? false : null;
          // defineProperty for __proto__ (a plain key, as JSON.parse makes it), not its setter.
          if (key === '__proto__')
            Object.defineProperty(properties, key, { value, enumerable: true, writable: true, configurable: true });
          else properties[key] = value;
        }
        view.properties = properties;
      }
    }
  }
}

const ENDED = Symbol('ended');

/** Atomics.waitAsync (Node 16 and later; in TypeScript's lib from ES2024 only). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
  }
).waitAsync;

/** The properties of an event holding none of the kept keys: one shared, frozen empty object (as the reader's). */
const NO_PROPERTIES: Record<string, unknown> = Object.freeze({});

/** A user key not looked up yet (WireFields#userKey). */
const UNRESOLVED = -3;

/**
 * One record as EventFields, overwritten record by record. The user's key is looked up in the counting side's own
 * table when the run first asks for it (the run asks only for events that count, in the order it makes rows). Event
 * ids come only to a run that dedupes. An event outside the run's range holds only its timestamp: reading anything
 * else of it is a bug, and throws.
 */
class WireFields implements EventFields {
  name = '';
  nameKey = -1;
  timestamp = 0;
  properties: Record<string, unknown> | undefined = undefined;
  readonly keySpace: object;
  bytes: Buffer = Buffer.alloc(0);
  /** The user id's bytes [userStart, userEnd) of `bytes` when ASCII, else userEnd −1 (see userAt). */
  userStart = 0;
  userEnd = -1;
  /** The event id's ASCII bytes [idStart, idEnd) of `bytes`, else idEnd −1 (see idAt). */
  idStart = 0;
  idEnd = -1;
  /** The event id's bytes [idAt, idTextEnd), when sent (`idSent`). */
  idAt = 0;
  idTextEnd = 0;
  idSent = false;
  /** The user id's bytes [userAt, userEnd): ASCII with its FNV-1a hash (userKeyNow UNRESOLVED), else UTF-8 text. */
  userAt = 0;
  userTextEnd = 0;
  userHash = 0;
  userKeyNow = -1;
  /** The account id's ASCII bytes [accountStart, accountEnd) of `bytes`, else accountEnd −1 (see accountAt). */
  accountStart = 0;
  accountEnd = -1;
  /** The account id's bytes [accountAt, accountTextEnd) (UTF-8 text when not ASCII), when it has one. */
  accountAt = 0;
  accountTextEnd = 0;
  hasAccount = false;
  accountKeyNow = -1;
  out = false;

  constructor(private readonly reader: WireReader) {
    this.keySpace = reader;
  }

  setOut(timestamp: number): void {
    this.timestamp = timestamp;
    this.out = true;
    this.nameKey = -1;
    this.userKeyNow = -1;
    this.accountKeyNow = -1;
    this.accountEnd = -1;
    this.userEnd = -1;
    this.idEnd = -1;
    this.properties = undefined;
  }

  /** Set by WireReader.decode: the user's bytes, ASCII or not. */
  setUser(at: number, end: number, ascii: boolean): void {
    this.userAt = at;
    this.userTextEnd = end;
    if (ascii) {
      let h = 0x811c9dc5 | 0;
      const bytes = this.bytes;
      for (let k = at; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
      this.userHash = h;
      this.userKeyNow = UNRESOLVED;
      this.userStart = at;
      this.userEnd = end;
    } else {
      this.userKeyNow = -1;
      this.userStart = 0;
      this.userEnd = -1;
    }
  }

  /** Set by WireReader.decode: the account's bytes and the record's flags. */
  setAccount(at: number, end: number, flags: number): void {
    this.accountAt = at;
    this.accountTextEnd = end;
    this.hasAccount = (flags & HAS_ACCOUNT) !== 0;
    if ((flags & ACCOUNT_ASCII) !== 0) {
      this.accountStart = at;
      this.accountEnd = end;
      this.accountKeyNow = UNRESOLVED;
    } else {
      this.accountEnd = -1;
      this.accountKeyNow = -1;
    }
  }

  get accountKey(): number {
    this.check();
    if (this.accountKeyNow === UNRESOLVED) {
      const bytes = this.bytes;
      let h = 0x811c9dc5 | 0;
      for (let k = this.accountStart; k < this.accountEnd; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
      this.accountKeyNow = this.reader.accounts.lookupAscii(bytes, this.accountStart, this.accountEnd, h);
    }
    return this.accountKeyNow;
  }

  get userKey(): number {
    this.check();
    if (this.userKeyNow === UNRESOLVED)
      this.userKeyNow = this.reader.users.lookupAscii(this.bytes, this.userStart, this.userEnd, this.userHash);
    return this.userKeyNow;
  }

  touchUserKey(): number {
    return this.userKeyNow === UNRESOLVED ? this.reader.users.touch(this.userHash) : 0;
  }

  get userId(): string {
    this.check();
    const key = this.userKey;
    if (key >= 0) return this.reader.users.stringOf(key);
    const pool = this.bytes;
    // ASCII past the table's limit (no key), or UTF-8 text.
    return this.userEnd >= 0
      ? pool.latin1Slice(this.userStart, this.userEnd)
      : pool.utf8Slice(this.userAt, this.userTextEnd);
  }

  get accountId(): string | undefined {
    this.check();
    if (!this.hasAccount) return undefined;
    const key = this.accountKey;
    if (key >= 0) return this.reader.accounts.stringOf(key);
    // ASCII past the table's limit (no key), or UTF-8 text.
    return this.accountEnd >= 0
      ? this.bytes.latin1Slice(this.accountStart, this.accountEnd)
      : this.bytes.utf8Slice(this.accountAt, this.accountTextEnd);
  }

  eventIdText(): string {
    this.check();
    if (!this.idSent) throw new Error('event wire: event ids are sent only to a run that dedupes');
    return this.bytes.utf8Slice(this.idAt, this.idTextEnd);
  }

  private check(): void {
    if (this.out) throw new Error('event wire: an event outside the run has only its timestamp');
  }
}
