import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { contentEventId, NativeEventSchema, type ScoringEvent, toEpochMillis } from '../domain/event.js';

export interface JsonlReadIssue {
  line: number;
  message: string;
}

export interface JsonlReadOptions {
  /** Events per yielded page. */
  pageSize?: number | undefined;
  /** Called for each line that is not a valid native event; reading goes on. */
  onIssue?: ((issue: JsonlReadIssue) => void) | undefined;
}

/**
 * Stream native events (PRODUCT §5, one JSON object a line) from a file in pages. Lines end at `\n`, `\r\n` or a
 * lone `\r`; blank lines are skipped but counted, so issue line numbers match an editor's. A leading byte order
 * mark is ignored. Lines are read in large chunks and split by hand (no per-line stream events), and parsed with
 * a fast path for the common well-formed case that falls back to the zod schema to name the field when
 * something is off.
 */
export async function* readJsonlEvents(file: string, options: JsonlReadOptions = {}): AsyncGenerator<ScoringEvent[]> {
  const pageSize = options.pageSize ?? 10_000;
  const decoder = new StringDecoder('utf8');
  let page: ScoringEvent[] = [];
  let lineNo = 0;
  let rest = '';
  let first = true;

  const take = (line: string): void => {
    lineNo++;
    if (line.length === 0) return;
    const event = parseEventLine(line);
    if (typeof event === 'string') {
      if (line.trim() !== '') options.onIssue?.({ line: lineNo, message: event });
      return;
    }
    page.push(event);
  };
  /** A line as split at `\n`: drop a trailing `\r`; a lone `\r` inside also ends a line. */
  const takeLine = (line: string): void => {
    const cr = line.indexOf('\r');
    if (cr < 0) return take(line);
    const parts = line.split('\r');
    if (parts[parts.length - 1] === '') parts.pop();
    for (const part of parts) take(part);
  };

  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    let text = rest + decoder.write(chunk as Buffer);
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      takeLine(text.slice(start, nl));
      start = nl + 1;
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) takeLine(rest);
  if (page.length > 0) yield page;
}

/** One line to an event, or a message naming what is wrong. */
export function parseEventLine(line: string): ScoringEvent | string {
  const scanned = scanFlatLine(line);
  if (scanned !== undefined) {
    const fast = fastEvent(scanned);
    if (fast) return fast;
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
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

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** The well-formed common case without building zod issues; anything unusual returns undefined for the slow path. */
function fastEvent(value: unknown): ScoringEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const { name, userId, accountId, eventId, timestamp, properties } = v;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || !isTrimmed(name)) return undefined;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256 || !isTrimmed(userId)) return undefined;
  if (accountId !== undefined && (typeof accountId !== 'string' || accountId.length === 0 || !isTrimmed(accountId)))
    return undefined;
  if (eventId !== undefined && (typeof eventId !== 'string' || eventId.length === 0 || !isTrimmed(eventId)))
    return undefined;
  if (properties !== undefined && (typeof properties !== 'object' || properties === null || Array.isArray(properties)))
    return undefined;
  let ts: number;
  if (typeof timestamp === 'number' && Number.isInteger(timestamp) && timestamp >= 0) ts = timestamp;
  else if (typeof timestamp === 'string') {
    ts = parseUtcInstant(timestamp);
    if (Number.isNaN(ts) && ISO_WITH_ZONE.test(timestamp)) ts = Date.parse(timestamp);
  } else return undefined;
  if (Number.isNaN(ts)) return undefined;
  for (const key in v) if (!ALLOWED_KEYS.has(key)) return undefined;
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
 * gives for the forms it accepts (including its roll-over of days past a month's end). Exported for its tests.
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
  if (!(year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59))
    return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
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
 * Read a line of the usual flat shape without JSON.parse: one object whose keys are the native event fields
 * (each at most once), string values without escapes, an integer timestamp or a string, and a `properties`
 * object (handed to JSON.parse on its own). Returns exactly what JSON.parse would for such lines, or undefined
 * for anything else (escapes, other value types, unknown keys, bad syntax), which then takes the JSON.parse path.
 * Exported for its equivalence tests.
 */
export function scanFlatLine(line: string): Record<string, unknown> | undefined {
  const n = line.length;
  let i = skipSpace(line, 0);
  if (line.charCodeAt(i) !== 123 /* { */) return undefined;
  i = skipSpace(line, i + 1);
  const out: Record<string, unknown> = {};
  if (line.charCodeAt(i) === 125 /* } */) return skipSpace(line, i + 1) === n ? out : undefined;
  let seen = 0;
  for (;;) {
    if (line.charCodeAt(i) !== 34 /* " */) return undefined;
    const keyEnd = plainStringEnd(line, i + 1);
    if (keyEnd < 0) return undefined;
    const key = line.slice(i + 1, keyEnd);
    const bit = KEY_BITS.get(key);
    if (bit === undefined || (seen & bit) !== 0) return undefined;
    seen |= bit;
    i = skipSpace(line, keyEnd + 1);
    if (line.charCodeAt(i) !== 58 /* : */) return undefined;
    i = skipSpace(line, i + 1);
    const c = line.charCodeAt(i);
    if (c === 34) {
      const end = plainStringEnd(line, i + 1);
      if (end < 0) return undefined;
      out[key] = line.slice(i + 1, end);
      i = end + 1;
    } else if (bit === PROPERTIES_BIT && c === 123) {
      const end = objectEnd(line, i);
      if (end < 0) return undefined;
      try {
        out[key] = JSON.parse(line.slice(i, end + 1));
      } catch {
        return undefined;
      }
      i = end + 1;
    } else if (bit === TIMESTAMP_BIT && c >= 49 && c <= 57) {
      // A positive integer without sign, fraction or exponent (anything else: JSON.parse decides).
      let j = i + 1;
      for (let d = line.charCodeAt(j); d >= 48 && d <= 57; d = line.charCodeAt(++j));
      const next = line.charCodeAt(j);
      if (next === 46 || next === 101 || next === 69) return undefined;
      out[key] = Number(line.slice(i, j));
      i = j;
    } else return undefined;
    i = skipSpace(line, i);
    const sep = line.charCodeAt(i);
    if (sep === 44 /* , */) {
      i = skipSpace(line, i + 1);
      continue;
    }
    if (sep === 125) return skipSpace(line, i + 1) === n ? out : undefined;
    return undefined;
  }
}

const PROPERTIES_BIT = 32;
const TIMESTAMP_BIT = 16;
const KEY_BITS = new Map([
  ['eventId', 1],
  ['name', 2],
  ['userId', 4],
  ['accountId', 8],
  ['timestamp', TIMESTAMP_BIT],
  ['properties', PROPERTIES_BIT],
]);

/** JSON whitespace: space, tab, line feed, carriage return. */
function skipSpace(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = s.charCodeAt(++i));
  return i;
}

/** Index of the closing quote of a string starting at `i` with no escapes or control characters, else −1. */
function plainStringEnd(s: string, i: number): number {
  for (let c = s.charCodeAt(i); ; c = s.charCodeAt(++i)) {
    if (c === 34) return i;
    if (c === 92 || c < 32 || Number.isNaN(c)) return -1;
  }
}

/** Index of the brace closing the object that opens at `i` (strings and escapes respected), else −1. */
function objectEnd(s: string, i: number): number {
  let depth = 0;
  for (const n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      for (i++; i < n; i++) {
        const q = s.charCodeAt(i);
        if (q === 92) i++;
        else if (q === 34) break;
      }
    } else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i;
  }
  return -1;
}
