import type { ScoringEvent } from '../domain/event.js';
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
import { checkedEvent, daysInMonth, parseEventText } from './event-line.js';

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
 * and skipped. Names, ids and property keys that repeat are interned: the same string object each time, with its
 * hash already computed for the engine's maps.
 *
 * `scan` answers undefined for any line it cannot prove it read exactly (escapes in a key or in an id, a repeated
 * or unknown top-level key, unusual numbers, nesting deeper than 64, anything invalid): the caller then decodes
 * the line and takes the validating path (JSON.parse + the schema), which also names what is wrong. So the events
 * are always exactly those of that path, with `properties` cut down to the keys asked for.
 */
export class EventLineScanner {
  private readonly names: Interner;
  private readonly ids: Interner;
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
   * `keep`: the property keys to build (undefined: all of them, exactly as JSON.parse builds the object).
   * `internLimit`: at most this many strings of each kind are interned (default 2M), past it they are decoded as
   * they come.
   */
  constructor(
    private readonly keep?: ReadonlySet<string> | undefined,
    options: { internLimit?: number | undefined } = {},
  ) {
    const limit = options.internLimit ?? 1 << 21;
    this.names = new Interner(1 << 10, limit);
    this.ids = new Interner(1 << 14, limit);
    this.keys = new Interner(1 << 8, limit);
    this.values = new Interner(1 << 10, Math.min(limit, 1 << 14));
  }

  /** The event on bytes [i, n) of `b`, or undefined when the validating path must read the line. */
  scan(b: Uint8Array, i: number, n: number): ScoringEvent | undefined {
    let eventId: string | undefined;
    let name: string | undefined;
    let userId: string | undefined;
    let accountId: string | undefined;
    let timestamp: string | number | undefined;
    let properties: Record<string, unknown> | undefined;
    let seen = 0;
    i = skipSpaceBytes(b, i, n);
    if (i >= n || b[i] !== OPEN_BRACE) return undefined;
    i = skipSpaceBytes(b, i + 1, n);
    for (;;) {
      if (i >= n || b[i] !== QUOTE) return undefined; // `{}` too: the validating path names the missing fields
      const keyEnd = plainStringEndBytes(b, i + 1, n);
      const field = keyEnd < 0 ? 0 : FIELDS.ofBytes(b, i + 1, keyEnd);
      if (field === 0 || (seen & (1 << field)) !== 0) return undefined;
      seen |= 1 << field;
      i = skipSpaceBytes(b, keyEnd + 1, n);
      if (i >= n || b[i] !== COLON) return undefined;
      i = skipSpaceBytes(b, i + 1, n);
      const c = b[i];
      if (c === QUOTE) {
        if (field === NAME) name = this.names.read(b, i + 1, n);
        else if (field === USER_ID || field === ACCOUNT_ID) {
          const id = this.ids.read(b, i + 1, n);
          if (field === USER_ID) userId = id;
          else accountId = id;
        } else if (field === EVENT_ID) eventId = readPlainString(b, i + 1, n);
        else if (field === TIMESTAMP) {
          const ms = utcInstantBytes(b, i + 1, n);
          timestamp = ms >= 0 ? ms : readPlainString(b, i + 1, n);
        } else return undefined; // properties as a string: the schema says why not
        if (stringEnd < 0) return undefined;
        i = stringEnd + 1;
      } else if (field === PROPERTIES && c === OPEN_BRACE) {
        this.propsStart = i;
        i = this.readProperties(b, i, n);
        if (i < 0) return undefined;
        this.propsEnd = i;
        properties = this.props;
      } else if (field === TIMESTAMP && c !== undefined && c >= 49 && c <= 57) {
        // A positive integer without sign, fraction or exponent, exact as a double (else the validating path).
        let j = i;
        let value = 0;
        for (let d = b[j]!; j < n && d >= 48 && d <= 57; d = b[++j]!) value = value * 10 + (d - 48);
        if (j - i > 15 || (j < n && (b[j] === 46 || b[j] === 101 || b[j] === 69))) return undefined;
        timestamp = value;
        i = j;
      } else return undefined;
      i = skipSpaceBytes(b, i, n);
      if (i >= n) return undefined;
      const sep = b[i];
      if (sep === COMMA) {
        i = skipSpaceBytes(b, i + 1, n);
        continue;
      }
      if (sep === CLOSE_BRACE && skipSpaceBytes(b, i + 1, n) === n) break;
      return undefined;
    }
    if (eventId === undefined && this.keep !== undefined && properties !== undefined) {
      // An event without an id is known by a hash of its whole content: read the whole properties object for it.
      const full = JSON.parse(utf8(b, this.propsStart, this.propsEnd)) as Record<string, unknown>;
      const event = checkedEvent(undefined, name, userId, accountId, timestamp, full);
      if (event !== undefined) event.properties = properties;
      return event;
    }
    return checkedEvent(eventId, name, userId, accountId, timestamp, properties);
  }

