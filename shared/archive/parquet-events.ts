import { parquetReadObjects } from 'hyparquet';
import type { ScoringEvent } from '../domain/event.js';
import { EVENT_ARCHIVE_COLUMNS, EVENT_ARCHIVE_SCHEMA_VERSION } from '../domain/event-archive-schema.js';
import { encodeParquet } from '../parquet/columns.js';

/** Events as one archive Parquet file, in (timestamp, user, event id) order so equal content gives equal bytes. */
export function encodeEventsParquet(events: readonly ScoringEvent[]): Uint8Array {
  const sorted = [...events].sort(compareEvents);
  const rows = sorted.map((e) => ({
    event_id: e.eventId,
    user_id: e.userId,
    account_id: e.accountId ?? null,
    name: e.name,
    occurred_at: e.timestamp,
    properties: hasProperties(e.properties) ? JSON.stringify(e.properties) : null,
  }));
  return encodeParquet(EVENT_ARCHIVE_COLUMNS, rows, {
    metadata: { 'pulse.events.schema_version': String(EVENT_ARCHIVE_SCHEMA_VERSION) },
  });
}

interface ArchiveRow {
  event_id: string;
  user_id: string;
  account_id: string | null;
  name: string;
  occurred_at: Date | bigint | number;
  properties: string | null;
}

/** An archive file read back as events, in the same object shape the events table's reader gives the engine. */
export async function decodeEventsParquet(bytes: Uint8Array): Promise<ScoringEvent[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file })) as unknown as ArchiveRow[];
  const events: ScoringEvent[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    events[i] = {
      eventId: r.event_id,
      name: r.name,
      userId: r.user_id,
      accountId: r.account_id ?? undefined,
      timestamp: millis(r.occurred_at),
      properties: r.properties === null ? undefined : (JSON.parse(r.properties) as Record<string, unknown>),
    };
  }
  return events;
}

function millis(value: Date | bigint | number): number {
  if (value instanceof Date) return value.getTime();
  return Number(value);
}

function hasProperties(props: Record<string, unknown> | undefined): props is Record<string, unknown> {
  if (props === undefined) return false;
  for (const _ in props) return true;
  return false;
}

function compareEvents(a: ScoringEvent, b: ScoringEvent): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  if (a.eventId !== b.eventId) return a.eventId < b.eventId ? -1 : 1;
  return 0;
}

/** Identity of an event (docs/data-model.md): its id within its user. */
export const eventKey = (e: ScoringEvent) => `${e.userId}\u0000${e.eventId}`;
