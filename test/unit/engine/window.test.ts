import { describe, expect, it } from 'vitest';
import { ScoringRun } from '../../../shared/domain/engine/index.js';
import type { ModelInput } from '../../../shared/domain/model/schema.js';
import { InvalidAsOfError, lastCompleteDay, RunCalendar, resolveAsOf } from '../../../shared/domain/time.js';
import { event, model, scoreById, scoreOnly, signalValue } from '../../support/engine.js';

const countLogins = [{ name: 'logins', event: 'login', weight: 1 }];

describe('the window [T − W, T)', () => {
  // asOf 2026-11-24 in UTC: T = 2026-11-25T00:00Z, T − 30 d = 2026-10-26T00:00Z.
  const m = model({ windowDays: 30, signals: countLogins });

  it('counts an event at exactly T − W', async () => {
    const score = await scoreOnly(m, [event('login', '2026-10-26T00:00:00.000Z')], { asOf: '2026-11-24' });

    expect(signalValue(score, 'logins')).toBe(1);
  });

  it('does not count an event one millisecond before T − W', async () => {
    const scores = await scoreById(m, [event('login', '2026-10-25T23:59:59.999Z')], { asOf: '2026-11-24' });

    expect(scores.has('u1')).toBe(false);
  });

  it('does not count an event at exactly T, but counts one a millisecond before', async () => {
    const events = [event('login', '2026-11-25T00:00:00.000Z'), event('login', '2026-11-24T23:59:59.999Z')];

    const score = await scoreOnly(m, events, { asOf: '2026-11-24' });

    expect(signalValue(score, 'logins')).toBe(1);
    expect(score.asOf).toBe('2026-11-25T00:00:00.000Z');
  });

  it('takes an ISO instant as T exactly (events at T excluded)', async () => {
    const asOf = '2026-11-24T12:00:00Z';
    const events = [event('login', '2026-11-24T11:59:59.999Z'), event('login', '2026-11-24T12:00:00Z')];

    const score = await scoreOnly(m, events, { asOf });

    expect(signalValue(score, 'logins')).toBe(1);
  });

  it('resolves an as-of date at the end of that day in the model time zone', async () => {
    // Auckland is UTC+13 in November: the end of 2026-11-24 there is 2026-11-24T11:00Z.
    const nz = model({ windowDays: 1, timezone: 'Pacific/Auckland', signals: countLogins });
    const events = [event('login', '2026-11-24T10:59:59Z'), event('login', '2026-11-24T11:00:00Z')];

    const score = await scoreOnly(nz, events, { asOf: '2026-11-24' });

    expect(score.asOf).toBe('2026-11-24T11:00:00.000Z');
    expect(signalValue(score, 'logins')).toBe(1);
  });
});

describe('resolveAsOf', () => {
  it('puts T at the start of the next local day, across a spring-forward day (23 h)', () => {
    expect(resolveAsOf('2026-03-29', 'Europe/Berlin')).toEqual({
      instant: Date.parse('2026-03-29T22:00:00Z'),
      date: '2026-03-29',
    });
  });

  it('puts T at the start of the next local day, across a fall-back day (25 h)', () => {
    expect(resolveAsOf('2026-11-01', 'America/New_York')).toEqual({
      instant: Date.parse('2026-11-02T05:00:00Z'),
      date: '2026-11-01',
    });
  });

  it('keeps an instant and names the local day of its last counted millisecond', () => {
    // 2026-11-25T00:00Z is the end of 2026-11-24 in UTC but 01:00 on the 25th in Berlin.
    expect(resolveAsOf('2026-11-25T00:00:00Z', 'UTC').date).toBe('2026-11-24');
    expect(resolveAsOf('2026-11-25T00:00:00Z', 'Europe/Berlin').date).toBe('2026-11-25');
    expect(resolveAsOf(Date.parse('2026-11-25T00:00:00Z'), 'UTC').instant).toBe(Date.parse('2026-11-25T00:00:00Z'));
  });

  it.each(['yesterday', '2026-13-01', '2026-11-24T10:00:00'])(
    'rejects %s (no date, or an instant without zone)',
    (v) => {
      expect(() => resolveAsOf(v, 'UTC')).toThrow(InvalidAsOfError);
    },
  );

  it('names the last complete local day before now for scheduled runs', () => {
    // 00:30 in Berlin on the 25th is still the 24th in UTC.
    const now = Date.parse('2026-11-24T23:30:00Z');

    expect(lastCompleteDay(now, 'Europe/Berlin')).toBe('2026-11-24');
    expect(lastCompleteDay(now, 'UTC')).toBe('2026-11-23');
  });
});

