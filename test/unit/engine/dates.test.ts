import { describe, expect, it } from 'vitest';
import {
  countDates,
  isCalendarDate,
  isDateOrInstant,
  parseDateOrInstant,
  parseInstant,
} from '../../../shared/domain/dates.js';

describe('strict dates', () => {
  it.each(['2026-02-28', '2024-02-29', '2026-12-31', '0001-01-01', '9999-12-31'])('accepts the date %s', (value) => {
    expect(isCalendarDate(value)).toBe(true);
  });

  it.each([
    '2026-02-30',
    '2026-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-04-31',
    '0000-01-01',
    '2026-3-1',
    '20260301',
    ' 2026-03-01',
    '2026-03-01T00:00:00Z',
  ])('refuses %j as a calendar date', (value) => {
    expect(isCalendarDate(value)).toBe(false);
  });

  it('reads instants with a zone and refuses those off the calendar or without a zone', () => {
    expect(parseInstant('2026-03-01T10:00:00Z')).toBe(Date.UTC(2026, 2, 1, 10));
    expect(parseInstant('2026-03-01T10:00:00.123+02:00')).toBe(Date.UTC(2026, 2, 1, 8, 0, 0, 123));
    expect(parseInstant('2026-03-01T10:00Z')).toBe(Date.UTC(2026, 2, 1, 10));
    for (const bad of ['2026-02-30T00:00:00Z', '2026-03-01T24:30:00Z', '2026-03-01T10:61:00Z', '2026-03-01T10:00:00']) {
      expect(parseInstant(bad), bad).toBeUndefined();
      expect(isDateOrInstant(bad), bad).toBe(false);
    }
  });

  it('reads a date as the start of that day, UTC', () => {
    expect(parseDateOrInstant('2026-03-01')).toBe(Date.UTC(2026, 2, 1));
    expect(parseDateOrInstant('2026-02-30')).toBeUndefined();
  });

  it('counts the dates of a range without listing them', () => {
    expect(countDates('2026-03-01', '2026-03-01')).toBe(1);
    expect(countDates('2024-01-01', '2024-12-31')).toBe(366);
    expect(countDates('2026-03-28', '2026-03-30')).toBe(3);
    expect(countDates('1000-01-01', '2999-12-31')).toBe(730_485);
  });
});
