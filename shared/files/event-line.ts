import { contentEventId, NativeEventSchema, type ScoringEvent, toEpochMillis } from '../domain/event.js';
import { idProblem } from '../domain/input-limits.js';

/** A line the byte reader could not prove (EventLineScanner) to an event, or a message naming what is wrong. */
export function parseEventText(line: string): ScoringEvent | string {
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
  if (!isPlainName(name)) return undefined;
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

/** An event name the schema accepts unchanged: trimmed, non-empty, at most 200 characters. */
export function isPlainName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 200 && isTrimmed(name);
}

/** An id the schema accepts unchanged: trimmed, non-empty, within the id limits (docs/api.md#limits). */
export function isPlainId(id: unknown): id is string {
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
