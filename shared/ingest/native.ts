import { contentEventId, NativeEventSchema, type ScoringEvent, toEpochMillis } from '../domain/event.js';
import {
  checkEventSize,
  checkTimestamp,
  emptyBatch,
  isPlainObject,
  type NormalisedBatch,
  type NormaliseContext,
} from './batch.js';
import { BODY_PATH, type FieldError, InvalidBodyError, PayloadTooLargeError } from './errors.js';
import { describeValue, parseOptions, toFieldErrors } from './issues.js';

const EVENT_FIELDS = Object.keys(NativeEventSchema.shape);

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
    .map((key) => ({ path: key, message: 'is not a known field; the body holds only "events"' }));
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
  const max = ctx.limits.maxEventsPerRequest;
  if (events.length > max) {
    throw new PayloadTooLargeError(`A request may carry at most ${max} events; split the batch.`, [
      { path: 'events', message: `holds ${events.length} events; at most ${max} a request` },
    ]);
  }

  const batch = emptyBatch(events.length, 'events');
  for (let index = 0; index < events.length; index++) {
    const result = normaliseNativeEvent(events[index], ctx);
    if ('event' in result) batch.events.push(result.event);
    else batch.rejected.push({ index, errors: result.errors });
  }
  return batch;
}

/** One native event: validated, its timestamp checked, its id filled in from its content when absent. */
export function normaliseNativeEvent(
  raw: unknown,
  ctx: NormaliseContext,
): { event: ScoringEvent } | { errors: FieldError[] } {
  const sizeError = checkEventSize(raw, ctx);
  if (sizeError) return { errors: [sizeError] };
  const parsed = NativeEventSchema.safeParse(raw, parseOptions);
  if (!parsed.success) {
    if (!isPlainObject(raw)) return { errors: [{ path: '', message: `must be an object, not ${describeValue(raw)}` }] };
    return { errors: toFieldErrors(parsed.error.issues, EVENT_FIELDS) };
  }
  const data = parsed.data;
  const timestamp = toEpochMillis(data.timestamp);
  const timestampError = checkTimestamp(timestamp, 'timestamp', ctx);
  if (timestampError) return { errors: [timestampError] };

  const event: ScoringEvent = { eventId: '', name: data.name, userId: data.userId, timestamp };
  if (data.accountId !== undefined) event.accountId = data.accountId;
  if (data.properties !== undefined) event.properties = data.properties;
  event.eventId = data.eventId ?? contentEventId(event);
  return { event };
}
