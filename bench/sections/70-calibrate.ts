import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backtest } from '../../shared/calibrate/backtest.js';
import { readOutcomesFile } from '../../shared/calibrate/outcomes.js';
import { runCalibrateDetailed } from '../../shared/cli/calibrate.js';
import { loadModelFile } from '../../shared/domain/model/load.js';
import type { BenchFn, BenchRow } from '../types.js';

/**
 * `pulse calibrate` on real outcomes: the KDD Cup 2015 MOOC dropout data (XuetangX), read at run time from the
 * shared data folder next to the repository (never copied into it). Each course enrollment becomes a user, each
 * day's per-type activity count one native event with an `n` property; dropout (no activity in the 10 days after
 * the 30-day window) is `churned`, otherwise `retained`. Outcome date = last window day + 10, horizon 10 days, so
 * each score covers exactly the course's 30-day window and nothing after it.
 */
const here = dirname(fileURLToPath(import.meta.url));
const DATA = join(here, '..', '..', '..', 'shared', 'data', 'kddcup2015-mooc-dropout');
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
const TYPES = ['access', 'discussion', 'navigate', 'page_close', 'problem', 'video', 'wiki'] as const;
const DAY = 86_400_000;

/** A plausible hand-written engagement model: what a course team might write before any calibration. */
const MODEL = `name: mooc
version: 1
level: user
windowDays: 30
signals:
  - { name: active-days, event: "*", aggregate: distinctDays, weight: 3 }
  - { name: videos, event: video, aggregate: sum, property: n, weight: 1 }
  - { name: problems, event: problem, aggregate: sum, property: n, weight: 1 }
  - { name: pages, event: access, aggregate: sum, property: n, weight: 0.2 }
  - { name: discussion, event: discussion, aggregate: sum, property: n, weight: 2 }
  - { name: last-week, event: "*", aggregate: sum, property: n, weight: 0, decay: { halfLifeDays: 3 } }
penalties:
  - { name: inactive, inactiveDays: 10, points: -20 }
normalize: { method: target, target: 150 }
bands:
  - { name: at-risk }
  - { name: low, min: 10 }
  - { name: medium, min: 40 }
  - { name: high, min: 70 }
`;

export const bench: BenchFn = async ({ quick }) => {
  const name = 'calibrate (KDD Cup 2015 MOOC dropout, real outcomes)';
  if (!existsSync(join(DATA, 'truth_train.csv'))) {
    return { name, rows: [], notes: [`data not found at ../shared/data/kddcup2015-mooc-dropout: section skipped`] };
  }
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-calibrate-'));
  try {
    const labels = new Map<string, string>();
    for (const line of readFileSync(join(DATA, 'truth_train.csv'), 'utf8').trim().split('\n').slice(1)) {
      const [id, label] = line.split(',');
      labels.set(id!, label!);
    }
    const events: string[] = [];
    const outcomes: string[] = ['entity_type,entity_id,outcome,outcome_date'];
    const courses = quick ? QUICK_COURSES : ALL_COURSES;
    for (const course of courses) {
      const lastDay = new Map<string, string>();
      const lines = readFileSync(join(DATA, `${course}.csv`), 'utf8')
        .trim()
        .split('\n');
      for (const line of lines.slice(1)) {
        const cells = line.split(',');
        const id = cells[0]!;
        const day = cells[1]!;
        if ((lastDay.get(id) ?? '') < day) lastDay.set(id, day);
        TYPES.forEach((type, k) => {
          const n = Number(cells[k + 2]);
          // Midday UTC: the day's activity, inside the day whatever the exact hour.
          if (n > 0)
            events.push(
              JSON.stringify({
                eventId: `${id}-${day}-${type}`,
                name: type,
                userId: `e${id}`,
                timestamp: `${day}T12:00:00Z`,
                properties: { n },
              }),
            );
        });
      }
      for (const [id, day] of lastDay) {
        const outcomeDate = new Date(Date.parse(`${day}T00:00:00Z`) + 10 * DAY).toISOString().slice(0, 10);
        outcomes.push(`user,e${id},${labels.get(id) === '1' ? 'churned' : 'retained'},${outcomeDate}`);
      }
    }
    writeFileSync(join(dir, 'events.jsonl'), `${events.join('\n')}\n`);
    writeFileSync(join(dir, 'outcomes.csv'), `${outcomes.join('\n')}\n`);
    writeFileSync(join(dir, 'mooc.yaml'), MODEL);
    const started = performance.now();
    const run = await runCalibrateDetailed({
      model: join(dir, 'mooc.yaml'),
      events: join(dir, 'events.jsonl'),
      outcomes: join(dir, 'outcomes.csv'),
      horizonDays: 10,
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
        horizonDays: 10,
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
