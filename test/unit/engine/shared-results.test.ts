import { describe, expect, it } from 'vitest';
import { ScoringRun } from '../../../shared/domain/engine/index.js';
import { IN_WINDOW, WINDOW_END } from '../../support/as-of.js';
import { event, model } from '../../support/engine.js';

/*
 * finish() shares immutable parts of raw scores between entities (evaluate.ts): a contribution per whole value of
 * a signal, and one empty penalty list. Shared objects must be frozen, equal to what a fresh one would hold, and
 * never shared where values differ.
 */
const m = model({
  signals: [
    { name: 'logins', event: 'login', weight: 1.5 },
    { name: 'minutes', event: 'session_ended', aggregate: 'sum', property: 'minutes', weight: 0.1 },
  ],
  penalties: [{ name: 'no-report', absent: 'report_exported', points: -20 }],
});

function finish(events: ReturnType<typeof event>[]) {
  const run = new ScoringRun(m, { asOf: WINDOW_END });
  run.add(events);
  return new Map(run.finish().map((s) => [s.entityId, s]));
}

describe('raw scores share what cannot differ', () => {
  const scores = finish([
    event('login', IN_WINDOW, { userId: 'a', eventId: 'a1' }),
    event('login', IN_WINDOW, { userId: 'b', eventId: 'b1' }),
    event('login', IN_WINDOW, { userId: 'c', eventId: 'c1' }),
    event('login', IN_WINDOW, { userId: 'c', eventId: 'c2' }),
    event('report_exported', IN_WINDOW, { userId: 'c', eventId: 'c3' }),
    event('session_ended', IN_WINDOW, { userId: 'a', eventId: 'a2', properties: { minutes: 2.5 } }),
    event('session_ended', IN_WINDOW, { userId: 'b', eventId: 'b2', properties: { minutes: 2.5 } }),
  ]);
  const [a, b, c] = ['a', 'b', 'c'].map((id) => scores.get(id)!);

  it('gives entities with the same whole value the same frozen contribution', () => {
    expect(a!.contributions[0]).toBe(b!.contributions[0]);
    expect(a!.contributions[0]).toEqual({ signal: 'logins', value: 1, points: 1.5 });
    expect(Object.isFrozen(a!.contributions[0])).toBe(true);
    expect(() => {
      (a!.contributions[0] as { points: number }).points = 99;
    }).toThrow(TypeError);
  });

  it('gives a different value its own contribution, and a fraction a fresh one each time', () => {
    expect(c!.contributions[0]).toEqual({ signal: 'logins', value: 2, points: 3 });
    expect(c!.contributions[0]).not.toBe(a!.contributions[0]);
    expect(a!.contributions[1]).toEqual({ signal: 'minutes', value: 2.5, points: 0.25 });
    expect(b!.contributions[1]).toEqual(a!.contributions[1]);
    expect(b!.contributions[1]).not.toBe(a!.contributions[1]);
  });

  it('shares one frozen empty penalty list, and gives applied penalties their own list', () => {
    expect(c!.penalties).toEqual([]);
    expect(a!.penalties).toEqual([{ rule: 'no-report', points: -20 }]);
    expect(a!.penalties).not.toBe(b!.penalties);
    expect(Object.isFrozen(c!.penalties)).toBe(true);
  });

  it('keeps each contribution list its own (callers may sort a copy, never the shared parts)', () => {
    expect(a!.contributions).not.toBe(b!.contributions);
    expect(Object.isFrozen(a!.contributions)).toBe(false);
  });
});
