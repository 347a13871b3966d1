import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ModelIssue, ModelValidationError } from '../../../shared/domain/model/errors.js';
import { loadModelFile, loadModels, modelContentHash, parseModel } from '../../../shared/domain/model/load.js';

/** The example of docs/models.md#fields, verbatim: every key must be accepted exactly so. */
const DOCUMENTED_EXAMPLE = `name: customer            # [a-z0-9-]+, unique; used in paths and APIs
version: 3                # integer; bump on every change
level: account            # user | account
rollup: pooled            # account level only: pooled | mean | max
appliesTo:                # optional; all conditions must hold
  - { trait: plan, in: [pro, enterprise] }
windowDays: 30
timezone: Europe/Berlin
cadence: daily            # daily | weekly | monthly | cron(0 2 * * ? *)
signals:
  - { name: projects, event: project_created, weight: 4 }
  - { name: invites, event: teammate_invited, weight: 5, cap: 10 }
  - { name: core-use, event: core_feature_used, weight: 5, capPerDay: 3, decay: { halfLifeDays: 14 } }
  - { name: active-weeks, event: login, aggregate: distinctWeeks, weight: 2 }
  - { name: minutes, event: session_ended, aggregate: sum, property: minutes, weight: 0.1 }
  - { name: premium, event: feature_used, where: { tier: premium }, weight: 10 }
  - { name: active-days, event: "*", aggregate: distinctDays,
      tiers: [ { min: 0, points: 0 }, { min: 2, points: 5 }, { min: 5, points: 10 }, { min: 9, points: 20 } ] }
  - { name: payment-failures, event: payment_failed, weight: -10 }
  - { name: open-tickets, event: ticket_opened, weight: 0 }   # weight 0: a metric for penalties
penalties:
  - { name: no-report, absent: report_exported, points: -20 }
  - { name: inactive, inactiveDays: 14, points: -15 }
  - { name: ticket-backlog, signal: open-tickets, above: 3, points: -10 }
normalize: { method: target, target: 200 }   # or { method: none } | { method: percentile }; clamp: false allowed
bands:
  - { name: at-risk }
  - { name: low, min: 0 }
  - { name: medium, min: 40 }
  - { name: high, min: 70 }
alerts:
  drop: { points: 15 }       # or { percent: 30 }
  spike: { points: 25 }
  bandChange: true
`;

/** A small valid model; tests break one field at a time. */
const MINIMAL = `name: trial
version: 1
level: user
windowDays: 14
signals:
  - { name: logins, event: login, weight: 1 }
  - { name: projects, event: project_created, weight: 4 }
bands:
  - { name: low }
  - { name: high, min: 10 }
`;

/** The issues of the ModelValidationError `load` throws (fails when it throws anything else or nothing). */
function rejectionIssues(load: () => unknown): ModelIssue[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ModelValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected the model to be rejected');
}

const issuesOf = (text: string, file = 'trial.yaml') => rejectionIssues(() => parseModel(text, file));

const dirs: string[] = [];
function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-models-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the docs/models.md#fields example model', () => {
  it('is the one docs/models.md shows, so the documentation and this test cannot drift apart', () => {
    const docs = readFileSync(join(import.meta.dirname, '../../../docs/models.md'), 'utf8');

    expect(docs).toContain(DOCUMENTED_EXAMPLE);
  });

  it('is accepted exactly as written, every key kept', () => {
    const { model } = parseModel(DOCUMENTED_EXAMPLE, 'customer.yaml');

    expect(model).toMatchObject({
      name: 'customer',
      version: 3,
      level: 'account',
      rollup: 'pooled',
      appliesTo: [{ trait: 'plan', in: ['pro', 'enterprise'] }],
      windowDays: 30,
      timezone: 'Europe/Berlin',
      cadence: 'daily',
      normalize: { method: 'target', target: 200, clamp: true },
      alerts: { drop: { points: 15 }, spike: { points: 25 }, bandChange: true },
    });
    expect(model.signals.map((s) => s.name)).toEqual([
      'projects',
      'invites',
      'core-use',
      'active-weeks',
      'minutes',
      'premium',
      'active-days',
      'payment-failures',
      'open-tickets',
    ]);
    expect(model.signals[1]).toMatchObject({ cap: 10 });
    expect(model.signals[2]).toMatchObject({ capPerDay: 3, decay: { halfLifeDays: 14 } });
    expect(model.signals[3]).toMatchObject({ aggregate: 'distinctWeeks' });
    expect(model.signals[4]).toMatchObject({ aggregate: 'sum', property: 'minutes', weight: 0.1 });
    expect(model.signals[5]).toMatchObject({ where: { tier: 'premium' } });
    expect(model.signals[6]?.tiers).toHaveLength(4);
    expect(model.signals[7]?.weight).toBe(-10);
    expect(model.signals[8]?.weight).toBe(0);
    expect(model.penalties).toEqual([
      { name: 'no-report', absent: 'report_exported', points: -20 },
      { name: 'inactive', inactiveDays: 14, points: -15 },
      { name: 'ticket-backlog', signal: 'open-tickets', above: 3, points: -10 },
    ]);
    expect(model.bands).toEqual([
      { name: 'at-risk' },
      { name: 'low', min: 0 },
      { name: 'medium', min: 40 },
      { name: 'high', min: 70 },
    ]);
  });

  it.each([
    ['normalize: { method: none }', { method: 'none' }],
    ['normalize: { method: percentile }', { method: 'percentile' }],
    ['normalize: { method: target, target: 200, clamp: false }', { method: 'target', target: 200, clamp: false }],
  ])('accepts the documented alternative %s', (line, expected) => {
    const text = DOCUMENTED_EXAMPLE.replace(/^normalize: .*$/m, line);

    expect(parseModel(text, 'customer.yaml').model.normalize).toEqual(expected);
  });

  it.each(['weekly', 'monthly', 'cron(0 2 * * ? *)'])('accepts cadence %s', (cadence) => {
    const text = DOCUMENTED_EXAMPLE.replace(/^cadence: .*$/m, `cadence: "${cadence}"`);

    expect(parseModel(text, 'customer.yaml').model.cadence).toBe(cadence);
  });

  it('accepts drop by percent and the mean and max rollups', () => {
    const text = DOCUMENTED_EXAMPLE.replace('drop: { points: 15 }', 'drop: { percent: 30 }').replace(
      'rollup: pooled',
      'rollup: mean',
    );

    expect(parseModel(text, 'customer.yaml').model).toMatchObject({
      rollup: 'mean',
      alerts: { drop: { percent: 30 } },
    });
  });

  it('is accepted as JSON with the same meaning and the same content hash', () => {
    const yaml = parseModel(DOCUMENTED_EXAMPLE, 'customer.yaml');
    const json = parseModel(JSON.stringify(yaml.model, null, 2), 'customer.json');

    expect(json.model).toEqual(yaml.model);
    expect(json.contentHash).toBe(yaml.contentHash);
    expect(json.contentHash).toBe(modelContentHash(yaml.model));
  });
});