describe('a window across a DST change', () => {
  /** One signal over the last `windowDays` local days of `timezone`. */
  const zoned = (windowDays: number, timezone: string, signal: ModelInput['signals'][number]) =>
    model({ windowDays, timezone, signals: [signal] });
  const oneUseADay = { name: 'uses', event: 'use', weight: 1, capPerDay: 1 };

  it('Europe/Berlin spring forward: a 1-day window is the 23-hour local day', async () => {
    // 2026-03-29 runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z. A fixed 24 h would start an hour early.
    const m = model({ windowDays: 1, timezone: 'Europe/Berlin', signals: countLogins });
    const events = [
      event('login', '2026-03-28T22:30:00Z'), // 23:30 on the 28th: outside
      event('login', '2026-03-28T23:00:00Z'), // local midnight: first instant of the window
      event('login', '2026-03-29T21:59:59Z'), // 23:59:59 CEST: last second
      event('login', '2026-03-29T22:00:00Z'), // T: outside
    ];

    const score = await scoreOnly(m, events, { asOf: '2026-03-29' });

    expect(signalValue(score, 'logins')).toBe(2);
  });

  it('Europe/Berlin fall back: a 1-day window is the 25-hour local day', async () => {
    // 2026-10-25 runs from 2026-10-24T22:00Z to 2026-10-25T23:00Z.
    const m = model({ windowDays: 1, timezone: 'Europe/Berlin', signals: countLogins });
    const events = [
      event('login', '2026-10-24T21:59:59Z'), // 23:59:59 CEST on the 24th: outside
      event('login', '2026-10-24T22:30:00Z'), // 00:30 CEST on the 25th (a fixed 24 h would miss it)
      event('login', '2026-10-25T22:59:59Z'), // 23:59:59 CET on the 25th
    ];

    const score = await scoreOnly(m, events, { asOf: '2026-10-25' });

    expect(signalValue(score, 'logins')).toBe(2);
  });

  it('counts distinctDays by local calendar day in a window spanning the change', async () => {
    const m = zoned(7, 'Europe/Berlin', { name: 'days', event: '*', aggregate: 'distinctDays', weight: 1 });
    const events = [
      event('x', '2026-03-28T22:30:00Z'), // 23:30 CET on the 28th
      event('x', '2026-03-28T23:30:00Z'), // 00:30 CET on the 29th: a new local day, same UTC day
      event('x', '2026-03-29T21:30:00Z'), // 23:30 CEST on the 29th: same local day
      event('x', '2026-03-29T22:30:00Z'), // 00:30 CEST on the 30th
      event('x', '2026-03-30T21:59:00Z'), // 23:59 CEST on the 30th
    ];

    const score = await scoreOnly(m, events, { asOf: '2026-04-01' });

    expect(signalValue(score, 'days')).toBe(3);
    expect(score.coverage.activeDays).toBe(3);
  });

  it('applies capPerDay per local day in America/New_York across the spring change', async () => {
    // DST starts 2026-03-08 at 02:00 EST. 04:30Z on the 8th is 23:30 EST on the 7th; 05:30Z is 00:30 on the 8th.
    const m = zoned(7, 'America/New_York', oneUseADay);
    const events = [
      event('use', '2026-03-08T04:30:00Z'),
      event('use', '2026-03-08T05:30:00Z'),
      event('use', '2026-03-09T03:30:00Z'), // 23:30 EDT on the 8th: same local day as the previous one
    ];

    const score = await scoreOnly(m, events, { asOf: '2026-03-10' });

    expect(signalValue(score, 'uses')).toBe(2);
  });

  it('applies capPerDay per local day in America/New_York across the fall change', async () => {
    // DST ends 2026-11-01 at 02:00 EDT: that day is 25 hours, 04:00Z to 05:00Z the next day.
    const m = zoned(3, 'America/New_York', oneUseADay);
    const events = [
      event('use', '2026-11-01T04:30:00Z'), // 00:30 EDT on the 1st
      event('use', '2026-11-02T04:30:00Z'), // 23:30 EST on the 1st: same local day
      event('use', '2026-11-02T05:30:00Z'), // 00:30 EST on the 2nd
    ];

    const score = await scoreOnly(m, events, { asOf: '2026-11-02' });

    expect(signalValue(score, 'uses')).toBe(2);
  });

  it('starts a multi-day window at local midnight W calendar days back, not W × 24 h back', async () => {
    // asOf 2026-03-30 in Berlin: T = 2026-03-30T22:00Z; 3 calendar days back is 2026-03-27T23:00Z (CET midnight),
    // whereas 72 h back would be 2026-03-27T22:00Z.
    const m = model({ windowDays: 3, timezone: 'Europe/Berlin', signals: countLogins });
    const events = [event('login', '2026-03-27T22:30:00Z'), event('login', '2026-03-27T23:00:00Z')];

    const run = new ScoringRun(m, { asOf: Date.parse('2026-03-30T22:00:00Z') });
    run.add(events);
    const [raw] = run.finish();

    expect(run.from).toBe(Date.parse('2026-03-27T23:00:00Z'));
    expect(raw?.contributions[0]?.value).toBe(1);
  });

  it('counts distinctWeeks as local ISO weeks (Monday start in the model zone)', async () => {
    const m = zoned(14, 'America/New_York', { name: 'weeks', event: '*', aggregate: 'distinctWeeks', weight: 1 });
    // 2026-11-02 is a Monday. 03:00Z on the 2nd is still Sunday the 1st in New York; 06:00Z is Monday.
    const sundayOnly = await scoreOnly(m, [event('x', '2026-11-02T03:00:00Z'), event('x', '2026-11-01T12:00:00Z')], {
      asOf: '2026-11-10',
    });
    const sundayAndMonday = await scoreOnly(
      m,
      [event('x', '2026-11-02T03:00:00Z'), event('x', '2026-11-02T06:00:00Z')],
      {
        asOf: '2026-11-10',
      },
    );

    expect(signalValue(sundayOnly, 'weeks')).toBe(1);
    expect(signalValue(sundayAndMonday, 'weeks')).toBe(2);
  });
});

