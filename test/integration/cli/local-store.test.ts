import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { parseEventLine } from '../../../shared/files/jsonl-events.js';
import { localConfig } from '../../../shared/local/config.js';
import { readServerInfo, writeServerInfo } from '../../../shared/local/data-dir.js';
import { startLocalServer } from '../../../shared/local/server.js';
import { openLocalStack } from '../../../shared/local/stack.js';
import type { ShadowReport } from '../../../shared/run/shadow.js';
import { runPulseCli } from '../../support/cli.js';
import { modelYaml, type SyntheticData, writeSynthetic } from '../../support/synthetic.js';

/**
 * `pulse calibrate` and `pulse shadow` on the local store (dynalite + s3rver in PULSE_DATA_DIR): opened in the
 * CLI's process when no server runs, read through the server when one does.
 */
const work = mkdtempSync(join(tmpdir(), 'pulse-cli-local-'));
const modelsDir = join(work, 'models');
const env: NodeJS.ProcessEnv = {
  PULSE_DATA_DIR: join(work, 'data'),
  PULSE_MODELS_DIR: modelsDir,
  PORT: '0',
  PULSE_SHARD_COUNT: '4',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
let data: SyntheticData;
/** calibrate replaying the events file: the reference the other sources must reproduce. */
let fromFile: { model: unknown; n: number };

const cli = (...args: string[]) => runPulseCli(args, env, work);
/** `pulse calibrate` of the active model `engaged` against the synthetic outcomes, with more arguments. */
const calibrate = (...args: string[]) =>
  cli('calibrate', '--model', 'engaged', '--outcomes', data.outcomesFile, ...args);

beforeAll(async () => {
  data = writeSynthetic(mkdtempSync(join(work, 'synthetic-')), { users: 200, seed: 3 });
  mkdirSync(modelsDir);
  copyFileSync(data.goodModelFile, join(modelsDir, 'engaged.yaml'));
  const events = readFileSync(data.eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => parseEventLine(line) as ScoringEvent);
  // Ingest, make every user known, and publish a run for each outcome group's as-of (outcome date − 30 days).
  const stack = await openLocalStack(localConfig(env, work, { s3Port: 0, quiet: true }));
  try {
    for (let i = 0; i < events.length; i += 500) await stack.runDeps.events.putEvents(events.slice(i, i + 500));
    const users = [...new Set(events.map((e) => e.userId))];
    await stack.runDeps.entities.upsert(
      users.map((entityId) => ({ entityType: 'user', entityId, traits: {}, seenAt: Date.parse('2025-12-01') })),
    );
    for (const asOf of ['2026-03-01', '2026-03-16', '2026-03-31']) {
      const run = await stack.runner.run({ model: 'engaged', asOf, alerts: false });
      expect(run.status).toBe('succeeded');
    }
  } finally {
    await stack.close();
  }
  const file = await cli(
    'calibrate',
    '--model',
    data.goodModelFile,
    '--events',
    data.eventsFile,
    '--outcomes',
    data.outcomesFile,
    '--out',
    'out-file',
    '--json',
  );
  expect(file.code).toBe(0);
  fromFile = JSON.parse(file.out);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('pulse calibrate without --events (no server running)', () => {
  it('replays the local store for an active model given by name, with the result of the file replay', async () => {
    // Act
    const result = await calibrate('--out', 'out-store', '--json');

    // Assert
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out);
    expect(json.model).toEqual(fromFile.model);
    expect(json.n).toBe(200);
    expect(json.suggested.file).toBe(join('out-store', 'engaged.suggested.yaml'));
    expect(readFileSync(join(work, 'out-store', 'report.md'), 'utf8')).toContain(
      `read from the local store in ${join('data')}`,
    );
  });

  it('reads the published snapshots of the local store with --snapshots and no value', async () => {
    // Act
    const result = await calibrate('--snapshots', '--out', 'out-snap');

    // Assert
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      'scores as published 30 days before each outcome, read from s3://pulse-local/snapshots/model=engaged/',
    );
    const auc = (fromFile.model as { auc: number }).auc.toFixed(3);
    expect(result.out).toContain(`AUC ${auc}`);
  });

  it('exits 2 listing the active models when --model is neither a file nor one of them', async () => {
    const result = await cli('calibrate', '--model', 'nosuch', '--outcomes', data.outcomesFile);
    expect(result.code).toBe(2);
    expect(result.err).toContain(
      '--model nosuch: no such file, and no active model of that name in models (models: engaged)',
    );
  });

  it('exits 2 when both --events and --snapshots are given', async () => {
    const result = await calibrate('--events', data.eventsFile, '--snapshots');
    expect(result.code).toBe(2);
    expect(result.err).toContain('not both');
  });

  it('exits 2 saying what to do when the data dir holds no store', async () => {
    const empty = { ...env, PULSE_DATA_DIR: join(work, 'no-store') };
    const { code, err } = await runPulseCli(
      ['calibrate', '--model', 'engaged', '--outcomes', data.outcomesFile],
      empty,
      work,
    );
    expect(code).toBe(2);
    expect(err).toContain('which holds none yet: pass --events <file.jsonl>');
  });
});

describe('pulse shadow <draft>', () => {
  const draftFile = join(work, 'engaged.draft.yaml');
  beforeAll(() => {
    // Version 2 weighs tickets three times as much and forgets projects: entities move between bands.
    writeFileSync(
      draftFile,
      modelYaml('engaged', { logins: 1, projects: 0, tickets: -30 }).replace('version: 1', 'version: 2'),
    );
  });

  it('prints the entities whose band would change, with scores and top reasons, and a summary count', async () => {
    // Act
    const text = await cli('shadow', draftFile, '--as-of', '2026-03-31');
    const json = await cli('shadow', draftFile, '--as-of', '2026-03-31', '--json');

    // Assert
    expect(text.code).toBe(0);
    const report = JSON.parse(json.out) as ShadowReport;
    expect(report).toMatchObject({
      model: 'engaged',
      draftVersion: 2,
      compareWith: 'engaged',
      date: '2026-03-31',
      entities: 200,
    });
    expect(report.changes.length).toBeGreaterThan(10);
    expect(text.out).toContain(
      `engaged v2 (draft) against the live engaged as of 2026-03-31: 200 entities scored, ${report.changes.length} would change band, ${report.unchanged} unchanged`,
    );
    expect(text.out).toMatch(/TYPE\s+ID\s+BAND \(LIVE → DRAFT\)\s+SCORE \(LIVE → DRAFT\)\s+TOP REASONS/);
    const first = report.changes[0]!;
    expect(text.out).toMatch(
      new RegExp(`user\\s+${first.entityId}\\s+${first.from.band} → ${first.to.band}\\s+[-\\d.]+ → [-\\d.]+\\s+\\w`),
    );
    expect(first.reasons.map((r) => r.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/tickets|projects/)]),
    );
    expect(text.out).toContain(
      `${report.changes.length} of 200 entities with a live score would change band; nothing was published`,
    );
  });

  it('publishes nothing: the live scores are unchanged afterwards', async () => {
    const before = await cli('scores', '--model', 'engaged', '--limit', '5');
    await cli('shadow', draftFile, '--as-of', '2026-03-31');
    const after = await cli('scores', '--model', 'engaged', '--limit', '5');
    expect(after.out).toBe(before.out);
  });

  it('exits 1 with file:line for an invalid draft, 2 for a missing file or a draft without a live model', async () => {
    // Arrange
    const bad = join(work, 'engaged.bad.yaml');
    writeFileSync(
      bad,
      modelYaml('engaged', { logins: 1, projects: 1, tickets: 1 }).replace('windowDays: 30', 'windowDays: -3'),
    );
    const fresh = join(work, 'fresh.yaml');
    writeFileSync(fresh, modelYaml('fresh', { logins: 1, projects: 1, tickets: 1 }));

    // Act
    const invalid = await cli('shadow', bad);
    const missing = await cli('shadow', 'nope.yaml');
    const unknown = await cli('shadow', fresh, '--as-of', '2026-03-31');

    // Assert
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/engaged\.bad\.yaml:5: windowDays: /);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.yaml does not exist');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown model "fresh"; active models: engaged');
    expect(unknown.err).toContain('pass --compare-with <model>');
  });

  it('explains itself with --help', async () => {
    const help = await cli('shadow', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: pulse shadow [options] <draft-model-file>');
    expect(help.out).toContain('--as-of');
    expect(help.out).toContain('Example');
  });
});

