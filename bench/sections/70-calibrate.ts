import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { backtest } from '../../shared/calibrate/backtest.js';
import { readOutcomesFile } from '../../shared/calibrate/outcomes.js';
import { runCalibrateDetailed } from '../../shared/cli/calibrate.js';
import { loadModelFile } from '../../shared/domain/model/load.js';
import { KDD_HORIZON_DAYS, KDD_MODEL, KDD_SHOWN, kddAvailable, writeKddCourse } from '../../test/support/kdd.js';
import type { BenchFn, BenchRow } from '../types.js';

/**
 * `pulse calibrate` on real outcomes: the KDD Cup 2015 MOOC dropout data (XuetangX), read at run time from the
 * shared data folder next to the repository (never copied into it). Each course enrollment becomes a user, each
 * day's per-type activity count one native event with an `n` property; dropout (no activity in the 10 days after
 * the 30-day window) is `churned`, otherwise `retained`. Outcome date = last window day + 10, horizon 10 days, so
 * each score covers exactly the course's 30-day window and nothing after it.
 */
const QUICK_COURSES = ['trainCourse645'];
const ALL_COURSES = [
  'trainCourse645',
  'trainCourse1038',
  'trainCourse1240',
  'trainCourse1476',
  'trainCourse2392',
  'trainCourse2796',
  'trainCourse4010',
];
export const bench: BenchFn = async ({ quick }) => {
  const name = 'calibrate (KDD Cup 2015 MOOC dropout, real outcomes)';
  const courses = quick ? QUICK_COURSES : ALL_COURSES;
  if (!kddAvailable(courses)) {
    return { name, rows: [], notes: [`data not found at ${KDD_SHOWN}: section skipped`] };
  }
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-calibrate-'));
  try {
    // One file of events and one of outcomes over all the courses, each course converted by the test fixture's reader.
    const events: string[] = [];
    const outcomes: string[] = ['entity_type,entity_id,outcome,outcome_date'];
    for (const course of courses) {
      const files = writeKddCourse(course, dir);
      events.push(...readFileSync(files.events, 'utf8').trim().split('\n'));
      outcomes.push(...readFileSync(files.outcomes, 'utf8').trim().split('\n').slice(1));
    }
    writeFileSync(join(dir, 'events.jsonl'), `${events.join('\n')}\n`);
    writeFileSync(join(dir, 'outcomes.csv'), `${outcomes.join('\n')}\n`);
    writeFileSync(join(dir, 'mooc.yaml'), KDD_MODEL);
    const started = performance.now();
    const run = await runCalibrateDetailed({
      model: join(dir, 'mooc.yaml'),
      events: join(dir, 'events.jsonl'),
      outcomes: join(dir, 'outcomes.csv'),
      horizonDays: KDD_HORIZON_DAYS,
      out: join(dir, 'out'),
      skipUnknown: true,
    });
    const seconds = (performance.now() - started) / 1000;
    const r = run.report;
    // The replay alone on the same file, one thread vs one per core (docs/calibrate.md#threads): results are equal
    // by construction (tested), so only the time is reported.
    const replayOn = async (threads: number) => {
      const began = performance.now();
      const result = await backtest({
        model: loadModelFile(join(dir, 'mooc.yaml')).model,
        eventsFile: join(dir, 'events.jsonl'),
        outcomes: readOutcomesFile(join(dir, 'outcomes.csv')),
        horizonDays: KDD_HORIZON_DAYS,
        unknownEntities: 'skip',
        threads,
      });
      return { seconds: (performance.now() - began) / 1000, threads: result.threads ?? 1 };
    };
    const cores = Math.max(2, availableParallelism());
    const oneThread = await replayOn(1);
    const manyThreads = await replayOn(cores);
    const rows: BenchRow[] = [
      { metric: 'outcomes', value: r.current.n, unit: 'enrollments' },
      { metric: 'events replayed', value: events.length, unit: 'events' },
      {
        metric: 'AUC, hand-written model',
        value: r.current.auc,
        unit: '',
        target: '0.74–0.92 (per-course event-count AUC, SOURCE.md)',
      },
      { metric: 'AUC 95% CI low', value: r.current.aucCi[0], unit: '' },
      { metric: 'AUC 95% CI high', value: r.current.aucCi[1], unit: '' },
      { metric: 'AUC, suggested weights (in-sample)', value: r.suggested.auc, unit: '' },
      { metric: 'AUC, suggested weights (5-fold CV)', value: r.crossValidatedAuc, unit: '' },
      { metric: 'bottom-decile lift', value: r.current.bottomDecile.lift, unit: '×' },
      { metric: 'calibrate wall time', value: seconds, unit: 's' },
      { metric: 'events replay, 1 thread', value: oneThread.seconds, unit: 's' },
      { metric: `events replay, ${manyThreads.threads} threads`, value: manyThreads.seconds, unit: 's' },
    ];
    return {
      name,
      rows,
      notes: [
        `courses: ${courses.join(', ')}; ${r.backtest.runs} as-of dates; ${r.backtest.skipped.length} outcomes without events left out`,
        `churn by band: ${r.current.bands.map((b) => `${b.band} ${b.badRate === null ? '–' : (100 * b.badRate).toFixed(1)}%`).join(', ')} (${r.current.monotonic ? 'monotonic' : 'not monotonic'})`,
        `suggested weights: ${Object.entries(run.json.suggested.weights)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
