import { giveBack, int32Array, uint8Array } from '../domain/engine/array-pool.js';
import type { EventFields } from '../domain/engine/event-fields.js';
import { contentEventId, type ScoringEvent } from '../domain/event.js';
import { MAX_ID_BYTES } from '../domain/input-limits.js';
import {
  CLOSE_BRACE,
  COLON,
  COMMA,
  KeyTable,
  MINUS,
  matchesBytes,
  numberEndBytes,
  OPEN_BRACE,
  OPEN_BRACKET,
  plainStringEndBytes,
  QUOTE,
  skipSpaceBytes,
  skipValueBytes,
} from '../json/scan.js';
import { daysInMonth, isPlainId, isPlainName, parseEventText } from './event-line.js';

/** One line of text to an event (the byte reader, then the validating path), or a message naming what is wrong. */
export function parseEventLine(line: string): ScoringEvent | string {
  // Text with a lone surrogate has no exact UTF-8 form: only the validating path reads it as it is.
  if (line.isWellFormed()) {
    const bytes = Buffer.from(line, 'utf8');
    lineScanner ??= new EventLineScanner(undefined, { internLimit: 1 << 12 });
    const event = lineScanner.scan(bytes, 0, bytes.length);
    if (event !== undefined) return event;
  }
  return parseEventText(line);
}

/** The scanner of parseEventLine, made on first use (a few thousand interned strings at most). */
let lineScanner: EventLineScanner | undefined;

/**
 * Reads native events (docs/data-model.md, one JSON object a line) straight from UTF-8 bytes: no string of the
 * line, no JSON.parse, no objects that are thrown away. The fields an event has are read; inside `properties` only
 * the keys asked for are built (the ones a model reads), every other value is checked as JSON.parse would check it
 * and skipped. Names, ids and property keys that repeat are interned: the same string object each time, with a
 * dense key (EventFields) and its checks done once.
 *
 * `scanFields` reads a line into this object's fields (it is the EventFields a run takes, overwritten line by line,
 * so a file is scored without an object per event); `scan` makes an event of them. Both answer no for any line they
 * cannot prove they read exactly (escapes in a key or in an id, a repeated or unknown top-level key, unusual
 * numbers, nesting deeper than 64, anything invalid): the caller then decodes the line and takes the validating path
 * (JSON.parse + the schema), which also names what is wrong. So the events are always exactly those of that path,
 * with `properties` cut down to the keys asked for.
 */
export class EventLineScanner implements EventFields {
  name = '';
  nameKey = -1;
  /**
   * The ids' keys, found in the interner only when asked (UNRESOLVED until then): a user-level run needs the user's
   * key on every event but the account's only on a user's newest event, and each lookup is a cache miss or two in
   * a table of a hundred thousand ids. An ASCII id is checked on its bytes as it is read; only its key waits.
   */
  private userKeyNow = -1;
  private accountKeyNow = -1;
  /** The user id as text when it is not ASCII (no key), else null (`userId` looks it up by key). */
  private userText: string | null = null;
  /** The account id as text when it is not ASCII, undefined when the line has none, null when it is ASCII. */
  private accountText: string | null | undefined = undefined;
  /** The ASCII account id's bytes [accountStart, accountEnd) of `bytes` (EventFields), −1 without one. */
  accountStart = 0;
  accountEnd = -1;
  /** FNV-1a hashes of both ids. */
  private userHash = 0;
  private accountHash = 0;
  timestamp = 0;
  properties: Record<string, unknown> | undefined = undefined;
  readonly keySpace: object;
  bytes: Uint8Array = EMPTY;
  userStart = 0;
  userEnd = -1;
  idStart = 0;
  idEnd = -1;
  /** The event id when it is not ASCII bytes [idStart, idEnd) (not ASCII, or the content id of an event without one). */
  private eventId: string | undefined = undefined;

  private readonly names: Interner;
  /** User ids and account ids, each numbered on their own (a run's rows can then be its keys, see EventFields). */
  private readonly users: Interner;
  private readonly accounts: Interner;
  private readonly keys: Interner;
  /** Property values that repeat (tiers, plans, ...): interned with a small table. */
  private readonly values: Interner;
  /** Where the value read by the last readString/readValue call ended. */
  private end = 0;
  private props: Record<string, unknown> | undefined = undefined;
  /** Byte range of the last `properties` object read (for the content id of an event without an id). */
  private propsStart = 0;
  private propsEnd = 0;
  /**
   * The top-level fields in the order the last line had them: lines of one file almost always share an order, so
   * the key at position p is first tried as the bytes `"<that field>":`, which skips finding the key's end and
   * looking it up (any other spelling, spacing or order takes the general path and becomes the new guess).
   */
  private readonly order = new Int8Array(8);
  /** The `YYYY-MM-DD` bytes of the last valid timestamp read (two words and a half word). */
  private readonly dayWords = new Int32Array(3).fill(-1);
  /** That day, in days since 1970-01-01. */
  private day = 0;
  /** A view of the bytes being read (startsWith), made once per buffer. */
  private viewOf: Uint8Array = EMPTY;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** The kept property keys by their bytes (a key not kept is skipped unread); null when every key is built. */
  private readonly keepTable: KeyTable<string> | null;