describe('with the local server running on the data dir', () => {
  it('calibrate and shadow go through the server; an older server without its database URL is named', async () => {
    // Arrange
    const server = await startLocalServer(localConfig(env, work, { s3Port: 0, quiet: true }));
    try {
      // Act
      const store = await calibrate('--out', 'out-server', '--json');
      const snapshots = await calibrate('--snapshots', '--out', 'out-server-snap', '--json');
      const shadow = await cli('shadow', join(work, 'engaged.draft.yaml'), '--as-of', '2026-03-31', '--json');
      const info = readServerInfo(env.PULSE_DATA_DIR!)!;
      writeServerInfo(env.PULSE_DATA_DIR!, { ...info, dynamoUrl: undefined });
      const older = await cli('calibrate', '--model', 'engaged', '--outcomes', data.outcomesFile);

      // Assert
      expect(store.code).toBe(0);
      expect(JSON.parse(store.out).model).toEqual(fromFile.model);
      expect(readFileSync(join(work, 'out-server', 'report.md'), 'utf8')).toContain(
        `(through the server at ${server.url})`,
      );
      expect(snapshots.code).toBe(0);
      expect(JSON.parse(snapshots.out).model.auc).toBe((fromFile.model as { auc: number }).auc);
      expect(shadow.code).toBe(0);
      expect((JSON.parse(shadow.out) as ShadowReport).entities).toBe(200);
      expect(older.code).toBe(1);
      expect(older.err).toContain(`the local server ${server.url} (pid ${process.pid}) holds the store`);
      expect(older.err).toContain('pass --events <file.jsonl>');
    } finally {
      await server.close();
    }
    expect(readServerInfo(env.PULSE_DATA_DIR!)).toBeUndefined();
  });
});
