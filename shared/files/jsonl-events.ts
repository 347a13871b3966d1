import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
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
 * Stream native events (PRODUCT §5, one JSON object a line) from a file in pages. Lines are checked with a fast
 * path for the common well-formed case and fall back to the zod schema to name the field when something is off.
 */
export async function* readJsonlEvents(file: string, options: JsonlReadOptions = {}): AsyncGenerator<ScoringEvent[]> {
  const pageSize = options.pageSize ?? 10_000;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let page: ScoringEvent[] = [];
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.length === 0 || line.trim() === '') continue;
    const event = parseEventLine(line);
    if (typeof event === 'string') {
      options.onIssue?.({ line: lineNo, message: event });
      continue;
    }
    page.push(event);
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/** One line to an event, or a message naming what is wrong. */
export function parseEventLine(line: string): ScoringEvent | string {
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
  return withId({
    eventId: e.eventId,
    name: e.name,
    userId: e.userId,
    accountId: e.accountId,
    timestamp: toEpochMillis(e.timestamp),
    properties: e.properties,
  });
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** The well-formed common case without building zod issues; anything unusual returns undefined for the slow path. */
function fastEvent(value: unknown): ScoringEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const { name, userId, accountId, eventId, timestamp, properties } = v;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || name.trim() !== name) return undefined;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256 || userId.trim() !== userId) return undefined;
  if (accountId !== undefined && (typeof accountId !== 'string' || accountId.length === 0 || accountId.trim() !== accountId))
    return undefined;
  if (eventId !== undefined && (typeof eventId !== 'string' || eventId.length === 0 || eventId.trim() !== eventId))
    return undefined;
  if (properties !== undefined && (typeof properties !== 'object' || properties === null || Array.isArray(properties)))
    return undefined;
  let ts: number;
  if (typeof timestamp === 'number' && Number.isInteger(timestamp) && timestamp >= 0) ts = timestamp;
  else if (typeof timestamp === 'string' && ISO_WITH_ZONE.test(timestamp)) ts = Date.parse(timestamp);
  else return undefined;
  if (Number.isNaN(ts)) return undefined;
  for (const key in v) if (!ALLOWED_KEYS.has(key)) return undefined;
  return withId({
    eventId: eventId as string | undefined,
    name,
    userId,
    accountId: accountId as string | undefined,
    timestamp: ts,
    properties: properties as Record<string, unknown> | undefined,
  });
}

const ALLOWED_KEYS = new Set(['eventId', 'name', 'userId', 'accountId', 'timestamp', 'properties']);

function withId(e: Omit<ScoringEvent, 'eventId'> & { eventId: string | undefined }): ScoringEvent {
  return { ...e, eventId: e.eventId ?? contentEventId(e) };
}
