import { hash } from 'node:crypto';
import { z } from 'zod';
import { idProblem } from './input-limits.js';
import { DAY_MS } from './time.js';

/** An event as the engine sees it: normalised, with an id and an epoch-millisecond timestamp. */
export interface ScoringEvent {
  eventId: string;
  name: string;
  userId: string;
  /** The account the event belongs to, when known (the event's own, or the user's account at ingest). */
  accountId?: string | undefined;
  /** Epoch milliseconds (UTC). */
  timestamp: number;
  properties?: Record<string, unknown> | undefined;
}

/**
 * An id (user, account, event): trimmed, non-empty, at most MAX_ID_BYTES UTF-8 bytes, no control characters or
 * lone surrogates, so every key built from it fits DynamoDB (docs/api.md#limits).
 */
export const idSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .superRefine((value, ctx) => {
    const problem = idProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
const id = idSchema;

/** A native event as sent to `POST /v1/events` or written one per line in a JSONL file (docs/data-model.md#ingest-contract-details). */
export const NativeEventSchema = z
  .object({
    eventId: id.optional(),
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    userId: id,
    accountId: id.optional(),
    timestamp: z.union([
      z.iso.datetime({
        offset: true,
        message: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-11-01T12:00:00Z',
      }),
      z.number().int('must be whole epoch milliseconds').nonnegative(),
    ]),
    properties: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type NativeEvent = z.infer<typeof NativeEventSchema>;

/**
 * What identifies an event: its user and its id (two users' events that share an id are two events). The text is
 * unambiguous for any ids (the user id's length comes first); used for dedupe in memory.
 */
export function eventIdentity(event: Pick<ScoringEvent, 'userId' | 'eventId'>): string {
  return `${event.userId.length}:${event.userId}${event.eventId}`;
}

/**
 * What an event store keys an event by: its identity within its UTC day, as the events table's partition (user shard
 * and UTC day) and sort key (user and id) do (docs/data-model.md#events-table). A resend on the same day is a
 * duplicate; the same ids on another UTC day are another item.
 */
export function storedEventIdentity(event: Pick<ScoringEvent, 'userId' | 'eventId' | 'timestamp'>): string {
  return `${Math.floor(event.timestamp / DAY_MS)}:${eventIdentity(event)}`;
}

export function toEpochMillis(timestamp: string | number): number {
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
}

/**
 * JSON with object keys sorted at every level, so equal content always serialises to equal text. Stored event ids
 * and recorded model hashes depend on this exact text; test/unit/ingest/content-event-id.test.ts pins it against the
 * first implementation (Object.entries, filter, sort, map, join). This one builds the same text in one pass: it is
 * on the ingest path of every event sent without an id.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      // A hole in a sparse array joins as nothing, as `map(...).join(',')` did.
      if (i in value) text += canonicalJson(value[i]);
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) sortKeys(keys);
  let text = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const v = record[key];
    if (v === undefined) continue;
    if (first) first = false;
    else text += ',';
    text += quoted(key);
    text += ':';
    text += canonicalJson(v);
  }
  return `${text}}`;
}

/** `JSON.stringify(s)`, without calling it for the usual short string that needs no escape. */
function quoted(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Control characters, quote and backslash are escaped; surrogates (possibly lone) are left to JSON.stringify.
    if (c < 0x20 || c === 34 || c === 92 || c >= 0xd800) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** UTF-16 code unit order (what `a < b` compares); insertion sort for the few keys an event's properties have. */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort(); // the default order compares code units too
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

/**
 * The id of an event sent without one: a hash of its content, so a resend is recognised as the same event. The
 * text hashed is `canonicalJson({ name, userId, accountId, timestamp, properties: properties ?? {} })`, written
 * out with its keys already in sorted order.
 */
export function contentEventId(event: Omit<ScoringEvent, 'eventId'>): string {
  return `h-${hash('sha256', contentText(event), 'base64url').slice(0, 32)}`;
}

function contentText(event: Omit<ScoringEvent, 'eventId'>): string {
  const { name, userId, accountId, timestamp, properties } = event;
  if (name === undefined || userId === undefined || timestamp === undefined) {
    // Not a valid event; still the same text as the general form gives.
    return canonicalJson({ name, userId, accountId, timestamp, properties: properties ?? {} });
  }
  let content = '{';
  if (accountId !== undefined) content += `"accountId":${canonicalJson(accountId)},`;
  content += `"name":${canonicalJson(name)},"properties":${canonicalJson(properties ?? {})},`;
  return `${content}"timestamp":${canonicalJson(timestamp)},"userId":${canonicalJson(userId)}}`;
}
