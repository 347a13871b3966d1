import { contentEventId, NativeEventSchema, type ScoringEvent, toEpochMillis } from '../domain/event.js';
import { idProblem } from '../domain/input-limits.js';
import { numberEnd, ownCopy, plainStringEnd, skipSpace, skipValue } from '../json/scan.js';

/** One line to an event, or a message naming what is wrong. */
export function parseEventLine(line: string): ScoringEvent | string {
  const scanned = scanEventLine(line);
  if (scanned !== undefined) return scanned;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  return parseEventValue(value);
}

/** A parsed JSON value to an event, or a message naming the first field that is wrong. */
export function parseEventValue(value: unknown): ScoringEvent | string {
  const fast = fastEvent(value);
  if (fast) return fast;
  const parsed = NativeEventSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `${issue.path.join('.') || '(event)'}: ${issue.message}`;
  }
  const e = parsed.data;
  return withId(e.eventId, e.name, e.userId, e.accountId, toEpochMillis(e.timestamp), e.properties);
}

/** The well-formed common case without building zod issues; anything unusual returns undefined for the slow path. */
function fastEvent(value: unknown): ScoringEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  for (const key in v) if (!ALLOWED_KEYS.has(key)) return undefined;
  return checkedEvent(v.eventId, v.name, v.userId, v.accountId, v.timestamp, v.properties);
}

/** The event if every field is plainly valid (what zod would accept unchanged), else undefined. */
export function checkedEvent(
  eventId: unknown,
  name: unknown,
  userId: unknown,
  accountId: unknown,
  timestamp: unknown,
  properties: unknown,
): ScoringEvent | undefined {
  // Each check is the schema's (NativeEventSchema); anything it would change or reject goes to it.
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || !isTrimmed(name)) return undefined;
  if (!isPlainId(userId)) return undefined;
  if (accountId !== undefined && !isPlainId(accountId)) return undefined;
  if (eventId !== undefined && !isPlainId(eventId)) return undefined;
  if (properties !== undefined) {
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return undefined;
    // The schema copies the record key by key: a `__proto__` key would not survive as a key.
    if (Object.hasOwn(properties, '__proto__')) return undefined;
  }
  let ts: number;
  if (typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0) ts = timestamp;
  // Other ISO forms (offsets, other precisions) go to the schema, which checks them exactly.
  else if (typeof timestamp === 'string') ts = parseUtcInstant(timestamp);
  else return undefined;
  if (Number.isNaN(ts)) return undefined;
  return withId(
    eventId as string | undefined,
    name,
    userId,
    accountId as string | undefined,
    ts,
    properties as Record<string, unknown> | undefined,
  );
}

const ALLOWED_KEYS = new Set(['eventId', 'name', 'userId', 'accountId', 'timestamp', 'properties']);

/** Always the same object shape (the engine's hot loop sees one hidden class). */
function withId(
  eventId: string | undefined,
  name: string,
  userId: string,
  accountId: string | undefined,
  timestamp: number,
  properties: Record<string, unknown> | undefined,
): ScoringEvent {
  return {
    eventId: eventId ?? contentEventId({ name, userId, accountId, timestamp, properties }),
    name,
    userId,
    accountId,
    timestamp,
    properties,
  };
}

/** An id the schema accepts unchanged: trimmed, non-empty, within the id limits (docs/api.md#limits). */
function isPlainId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && isTrimmed(id) && idProblem(id) === undefined;
}

/** `s.trim() === s` without allocating in the common case (first and last characters plainly not spaces). */
function isTrimmed(s: string): boolean {
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(s.length - 1);
  if (a > 32 && a < 127 && b > 32 && b < 127) return true;
  return s.trim() === s;
}

/**
 * `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` (what JavaScript, Segment and most SDKs send) read digit
 * by digit; NaN for anything else, which then takes the general ISO 8601 path. Gives exactly what Date.parse
 * gives for the forms it accepts; days past a month's end are NaN (the schema rejects them). Exported for its tests.
 */
export function parseUtcInstant(s: string): number {
  const n = s.length;
  if ((n !== 20 && n !== 24) || s.charCodeAt(n - 1) !== 90 /* Z */) return Number.NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84) return Number.NaN;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return Number.NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  let ms = 0;
  if (n === 24) {
    if (s.charCodeAt(19) !== 46 /* . */) return Number.NaN;
    ms = digits(s, 20, 3);
  }
  // Any NaN propagates; ranges Date.parse rejects or treats specially fall back to it.
  if (
    !(year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) ||
    !(hour <= 23 && minute <= 59 && second <= 59)
  )
    return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** Days in a month of the proleptic Gregorian calendar (what the schema's date check allows). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function digits(s: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Read a line of the usual shape without JSON.parse: one object whose keys are the native event fields (each at
 * most once, written without escapes), string values without escapes, an integer timestamp or a string, and a
 * `properties` object. Gives exactly what JSON.parse followed by the checks of `fastEvent` gives for such lines,
 * or undefined for anything else (escapes, other value types, unknown keys, bad syntax), which then takes the
 * JSON.parse path.
 */
