import { describe, expect, it } from 'vitest';
import { finalizeScore, type RawScore } from '../../../shared/domain/engine/index.js';
import { InvalidOverrideError, isActive, validateOverride } from '../../../shared/domain/override.js';
import { model } from '../../support/engine.js';

const m = model({
  signals: [{ name: 'logins', event: 'login', weight: 10 }],
  bands: [{ name: 'low' }, { name: 'medium', min: 40 }, { name: 'high', min: 70 }],
  alerts: { bandChange: true, drop: { points: 10 } },
});
const NOW = Date.parse('2026-03-01T12:00:00Z');

const raw = (rawScore: number): RawScore => ({
  entityType: 'user',
  entityId: 'u1',
  accountId: null,
  rawScore,
  contributions: [{ signal: 'logins', value: rawScore / 10, points: rawScore }],
  penalties: [],
  coverage: { activeDays: 1, observedDays: 1, events: 1, firstSeenAt: 0, lastSeenAt: 0 },
});

describe('validateOverride', () => {
  const base = { model: m, reason: 'call', expiresAt: '2026-03-08T00:00:00Z' };

  it.each([
    [{ ...base, band: 'platinum' }, 'band'],
    [{ ...base }, 'band'],
    [{ ...base, band: 'low', expiresAt: '2026-03-01T11:59:59Z' }, 'expiresAt'],
    [{ ...base, band: 'low', expiresAt: 'soon' }, 'expiresAt'],
    [{ ...base, band: 'low', expiresAt: '2026-02-30' }, 'expiresAt'],
    [{ ...base, band: 'low', expiresAt: '2026-03-05T24:00:01Z' }, 'expiresAt'],
    [{ ...base, band: 'low', expiresAt: '2028-03-01T00:00:00Z' }, 'expiresAt'],
  ])('refuses %j naming %s', (request, field) => {
    expect(() => validateOverride(request, NOW)).toThrow(InvalidOverrideError);
    try {
      validateOverride(request, NOW);
    } catch (error) {
      expect((error as InvalidOverrideError).field).toBe(field);
    }
  });

  it('keeps what was given, with the creation time, and is active until expiresAt', () => {
    const o = validateOverride({ ...base, score: 80 }, NOW);
    expect(o).toEqual({
      score: 80,
      reason: 'call',
      expiresAt: '2026-03-08T00:00:00.000Z',
      createdAt: '2026-03-01T12:00:00.000Z',
    });
    expect(isActive(o, Date.parse('2026-03-07T23:59:59Z'))).toBe(true);
    expect(isActive(o, Date.parse('2026-03-08T00:00:00Z'))).toBe(false);
  });
});

describe('finalizeScore with an override', () => {
  const previous = { score: 75, band: 'high', asOf: '2026-02-28T00:00:00.000Z', contributions: [], penalties: [] };
  const ctx = { asOf: '2026-03-01T00:00:00.000Z', normalize: (r: number) => r, previous };

  it('publishes the override band, keeps raw score and contributions, and raises no BandChanged', () => {
    const override = {
      band: 'high',
      reason: 'x',
      expiresAt: '2026-03-08T00:00:00Z',
      createdAt: '2026-03-01T00:00:00Z',
    };
    const s = finalizeScore(m, raw(30), { ...ctx, override });
    expect(s).toMatchObject({ score: 30, rawScore: 30, band: 'high', override });
    expect(s.alerts.map((a) => a.type)).toEqual(['ScoreDropped']);
  });

  it('a score override sets the score and the band that score falls in', () => {
    const override = { score: 45, reason: 'x', expiresAt: '2026-03-08T00:00:00Z', createdAt: '2026-03-01T00:00:00Z' };
    const s = finalizeScore(m, raw(90), { ...ctx, override });
    expect(s).toMatchObject({ score: 45, rawScore: 90, band: 'medium', delta: -30 });
    expect(s.alerts.map((a) => a.type)).toEqual(['ScoreDropped']);
  });
});
