import { createHash } from 'node:crypto';
import { z } from 'zod';

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

const id = z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

/** A native event as sent to `POST /v1/events` or written one per line in a JSONL file (PRODUCT §5). */
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

export function toEpochMillis(timestamp: string | number): number {
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
}

/** JSON with object keys sorted at every level, so equal content always serialises to equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The id of an event sent without one: a hash of its content, so a resend is recognised as the same event. */
export function contentEventId(event: Omit<ScoringEvent, 'eventId'>): string {
  const content = canonicalJson({
    name: event.name,
    userId: event.userId,
    accountId: event.accountId,
    timestamp: event.timestamp,
    properties: event.properties ?? {},
  });
  return `h-${createHash('sha256').update(content).digest('base64url').slice(0, 32)}`;
}
