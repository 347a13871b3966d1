import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalibrateJson } from '../../shared/calibrate/calibrate.js';
import { loadModelFile } from '../../shared/domain/model/load.js';
import { KDD_HORIZON_DAYS, KDD_MODEL, KDD_SHOWN, kddAvailable, writeKddCourse } from '../support/kdd.js';

/**
 * Generalisation on real outcomes (docs/calibrate.md#out-of-sample-figures): fit on one KDD Cup 2015 course, then
 * score other courses with the suggested file through the CLI exactly as a user would. The fit course is thinned to
 * every third enrollment (by id, deterministic) to keep the run short.
 */
const FIT_COURSE = 'trainCourse4010';
const HELD_OUT = ['trainCourse645', 'trainCourse1038'] as const;
const run = promisify(execFile);

async function pulse(args: string[], cwd: string): Promise<CalibrateJson> {
  const { stdout } = await run(process.execPath, [join(process.cwd(), 'bin', 'pulse.mjs'), ...args], {
    cwd,
    maxBuffer: 16 << 20,
    env: { ...process.env, CI: '1' },
  });
  return JSON.parse(stdout) as CalibrateJson;
}

const available = kddAvailable([FIT_COURSE, ...HELD_OUT]);

describe.skipIf(!available)(
  `a suggestion fitted on one KDD Cup course beats the best single signal on other courses (skipped when the data is not at ${KDD_SHOWN})`,
  () => {
    let dir: string;
    let fit: CalibrateJson;
    const heldOut = new Map<string, { current: CalibrateJson; suggested: CalibrateJson }>();

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pulse-generalise-'));
      writeFileSync(join(dir, 'mooc.yaml'), KDD_MODEL);
      const horizon = ['--horizon-days', String(KDD_HORIZON_DAYS), '--skip-unknown', '--json'];
      const course = writeKddCourse(FIT_COURSE, dir, { keep: 3 });
      fit = await pulse(
        [
          'calibrate',
          '--model',
          'mooc.yaml',
          '--events',
          course.events,
          '--outcomes',
          course.outcomes,
          '--out',
          'fit',
          ...horizon,
        ],
        dir,
      );
      await Promise.all(
        HELD_OUT.map(async (name) => {
          const c = writeKddCourse(name, dir);
          const flags = ['--events', c.events, '--outcomes', c.outcomes, ...horizon];
          const [current, suggested] = await Promise.all([
            pulse(['calibrate', '--model', 'mooc.yaml', ...flags], dir),
            pulse(['calibrate', '--model', fit.suggested.file!, ...flags], dir),
          ]);
          heldOut.set(name, { current, suggested });
        }),
      );
    }, 300_000);

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes a suggested model with diminishing returns and refitted bands', () => {
      const model = loadModelFile(join(dir, fit.suggested.file!)).model;
      expect(model.version).toBe(2);
      expect(Object.values(fit.suggested.transforms).some((t) => t !== 'none')).toBe(true);
      expect(model.bands.slice(1).map((b) => b.min)).toEqual(fit.suggested.bands.slice(1).map((b) => b.min));
      expect(fit.suggested.cvAuc).toBeGreaterThan(fit.bestSingleSignal!.auc);
    });

    it.each(HELD_OUT)('on held-out %s: AUC at least the best single signal and the hand-written model', (name) => {
      const { current, suggested } = heldOut.get(name)!;
      // The best single signal and the current model are measured on the held-out course itself.
      expect(suggested.model.auc).toBeGreaterThanOrEqual(current.bestSingleSignal!.auc);
      expect(suggested.model.auc).toBeGreaterThanOrEqual(current.model.auc);
    });

    it.each(HELD_OUT)(
      'on held-out %s: informative bands (the lowest churns most, the highest below average, none above 90 percent)',
      (name) => {
        const { suggested } = heldOut.get(name)!;
        const bands = suggested.model.bands.filter((b) => b.n > 0);
        expect(bands.length).toBeGreaterThanOrEqual(3);
        for (const b of suggested.model.bands) expect(b.n / suggested.n).toBeLessThanOrEqual(0.9);
        const rates = bands.map((b) => b.badRate!);
        // The lowest band churns most, the highest less than average (middle bands of a small course are too small to
        // order reliably).
        const overall = suggested.bad / suggested.n;
        expect(Math.max(...rates.slice(1))).toBeLessThan(rates[0]!);
        expect(rates[0]!).toBeGreaterThan(overall);
        expect(rates[rates.length - 1]!).toBeLessThan(overall);
        expect(rates[0]! - rates[rates.length - 1]!).toBeGreaterThan(0.3);
      },
    );
  },
);