  /**
   * `keep`: the property keys to build (undefined: all of them, exactly as JSON.parse builds the object).
   * `internLimit`: at most this many strings of each kind are interned (default 2M), past it they are decoded as
   * they come. `keysOf`: another scanner whose interned strings and keys this one shares (the same key space), so
   * that several lines can be held at once (see `sibling`).
   */
  constructor(
    private readonly keep?: ReadonlySet<string> | undefined,
    options: {
      internLimit?: number | undefined;
      keysOf?: EventLineScanner | undefined;
    } = {},
  ) {
    const limit = options.internLimit ?? 1 << 21;
    const shared = options.keysOf;
    this.keySpace = shared?.keySpace ?? this;
    // __proto__ is in the table so that it is found and refused (the validating path reads such a line).
    this.keepTable = shared?.keepTable ?? (keep === undefined ? null : new KeyTable([...keep, '__proto__']));
    if (shared !== undefined) {
      this.names = shared.names;
      this.users = shared.users;
      this.accounts = shared.accounts;
      this.keys = shared.keys;
      this.values = shared.values;
      return;
    }
    this.names = new Interner(1 << 10, limit);
    // Not sized from the file: a table larger than its ids spreads them over more memory, and every lookup is a
    // random read in it (a file of 5,000 users read 5% faster than with a table sized for a user per 4 lines).
    // Growing rehashes each id once per doubling: a file of 100,000 users read as fast as with the sized table.
    this.users = new Interner(1 << 14, limit);
    this.accounts = new Interner(1 << 12, limit);
    this.keys = new Interner(1 << 8, limit);
    this.values = new Interner(1 << 10, Math.min(limit, 1 << 14));
  }

  /**
   * Give the interners' tables back for later readers (array-pool.ts) once the last line is read: the strings read
   * stay, nothing more is read. Siblings share them: release one scanner of a family.
   */
  release(): void {
    for (const interner of [this.names, this.users, this.accounts, this.keys, this.values]) interner.release();
  }

  /** Another scanner with the same property keys and the same interned strings and keys (key space). */
  sibling(): EventLineScanner {
    return new EventLineScanner(this.keep, { keysOf: this });
  }

  /** The event on bytes [i, n) of `b`, or undefined when the validating path must read the line. */
  scan(b: Uint8Array, i: number, n: number): ScoringEvent | undefined {
    return this.scanFields(b, i, n) ? this.event() : undefined;
  }

  /** The event the last `scanFields` that answered true read. */
  event(): ScoringEvent {
    // The shape of every event the validating path makes too (event-line.ts): one hidden class for the engine.
    return {
      eventId: this.eventIdText(),
      name: this.name,
      userId: this.userId,
      accountId: this.accountId,
      timestamp: this.timestamp,
      // An event is the caller's to keep and change: never the shared empty object of scanFields.
      properties: this.properties === NO_PROPERTIES ? {} : this.properties,
    };
  }

  eventIdText(): string {
    return this.eventId ?? latin1(this.bytes, this.idStart, this.idEnd);
  }

  /**
   * A quoted `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` at `i` (after the quote) into `timestamp` (epoch ms);
   * false for anything else (then the string takes the general path). The same checks and result as
   * parseUtcInstant, which gives exactly what Date.parse gives for these forms. The day of the last timestamp read is
   * kept: events of a file often come in runs of few days, so most timestamps start with the same `YYYY-MM-DD` bytes,
   * compared here as three words instead of read digit by digit and checked again. Written to the field, not
   * returned: a number this large returned from a call is a heap object each time.
   */
  private utcInstant(b: Uint8Array, i: number, n: number): boolean {
    const time = timeOfDayBytes(b, i, n);
    if (time < 0 || b[i + 10] !== 84 /* T */) return false;
    const view = this.viewFor(b);
    const w0 = view.getInt32(i, true);
    const w1 = view.getInt32(i + 4, true);
    const w2 = view.getUint16(i + 8, true);
    const dayWords = this.dayWords;
    if (w0 !== dayWords[0] || w1 !== dayWords[1] || w2 !== dayWords[2]) {
      const day = utcDayBytes(b, i);
      if (day < 0) return false;
      this.day = day;
      dayWords[0] = w0;
      dayWords[1] = w1;
      dayWords[2] = w2;
    }
    // Exact: whole milliseconds far below 2^53, and UTC has no leap seconds in JavaScript's time.
    this.timestamp = this.day * 86_400_000 + time;
    return true;
  }