function scanEventLine(line: string): ScoringEvent | undefined {
  const n = line.length;
  let eventId: string | undefined;
  let name: string | undefined;
  let userId: string | undefined;
  let accountId: string | undefined;
  let timestamp: string | number | undefined;
  let properties: Record<string, unknown> | undefined;
  let seen = 0;
  let i = skipSpace(line, 0);
  if (line.charCodeAt(i) !== 123 /* { */) return undefined;
  i = skipSpace(line, i + 1);
  if (line.charCodeAt(i) === 125 /* } */) return undefined; // {} lacks name and userId: the slow path says so
  for (;;) {
    if (line.charCodeAt(i) !== 34 /* " */) return undefined;
    const bit = keyBit(line, i + 1);
    if (bit === 0 || (seen & bit) !== 0) return undefined;
    seen |= bit;
    i = skipSpace(line, i + 2 + KEY_LENGTH[bit]!);
    if (line.charCodeAt(i) !== 58 /* : */) return undefined;
    i = skipSpace(line, i + 1);
    const c = line.charCodeAt(i);
    if (c === 34) {
      const end = plainStringEnd(line, i + 1);
      if (end < 0) return undefined;
      const value = line.slice(i + 1, end);
      if (bit === 1) eventId = ownCopy(value);
      else if (bit === 2) name = value;
      else if (bit === 4) userId = ownCopy(value);
      else if (bit === 8) accountId = ownCopy(value);
      else if (bit === TIMESTAMP_BIT) timestamp = value;
      else return undefined; // properties as a string
      i = end + 1;
    } else if (bit === PROPERTIES_BIT && c === 123) {
      const end = scanProperties(line, i);
      if (end < 0) return undefined;
      properties = scannedProperties;
      i = end + 1;
    } else if (bit === TIMESTAMP_BIT && c >= 49 && c <= 57) {
      // A positive integer without sign, fraction or exponent (anything else: JSON.parse decides).
      let j = i + 1;
      for (let d = line.charCodeAt(j); d >= 48 && d <= 57; d = line.charCodeAt(++j));
      const next = line.charCodeAt(j);
      if (next === 46 || next === 101 || next === 69) return undefined;
      timestamp = Number(line.slice(i, j));
      i = j;
    } else return undefined;
    i = skipSpace(line, i);
    const sep = line.charCodeAt(i);
    if (sep === 44 /* , */) {
      i = skipSpace(line, i + 1);
      continue;
    }
    if (sep === 125 && skipSpace(line, i + 1) === n) break;
    return undefined;
  }
  return checkedEvent(eventId, name, userId, accountId, timestamp, properties);
}

const PROPERTIES_BIT = 32;
const TIMESTAMP_BIT = 16;
const KEY_LENGTH: Record<number, number> = { 1: 7, 2: 4, 4: 6, 8: 9, 16: 9, 32: 10 };

/** Which native field a key starting at `i` (after its opening quote) names, by bit; 0 for any other key. */
function keyBit(s: string, i: number): number {
  switch (s.charCodeAt(i)) {
    case 101:
      return matchKey(s, i, 'eventId', 1);
    case 110:
      return matchKey(s, i, 'name', 2);
    case 117:
      return matchKey(s, i, 'userId', 4);
    case 97:
      return matchKey(s, i, 'accountId', 8);
    case 116:
      return matchKey(s, i, 'timestamp', TIMESTAMP_BIT);
    case 112:
      return matchKey(s, i, 'properties', PROPERTIES_BIT);
    default:
      return 0;
  }
}

function matchKey(s: string, i: number, key: string, bit: number): number {
  return s.startsWith(key, i) && s.charCodeAt(i + key.length) === 34 ? bit : 0;
}

/** The object read by the last successful scanProperties call. */
let scannedProperties: Record<string, unknown> = {};

/**
 * A `properties` object opening at `i`: flat objects (plain string keys; string, number, true, false, null
 * values) are read here, anything nested is handed to JSON.parse whole. Returns the index of the closing brace
 * and leaves the object in `scannedProperties`, or −1.
 */
function scanProperties(s: string, i: number): number {
  const props: Record<string, unknown> = {};
  let at = skipSpace(s, i + 1);
  if (s.charCodeAt(at) === 125) {
    scannedProperties = props;
    return at;
  }
  for (;;) {
    if (s.charCodeAt(at) !== 34) return -1;
    const keyEnd = plainStringEnd(s, at + 1);
    if (keyEnd < 0) return -1;
    const key = s.slice(at + 1, keyEnd);
    if (key === '__proto__') return -1;
    at = skipSpace(s, keyEnd + 1);
    if (s.charCodeAt(at) !== 58) return -1;
    at = skipSpace(s, at + 1);
    const c = s.charCodeAt(at);
    if (c === 34) {
      const end = plainStringEnd(s, at + 1);
      if (end < 0) return -1;
      props[key] = s.slice(at + 1, end);
      at = end + 1;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const end = numberEnd(s, at);
      if (end < 0) return -1;
      props[key] = Number(s.slice(at, end));
      at = end;
    } else if (c === 116 && s.startsWith('true', at)) {
      props[key] = true;
      at += 4;
    } else if (c === 102 && s.startsWith('false', at)) {
      props[key] = false;
      at += 5;
    } else if (c === 110 && s.startsWith('null', at)) {
      props[key] = null;
      at += 4;
    } else if (c === 123 || c === 91) {
      // Nested values: let JSON.parse read the whole object.
      const end = skipValue(s, i);
      if (end < 0) return -1;
      try {
        scannedProperties = JSON.parse(s.slice(i, end)) as Record<string, unknown>;
      } catch {
        return -1;
      }
      return end - 1;
    } else return -1;
    at = skipSpace(s, at);
    const sep = s.charCodeAt(at);
    if (sep === 44) {
      at = skipSpace(s, at + 1);
      continue;
    }
    if (sep === 125) {
      scannedProperties = props;
      return at;
    }
    return -1;
  }
}
