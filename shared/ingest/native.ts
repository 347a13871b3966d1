import { z } from 'zod';
import {
  contentEventId,
  type NativeEvent,
  NativeEventSchema,
  type ScoringEvent,
  toEpochMillis,
} from '../domain/event.js';
import { formatPath } from '../domain/field-errors.js';
import { idProblem, MAX_ID_BYTES, shapeProblem } from '../domain/input-limits.js';
import type { NormaliseContext, NormalisedBatch } from './batch.js';
import { checkEventSize, checkItemCount, checkTimestamp, emptyBatch, isPlainObject } from './batch.js';
import { BODY_PATH, type FieldError, InvalidBodyError } from './errors.js';
import { describeValue, parseOptions, toFieldErrors } from './issues.js';

const EVENT_FIELDS = Object.keys(NativeEventSchema.shape);
const ALLOWED_FIELDS = new Set(EVENT_FIELDS);
/** zod's own ISO date-time pattern (offset required), so the fast path accepts exactly what the schema does. */
const ISO_DATETIME = z.core.regexes.datetime({ offset: true, local: false, precision: null });

/**
 * `POST /v1/events`: `{ "events": [...] }`. Body-level problems throw (400/413); each bad event is rejected on its
 * own with every problem named, and the rest are returned for storage.
 */
export function normaliseNative(body: unknown, ctx: NormaliseContext): NormalisedBatch {
  if (!isPlainObject(body)) {
    throw new InvalidBodyError('The body must be a JSON object of the form { "events": [...] }.', [
      { path: BODY_PATH, message: `must be an object with an "events" array, not ${describeValue(body)}` },
    ]);
  }
  const bodyErrors: FieldError[] = Object.keys(body)
    .filter((key) => key !== 'events')
    .map((key) => ({ path: formatPath([key]), message: 'is not a known field; the body holds only "events"' }));
  const events = body.events;
  if (!Array.isArray(events)) {
    bodyErrors.unshift({
      path: 'events',
      message: events === undefined ? 'is required' : `must be an array of events, not ${describeValue(events)}`,
    });
  } else if (events.length === 0) {
    bodyErrors.unshift({ path: 'events', message: 'must hold at least one event' });
  }
  if (bodyErrors.length > 0 || !Array.isArray(events)) {
    throw new InvalidBodyError('The body must be a JSON object of the form { "events": [...] }.', bodyErrors);
  }
  checkItemCount(events.length, 'events', 'events', ctx);

  const batch = emptyBatch(events.length, 'events');
  for (let index = 0; index < events.length; index++) {
    const result = normaliseNativeEvent(events[index], ctx);
    if ('event' in result) {
      batch.events.push(result.event);
      batch.eventIndex?.push(index);
    } else batch.rejected.push({ index, errors: result.errors });
  }
  return batch;
}

/** One native event: validated, its timestamp checked, its id filled in from its content when absent. */
export function normaliseNativeEvent(
  raw: unknown,
  ctx: NormaliseContext,
): { event: ScoringEvent } | { errors: FieldError[] } {
  const shape = shapeProblem(raw);
  if (shape) return { errors: [shape] };
  const sizeError = checkEventSize(raw, ctx);
  if (sizeError) return { errors: [sizeError] };
  let data = fastNativeEvent(raw);
  if (data === undefined) {
    const parsed = NativeEventSchema.safeParse(raw, parseOptions);
    if (!parsed.success) {
      if (!isPlainObject(raw))
        return { errors: [{ path: '', message: `must be an object, not ${describeValue(raw)}` }] };
      return { errors: toFieldErrors(parsed.error.issues, EVENT_FIELDS) };
    }
    data = parsed.data;
  }
  const timestamp = toEpochMillis(data.timestamp);
  const timestampError = checkTimestamp(timestamp, 'timestamp', ctx);
  if (timestampError) return { errors: [timestampError] };

  const event: ScoringEvent = { eventId: '', name: data.name, userId: data.userId, timestamp };
  if (data.accountId !== undefined) event.accountId = data.accountId;
  if (data.properties !== undefined) event.properties = data.properties;
  event.eventId = data.eventId ?? contentEventId(event);
  return { event };
}

/**
 * The common case without zod: a plain event whose ids and name are printable ASCII at both ends (nothing to
 * trim) and within length. Returns undefined whenever in doubt, and the schema then decides (and explains).
 * A property test checks that everything accepted here is accepted by NativeEventSchema with the same result.
 */
export function fastNativeEvent(raw: unknown): NativeEvent | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  for (const key in r) if (!ALLOWED_FIELDS.has(key)) return undefined;
  const { eventId, name, userId, accountId, timestamp, properties } = r;
  if (!untrimmed(name, 200) || !plainId(userId)) return undefined;
  if (eventId !== undefined && !plainId(eventId)) return undefined;
  if (accountId !== undefined && !plainId(accountId)) return undefined;
  if (typeof timestamp === 'number') {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) return undefined;
  } else if (typeof timestamp !== 'string' || !ISO_DATETIME.test(timestamp)) {
    return undefined;
  }
  if (
    properties !== undefined &&
    (typeof properties !== 'object' || properties === null || Array.isArray(properties))
  ) {
    return undefined;
  }
  const event: NativeEvent = { name, userId, timestamp };
  if (eventId !== undefined) event.eventId = eventId;
  if (accountId !== undefined) event.accountId = accountId;
  if (properties !== undefined) event.properties = properties as Record<string, unknown>;
  return event;
}

/** An id the schema would accept unchanged: nothing to trim, and within the id limits (bytes, characters). */
function plainId(value: unknown): value is string {
  return untrimmed(value, MAX_ID_BYTES) && idProblem(value) === undefined;
}

function untrimmed(value: unknown, max: number): value is string {
  if (typeof value !== 'string') return false;
  const n = value.length;
  if (n === 0 || n > max) return false;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  return first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f;
}
