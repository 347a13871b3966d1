import { describe, expect, it } from 'vitest';
import { AS_OF, IN_WINDOW, WINDOW_END } from '../../support/as-of.js';
import { daysBefore, event, model, repeat, scoreById, scoreOnly } from '../../support/engine.js';

const logins = { name: 'logins', event: 'login', weight: 1 };

describe('absent', () => {
  const m = model({ signals: [logins], penalties: [{ name: 'no-report', absent: 'report_exported', points: -20 }] });

  it('applies when no event of that name is in the window', async () => {
    const score = await scoreOnly(m, repeat(3, 'login', IN_WINDOW), { asOf: AS_OF });

    expect(score.penalties).toEqual([{ rule: 'no-report', points: -20 }]);
    expect(score.rawScore).toBe(3 - 20);
  });

  it('does not apply when one such event is in the window', async () => {
    const score = await scoreOnly(m, [event('login', IN_WINDOW), event('report_exported', IN_WINDOW)], { asOf: AS_OF });

    expect(score.penalties).toEqual([]);
    expect(score.rawScore).toBe(1);
  });

  it('applies when the only such event is before the window', async () => {
    const events = [event('login', IN_WINDOW), event('report_exported', daysBefore(WINDOW_END, 31))];

    const score = await scoreOnly(m, events, { asOf: AS_OF });

    expect(score.penalties).toEqual([{ rule: 'no-report', points: -20 }]);
  });
});

describe('inactiveDays', () => {
  const m = model({ signals: [logins], penalties: [{ name: 'inactive', inactiveDays: 14, points: -15 }] });

  it('does not apply when the last event is exactly N days before T (it is inside [T − N, T))', async () => {
    const score = await scoreOnly(m, [event('login', daysBefore(WINDOW_END, 14))], { asOf: AS_OF });

    expect(score.penalties).toEqual([]);
  });

  it('applies when the last event is just over N days before T', async () => {
    const score = await scoreOnly(m, [event('login', daysBefore(WINDOW_END, 14) - 1)], { asOf: AS_OF });

    expect(score.penalties).toEqual([{ rule: 'inactive', points: -15 }]);
    expect(score.rawScore).toBe(1 - 15);
  });

  it('applies to a known entity never seen', async () => {
    const score = await scoreOnly(m, [], { asOf: AS_OF, known: [{ entityId: 'u9' }] });

    expect(score.entityId).toBe('u9');
    expect(score.penalties).toEqual([{ rule: 'inactive', points: -15 }]);
    expect(score.coverage).toEqual({ activeDays: 0, observedDays: 0, events: 0, firstSeenAt: null, lastSeenAt: null });
  });

  it('counts N calendar days in the model zone (a DST day is 23 hours)', async () => {
    // Berlin, asOf 2026-03-30: T = 2026-03-30T22:00Z; 2 calendar days back is 2026-03-28T23:00Z (CET midnight).
    const berlin = model({
      timezone: 'Europe/Berlin',
      signals: [logins],
      penalties: [{ name: 'inactive', inactiveDays: 2, points: -1 }],
    });

    const active = await scoreOnly(berlin, [event('login', '2026-03-28T23:00:00Z')], { asOf: '2026-03-30' });
    const inactive = await scoreOnly(berlin, [event('login', '2026-03-28T22:59:59Z')], { asOf: '2026-03-30' });

    expect(active.penalties).toEqual([]);
    expect(inactive.penalties).toEqual([{ rule: 'inactive', points: -1 }]);
  });

  describe('with a lookback longer than the window', () => {
    // 7-day window, inactive after 30 days: an event 20 days ago is outside the window but still activity.
    const long = model({
      windowDays: 7,
      signals: [logins],
      penalties: [{ name: 'inactive', inactiveDays: 30, points: -15 }],
    });

    it('reads events before the window to decide, without counting them in signals', async () => {
      const scores = await scoreById(long, [event('login', daysBefore(WINDOW_END, 20))], { asOf: AS_OF });
      const score = scores.get('u1');

      expect(score?.penalties).toEqual([]);
      expect(score?.contributions).toEqual([{ signal: 'logins', value: 0, points: 0 }]);
      expect(score?.coverage.events).toBe(0);
      expect(score?.coverage.lastSeenAt).toBe(daysBefore(WINDOW_END, 20));
    });

    it('applies when the last event is older than the lookback', async () => {
      const score = await scoreOnly(long, [event('login', daysBefore(WINDOW_END, 31))], {
        asOf: AS_OF,
        known: [{ entityId: 'u1' }],
      });

      expect(score.penalties).toEqual([{ rule: 'inactive', points: -15 }]);
    });

    it('uses a stored lastSeenAt of a known entity, but never one after T (a backfill must not see the future)', async () => {
      const recent = await scoreOnly(long, [], {
        asOf: AS_OF,
        known: [{ entityId: 'u1', lastSeenAt: daysBefore(WINDOW_END, 10) }],
      });
      const future = await scoreOnly(long, [], {
        asOf: AS_OF,
        known: [{ entityId: 'u1', lastSeenAt: WINDOW_END + 1 }],
      });

      expect(recent.penalties).toEqual([]);
      expect(future.penalties).toEqual([{ rule: 'inactive', points: -15 }]);
    });
  });
});

describe('above and below', () => {
  const m = model({
    signals: [logins, { name: 'open-tickets', event: 'ticket_opened', weight: 0 }],
    penalties: [
      { name: 'ticket-backlog', signal: 'open-tickets', above: 3, points: -10 },
      { name: 'few-logins', signal: 'logins', below: 2, points: -5 },
    ],
  });

  it.each([
    [3, 2, []],
    [4, 2, ['ticket-backlog']],
    [0, 1, ['few-logins']],
    [5, 0, ['ticket-backlog', 'few-logins']],
  ])('%i tickets and %i logins → %j (strictly above / below)', async (tickets, loginCount, rules) => {
    const events = [...repeat(tickets, 'ticket_opened', IN_WINDOW), ...repeat(loginCount, 'login', IN_WINDOW)];

    const score = await scoreOnly(m, events, { asOf: AS_OF, known: [{ entityId: 'u1' }] });

    expect(score.penalties.map((p) => p.rule)).toEqual(rules);
    expect(score.rawScore).toBe(loginCount + score.penalties.reduce((sum, p) => sum + p.points, 0));
  });

  it('tests the signal value after its cap', async () => {
    const capped = model({
      signals: [{ name: 'tickets', event: 'ticket_opened', weight: 0, cap: 3 }],
      penalties: [{ name: 'backlog', signal: 'tickets', above: 3, points: -10 }],
    });

    const score = await scoreOnly(capped, repeat(5, 'ticket_opened', IN_WINDOW), { asOf: AS_OF });

    expect(score.penalties).toEqual([]);
  });

  it('can add positive points', async () => {
    const bonus = model({
      signals: [logins],
      penalties: [{ name: 'loyal', signal: 'logins', above: 1, points: 7 }],
    });

    const score = await scoreOnly(bonus, repeat(2, 'login', IN_WINDOW), { asOf: AS_OF });

    expect(score.rawScore).toBe(9);
  });
});