describe('defaults', () => {
  it('fills timezone UTC, cadence daily, no penalties, normalize none, count aggregate, alerts off', () => {
    const { model } = parseModel(MINIMAL, 'trial.yaml');

    expect(model).toMatchObject({
      timezone: 'UTC',
      cadence: 'daily',
      penalties: [],
      normalize: { method: 'none' },
      alerts: { bandChange: false },
    });
    expect(model.signals[0]?.aggregate).toBe('count');
  });
});

describe('errors name the file, the field path and the line', () => {
  it('a wrong type deep in a list: signals[1].weight', () => {
    const text = MINIMAL.replace(
      '{ name: projects, event: project_created, weight: 4 }',
      '{ name: projects, event: project_created, weight: four }',
    );

    const issues = issuesOf(text);

    expect(issues).toEqual([expect.objectContaining({ file: 'trial.yaml', path: 'signals[1].weight', line: 7 })]);
    expect(new ModelValidationError(issues).message).toMatch(/^trial\.yaml:7: signals\[1\]\.weight: /);
  });

  it('the committed broken fixture: windowDays, line 5', () => {
    const file = join('test', 'fixtures', 'bad-models', 'broken.yaml');

    const issues = rejectionIssues(() => loadModelFile(file));

    expect(issues).toEqual([expect.objectContaining({ file, path: 'windowDays', line: 5 })]);
  });

  it('a bad time zone', () => {
    const issues = issuesOf(MINIMAL.replace('windowDays: 14', 'windowDays: 14\ntimezone: Europe/Berln'));

    expect(issues).toEqual([
      expect.objectContaining({ path: 'timezone', line: 5, message: expect.stringContaining('IANA time zone') }),
    ]);
  });

  it('a duplicate signal name', () => {
    const issues = issuesOf(MINIMAL.replace('name: projects', 'name: logins'));

    expect(issues).toEqual([
      expect.objectContaining({ path: 'signals[1].name', line: 7, message: 'duplicate signal name "logins"' }),
    ]);
  });

  it('a duplicate penalty name and a penalty on an unknown signal', () => {
    const text = `${MINIMAL}penalties:
  - { name: quiet, inactiveDays: 7, points: -5 }
  - { name: quiet, absent: report_exported, points: -5 }
  - { name: backlog, signal: tickets, above: 3, points: -5 }
`;

    const issues = issuesOf(text);

    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['penalties[1].name', 13],
      ['penalties[2].signal', 14],
    ]);
  });

  it('duplicate band names and band mins that do not increase', () => {
    const text = MINIMAL.replace(
      '  - { name: high, min: 10 }\n',
      '  - { name: high, min: 10 }\n  - { name: high, min: 5 }\n',
    );

    const issues = issuesOf(text);

    expect(issues.map((i) => i.path).sort()).toEqual(['bands', 'bands[2].min']);
  });

  it('a band after the first without a min', () => {
    const issues = issuesOf(MINIMAL.replace('{ name: high, min: 10 }', '{ name: high }'));

    expect(issues).toEqual([expect.objectContaining({ path: 'bands[1].min' })]);
  });

  it('an unknown key, so a typo never silently changes a score', () => {
    const issues = issuesOf(MINIMAL.replace('weight: 4', 'wieght: 4'));

    expect(issues.map((i) => i.path)).toContain('signals[1]');
    expect(issues.map((i) => i.message).join(' ')).toMatch(/wieght/);
  });

  /** The replacement that adds `setting` to the minimal model's second signal. */
  const onSignal = (setting: string) => ['weight: 4', `weight: 4, ${setting}`] as const;

  it.each([
    ['a signal with both weight and tiers', ...onSignal('tiers: [{ min: 1, points: 2 }]'), 'signals[1].tiers'],
    ['a signal with neither weight nor tiers', ', weight: 4', '', 'signals[1].weight'],
    ['sum without a property', ...onSignal('aggregate: sum'), 'signals[1].property'],
    ['decay on distinctDays', ...onSignal('aggregate: distinctDays, decay: { halfLifeDays: 3 }'), 'signals[1].decay'],
    ['distinctUsers on a user model', ...onSignal('aggregate: distinctUsers'), 'signals[1].aggregate'],
    ['a negative cap', ...onSignal('cap: -1'), 'signals[1].cap'],
    ['a fractional capPerDay', ...onSignal('capPerDay: 1.5'), 'signals[1].capPerDay'],
    ['a bad name', 'name: trial', 'name: Trial_Model', 'name'],
    ['a rollup on a user model', 'level: user', 'level: user\nrollup: mean', 'rollup'],
    ['a window over a year', 'windowDays: 14', 'windowDays: 400', 'windowDays'],
    ['an unknown cadence', 'windowDays: 14', 'windowDays: 14\ncadence: hourly', 'cadence'],
    ['an unknown aggregate', ...onSignal('aggregate: median'), 'signals[1].aggregate'],
  ])('%s', (_, from, to, path) => {
    const issues = issuesOf(MINIMAL.replace(from, to));

    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.every((i) => i.file === 'trial.yaml')).toBe(true);
  });

  it('a YAML syntax error, with its line', () => {
    const issues = issuesOf(
      MINIMAL.replace('  - { name: logins, event: login, weight: 1 }', '  - { name: logins, event: login, weight: 1'),
    );

    expect(issues[0]).toMatchObject({
      file: 'trial.yaml',
      path: '',
      message: expect.stringMatching(/^not valid YAML/),
    });
    expect(issues[0]?.line).toBeGreaterThanOrEqual(6);
  });

  it('a JSON syntax error', () => {
    const issues = issuesOf('{ "name": "trial", "version": 1,, }', 'trial.json');

    expect(issues[0]).toMatchObject({ file: 'trial.json', message: expect.stringMatching(/^not valid JSON/), line: 1 });
  });

  it('a JSON model error, with its field path and line', () => {
    const json = `{
  "name": "trial",
  "version": 1,
  "level": "user",
  "windowDays": 14,
  "signals": [
    { "name": "logins", "event": "login", "weight": 1 },
    { "name": "projects", "event": "project_created", "weight": "4" }
  ],
  "bands": [{ "name": "low" }]
}`;

    expect(issuesOf(json, 'trial.json')).toEqual([
      expect.objectContaining({ file: 'trial.json', path: 'signals[1].weight', line: 8 }),
    ]);
  });

  it('a model in a file of another name', () => {
    expect(issuesOf(MINIMAL, 'customer.yaml')).toEqual([
      expect.objectContaining({ file: 'customer.yaml', path: 'name', message: expect.stringContaining('trial.yaml') }),
    ]);
  });
});

