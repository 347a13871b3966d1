import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScoringRun } from '../../../shared/domain/engine/index.js';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { ModelValidationError } from '../../../shared/domain/model/errors.js';
import { parseModel } from '../../../shared/domain/model/load.js';
import { round6, transformValue } from '../../../shared/domain/numbers.js';
import { model } from '../../support/engine.js';

/** `transform` (docs/models.md#semantics-exact): points = weight × t(value); value and penalties see v itself. */
const T = Date.parse('2026-11-24T00:00:00Z');
const DAY = 86_400_000;

const signals = [
  { name: 'logins', event: 'login', weight: 3 },
  { name: 'minutes', event: 'session_ended', aggregate: 'sum' as const, property: 'minutes', weight: 0.5 },
  { name: 'days', event: '*', aggregate: 'distinctDays' as const, weight: 2, cap: 5 },
];
const plain = model({
  windowDays: 7,
  signals,
  penalties: [{ name: 'many-logins', signal: 'logins', above: 4, points: -7 }],
});
const transformed = (transforms: readonly ('none' | 'log1p' | 'sqrt')[]) =>
  model({ ...plain, signals: signals.map((s, i) => ({ ...s, transform: transforms[i]! })) });

const eventArb = fc.record({
  eventId: fc.uuid(),
  name: fc.constantFrom('login', 'session_ended', 'other'),
  userId: fc.constantFrom('u1', 'u2', 'u3'),
  timestamp: fc.integer({ min: T - 9 * DAY, max: T - 1 }),
  properties: fc.record({ minutes: fc.integer({ min: -30, max: 500 }) }),
}) satisfies fc.Arbitrary<ScoringEvent>;
const transformArb = fc.array(fc.constantFrom('none' as const, 'log1p' as const, 'sqrt' as const), {
  minLength: 3,
  maxLength: 3,
});

function scoreAll(m: ReturnType<typeof model>, events: ScoringEvent[]) {
  const run = new ScoringRun(m, { asOf: T });
  run.add(events);
  return run.finish();
}

describe('signal transform', () => {
  it('t is odd, non-decreasing, identity for none, and log1p(v) ≤ v for v ≥ 0', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (v, d) => {
          for (const t of ['log1p', 'sqrt'] as const) {
            expect(transformValue(t, -v)).toBeCloseTo(-transformValue(t, v), 9);
            expect(transformValue(t, v + d)).toBeGreaterThanOrEqual(transformValue(t, v));
          }
          expect(transformValue('none', v)).toBe(v);
          expect(transformValue(undefined, v)).toBe(v);
          if (v >= 0) expect(transformValue('log1p', v)).toBeLessThanOrEqual(v);
        },
      ),
    );
  });

  it('scores points = round6(weight × t(value)) with the same values and penalties as without a transform', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 40 }), transformArb, (events, transforms) => {
        const base = scoreAll(plain, events);
        const withT = scoreAll(transformed(transforms), events);
        expect(withT.map((r) => r.entityId)).toEqual(base.map((r) => r.entityId));
        withT.forEach((r, i) => {
          const b = base[i]!;
          expect(r.penalties).toEqual(b.penalties);
          r.contributions.forEach((c, j) => {
            expect(c.value).toBe(b.contributions[j]!.value);
            expect(c.points).toBe(round6(signals[j]!.weight * transformValue(transforms[j], c.value)));
          });
          const sum = r.contributions.reduce((s, c) => s + c.points, 0) + r.penalties.reduce((s, p) => s + p.points, 0);
          expect(r.rawScore).toBe(round6(sum));
        });
      }),
      { numRuns: 150 },
    );
  });

  it('gives 3 × ln(1 + 8) for 8 logins under log1p and 2 × √4 for 4 days under sqrt', () => {
    const events: ScoringEvent[] = Array.from({ length: 8 }, (_, k) => ({
      eventId: `e${k}`,
      name: 'login',
      userId: 'u1',
      timestamp: T - (1 + (k % 4)) * DAY + 1000,
    }));
    const [r] = scoreAll(transformed(['log1p', 'none', 'sqrt']), events);
    expect(r!.contributions[0]).toEqual({ signal: 'logins', value: 8, points: round6(3 * Math.log(9)) });
    expect(r!.contributions[2]).toEqual({ signal: 'days', value: 4, points: 4 });
    expect(r!.penalties).toEqual([{ rule: 'many-logins', points: -7 }]);
  });

  it('rejects a transform on a tiered signal and an unknown transform, naming the field', () => {
    const tiered = `name: m\nversion: 1\nlevel: user\nwindowDays: 7\nsignals:\n  - { name: d, event: "*", aggregate: distinctDays, transform: log1p, tiers: [{ min: 0, points: 1 }] }\nbands: [{ name: all }]\n`;
    expect(() => parseModel(tiered, 'm.yaml')).toThrow(ModelValidationError);
    expect(() => parseModel(tiered, 'm.yaml')).toThrow(/signals\[0\]\.transform/);
    const unknown = tiered.replace('transform: log1p, tiers: [{ min: 0, points: 1 }]', 'transform: log, weight: 1');
    expect(() => parseModel(unknown, 'm.yaml')).toThrow(/signals\[0\]\.transform/);
  });
});
