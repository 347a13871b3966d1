import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalibrateDetailed } from '../../shared/cli/calibrate.js';
import { findChromium, HEADLESS_CHROMIUM } from '../support/chromium.js';
import { writeSynthetic } from '../support/synthetic.js';

const chromium = findChromium();

describe.skipIf(!chromium)(
  'calibrate report.html in headless Chromium (skipped: no chromium on PATH; apt-get install chromium)',
  () => {
    let dir: string;
    let dom: string;
    let bands: number;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pulse-report-'));
      const data = writeSynthetic(dir, { users: 300, seed: 5 });
      const run = await runCalibrateDetailed({
        model: data.goodModelFile,
        events: data.eventsFile,
        outcomes: data.outcomesFile,
        out: join(dir, 'out'),
        bootstrapReplicates: 200,
      });
      bands = run.report.model.bands.length;
      // --dump-dom prints the DOM after the page has loaded and rendered.
      dom = execFileSync(chromium!, [...HEADLESS_CHROMIUM, '--dump-dom', pathToFileURL(run.files!.html).href], {
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 << 20,
      });
    });

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('renders the ROC curve with the current and suggested curves', () => {
      expect(dom).toMatch(/<svg id="roc-chart"[^>]*>/);
      const current = /<path class="roc-current" d="(M[^"]+)"/.exec(dom);
      expect(current?.[1]?.split('L').length).toBeGreaterThan(10);
      expect(dom).toMatch(/<path class="roc-suggested" d="M[^"]+"/);
    });

    it('renders one bar per band in the churn-by-band chart', () => {
      expect(dom).toMatch(/<svg id="band-chart"/);
      expect(dom.match(/<rect class="band-bar"/g)?.length).toBe(bands);
    });

    it('renders the score distribution split by outcome', () => {
      expect(dom).toMatch(/<svg id="score-histogram"/);
      expect(dom.match(/<rect class="hist-good"/g)?.length).toBe(20);
      expect(dom.match(/<rect class="hist-bad"/g)?.length).toBe(20);
    });

    it('renders the per-signal AUC chart and the summary cards', () => {
      expect(dom).toMatch(/<svg id="signal-chart"/);
      expect(dom).toContain('Calibration of engaged v1');
      expect(dom).toContain('Bottom-decile lift');
    });
  },
);
