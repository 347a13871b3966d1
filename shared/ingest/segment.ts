import { z } from 'zod';
import { contentEventId, idSchema, type ScoringEvent } from '../domain/event.js';
import { shapeProblem } from '../domain/input-limits.js';
import type { TraitsUpdate } from '../ports/entity-store.js';
import type { NormaliseContext, NormalisedBatch } from './batch.js';
import { checkEventSize, checkItemCount, checkTimestamp, emptyBatch, isPlainObject } from './batch.js';
import { BODY_PATH, type FieldError, InvalidBodyError } from './errors.js';
import { describeValue, parseOptions, toFieldErrors } from './issues.js';

/**
 * Segment-compatible ingest (https://segment.com/docs/connections/spec/): the calls Pulse uses and how they map.
 * - track → event `event`, id `messageId`, account `context.groupId`, `properties`.
 * - page / screen → events `page_viewed` / `screen_viewed`; the page's `name` and `category` join its properties.
 * - identify → user traits (`traits`, else `context.traits`); `context.groupId` also links the user to that account.
 * - group → account traits of `groupId`, and the link of `userId` (when present) to that account.
 * The timestamp is `timestamp`, else `originalTimestamp`, else the time the request arrived.
 */
export const SEGMENT_TYPES = ['track', 'identify', 'group', 'page', 'screen'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

export const PAGE_EVENT = 'page_viewed';
export const SCREEN_EVENT = 'screen_viewed';

const idString = idSchema;
/** Segment libraries historically accept numeric ids; they are stored as text. */
const segmentId = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), idString);
const isoTimestamp = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-11-01T12:00:00Z',
});
const record = z.record(z.string(), z.unknown());
const traitsRecord = z.record(
  z.string().min(1, 'trait names must not be empty').max(255, 'trait names must be at most 255 characters'),
  z.unknown(),
);

const base = {
  messageId: idString.optional(),
  userId: segmentId.optional(),
  timestamp: isoTimestamp.optional(),
  originalTimestamp: isoTimestamp.optional(),
  context: z.looseObject({ groupId: segmentId.optional(), traits: traitsRecord.optional() }).optional(),
};

const TrackSchema = z.looseObject({
  ...base,
  event: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  properties: record.optional(),
});
const PageSchema = z.looseObject({
  ...base,
  name: z.string().max(200, 'must be at most 200 characters').optional(),
  category: z.string().max(200, 'must be at most 200 characters').optional(),
  properties: record.optional(),
});
const IdentifySchema = z.looseObject({ ...base, traits: traitsRecord.optional() });
const GroupSchema = z.looseObject({ ...base, groupId: segmentId, traits: traitsRecord.optional() });

type Base = z.infer<typeof IdentifySchema>;

const NEEDS_USER = 'is required: Pulse scores identified users, an anonymousId alone is not enough';

/** `POST /v1/batch`: `{ "batch": [...], "context"?, "sentAt"? }`. */
export function normaliseSegmentBatch(body: unknown, ctx: NormaliseContext): NormalisedBatch {
  if (!isPlainObject(body)) {
    throw new InvalidBodyError('The body must be a JSON object of the form { "batch": [...] }.', [
      { path: BODY_PATH, message: `must be an object with a "batch" array, not ${describeValue(body)}` },
    ]);
  }
  const messages = body.batch;
  if (!Array.isArray(messages) || messages.length === 0) {
    const message =
      messages === undefined
        ? 'is required'
        : Array.isArray(messages)
          ? 'must hold at least one message'
          : `must be an array of messages, not ${describeValue(messages)}`;
    throw new InvalidBodyError('The body must be a JSON object of the form { "batch": [...] }.', [
      { path: 'batch', message },
    ]);
  }
  checkItemCount(messages.length, 'batch', 'messages', ctx);
  // Segment merges a batch-level context into each message.
  const sharedContext = isPlainObject(body.context) ? body.context : undefined;
  const batch = emptyBatch(messages.length, 'batch');
  for (let index = 0; index < messages.length; index++) {
    let message = messages[index];
    if (sharedContext && isPlainObject(message)) {
      const own = isPlainObject(message.context) ? message.context : {};
      message = { ...message, context: { ...sharedContext, ...own } };
    }
    addMessage(batch, index, message, undefined, ctx);
  }
  return batch;
}

/** `POST /v1/track` and friends: the body is one message; its type is the path's. */
export function normaliseSegmentMessage(type: SegmentType, body: unknown, ctx: NormaliseContext): NormalisedBatch {
  if (!isPlainObject(body)) {
    throw new InvalidBodyError(`The body must be one ${type} message, a JSON object.`, [
      { path: BODY_PATH, message: `must be an object, not ${describeValue(body)}` },
    ]);
  }
  const batch = emptyBatch(1, '');
  addMessage(batch, 0, body, type, ctx);
  return batch;
}