  /** A DataView of `b`, made once per buffer (a reader hands the same buffer for many lines). */
  private viewFor(b: Uint8Array): DataView {
    if (b !== this.viewOf) {
      this.viewOf = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.view;
  }

  /** Whether bytes at `at` of `b` (at least pattern.length of them) are the pattern's. */
  private startsWith(b: Uint8Array, at: number, pattern: FieldPattern): boolean {
    const view = this.viewFor(b);
    const { offsets, words } = pattern;
    for (let k = 0; k < offsets.length; k++) if (view.getInt32(at + offsets[k]!, true) !== words[k]) return false;
    return true;
  }

  /*
   * The ids as strings, looked up from their keys only when asked: a run finds a known user's row by key, so most
   * events never need the string (fetching it is one more cache miss per id, in a table of a hundred thousand).
   */
  get userId(): string {
    const text = this.userText;
    if (text !== null) return text;
    const key = this.userKey;
    return key >= 0 ? this.users.stringOf(key) : latin1(this.bytes, this.userStart, this.userEnd);
  }

  get accountId(): string | undefined {
    const text = this.accountText;
    if (text !== null) return text;
    const key = this.accountKey;
    return key >= 0 ? this.accounts.stringOf(key) : latin1(this.bytes, this.accountStart, this.accountEnd);
  }

  get userKey(): number {
    if (this.userKeyNow === UNRESOLVED)
      this.userKeyNow = this.users.lookupAscii(this.bytes, this.userStart, this.userEnd, this.userHash);
    return this.userKeyNow;
  }

  touchUserKey(): number {
    return this.userKeyNow === UNRESOLVED ? this.users.touch(this.userHash) : 0;
  }

  get accountKey(): number {
    if (this.accountKeyNow === UNRESOLVED)
      this.accountKeyNow = this.accounts.lookupAscii(this.bytes, this.accountStart, this.accountEnd, this.accountHash);
    return this.accountKeyNow;
  }

  /**
   * Read the event on bytes [i, n) of `b` into this object's fields (see EventFields; the byte ranges point into
   * `b` until the next call); false when the validating path must read the line.
   */
  scanFields(b: Uint8Array, i: number, n: number): boolean {
    let name: string | undefined;
    let userText: string | null | undefined;
    let accountText: string | null | undefined;
    let properties: Record<string, unknown> | undefined;
    let hasId = false;
    let seen = 0;
    this.bytes = b;
    this.userEnd = -1;
    this.idEnd = -1;
    this.accountEnd = -1;
    this.eventId = undefined;
    this.userKeyNow = -1;
    this.accountKeyNow = -1;
    i = skipSpaceBytes(b, i, n);
    if (i >= n || b[i] !== OPEN_BRACE) return false;
    i = skipSpaceBytes(b, i + 1, n);
    const order = this.order;
    for (let position = 0; ; position++) {
      if (i >= n || b[i] !== QUOTE) return false; // `{}` too: the validating path names the missing fields
      let field = position < order.length ? order[position]! : 0;
      const guess = field === 0 ? null : FIELD_PATTERNS[field]!;
      if (guess !== null && i + guess.length <= n && this.startsWith(b, i, guess)) i += guess.length;
      else {
        const keyEnd = plainStringEndBytes(b, i + 1, n);
        field = keyEnd < 0 ? 0 : FIELDS.ofBytes(b, i + 1, keyEnd);
        if (field === 0) return false;
        if (position < order.length) order[position] = field;
        i = skipSpaceBytes(b, keyEnd + 1, n);
        if (i >= n || b[i] !== COLON) return false;
        i++;
      }
      if ((seen & (1 << field)) !== 0) return false;
      seen |= 1 << field;
      i = skipSpaceBytes(b, i, n);
      const c = b[i];
      if (c === QUOTE) {
        if (field === NAME) {
          name = this.names.read(b, i + 1, n);
          this.nameKey = this.names.key;
        } else if (field === USER_ID || field === ACCOUNT_ID) {
          const text = readId(b, i + 1, n);
          if (text === undefined) return false;
          if (field === USER_ID) {
            userText = text;
            if (text === null) {
              this.userStart = i + 1;
              this.userEnd = stringEnd;
              this.userHash = idHash;
              this.userKeyNow = UNRESOLVED;
            }
          } else {
            accountText = text;
            if (text === null) {
              this.accountStart = i + 1;
              this.accountEnd = stringEnd;
              this.accountHash = idHash;
              this.accountKeyNow = UNRESOLVED;
            }
          }
        } else if (field === EVENT_ID) {
          hasId = true;
          if (!this.readEventId(b, i + 1, n)) return false;
        } else if (field === TIMESTAMP) {
          // Other forms of the string (offsets, other precisions) are the schema's to check.
          if (!this.utcInstant(b, i + 1, n)) return false;
        } else return false; // properties as a string: the schema says why not
        if (stringEnd < 0) return false;
        i = stringEnd + 1;
      } else if (field === PROPERTIES && c === OPEN_BRACE) {
        this.propsStart = i;
        i = this.readProperties(b, i, n);
        if (i < 0) return false;
        this.propsEnd = i;
        properties = this.props;
      } else if (field === TIMESTAMP && c !== undefined && c >= 49 && c <= 57) {
        // A positive integer without sign, fraction or exponent, exact as a double (else the validating path).
        let j = i;
        let value = 0;
        for (let d = b[j]!; j < n && d >= 48 && d <= 57; d = b[++j]!) value = value * 10 + (d - 48);
        if (j - i > 15 || (j < n && (b[j] === 46 || b[j] === 101 || b[j] === 69))) return false;
        this.timestamp = value;
        i = j;
      } else return false;
      i = skipSpaceBytes(b, i, n);
      if (i >= n) return false;
      const sep = b[i];
      if (sep === COMMA) {
        i = skipSpaceBytes(b, i + 1, n);
        continue;
      }
      if (sep === CLOSE_BRACE && skipSpaceBytes(b, i + 1, n) === n) break;
      return false;
    }
    // The schema's checks (as checkedEvent makes them), each made once per interned string.
    if (name === undefined || !this.names.passes(this.nameKey, name, isPlainName)) return false;
    if (userText === undefined || (seen & (1 << TIMESTAMP)) === 0) return false;
    this.name = name;
    this.userText = userText;
    this.accountText = accountText;
    this.properties = properties;
    if (!hasId) {
      const userId = this.userId;
      const accountId = this.accountId;
      // An event without an id is known by a hash of its whole content: read the whole properties object for it.
      const full =
        this.keep !== undefined && properties !== undefined
          ? (JSON.parse(utf8(b, this.propsStart, this.propsEnd)) as Record<string, unknown>)
          : properties;
      this.eventId = contentEventId({ name, userId, accountId, timestamp: this.timestamp, properties: full });
    }
    return true;
  }

  /**
   * The event id string at `i` (after its quote): ASCII as bytes [idStart, idEnd) with the schema's checks made on
   * them, anything else decoded into `eventId`; false if the validating path must read it. Sets `stringEnd`.
   */
  private readEventId(b: Uint8Array, i: number, n: number): boolean {
    let high = 0;
    let k = i;
    for (; k < n; k++) {
      const c = b[k]!;
      if (c === QUOTE) break;
      if (c === 92 || c < 32 || c === 127) return false;
      high |= c;
    }
    if (k >= n) return false;
    stringEnd = k;
    if (high >= 0x80) {
      const id = utf8(b, i, k);
      if (!isPlainId(id)) return false;
      this.eventId = id;
      return true;
    }
    if (!isPlainAsciiId(b, i, k)) return false;
    this.idStart = i;
    this.idEnd = k;
    return true;
  }

  /**
   * The `properties` object opening at `i` into `this.props`; the index after its `}`, or −1. With kept keys, an
   * object holding none of them is the shared NO_PROPERTIES (nothing to build: most events of most models).
   */
  private readProperties(b: Uint8Array, i: number, n: number): number {
    const keepTable = this.keepTable;
    let props: Record<string, unknown> | undefined = keepTable === null ? {} : undefined;
    i = skipSpaceBytes(b, i + 1, n);
    if (i < n && b[i] === CLOSE_BRACE) {
      this.props = props ?? NO_PROPERTIES;
      return i + 1;
    }
    for (;;) {
      if (i >= n || b[i] !== QUOTE) return -1;
      let key: string | undefined;
      if (keepTable === null) {
        key = this.keys.read(b, i + 1, n);
        if (key === undefined || key === '__proto__') return -1;
        i = stringEnd + 1;
      } else {
        // Only a kept key is made a string; the others are found not kept from their bytes.
        const keyEnd = plainStringEndBytes(b, i + 1, n);
        if (keyEnd < 0) return -1;
        const kept = keepTable.ofBytes(b, i + 1, keyEnd);
        if (kept !== 0) {
          key = keepTable.keyOf(kept);
          if (key === '__proto__') return -1;
        }
        i = keyEnd + 1;
      }
      i = skipSpaceBytes(b, i, n);
      if (i >= n || b[i] !== COLON) return -1;
      i = skipSpaceBytes(b, i + 1, n);
      if (key !== undefined) {
        const value = this.readValue(b, i, n);
        if (value === INVALID) return -1;
        // A repeated key: the last one wins, in the first one's place, as in JSON.parse.
        props ??= {};
        props[key] = value;
        i = this.end;
      } else {
        i = skipValueBytes(b, i, n, 1);
        if (i < 0) return -1;
      }
      i = skipSpaceBytes(b, i, n);
      if (i >= n) return -1;
      const sep = b[i];
      if (sep === COMMA) {
        i = skipSpaceBytes(b, i + 1, n);
        continue;
      }
      if (sep === CLOSE_BRACE) {
        this.props = props ?? NO_PROPERTIES;
        return i + 1;
      }
      return -1;
    }
  }

  /** The JSON value at `i` as JSON.parse reads it (INVALID if it is not valid JSON); `this.end` after it. */
  private readValue(b: Uint8Array, i: number, n: number): unknown {
    if (i >= n) return INVALID;
    const c = b[i]!;
    if (c === QUOTE) {
      const value = this.values.read(b, i + 1, n);
      if (stringEnd >= 0) {
        this.end = stringEnd + 1;
        return value;
      }
    } else if (c === MINUS || (c >= 48 && c <= 57)) {
      const end = numberEndBytes(b, i, n);
      if (end < 0) return INVALID;
      this.end = end;
      if (end - i <= 15) {
        // Up to 15 plain digits: exact in a double, computed here; anything else as JSON.parse converts it.
        let value = 0;
        let k = i;
        for (; k < end; k++) {
          const d = b[k]! - 48;
          if (d < 0 || d > 9) break;
          value = value * 10 + d;
        }
        if (k === end) return value;
      }
      return Number(latin1(b, i, end));
    } else if (c === 116 /* t */ && matchesBytes(b, i, n, 'true')) {
      this.end = i + 4;
      return true;
    } else if (c === 102 /* f */ && matchesBytes(b, i, n, 'false')) {
      this.end = i + 5;
      return false;
    } else if (c === 110 /* n */ && matchesBytes(b, i, n, 'null')) {
      this.end = i + 4;
      return null;
    } else if (c !== OPEN_BRACE && c !== OPEN_BRACKET) return INVALID;
    // A string with escapes, an object or an array: checked here, built by JSON.parse.
    const end = skipValueBytes(b, i, n, 1);
    if (end < 0) return INVALID;
    this.end = end;
    try {
      return JSON.parse(utf8(b, i, end));
    } catch {
      return INVALID; // not expected after the check above; the validating path then reads the line
    }
  }
}

const INVALID = Symbol('invalid');

/** A key not looked up yet (EventLineScanner.userKey). */
const UNRESOLVED = -3;

/** Set by idStringEnd: the OR of the string's bytes (≥ 0x80: not ASCII) and its FNV-1a hash (Interner's). */
let idHigh = 0;
let idHash = 0;

/**
 * The end (closing quote) of the id string starting at `i` (after its quote), −1 if it has an escape, a control
 * character or DEL, or no end (the validating path reads those). Sets idHigh and idHash.
 */
function idStringEnd(b: Uint8Array, i: number, n: number): number {
  let h = 0x811c9dc5 | 0;
  let high = 0;
  for (let k = i; k < n; k++) {
    const c = b[k]!;
    if (c === QUOTE) {
      idHigh = high;
      idHash = h;
      return k;
    }
    if (c === 92 || c < 32 || c === 127) return -1;
    high |= c;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return -1;
}

/**
 * The id string at `i` (after its quote), checked as isPlainId checks it, with `stringEnd` at its closing quote:
 * null when it is ASCII (its bytes [i, stringEnd) and idHash say it all: no string is made), the decoded string when
 * it is not, undefined when the validating path must read it (escapes, control characters, refused by the check).
 */
function readId(b: Uint8Array, i: number, n: number): string | null | undefined {
  const end = idStringEnd(b, i, n);
  if (end < 0) return undefined;
  stringEnd = end;
  if (idHigh < 0x80) return isPlainAsciiId(b, i, end) ? null : undefined;
  const text = utf8(b, i, end);
  return isPlainId(text) ? text : undefined;
}

/** What isPlainId checks, on ASCII bytes [i, k) without control characters or DEL (the callers refused those). */
function isPlainAsciiId(b: Uint8Array, i: number, k: number): boolean {
  return k > i && k - i <= MAX_ID_BYTES && b[i] !== 32 && b[k - 1] !== 32;
}

/**
 * The properties of a line whose object holds none of the kept keys (scanFields): one shared, frozen empty object, as
 * a run reads it (no key present), instead of one object per event. `event()` gives a fresh one.
 */
const NO_PROPERTIES: Record<string, unknown> = Object.freeze({});

/** Where the string read by the last string-reading call ended (its closing quote), −1 if it could not be read. */
let stringEnd = -1;

/** The native fields (docs/data-model.md) by key; each field's number n is bit 1 << n of `seen`. */
const FIELDS = new KeyTable(['eventId', 'name', 'userId', 'accountId', 'timestamp', 'properties']);
const {
  eventId: EVENT_ID,
  name: NAME,
  userId: USER_ID,
  accountId: ACCOUNT_ID,
  timestamp: TIMESTAMP,
  properties: PROPERTIES,
} = FIELDS.code;
/**
 * Each field's key as the bytes `"<key>":` (see EventLineScanner.order), by field number: its length and the
 * little-endian 32-bit words at offsets 0, 4, … and length − 4 (overlapping the one before), compared a word at a time.
 */
interface FieldPattern {
  length: number;
  offsets: Int32Array;
  words: Int32Array;
}
const FIELD_PATTERNS: (FieldPattern | null)[] = [
  null,
  ...FIELDS.keys.map((key) => {
    const bytes = Buffer.from(`"${key}":`, 'latin1');
    const offsets: number[] = [];
    for (let at = 0; at + 4 < bytes.length; at += 4) offsets.push(at);
    offsets.push(bytes.length - 4);
    return {
      length: bytes.length,
      offsets: Int32Array.from(offsets),
      words: Int32Array.from(offsets, (at) => bytes.readInt32LE(at)),
    };
  }),
];

function latin1(b: Uint8Array, start: number, end: number): string {
  return (b as Buffer).latin1Slice(start, end);
}

function utf8(b: Uint8Array, start: number, end: number): string {
  return (b as Buffer).utf8Slice(start, end);
}

/** What Interner.lookup answers for a string it cannot read (escapes, control characters, no closing quote). */
const INVALID_STRING = -2;

/** Slot word 1 (see Interner.table): the key + 1 in the low bits, then flags. */
const KEY_MASK = (1 << 28) - 1;
/** The string is longer than the 8 bytes kept inline. */
const LONG = 1 << 28;
/** The string's verdict (Interner.passesAt): 0 not checked yet, 1 passed, 2 failed. */
const VERDICT_SHIFT = 29;

/**
 * Strings that repeat, by their bytes: the same string each time, with a dense key (0, 1, 2, … in the order first
 * seen). Open addressing on an FNV-1a hash computed while the string is scanned for its end; a lookup compares
 * against a packed copy of the bytes (one compact array, not the string objects wherever they were allocated). Only
 * ASCII strings are kept (a byte per code unit), and at most `limit` of them (past that, strings are decoded as
 * they come, without a key).
 */
export class Interner {
  /** The strings by key. */
  private readonly strings: string[] = [];
  /** The key of the string the last `read` returned, or −1 (not interned); `ascii`: whether it was ASCII. */
  key = -1;
  ascii = false;
  /**
   * Slots of 4: [hash, key + 1 with the LONG flag and the verdict, its first 4 bytes, the next 4]; 0 in the second
   * marks a free slot. A short id is found, and its check answered, without reading anything else.
   */
  private table: Int32Array;
  private mask: number;
  /** The slot of the last string looked up, or −1 (not interned). */
  private slot = -1;
  /** Each key's bytes, back to back: key k's are [starts[k], starts[k + 1]). */
  private bytes: Uint8Array;
  private starts: Int32Array;

  constructor(
    size: number,
    private readonly limit = 1 << 21,
  ) {
    this.table = int32Array(4 * size);
    this.mask = size - 1;
    // Written before read: not zeroed when it comes from the pool (starts[0] must be 0: zeroed).
    this.bytes = uint8Array(16 * size, false);
    this.starts = int32Array(size + 1);
  }

  /**
   * The string starting at `i` (after its quote) if it has no escapes or control characters, with `stringEnd` at
   * its closing quote; else undefined with `stringEnd` −1 (a string with escapes: −1 from here; the callers that
   * accept escapes check and parse it themselves).
   */
  read(b: Uint8Array, i: number, n: number): string | undefined {
    const key = this.lookup(b, i, n);
    if (key >= 0) return this.strings[key];
    return key === INVALID_STRING ? undefined : this.text(b, i);
  }

  /**
   * The key of the string starting at `i` (after its quote), interned now if new; −1 for a string without a key
   * (not ASCII, or past the limit: `text` decodes it); INVALID_STRING for one with escapes or control characters
   * (the callers that accept those check and parse it themselves). Sets `stringEnd` (−1 when invalid).
   */
  lookup(b: Uint8Array, i: number, n: number): number {
    let h = 0x811c9dc5 | 0;
    let high = 0;
    let k = i;
    this.key = -1;
    this.slot = -1;
    for (; k < n; k++) {
      const c = b[k]!;
      if (c === QUOTE) break;
      if (c === 92 || c < 32) {
        stringEnd = -1;
        return INVALID_STRING;
      }
      high |= c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (k >= n) {
      stringEnd = -1;
      return INVALID_STRING;
    }
    stringEnd = k;
    this.ascii = high < 0x80;
    if (!this.ascii) return -1;
    return this.lookupAscii(b, i, k, h);
  }

  /** The slot `lookupAscii` of hash `h` reads first, read (its value means nothing; see EventFields#touchUserKey). */
  touch(h: number): number {
    return this.table[4 * ((h ^ (h >>> 15)) & this.mask) + 1]!;
  }

  /** The key of ASCII bytes [i, k) of `b`, whose FNV-1a hash is `h`, interned now if new; −1 past the limit. */
  lookupAscii(b: Uint8Array, i: number, k: number, h: number): number {
    this.key = -1;
    this.slot = -1;
    const length = k - i;
    // The first 8 bytes, zero-padded (a kept string has no NUL, so for strings of up to 8 bytes these say all).
    let w0 = 0;
    let w1 = 0;
    for (let j = 0; j < length && j < 4; j++) w0 |= b[i + j]! << (8 * j);
    for (let j = 4; j < length && j < 8; j++) w1 |= b[i + j]! << (8 * (j - 4));
    const table = this.table;
    let slot = (h ^ (h >>> 15)) & this.mask;
    for (; ; slot = (slot + 1) & this.mask) {
      const at = 4 * slot;
      const stored = table[at + 1]!;
      if (stored === 0) break;
      if (table[at] !== h || table[at + 2] !== w0 || table[at + 3] !== w1) continue;
      const key = (stored & KEY_MASK) - 1;
      if ((stored & LONG) === 0) {
        // Short on both sides: the inline bytes are the whole string (no look at the packed copy).
        if (length > 8) continue;
        this.key = key;
        this.slot = slot;
        return key;
      }
      if (length <= 8) continue;
      const start = this.starts[key]!;
      if (this.starts[key + 1]! - start !== length) continue;
      const bytes = this.bytes;
      let j = 8;
      while (j < length && bytes[start + j] === b[i + j]) j++;
      if (j === length) {
        this.key = key;
        this.slot = slot;
        return key;
      }
    }
    const key = this.strings.length;
    if (key >= this.limit) return -1;
    this.keep(key, b, i, k);
    this.strings.push(latin1(b, i, k));
    const at = 4 * slot;
    table[at] = h;
    table[at + 1] = (key + 1) | (length > 8 ? LONG : 0);
    table[at + 2] = w0;
    table[at + 3] = w1;
    this.key = key;
    this.slot = slot;
    if (2 * (key + 1) > this.mask) this.grow();
    return key;
  }

  /** The text of the string the last `lookup` read, starting at `i` (for one without a key). */
  text(b: Uint8Array, i: number): string {
    return this.ascii ? latin1(b, i, stringEnd) : utf8(b, i, stringEnd);
  }

  /** The string of key `key`. */
  stringOf(key: number): string {
    return this.strings[key]!;
  }

  /**
   * Whether the string the last `lookup` read passes `check` (always the same check for one interner): asked once
   * per interned string, its verdict kept in its slot. `text` is the string when it has no key (checked each time).
   */
  passesAt(text: string | null, check: (s: string) => boolean): boolean {
    const slot = this.slot;
    if (slot < 0) return check(text ?? this.strings[this.key]!);
    const at = 4 * slot + 1;
    const stored = this.table[at]!;
    let verdict = stored >>> VERDICT_SHIFT;
    if (verdict === 0) {
      verdict = check(this.strings[(stored & KEY_MASK) - 1]!) ? 1 : 2;
      this.table[at] = stored | (verdict << VERDICT_SHIFT);
    }
    return verdict === 1;
  }

  /** Whether `s` (of key `key`, or −1) passes `check`, asked once per key (the last string looked up). */
  passes(key: number, s: string, check: (s: string) => boolean): boolean {
    return key < 0 ? check(s) : this.passesAt(s, check);
  }

  /** Copy bytes [i, k) of `b` in as key `key`'s. */
  private keep(key: number, b: Uint8Array, i: number, k: number): void {
    if (key + 2 > this.starts.length) {
      const starts = new Int32Array(2 * this.starts.length);
      starts.set(this.starts);
      this.starts = starts;
    }
    const at = this.starts[key]!;
    if (at + k - i > this.bytes.length) {
      const bytes = new Uint8Array(Math.max(2 * this.bytes.length, at + k - i));
      bytes.set(this.bytes.subarray(0, at));
      this.bytes = bytes;
    }
    // A loop, not set(subarray): a subarray of a Buffer is a Buffer object per new string.
    const bytes = this.bytes;
    for (let j = i; j < k; j++) bytes[at + j - i] = b[j]!;
    this.starts[key + 1] = at + k - i;
  }

  /** Twice the slots; `slot` follows the last string looked up. */
  private grow(): void {
    const old = this.table;
    const size = old.length / 2; // twice the slots
    const mask = size - 1;
    const table = int32Array(4 * size);
    const last = 4 * this.slot;
    for (let k = 0; k < old.length; k += 4) {
      if (old[k + 1] === 0) continue;
      const h = old[k]!;
      let slot = (h ^ (h >>> 15)) & mask;
      while (table[4 * slot + 1] !== 0) slot = (slot + 1) & mask;
      // Four plain writes: a subarray per id would be an object each.
      const at = 4 * slot;
      table[at] = h;
      table[at + 1] = old[k + 1]!;
      table[at + 2] = old[k + 2]!;
      table[at + 3] = old[k + 3]!;
      if (k === last) this.slot = slot;
    }
    this.table = table;
    this.mask = mask;
    giveBack([old]);
  }

  /**
   * Give the tables' memory back for later readers (array-pool.ts). Strings by key stay (`stringOf`); nothing is
   * looked up after.
   */
  release(): void {
    giveBack([this.table, this.bytes, this.starts]);
    this.table = new Int32Array(4);
    this.mask = 0;
    this.bytes = EMPTY;
    this.starts = new Int32Array(1);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The `YYYY-MM-DDT` part of a timestamp at `i` (see EventLineScanner.utcInstant): days since 1970-01-01, or −1 if it
 * is not a valid date from 1970 on.
 */
function utcDayBytes(b: Uint8Array, i: number): number {
  if (b[i + 4] !== 45 || b[i + 7] !== 45 || b[i + 10] !== 84) return -1;
  const year = digitsAt(b, i, 4);
  const month = digitsAt(b, i + 5, 2);
  const day = digitsAt(b, i + 8, 2);
  if (!(year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) return -1;
  const month0 = (year - 1970) * 12 + month - 1;
  const monthStart = month0 < MONTH_DAYS.length ? MONTH_DAYS[month0]! : Date.UTC(year, month - 1) / 86_400_000;
  return monthStart + day - 1;
}

/**
 * The `THH:MM:SS[.sss]Z"` part of such a timestamp at `i` (the quote after it at i + 20 or i + 24): ms since the
 * day's start, or −1 if it is not one; sets `stringEnd` to the closing quote.
 */
function timeOfDayBytes(b: Uint8Array, i: number, n: number): number {
  let length: number;
  if (i + 20 < n && b[i + 20] === QUOTE) length = 20;
  else if (i + 24 < n && b[i + 24] === QUOTE) length = 24;
  else return -1;
  stringEnd = i + length;
  if (b[i + length - 1] !== 90 /* Z */ || b[i + 13] !== 58 || b[i + 16] !== 58) return -1;
  const hour = digitsAt(b, i + 11, 2);
  const minute = digitsAt(b, i + 14, 2);
  const second = digitsAt(b, i + 17, 2);
  let ms = 0;
  if (length === 24) {
    if (b[i + 19] !== 46 /* . */) return -1;
    ms = digitsAt(b, i + 20, 3);
    if (ms < 0) return -1;
  }
  if (!(hour >= 0 && hour <= 23) || !(minute >= 0 && minute <= 59 && second >= 0 && second <= 59)) return -1;
  return hour * 3_600_000 + minute * 60_000 + second * 1000 + ms;
}

/** Days from 1970-01-01 to the first of each month from 1970 to 2199 (utcDayBytes adds the rest without Date.UTC). */
const MONTH_DAYS = Int32Array.from(
  { length: (2200 - 1970) * 12 },
  (_, k) => Date.UTC(1970 + Math.floor(k / 12), k % 12) / 86_400_000,
);

function digitsAt(b: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let k = at; k < at + count; k++) {
    const d = b[k]! - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

declare global {
  // ES2024, in every Node this project supports (>= 20); the TypeScript lib in use predates it.
  interface String {
    isWellFormed(): boolean;
  }
  // Node's Buffer has these (what toString('latin1' | 'utf8', start, end) calls), without the argument checks.
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
  }
}