describe('loadModels', () => {
  it('loads every model in a directory, in file order, skipping schema and suggested files', () => {
    const dir = tempDir({
      'trial.yaml': MINIMAL,
      'customer.yaml': DOCUMENTED_EXAMPLE,
      'model.schema.json': '{}',
      'trial.suggested.yaml': 'not: a model',
      'notes.txt': 'ignored',
    });

    expect(loadModels(dir).map((m) => m.model.name)).toEqual(['customer', 'trial']);
  });

  it('reports every invalid file and duplicate model names at once', () => {
    const dir = tempDir({
      'trial.yaml': MINIMAL,
      'trial.v2.yaml': MINIMAL.replace('version: 1', 'version: 2'),
      'broken.yaml': MINIMAL.replace('name: trial', 'name: broken').replace('windowDays: 14', 'windowDays: x'),
    });

    const issues = rejectionIssues(() => loadModels(dir));

    expect(issues).toEqual([
      expect.objectContaining({ file: join(dir, 'broken.yaml'), path: 'windowDays', line: 4 }),
      expect.objectContaining({
        file: join(dir, 'trial.yaml'),
        path: 'name',
        message: expect.stringContaining('also used by'),
      }),
    ]);
  });

  it('fails clearly on an empty directory and on a missing path', () => {
    expect(() => loadModels(tempDir({}))).toThrow(/no model files/);
    expect(() => loadModels(join(tempDir({}), 'missing'))).toThrow(/cannot be read/);
  });
});