function addMessage(
  batch: NormalisedBatch,
  index: number,
  raw: unknown,
  pathType: SegmentType | undefined,
  ctx: NormaliseContext,
): void {
  const result = normaliseMessage(raw, pathType, ctx);
  if ('errors' in result) {
    batch.rejected.push({ index, errors: result.errors });
    return;
  }
  if (result.event) {
    batch.events.push(result.event);
    batch.eventIndex?.push(index);
  }
  if (result.traits.length > 0) {
    batch.traits.push(...result.traits);
    for (const _ of result.traits) batch.traitIndex?.push(index);
    batch.traitMessages++;
  }
}

type MessageResult = { event?: ScoringEvent; traits: TraitsUpdate[] } | { errors: FieldError[] };

function normaliseMessage(raw: unknown, pathType: SegmentType | undefined, ctx: NormaliseContext): MessageResult {
  if (!isPlainObject(raw)) return { errors: [{ path: '', message: `must be an object, not ${describeValue(raw)}` }] };
  const shape = shapeProblem(raw);
  if (shape) return { errors: [shape] };
  const sizeError = checkEventSize(raw, ctx);
  if (sizeError) return { errors: [sizeError] };
  const type = pathType ?? raw.type;
  if (!isSegmentType(type)) {
    const message =
      type === undefined
        ? `is required: one of ${SEGMENT_TYPES.join(', ')}`
        : `${JSON.stringify(type)} is not supported; Pulse accepts ${SEGMENT_TYPES.join(', ')}`;
    return { errors: [{ path: 'type', message }] };
  }

  switch (type) {
    case 'track': {
      const parsed = TrackSchema.safeParse(raw, parseOptions);
      if (!parsed.success) return { errors: toFieldErrors(parsed.error.issues) };
      return eventFrom(parsed.data, parsed.data.event, parsed.data.properties, ctx);
    }
    case 'page':
    case 'screen': {
      const parsed = PageSchema.safeParse(raw, parseOptions);
      if (!parsed.success) return { errors: toFieldErrors(parsed.error.issues) };
      const { name, category } = parsed.data;
      const properties: Record<string, unknown> = { ...parsed.data.properties };
      if (name !== undefined && properties.name === undefined) properties.name = name;
      if (category !== undefined && properties.category === undefined) properties.category = category;
      return eventFrom(parsed.data, type === 'page' ? PAGE_EVENT : SCREEN_EVENT, properties, ctx);
    }
    case 'identify': {
      const parsed = IdentifySchema.safeParse(raw, parseOptions);
      if (!parsed.success) return { errors: toFieldErrors(parsed.error.issues) };
      const data = parsed.data;
      if (data.userId === undefined) return { errors: [{ path: 'userId', message: NEEDS_USER }] };
      const seen = seenAt(data, ctx);
      if ('error' in seen) return { errors: [seen.error] };
      const update: TraitsUpdate = {
        entityType: 'user',
        entityId: data.userId,
        traits: data.traits ?? data.context?.traits ?? {},
        seenAt: seen.at,
      };
      if (data.context?.groupId !== undefined) update.accountId = data.context.groupId;
      return { traits: [update] };
    }
    case 'group': {
      const parsed = GroupSchema.safeParse(raw, parseOptions);
      if (!parsed.success) return { errors: toFieldErrors(parsed.error.issues) };
      const data = parsed.data;
      const seen = seenAt(data, ctx);
      if ('error' in seen) return { errors: [seen.error] };
      const traits: TraitsUpdate[] = [
        { entityType: 'account', entityId: data.groupId, traits: data.traits ?? {}, seenAt: seen.at },
      ];
      if (data.userId !== undefined) {
        traits.push({ entityType: 'user', entityId: data.userId, accountId: data.groupId, seenAt: seen.at });
      }
      return { traits };
    }
  }
}

function eventFrom(
  data: Base,
  name: string,
  properties: Record<string, unknown> | undefined,
  ctx: NormaliseContext,
): MessageResult {
  if (data.userId === undefined) return { errors: [{ path: 'userId', message: NEEDS_USER }] };
  const seen = seenAt(data, ctx);
  if ('error' in seen) return { errors: [seen.error] };
  const event: ScoringEvent = { eventId: '', name, userId: data.userId, timestamp: seen.at };
  if (data.context?.groupId !== undefined) event.accountId = data.context.groupId;
  if (properties !== undefined && Object.keys(properties).length > 0) event.properties = properties;
  event.eventId = data.messageId ?? contentEventId(event);
  return { event, traits: [] };
}

function seenAt(data: Base, ctx: NormaliseContext): { at: number } | { error: FieldError } {
  const [path, value] =
    data.timestamp !== undefined
      ? ['timestamp', data.timestamp]
      : data.originalTimestamp !== undefined
        ? ['originalTimestamp', data.originalTimestamp]
        : ['timestamp', undefined];
  if (value === undefined) return { at: ctx.now };
  const at = Date.parse(value);
  const error = checkTimestamp(at, path, ctx);
  return error ? { error } : { at };
}

function isSegmentType(value: unknown): value is SegmentType {
  return typeof value === 'string' && (SEGMENT_TYPES as readonly string[]).includes(value);
}
