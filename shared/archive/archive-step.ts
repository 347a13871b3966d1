import { z } from 'zod';
import { countDates, isoDate } from '../domain/dates.js';
import type { ObjectCounts } from '../domain/erasure.js';
import { InvalidFieldError } from '../domain/errors.js';
import { formatPath } from '../domain/field-errors.js';
import { DAY_MS, dateRange } from '../domain/time.js';
import { sweepPendingErasures } from '../erasure/sweep.js';
import type { ErasureLog } from '../ports/erasure-store.js';
import type { EventStore } from '../ports/event-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import type { RunLogger } from '../run/deps.js';
import { type ArchivedDay, dueArchiveDates, EventArchive, utcDayStart } from './event-archive.js';

/** At most this many days in one archive request (a year and a day, like a backfill). */
export const MAX_ARCHIVE_DAYS = 366;

const Date10 = isoDate();

/**
 * Input of the archive step (docs/operations.md#event-archive): `{ "archive": "scheduled" }` (what the daily
 * schedule sends: yesterday and the day before, UTC) or `{ "archive": { "from", "to" } }` (after importing
 * historical events, or to repair a day).
 */
export const ArchiveInputSchema = z
  .object({
    archive: z.union([z.literal('scheduled'), z.object({ from: Date10, to: Date10 }).strict()]),
  })
  .strict();
export type ArchiveInput = z.input<typeof ArchiveInputSchema>;

/** The archive step's input names a bad field (a step's input, not an HTTP request: kind `invalid-input`). */
export class ArchiveRequestError extends InvalidFieldError {
  constructor(field: string, message: string) {
    super(field, message, { kind: 'invalid-input' });
    this.name = 'ArchiveRequestError';
  }
}

export interface ArchiveDeps {
  /** The events table (never the tiered store: the archive is written from the table). */
  hot: EventStore;
  objects: SnapshotStore;
  /** Pending erasures to sweep after archiving (docs/operations.md#data-subject-requests); none when absent. */
  erasures?: ErasureLog | undefined;
  clock?: (() => number) | undefined;
  logger?: RunLogger | undefined;
}

/** The UTC dates an archive request covers; dates not yet over (today, the future) are refused. */
export function archiveDatesOf(input: ArchiveInput, now: number): string[] {
  const parsed = ArchiveInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ArchiveRequestError(formatPath(issue.path) || 'archive', issue.message);
  }
  const request = parsed.data.archive;
  if (request === 'scheduled') return dueArchiveDates(now);
  if (request.from > request.to) throw new ArchiveRequestError('from', 'must not be after to');
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  if (utcDayStart(request.to) >= today)
    throw new ArchiveRequestError('to', 'must be a day that is over (before today, UTC)');
  const days = countDates(request.from, request.to);
  if (days > MAX_ARCHIVE_DAYS) {
    throw new ArchiveRequestError('to', `an archive request covers at most ${MAX_ARCHIVE_DAYS} days (got ${days})`);
  }
  return dateRange(request.from, request.to);
}

/** Archive the given UTC days, oldest first; each is independent and idempotent (see EventArchive). */
export async function archiveDates(deps: ArchiveDeps, dates: readonly string[]): Promise<ArchivedDay[]> {
  const archive = new EventArchive(deps.objects, deps.hot.shardCount);
  const out: ArchivedDay[] = [];
  for (const date of dates) {
    const started = Date.now();
    const day = await archive.archiveDay(deps.hot, date, deps.clock);
    deps.logger?.info('events archived', { ...day, ms: Date.now() - started });
    out.push(day);
  }
  return out;
}

/**
 * The archive step of the state machine: `{ archive }` in, the archived days' counts out. Then it rewrites the
 * bucket for pending erasures (after archiving, so a day archived now cannot bring erased events back): the daily
 * schedule makes that the bound on how long an erased entity stays in snapshots and the archive.
 */
export function makeArchiveHandler(deps: ArchiveDeps) {
  return async (input: unknown): Promise<{ days: ArchivedDay[]; erasures?: { erasures: number } & ObjectCounts }> => {
    const dates = archiveDatesOf(input as ArchiveInput, (deps.clock ?? Date.now)());
    const days = await archiveDates(deps, dates);
    if (!deps.erasures) return { days };
    const erasures = await sweepPendingErasures({
      log: deps.erasures,
      objects: deps.objects,
      clock: deps.clock,
      logger: deps.logger,
    });
    return { days, erasures };
  };
}
