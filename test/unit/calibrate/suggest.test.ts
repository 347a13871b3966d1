import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  applySuggestion,
  featureRow,
  roundSignificant,
  suggestedModelYaml,
  suggestedRawScore,
  suggestWeights,
} from '../../../shared/calibrate/suggest.js';
import { type RawScore, scoreEvents } from '../../../shared/domain/engine/index.js';
import { parseModel } from '../../../shared/domain/model/load.js';
import type { Model } from '../../../shared/domain/model/schema.js';
import { seededRandom } from '../../../shared/domain/random.js';
import { activeDaysTiers, event, model } from '../../support/engine.js';

const AS_OF = '2026-03-31';

const tieredModel = model({
  name: 'trial',
  signals: [
    { name: 'logins', event: 'login', weight: 2 },
    { name: 'exports', event: 'report_exported', weight: 5 },
    activeDaysTiers('active-days', [
      [0, 0],
      [2, 10],
    ]),
    { name: 'never', event: 'never_sent', weight: 3 },
  ],
  penalties: [{ name: 'no-export', absent: 'report_exported', points: -20 }],
  bands: [{ name: 'low' }, { name: 'high', min: 30 }],
});

/** Users whose login and export counts drive the outcome, scored by the engine. */
async function scoredUsers(n: number) {
  const random = seededRandom(11);
  const events = [];
  const good: boolean[] = [];
  for (let u = 0; u < n; u++) {
    const userId = `u${u}`;
    const logins = Math.floor(random() * 8);
    const exports = Math.floor(random() * 3);
    for (let k = 0; k < logins; k++)
      events.push(event('login', Date.parse('2026-03-10T00:00:00Z') + k * 86_400_000, { userId }));
    for (let k = 0; k < exports; k++) events.push(event('report_exported', '2026-03-20T12:00:00Z', { userId }));
    const eta = -2 + 0.5 * logins + 0.6 * exports;
    good.push(random() < 1 / (1 + Math.exp(-eta)));
  }
  const known = [...Array(n).keys()].map((u) => ({ entityId: `u${u}` }));
  const scores = await scoreEvents(tieredModel, events, { asOf: AS_OF, known });
  const byId = new Map(scores.map((s) => [s.entityId, s]));
  const raws = [...Array(n).keys()].map((u) => byId.get(`u${u}`)!);
  return { events, known, raws, good };
}

/** The suggestion for `m` from the scores `raws` and outcomes `good` of scoredUsers. */
function suggestionFor(m: Model, raws: RawScore[], good: boolean[]) {
  const rows = raws.map((r) => featureRow(m, r));
  return suggestWeights(m, rows, good);
}

describe('suggestWeights', () => {
  it('scales the fitted weights so the largest |weight| equals the current largest, keeping signs', async () => {
    // Arrange
    const { raws, good } = await scoredUsers(600);
    const rows = raws.map((r) => featureRow(tieredModel, r));

    // Act
    const s = suggestWeights(tieredModel, rows, good);

    // Assert
    const weights = s.signals.filter((x) => x.kind === 'weight' && !x.kept).map((x) => Math.abs(x.suggested));
    expect(Math.max(...weights)).toBe(5);
    expect(s.signals.find((x) => x.name === 'logins')!.suggested).toBeGreaterThan(0);
    expect(s.signals.find((x) => x.name === 'exports')!.suggested).toBeGreaterThan(0);
  });

  it('keeps the current value of a signal that never varies (no evidence either way)', async () => {
    const { raws, good } = await scoredUsers(200);
    const s = suggestionFor(tieredModel, raws, good);
    expect(s.signals.find((x) => x.name === 'never')).toMatchObject({ kept: true, suggested: 3, current: 3 });
  });
});

describe('suggestedRawScore', () => {
  it('equals what the engine gives under the suggested model (weights, tiers and penalties)', async () => {
    // Arrange
    const { events, known, raws, good } = await scoredUsers(300);
    const suggestion = suggestionFor(tieredModel, raws, good);
    const suggestedModel = applySuggestion(tieredModel, suggestion);

    // Act
    const rescored = await scoreEvents(suggestedModel, events, { asOf: AS_OF, known });

    // Assert
    const byId = new Map(rescored.map((s) => [s.entityId, s.rawScore]));
    for (const raw of raws)
      expect(suggestedRawScore(tieredModel, suggestion, raw)).toBeCloseTo(byId.get(raw.entityId)!, 6);
    expect(suggestedModel.version).toBe(tieredModel.version + 1);
  });
});

describe('suggestedModelYaml', () => {
  const source = `# Our trial model: keep this comment
name: trial
version: 4
level: user
windowDays: 30
signals:
  - { name: logins, event: login, weight: 2 }   # daily habit
  - name: exports
    event: report_exported
    weight: 5
  - { name: active-days, event: "*", aggregate: distinctDays, tiers: [ { min: 0, points: 0 }, { min: 2, points: 10 } ] }
  - { name: never, event: never_sent, weight: 3 }
penalties:
  - { name: no-export, absent: report_exported, points: -20 }
bands:
  - { name: low }
  - { name: high, min: 30 }
`;

  it('changes only the numbers and the version, keeps comments, and loads as a valid model', async () => {
    // Arrange
    const loaded = parseModel(source, 'trial.yaml').model;
    const { raws, good } = await scoredUsers(300);
    const suggestion = suggestionFor(loaded, raws, good);

    // Act
    const text = suggestedModelYaml(
      source,
      'trial.yaml',
      'out/trial.suggested.yaml',
      loaded,
      suggestion,
      ' Suggested by a test',
    );

    // Assert
    const reloaded = parseModel(text, 'trial.suggested.yaml').model;
    expect(text.startsWith('# Suggested by a test')).toBe(true);
    expect(text).toContain('# Our trial model: keep this comment');
    expect(text).toContain('# daily habit');
    expect(reloaded.version).toBe(5);
    expect(reloaded.signals.map((s) => s.weight)).toEqual(
      suggestion.signals.map((s) => (s.kind === 'tiers' ? undefined : s.suggested)),
    );
    expect(reloaded.signals[2]!.tiers).toEqual(suggestion.tiers['active-days']);
    expect(reloaded.penalties[0]!.points).toBe(suggestion.penalties[0]!.suggested);
  });

  it('writes YAML for a JSON model file', async () => {
    // Arrange
    const json = JSON.stringify(parse(source));
    const loaded = parseModel(json, 'trial.json').model;
    const { raws, good } = await scoredUsers(200);
    const suggestion = suggestionFor(loaded, raws, good);

    // Act
    const text = suggestedModelYaml(json, 'trial.json', 'trial.suggested.yaml', loaded, suggestion, ' from JSON');

    // Assert
    expect(parseModel(text, 'trial.suggested.yaml').model.version).toBe(5);
    expect(text).not.toMatch(/^\{/);
  });
});

describe('roundSignificant', () => {
  it('keeps three significant digits', () => {
    expect(roundSignificant(3.8471926)).toBe(3.85);
    expect(roundSignificant(-0.012345)).toBe(-0.0123);
    expect(roundSignificant(1234.5)).toBe(1230);
    expect(roundSignificant(0)).toBe(0);
  });
});
