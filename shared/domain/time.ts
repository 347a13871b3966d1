import { DateTime } from 'luxon';
import { InvalidFieldError } from './errors.js';

export const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The instant a run is evaluated at, and the as-of date (its snapshot partition) in the model's time zone. */
export interface AsOf {
  /** T, epoch milliseconds: events strictly before T count. */
  instant: number;
  /** YYYY-MM-DD in the model's time zone: the last day the run covers. */
  date: string;
}

/** An as-of that is neither a date nor an instant with a time zone: a 400 naming `asOf`. */
export class InvalidAsOfError extends InvalidFieldError {
  constructor(readonly value: string) {
    const message = `asOf "${value}" must be a date (YYYY-MM-DD) or an ISO 8601 instant with a time zone`;
    super('asOf', message, { message });
    this.name = 'InvalidAsOfError';
  }
}

/**
 * Resolve an as-of value. A date D means the end of D in the model's zone (T = start of D+1 there), so a run
 * "as of 2026-03-29" in Europe/Berlin covers that whole local day even across a DST change.
 */
export function resolveAsOf(value: string | number, timezone: string): AsOf {
  if (typeof value === 'number') return fromInstant(value, timezone);
  if (DATE_ONLY.test(value)) {
    const day = DateTime.fromISO(value, { zone: timezone });
    if (!day.isValid) throw new InvalidAsOfError(value);
    return { instant: day.plus({ days: 1 }).startOf('day').toMillis(), date: day.toISODate()! };
  }
  const instant = DateTime.fromISO(value, { setZone: true });
  if (!instant.isValid || !/[zZ]|[+-]\d{2}:?\d{2}$/.test(value)) throw new InvalidAsOfError(value);
  return fromInstant(instant.toMillis(), timezone);
}

function fromInstant(instant: number, timezone: string): AsOf {
  // The as-of date is the local day that contains the last counted millisecond.
  const date = DateTime.fromMillis(instant - 1, { zone: timezone }).toISODate()!;
  return { instant, date };
}

/** The as-of date of the last complete local day before `now` (what a scheduled daily run scores). */
export function lastCompleteDay(now: number, timezone: string): string {
  return DateTime.fromMillis(now, { zone: timezone }).startOf('day').minus({ days: 1 }).toISODate()!;
}

/** `days` calendar days before `instant` in `timezone` (a DST day is 23 or 25 hours long). */
export function minusCalendarDays(instant: number, days: number, timezone: string): number {
  return DateTime.fromMillis(instant, { zone: timezone }).minus({ days }).toMillis();
}

/** Inclusive list of dates from `from` to `to` (YYYY-MM-DD). */
export function dateRange(from: string, to: string): string[] {
  const out: string[] = [];
  let d = DateTime.fromISO(from, { zone: 'UTC' });
  const end = DateTime.fromISO(to, { zone: 'UTC' });
  if (!d.isValid) throw new InvalidAsOfError(from);
  if (!end.isValid) throw new InvalidAsOfError(to);
  while (d <= end) {
    out.push(d.toISODate()!);
    d = d.plus({ days: 1 });
  }
  return out;
}

/**
 * Local calendar of a run: maps an event timestamp to its local day and ISO week with a binary search over
 * precomputed midnights, so the hot loop never builds a DateTime.
 */
export class RunCalendar {
  /** Local midnights, ascending, from the day containing `from` up to the last one before `to`. */
  private readonly midnights: Float64Array;
  /** ISO week ordinal of each day. */
  private readonly weeks: Int32Array;

  constructor(
    readonly from: number,
    readonly to: number,
    readonly timezone: string,
  ) {
    const midnights: number[] = [];
    const weeks: number[] = [];
    let day = DateTime.fromMillis(from, { zone: timezone }).startOf('day');
    while (day.toMillis() < to) {
      midnights.push(day.toMillis());
      // Monday-based week ordinal: days since a fixed Monday, divided by seven.
      const ordinal = Math.floor(DateTime.utc(day.year, day.month, day.day).toMillis() / DAY_MS);
      weeks.push(Math.floor((ordinal - 4) / 7)); // 1970-01-05 was a Monday (ordinal 4)
      day = day.plus({ days: 1 }).startOf('day');
    }
    this.midnights = Float64Array.from(midnights);
    this.weeks = Int32Array.from(weeks);
  }

  get dayCount(): number {
    return this.midnights.length;
  }

  /** Index of the local day containing `ts` (callers pass timestamps within [from, to)). */
  dayIndex(ts: number): number {
    // Local days are 24 h give or take a clock change: guess from elapsed time, then step to the right midnight.
    const m = this.midnights;
    const last = m.length - 1;
    let i = Math.floor((ts - m[0]!) / DAY_MS);
    if (i > last) i = last;
    else if (i < 0) i = 0;
    while (i < last && m[i + 1]! <= ts) i++;
    while (i > 0 && m[i]! > ts) i--;
    return i;
  }

  weekOfDay(dayIndex: number): number {
    return this.weeks[dayIndex]!;
  }
}