  /** The `properties` object opening at `i` into `this.props`; the index after its `}`, or −1. */
  private readProperties(b: Uint8Array, i: number, n: number): number {
    const keep = this.keep;
    const props: Record<string, unknown> = {};
    i = skipSpaceBytes(b, i + 1, n);
    if (i < n && b[i] === CLOSE_BRACE) {
      this.props = props;
      return i + 1;
    }
    for (;;) {
      if (i >= n || b[i] !== QUOTE) return -1;
      const key = this.keys.read(b, i + 1, n);
      if (key === undefined || key === '__proto__') return -1;
      i = skipSpaceBytes(b, stringEnd + 1, n);
      if (i >= n || b[i] !== COLON) return -1;
      i = skipSpaceBytes(b, i + 1, n);
      if (keep === undefined || keep.has(key)) {
        const value = this.readValue(b, i, n);
        if (value === INVALID) return -1;
        // A repeated key: the last one wins, in the first one's place, as in JSON.parse.
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
        this.props = props;
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

function latin1(b: Uint8Array, start: number, end: number): string {
  return (b as Buffer).latin1Slice(start, end);
}

function utf8(b: Uint8Array, start: number, end: number): string {
  return (b as Buffer).utf8Slice(start, end);
}

/** A string without escapes or control characters starting at `i` (after its quote); sets `stringEnd`. */
function readPlainString(b: Uint8Array, i: number, n: number): string | undefined {
  let high = 0;
  for (let k = i; k < n; k++) {
    const c = b[k]!;
    if (c === QUOTE) {
      stringEnd = k;
      return high < 0x80 ? latin1(b, i, k) : utf8(b, i, k);
    }
    if (c === 92 || c < 32) break;
    high |= c;
  }
  stringEnd = -1;
  return undefined;
}

/**
 * Strings that repeat, by their bytes: the same string each time. Open addressing on an FNV-1a hash computed
 * while the string is scanned for its end; only ASCII strings are kept (compared byte for code unit), and at most
 * `limit` of them (past that, strings are decoded as they come).
 */
class Interner {
  private hashes: Int32Array;
  private strings: (string | undefined)[];
  private mask: number;
  private count = 0;

  constructor(
    size: number,
    private readonly limit = 1 << 21,
  ) {
    this.hashes = new Int32Array(size);
    this.strings = new Array<string | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  /**
   * The string starting at `i` (after its quote) if it has no escapes or control characters, with `stringEnd` at
   * its closing quote; else undefined with `stringEnd` −1 (a string with escapes: −1 from here; the callers that
   * accept escapes check and parse it themselves).
   */
  read(b: Uint8Array, i: number, n: number): string | undefined {
    let h = 0x811c9dc5 | 0;
    let high = 0;
    let k = i;
    for (; k < n; k++) {
      const c = b[k]!;
      if (c === QUOTE) break;
      if (c === 92 || c < 32) {
        stringEnd = -1;
        return undefined;
      }
      high |= c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (k >= n) {
      stringEnd = -1;
      return undefined;
    }
    stringEnd = k;
    if (high >= 0x80) return utf8(b, i, k);
    const length = k - i;
    const strings = this.strings;
    const hashes = this.hashes;
    let slot = h & this.mask;
    for (;;) {
      const s = strings[slot];
      if (s === undefined) break;
      if (hashes[slot] === h && s.length === length) {
        let same = true;
        for (let j = 0; j < length; j++) {
          if (s.charCodeAt(j) !== b[i + j]) {
            same = false;
            break;
          }
        }
        if (same) return s;
      }
      slot = (slot + 1) & this.mask;
    }
    const s = latin1(b, i, k);
    if (this.count >= this.limit) return s;
    strings[slot] = s;
    hashes[slot] = h;
    if (++this.count * 2 > strings.length) this.grow();
    return s;
  }

  private grow(): void {
    const old = this.strings;
    const oldHashes = this.hashes;
    const size = old.length * 2;
    this.strings = new Array<string | undefined>(size).fill(undefined);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
    for (let k = 0; k < old.length; k++) {
      const s = old[k];
      if (s === undefined) continue;
      let slot = oldHashes[k]! & this.mask;
      while (this.strings[slot] !== undefined) slot = (slot + 1) & this.mask;
      this.strings[slot] = s;
      this.hashes[slot] = oldHashes[k]!;
    }
  }
}

/**
 * A quoted `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` at `i` (after the quote) read from its digits:
 * epoch ms, or −1 for anything else (then the string takes the general path). The same checks and result as
 * parseUtcInstant, which gives exactly what Date.parse gives for these forms.
 */
function utcInstantBytes(b: Uint8Array, i: number, n: number): number {
  let length: number;
  if (i + 20 < n && b[i + 20] === QUOTE) length = 20;
  else if (i + 24 < n && b[i + 24] === QUOTE) length = 24;
  else return -1;
  stringEnd = i + length;
  if (b[i + length - 1] !== 90 /* Z */ || b[i + 4] !== 45 || b[i + 7] !== 45 || b[i + 10] !== 84) return -1;
  if (b[i + 13] !== 58 || b[i + 16] !== 58) return -1;
  const year = digitsAt(b, i, 4);
  const month = digitsAt(b, i + 5, 2);
  const day = digitsAt(b, i + 8, 2);
  const hour = digitsAt(b, i + 11, 2);
  const minute = digitsAt(b, i + 14, 2);
  const second = digitsAt(b, i + 17, 2);
  let ms = 0;
  if (length === 24) {
    if (b[i + 19] !== 46 /* . */) return -1;
    ms = digitsAt(b, i + 20, 3);
    if (ms < 0) return -1;
  }
  if (
    !(year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) ||
    !(hour >= 0 && hour <= 23) ||
    !(minute >= 0 && minute <= 59 && second >= 0 && second <= 59)
  )
    return -1;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

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
