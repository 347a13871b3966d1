import { DateTime } from 'luxon';
import { z } from 'zod';

/**
 * Strict calendar dates and instants, the one place every API parameter, request body and CLI flag reads a date
 * from (docs/api.md#dates). luxon checks the calendar: `2026-02-30`, hour 24 or month 13 are refused, where
 * `Date.parse` would quietly roll them over into another day.
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** An ISO 8601 instant with an explicit zone (`Z` or an offset): without one, its meaning depends on the server. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export const DATE_MESSAGE = 'must be a calendar date (YYYY-MM-DD)';
export const INSTANT_MESSAGE = 'must be an ISO 8601 instant with a time zone, e.g. 2026-03-01T00:00:00Z';
export const DATE_OR_INSTANT_MESSAGE = 'must be a calendar date (YYYY-MM-DD) or an ISO 8601 instant with a time zone';

/** Whether `value` is a real calendar date `YYYY-MM-DD` (years 0001–9999). */
export function isCalendarDate(value: string): boolean {
  return DATE_ONLY.test(value) && value.slice(0, 4) !== '0000' && DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/** Epoch ms of an ISO instant with a zone, or undefined when it is not one (or not on the calendar). */
export function parseInstant(value: string): number | undefined {
  if (!INSTANT.test(value) || value.slice(0, 4) === '0000') return undefined;
  const instant = DateTime.fromISO(value, { setZone: true });
  return instant.isValid ? instant.toMillis() : undefined;
}

/** Whether `value` is a calendar date or an instant with a zone. */
export function isDateOrInstant(value: string): boolean {
  return isCalendarDate(value) || parseInstant(value) !== undefined;
}

/** Epoch ms of a date (the start of that day, UTC) or an instant; undefined when it is neither. */
export function parseDateOrInstant(value: string): number | undefined {
  if (isCalendarDate(value)) return DateTime.fromISO(value, { zone: 'UTC' }).toMillis();
  return parseInstant(value);
}

/** Dates from `from` to `to` inclusive (both calendar dates), counted without listing them: O(1) for any range. */
export function countDates(from: string, to: string): number {
  const start = DateTime.fromISO(from, { zone: 'UTC' });
  const end = DateTime.fromISO(to, { zone: 'UTC' });
  return Math.round(end.diff(start, 'days').days) + 1;
}

/** A calendar date `YYYY-MM-DD` (zod; the path is the field, so a 400 names it). */
export const isoDate = () => z.string().refine(isCalendarDate, DATE_MESSAGE);

/** An ISO 8601 instant with a time zone. */
export const isoDateTime = () => z.string().refine((v) => parseInstant(v) !== undefined, INSTANT_MESSAGE);

/** A calendar date or an instant with a time zone (as-of, since, from/to of history). */
export const isoDateOrDateTime = () => z.string().refine(isDateOrInstant, DATE_OR_INSTANT_MESSAGE);
