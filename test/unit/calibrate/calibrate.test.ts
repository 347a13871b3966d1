import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auc } from '../../../shared/calibrate/auc.js';
import { backtest } from '../../../shared/calibrate/backtest.js';
import { MIN_PER_CLASS } from '../../../shared/calibrate/calibrate.js';
import { CalibrateError } from '../../../shared/calibrate/errors.js';
import { readOutcomesFile } from '../../../shared/calibrate/outcomes.js';
import {
  type CalibrateRun,
  calibrateAction,
  runCalibrate,
  runCalibrateDetailed,
} from '../../../shared/cli/calibrate.js';
import { loadModelFile } from '../../../shared/domain/model/load.js';
import { outcomesCsv } from '../../support/outcomes.js';
import { modelYaml, type SyntheticData, writeSynthetic } from '../../support/synthetic.js';

let dir: string;
let data: SyntheticData;
let engaged: CalibrateRun;
let backwards: CalibrateRun;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pulse-calibrate-'));
  data = writeSynthetic(dir, { users: 1200, seed: 42 });
  engaged = await runCalibrateDetailed({
    model: data.goodModelFile,
    events: data.eventsFile,
    outcomes: data.outcomesFile,
    out: join(dir, 'out-engaged'),
  });
  backwards = await runCalibrateDetailed({
    model: data.badModelFile,
    events: data.eventsFile,
    outcomes: data.outcomesFile,
    out: join(dir, 'out-backwards'),
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('calibrate on synthetic data with a known generating process', () => {
  it('measures an AUC within 0.03 of the true AUC, with a bootstrap interval that contains it', () => {
    // Assert
    const { model } = engaged.json;
    expect(data.trueAuc).toBeGreaterThan(0.7);
    expect(Math.abs(model.auc - data.trueAuc)).toBeLessThan(0.03);
    expect(model.aucCi[0]).toBeLessThan(data.trueAuc);
    expect(model.aucCi[1]).toBeGreaterThan(data.trueAuc);
  });

  it('recovers the signs and the rank of the true effects in the suggested weights', () => {
    // True per-unit effects: tickets −1.0, projects +0.4, logins +0.1
    const w = engaged.json.suggested.weights;
    expect(w.logins).toBeGreaterThan(0);
    expect(w.projects).toBeGreaterThan(0);
    expect(w.tickets).toBeLessThan(0);
    expect(Math.abs(w.tickets!)).toBeGreaterThan(Math.abs(w.projects!));
    expect(Math.abs(w.projects!)).toBeGreaterThan(Math.abs(w.logins!));
    // The ratios land near the truth (10 : 4 : 1 on the current model's scale).
    expect(w.projects! / Math.abs(w.tickets!)).toBeGreaterThan(0.3);
    expect(w.projects! / Math.abs(w.tickets!)).toBeLessThan(0.6);
  });

  it('suggests weights that beat a deliberately bad model, in-sample and cross-validated', () => {
    // Assert
    expect(backwards.json.model.auc).toBeLessThan(0.3);
    expect(backwards.json.suggested.auc).toBeGreaterThan(backwards.json.model.auc + 0.4);
    expect(backwards.report.crossValidatedAuc).toBeGreaterThan(0.75);
    expect(Math.abs(backwards.json.suggested.auc - data.trueAuc)).toBeLessThan(0.03);
    expect(backwards.report.bandChanges.length).toBeGreaterThan(100);
  });

  it('never counts events at or after the as-of (post-outcome activity must not leak into the score)', () => {
    // Every user has a renewal_call exactly at the as-of and good users log in afterwards.
    const renewal = engaged.json.model.signals.find((s) => s.name === 'renewal-calls');
    expect(renewal?.auc).toBe(0.5);
    expect(engaged.report.current.auc).toBeLessThan(data.trueAuc + 0.03);
  });

  it('reports churn falling from band to band for the engaged model, and a bottom-decile lift above 1', () => {
    const rates = engaged.json.model.bands.map((b) => b.badRate);
    expect(rates.every((r) => r !== null)).toBe(true);
    expect(engaged.report.current.monotonic).toBe(true);
    expect(engaged.report.current.bottomDecile.lift).toBeGreaterThan(1.3);
    expect(backwards.report.current.monotonic).toBe(false);
  });

  it('prints exactly the documented JSON shape', () => {
    // Assert
    const json = engaged.json;
    expect(Object.keys(json)).toEqual(['n', 'good', 'bad', 'model', 'suggested', 'bestSingleSignal', 'warnings']);
    expect(Object.keys(json.model)).toEqual(['auc', 'aucCi', 'bands', 'signals']);
    expect(Object.keys(json.suggested)).toEqual([
      'auc',
      'cvAuc',
      'outOfTimeAuc',
      'file',
      'weights',
      'transforms',
      'bands',
      'constraints',
    ]);
    expect(json.suggested.bands.map((b) => Object.keys(b))).toEqual(Array(4).fill(['band', 'min', 'n', 'badRate']));
    expect(json.suggested.cvAuc).toBeGreaterThan(0.7);
    expect(Array.isArray(json.warnings)).toBe(true);
    expect(json.model.bands.map((b) => Object.keys(b))).toEqual(Array(4).fill(['band', 'n', 'badRate']));
    expect(json.model.signals.map((s) => s.name)).toEqual(['logins', 'projects', 'tickets', 'renewal-calls']);
    expect(json).toMatchObject({ n: 1200, good: data.good, bad: 1200 - data.good });
    expect(json.suggested.file).toBe(join(dir, 'out-engaged', 'engaged.suggested.yaml'));
  });

  it('writes a suggested model that loads, has the next version, and scores exactly as the report says', async () => {
    // Arrange
    const suggested = loadModelFile(engaged.json.suggested.file!).model;

    // Act: replay the events under the suggested model
    const replay = await backtest({
      model: suggested,
      eventsFile: data.eventsFile,
      outcomes: readOutcomesFile(data.outcomesFile),
      horizonDays: 30,
    });

    // Assert
    expect(suggested.version).toBe(2);
    expect(suggested.signals.map((s) => s.weight)).toEqual(Object.values(engaged.json.suggested.weights));
    const replayAuc = auc(
      replay.rows.map((r) => r.score),
      replay.rows.map((r) => r.outcome.good),
    );
    expect(replayAuc).toBeCloseTo(engaged.json.suggested.auc, 4);
  });

  it('writes the Markdown and HTML reports with the findings', () => {
    const md = readFileSync(engaged.files!.markdown, 'utf8');
    const html = readFileSync(engaged.files!.html, 'utf8');
    expect(md).toContain(`**AUC ${engaged.json.model.auc.toFixed(3)}**`);
    expect(md).toContain('## Churn by band');
    expect(md).toContain('cross-validated');
    expect(html).toContain('<svg id="roc-chart"');
    expect(html).toContain('<svg id="band-chart"');
    expect(html).toContain('<svg id="score-histogram"');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe('calibrate refuses data it cannot judge, saying what to fix', () => {
  function writeOutcomes(name: string, rows: string[]): string {
    const file = join(dir, name);
    writeFileSync(file, `${outcomesCsv(...rows)}\n`);
    return file;
  }

  /** The first 30 synthetic users' outcome rows (both kinds), re-used with changes. */
  function syntheticRows(count: number): string[] {
    return readFileSync(data.outcomesFile, 'utf8')
      .trim()
      .split('\n')
      .slice(1, count + 1);
  }

  it('names unknown entities (never in the events) and how to proceed', async () => {
    // Arrange
    const file = writeOutcomes('unknown.csv', [...syntheticRows(60), 'user,ghost-1,churned,2026-03-31']);

    // Act / Assert
    await expect(
      runCalibrate({ model: data.goodModelFile, events: data.eventsFile, outcomes: file, out: join(dir, 'x') }),
    ).rejects.toThrow(/1 of 61 outcome entities never appear in .*"ghost-1" \(line 62\).*--skip-unknown/);
  });

  it('leaves unknown entities out with --skip-unknown and says so in the report', async () => {
    // Arrange
    const file = writeOutcomes('unknown-skip.csv', [...syntheticRows(60), 'user,ghost-1,churned,2026-03-31']);

    // Act
    const run = await runCalibrateDetailed({
      model: data.goodModelFile,
      events: data.eventsFile,
      outcomes: file,
      out: join(dir, 'skip'),
      skipUnknown: true,
    });

    // Assert
    expect(run.json.n).toBe(60);
    expect(readFileSync(run.files!.markdown, 'utf8')).toContain('1 outcome(s) were left out');
  });

  it('rejects outcome dates whose as-of lies after the events end', async () => {
    // Arrange: the events end on 2026-04-28; 2026-09-30 − 30 days is long after
    const file = writeOutcomes('late.csv', [...syntheticRows(59), 'user,u00000,churned,2026-09-30']);

    // Act / Assert
    await expect(
      runCalibrate({ model: data.goodModelFile, events: data.eventsFile, outcomes: file, out: join(dir, 'x') }),
    ).rejects.toThrow(/1 outcome date\(s\) fall outside the events: line 61 \(2026-09-30\).*after the last event/);
  });

  it('rejects outcome dates whose as-of lies before the first event', async () => {
    const file = writeOutcomes('early.csv', [...syntheticRows(59), 'user,u00000,churned,2024-01-31']);
    await expect(
      runCalibrate({ model: data.goodModelFile, events: data.eventsFile, outcomes: file, out: join(dir, 'x') }),
    ).rejects.toThrow(/before the first event/);
  });

  it('says how many more outcomes a meaningful AUC needs', async () => {
    // Arrange: 3 churned, 12 good
    const rows = [
      ...Array.from({ length: 3 }, (_, i) => `user,u0000${i},churned,2026-03-31`),
      ...Array.from({ length: 12 }, (_, i) => `user,u001${String(i).padStart(2, '0')},renewed,2026-03-31`),
    ];
    const file = writeOutcomes('few.csv', rows);

    // Act / Assert
    await expect(
      runCalibrate({ model: data.goodModelFile, events: data.eventsFile, outcomes: file, out: join(dir, 'x') }),
    ).rejects.toThrow(
      `too few outcomes for a meaningful AUC: 3 churned and 12 retained/renewed/upgraded; need at least ${MIN_PER_CLASS} of each (7 more churned, 0 more good)`,
    );
  });

  it('rejects account outcomes for a user-level model', async () => {
    const file = writeOutcomes(
      'accounts.csv',
      syntheticRows(40).map((r) => r.replace(/^user,/, 'account,')),
    );
    await expect(
      runCalibrate({ model: data.goodModelFile, events: data.eventsFile, outcomes: file, out: join(dir, 'x') }),
    ).rejects.toBeInstanceOf(CalibrateError);
  });
});

describe('calibrateAction (the command body): exit codes and output', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return {
      io: {
        stdout: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream,
        stderr: { write: (s: string) => err.push(s) } as unknown as NodeJS.WritableStream,
      },
      out,
      err,
    };
  }

  it('prints the JSON result on stdout and exits 0', async () => {
    // Arrange
    const c = capture();

    // Act
    const code = await calibrateAction(
      {
        model: data.goodModelFile,
        events: data.eventsFile,
        outcomes: data.outcomesFile,
        out: join(dir, 'cli'),
        json: true,
      },
      c.io,
    );

    // Assert
    expect(code).toBe(0);
    expect(JSON.parse(c.out.join(''))).toMatchObject({ n: 1200, model: { auc: engaged.json.model.auc } });
    expect(c.err.join('')).toBe('');
  });

  it('exits 2 with a usage message for a missing flag, a bad horizon or bad --threads', async () => {
    const missing = capture();
    expect(await calibrateAction({ model: data.goodModelFile }, missing.io)).toBe(2);
    expect(missing.err.join('')).toContain('missing --outcomes');

    const horizon = capture();
    const flags = {
      model: data.goodModelFile,
      events: data.eventsFile,
      outcomes: data.outcomesFile,
      horizonDays: 'soon',
    };
    expect(await calibrateAction(flags, horizon.io)).toBe(2);
    expect(horizon.err.join('')).toContain('--horizon-days must be a whole number, got "soon"');

    for (const [threads, message] of [
      ['0', '--threads must be at least 1, got "0"'],
      ['65', '--threads must be at most 64, got "65"'],
      ['many', '--threads must be a whole number, got "many"'],
    ]) {
      const badThreads = capture();
      expect(await calibrateAction({ ...flags, horizonDays: '30', threads }, badThreads.io)).toBe(2);
      expect(badThreads.err.join('')).toContain(message);
    }

    const noFile = capture();
    expect(await calibrateAction({ ...flags, horizonDays: '30', events: join(dir, 'nope.jsonl') }, noFile.io)).toBe(2);
    expect(noFile.err.join('')).toContain('--events');
  });

  it('exits 1 naming the file and line for an invalid outcomes file or model', async () => {
    // Arrange
    const badOutcomes = join(dir, 'bad.csv');
    writeFileSync(badOutcomes, `${outcomesCsv('user,u1,maybe,2026-03-31')}\n`);
    const badModel = join(dir, 'broken.yaml');
    writeFileSync(
      badModel,
      modelYaml('broken', { logins: 1, projects: 1, tickets: 1 }).replace('windowDays: 30', 'windowDays: -3'),
    );
    const a = capture();
    const b = capture();

    // Act
    const codeA = await calibrateAction(
      { model: data.goodModelFile, events: data.eventsFile, outcomes: badOutcomes },
      a.io,
    );
    const codeB = await calibrateAction(
      { model: badModel, events: data.eventsFile, outcomes: data.outcomesFile },
      b.io,
    );

    // Assert
    expect(codeA).toBe(1);
    expect(a.err.join('')).toContain('bad.csv:2: outcome must be churned, retained, renewed or upgraded, got "maybe"');
    expect(codeB).toBe(1);
    expect(b.err.join('')).toContain('windowDays');
  });
});

describe('the suggestion generalises and its bands stay meaningful (docs/calibrate.md#how-the-suggestion-is-fitted)', () => {
  it('keeps the current model’s band shares on the fit data, and shows both tables', () => {
    const { bandsBefore, bandsAfter } = engaged.report;
    expect(bandsAfter.map((b) => b.band)).toEqual(bandsBefore.map((b) => b.band));
    bandsAfter.forEach((b, k) => {
      expect(Math.abs(b.share - bandsBefore[k]!.share)).toBeLessThan(0.03);
    });
    expect(engaged.json.suggested.bands.map((b) => b.min)).toEqual([null, ...engaged.report.suggestion.bandMins]);
    const md = readFileSync(engaged.files!.markdown, 'utf8');
    expect(md).toContain('## Bands before and after');
    expect(md).toContain('## Out of sample');
  });

  it('writes the refitted band mins and chosen transforms into the suggested file', () => {
    const suggested = loadModelFile(engaged.json.suggested.file!).model;
    expect(suggested.bands.slice(1).map((b) => b.min)).toEqual(engaged.report.suggestion.bandMins);
    suggested.signals.forEach((s) => {
      const t = engaged.json.suggested.transforms[s.name]!;
      expect(s.transform ?? 'none').toBe(t);
    });
  });

  it('reports k-fold and out-of-time AUCs (outcome dates span 30 days) and the best single signal', () => {
    const r = engaged.report;
    expect(r.outOfTime).not.toBeNull();
    expect(r.outOfTime!.testN + r.outOfTime!.fitN).toBe(1200);
    expect(r.outOfTime!.suggestedAuc).toBeGreaterThan(0.7);
    expect(engaged.json.suggested.outOfTimeAuc).toBe(Math.round(r.outOfTime!.suggestedAuc * 1e4) / 1e4);
    expect(r.bestSingle?.name).toBe('tickets');
    // Three informative signals together beat the best of them alone, out of sample.
    expect(r.crossValidatedAuc).toBeGreaterThan(r.bestSingle!.auc);
    expect(engaged.json.warnings.filter((w) => w.includes('best single signal'))).toEqual([]);
  });

  it('warns when the suggestion does not beat the best single signal out of sample', async () => {
    // Only one informative signal: the fit cannot beat it, and cross-validation says so.
    const file = join(dir, 'one.yaml');
    writeFileSync(
      file,
      modelYaml('one', { logins: 0, projects: 0, tickets: -1 }).replace(
        / {2}- \{ name: (logins|projects|renewal-calls).*\n/g,
        '',
      ),
    );
    const run = await runCalibrateDetailed({ model: file, events: data.eventsFile, outcomes: data.outcomesFile });
    expect(run.report.crossValidatedAuc).toBeLessThanOrEqual(run.report.bestSingle!.auc);
    expect(run.json.warnings.join('\n')).toMatch(/does not beat the best single signal out of sample/);
  });

  it('warns when one band would hold more than 70 % of entities', async () => {
    const file = join(dir, 'lopsided.yaml');
    writeFileSync(
      file,
      modelYaml('lopsided', { logins: 1, projects: 4, tickets: -10 }).replace('min: 20', 'min: 2000'),
    );
    const run = await runCalibrateDetailed({
      model: file,
      events: data.eventsFile,
      outcomes: data.outcomesFile,
      bandBadRates: [0.9, 0.8, 0.01],
    });
    expect(run.report.bandFit).toEqual({ method: 'bad-rates', rates: [0.9, 0.8, 0.01] });
    const big = run.report.bandsAfter.filter((b) => b.share > 0.7);
    expect(big.length).toBe(1);
    expect(run.json.warnings.join('\n')).toContain(`band "${big[0]!.band}"`);
  });

  it('writes nothing without --out: no calibration folder in the working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pulse-calibrate-cwd-'));
    try {
      const out: string[] = [];
      const io = {
        stdout: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream,
        stderr: { write: () => true } as unknown as NodeJS.WritableStream,
        cwd,
      };
      const code = await calibrateAction(
        { model: data.goodModelFile, events: data.eventsFile, outcomes: data.outcomesFile, allowSignFlip: true },
        io,
      );
      expect(code).toBe(0);
      expect(readdirSync(cwd)).toEqual([]);
      expect(out.join('')).toContain('nothing written: add --out <dir>');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('rejects malformed --band-bad-rates as bad usage (exit 2)', async () => {
    const err: string[] = [];
    const io = {
      stdout: { write: () => true } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => err.push(s) } as unknown as NodeJS.WritableStream,
    };
    const code = await calibrateAction(
      { model: data.goodModelFile, events: data.eventsFile, outcomes: data.outcomesFile, bandBadRates: '0.1,0.5' },
      io,
    );
    expect(code).toBe(2);
    expect(err.join('')).toContain('--band-bad-rates needs 3 rate(s)');
  });
});
