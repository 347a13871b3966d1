import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOfFor, backtest } from '../../../shared/calibrate/backtest.js';
import { parseOutcomes } from '../../../shared/calibrate/outcomes.js';
import { model } from '../../support/engine.js';
import { outcomesCsv } from '../../support/outcomes.js';

let dir: string;
let eventsFile: string;

const accountModel = model({
  name: 'accounts',
  level: 'account',
  windowDays: 7,
  appliesTo: [{ trait: 'plan', in: ['pro'] }],
  signals: [{ name: 'logins', event: 'login', weight: 1 }],
  penalties: [{ name: 'inactive', inactiveDays: 7, points: -5 }],
  bands: [{ name: 'low' }, { name: 'high', min: 2 }],
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pulse-backtest-'));
  eventsFile = join(dir, 'events.jsonl');
  const lines = [
    // u1 belongs to acme (said on its first event); its later events carry no accountId.
    { name: 'login', userId: 'u1', accountId: 'acme', timestamp: '2026-03-02T10:00:00Z' },
    { name: 'login', userId: 'u1', timestamp: '2026-03-03T10:00:00Z' },
    { name: 'login', userId: 'u1', timestamp: '2026-03-05T10:00:00Z' },
    // At and after acme's first as-of (end of 2026-03-05): they count only for the later as-of.
    { name: 'login', userId: 'u1', timestamp: '2026-03-06T00:00:00Z' },
    { name: 'login', userId: 'u1', timestamp: '2026-03-10T10:00:00Z' },
    // globex is only seen after its as-of: scored as an inactive known account.
    { name: 'login', userId: 'u2', accountId: 'globex', timestamp: '2026-03-07T10:00:00Z' },
    'not json at all',
  ];
  writeFileSync(eventsFile, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('backtest', () => {
  it('scores each outcome as of its date minus the horizon, one run per as-of, ignoring appliesTo', async () => {
    // Arrange
    const outcomes = parseOutcomes(
      outcomesCsv(
        'account,acme,renewed,2026-03-07',
        'account,acme,churned,2026-03-12',
        'account,globex,churned,2026-03-07',
      ),
      'o.csv',
    );

    // Act
    const result = await backtest({ model: accountModel, eventsFile, outcomes, horizonDays: 2 });

    // Assert
    expect(result.runs).toBe(2);
    expect(result.rows.map((r) => [r.outcome.entityId, r.asOfDate, r.raw.rawScore, r.band])).toEqual([
      ['acme', '2026-03-05', 3, 'high'],
      ['acme', '2026-03-10', 3, 'high'],
      ['globex', '2026-03-05', -5, 'low'],
    ]);
    expect(result.rows[2]!.raw.penalties).toEqual([{ rule: 'inactive', points: -5 }]);
    expect(result.events).toMatchObject({ lines: 7, invalid: 1, invalidSamples: [{ line: 7, message: 'not JSON' }] });
  });

  it('resolves a date as the end of (date − horizon) in the model’s zone, an instant as instant − horizon', () => {
    expect(asOfFor('2026-03-31', 30, 'UTC')).toBe(Date.parse('2026-03-02T00:00:00Z'));
    expect(asOfFor('2026-03-31', 30, 'Europe/Berlin')).toBe(Date.parse('2026-03-01T23:00:00Z'));
    expect(asOfFor('2026-03-31T12:00:00Z', 1, 'UTC')).toBe(Date.parse('2026-03-30T12:00:00Z'));
  });
});