describe('RunCalendar', () => {
  it('has 23- and 25-hour days where the zone changes clocks', () => {
    const from = Date.parse('2026-03-28T23:00:00Z'); // Berlin midnight, 29 March
    const cal = new RunCalendar(from, Date.parse('2026-03-30T22:00:00Z'), 'Europe/Berlin');

    expect(cal.dayCount).toBe(2);
    expect(cal.dayIndex(Date.parse('2026-03-29T21:59:59Z'))).toBe(0);
    expect(cal.dayIndex(Date.parse('2026-03-29T22:00:00Z'))).toBe(1);
  });

  it('maps every hour of a year to the local day luxon gives (Berlin, New York, Auckland)', () => {
    for (const tz of ['Europe/Berlin', 'America/New_York', 'Pacific/Auckland']) {
      const asOf = resolveAsOf('2026-12-31', tz).instant;
      const from = resolveAsOf('2025-12-31', tz).instant;
      const cal = new RunCalendar(from, asOf, tz);
      const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: tz });
      const dayStart = new Map<number, number>();
      let mismatches = 0;
      for (let ts = from; ts < asOf; ts += 3_600_000) {
        const day = cal.dayIndex(ts);
        const local = localDate.format(ts);
        if (!dayStart.has(day)) dayStart.set(day, Date.parse(`${local}T00:00:00Z`));
        if (dayStart.get(day) !== Date.parse(`${local}T00:00:00Z`)) mismatches++;
      }

      expect(cal.dayCount).toBe(365);
      expect(dayStart.size).toBe(365);
      expect(mismatches).toBe(0);
    }
  });
});
