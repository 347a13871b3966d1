import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { propertyKeysOf } from '../../shared/domain/engine/compile.js';
import {
  createNormalizer,
  finalizeScore,
  finalizeScores,
  type RawScore,
  ScoringRun,
} from '../../shared/domain/engine/index.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { type Model, type ModelInput, ModelSchema } from '../../shared/domain/model/schema.js';
import { readJsonlEvents } from '../../shared/files/jsonl-events.js';
import { scoreJsonlFile } from '../../shared/files/score-jsonl.js';
import { generateEventArray, generateEvents, writeJsonlFile } from '../generate.js';
import type { BenchFn, BenchRow } from '../types.js';

/**
 * The scoring engine: (1) events/s on pre-parsed events, (2) a JSONL file to raw scores against DuckDB computing
 * the same raw scores from the same file, results checked equal, (3) peak RSS at a million entities, measured in
 * a child process so nothing else in this process counts.
 */

const AS_OF = Date.parse('2026-11-25T00:00:00Z');
const WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

function defineModel(input: Omit<ModelInput, 'version' | 'bands'> & Partial<ModelInput>): Model {
  return ModelSchema.parse({ version: 1, bands: [{ name: 'low' }, { name: 'high', min: 50 }], ...input });
}

/** The model DuckDB can mirror in one SQL: counts × weights, a sum, and distinct UTC days. */
const SIMPLE = defineModel({
  name: 'bench-simple',
  level: 'user',
  windowDays: WINDOW_DAYS,
  signals: [
    { name: 'logins', event: 'login', weight: 1 },
    { name: 'features', event: 'feature_used', weight: 3 },
    { name: 'minutes', event: 'session_ended', aggregate: 'sum', property: 'minutes', weight: 0.1 },
    { name: 'active-days', event: '*', aggregate: 'distinctDays', weight: 2 },
  ],
});

/** Every feature of docs/models.md#fields at user level (where, caps, decay, weeks, tiers, penalties) in Berlin time. */
const FULL = defineModel({
  name: 'bench-full',
  level: 'user',
  windowDays: WINDOW_DAYS,
  timezone: 'Europe/Berlin',
  signals: [
    { name: 'projects', event: 'project_created', weight: 4 },
    { name: 'invites', event: 'teammate_invited', weight: 5, cap: 10 },
    { name: 'core-use', event: 'core_feature_used', weight: 5, capPerDay: 3, decay: { halfLifeDays: 14 } },
    { name: 'active-weeks', event: 'login', aggregate: 'distinctWeeks', weight: 2 },
    { name: 'minutes', event: 'session_ended', aggregate: 'sum', property: 'minutes', weight: 0.1 },
    { name: 'premium', event: 'feature_used', where: { tier: 'premium' }, weight: 10 },
    {
      name: 'active-days',
      event: '*',
      aggregate: 'distinctDays',
      tiers: [
        { min: 0, points: 0 },
        { min: 2, points: 5 },
        { min: 5, points: 10 },
        { min: 9, points: 20 },
      ],
    },
    { name: 'payment-failures', event: 'payment_failed', weight: -10 },
    { name: 'open-tickets', event: 'ticket_opened', weight: 0 },
  ],
  penalties: [
    { name: 'no-report', absent: 'report_exported', points: -20 },
    { name: 'inactive', inactiveDays: 14, points: -15 },
    { name: 'ticket-backlog', signal: 'open-tickets', above: 3, points: -10 },
  ],
  normalize: { method: 'target', target: 200 },
});

const MODELS: Record<string, Model> = { simple: SIMPLE, full: FULL };

/** Best of `reps` timed runs (after one warm-up), wall clock and process CPU time. */
function timeRuns(reps: number, fn: () => void): { wallMs: number; cpuMs: number } {
  fn();
  let wallMs = Number.POSITIVE_INFINITY;
  let cpuMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    fn();
    wallMs = Math.min(wallMs, performance.now() - start);
    const used = process.cpuUsage(cpu);
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000);
  }
  return { wallMs, cpuMs };
}

function throughputRows(quick: boolean, rows: BenchRow[], notes: string[]): void {
  const count = quick ? 300_000 : 1_000_000;
  const users = quick ? 10_000 : 50_000;
  const events = generateEventArray({ seed: 1, events: count, users, asOf: AS_OF, windowDays: WINDOW_DAYS });
  const byCpu: string[] = [];
  for (const [label, model] of Object.entries(MODELS)) {
    for (const dedupe of [false, true]) {
      const { wallMs, cpuMs } = timeRuns(quick ? 2 : 3, () => {
        const run = new ScoringRun(model, { asOf: AS_OF, dedupe });
        run.add(events);
        run.finish();
        run.release(); // as the worker does: the next run takes its memory (docs/architecture.md#memory)
      });
      rows.push({
        metric: `engine, ${label} model, pre-parsed, dedupe ${dedupe ? 'on' : 'off'}`,
        value: (count / wallMs) * 1000,
        unit: 'events/s (1 core)',
        target: '>= 2,000,000',
      });
      byCpu.push(`${label}/${dedupe ? 'on' : 'off'} ${Math.round((count / cpuMs) * 1000).toLocaleString('en-US')}`);
    }
  }
  notes.push(
    `engine: ${count.toLocaleString('en-US')} events over ${users.toLocaleString('en-US')} users, ` +
      `${WINDOW_DAYS}-day window (10% outside it), best of ${quick ? 2 : 3} after a warm-up, finish() included, ` +
      'each run released after (its memory serves the next, as in the worker)',
    `engine by process CPU time instead of wall clock (steadier on a shared host; GC threads count too), ` +
      `events/s, model/dedupe: ${byCpu.join(', ')}`,
  );
}

/**
 * DuckDB's raw score per user for SIMPLE, from the same JSONL file. `dedupe`: first keep one event per (userId,
 * eventId), the work our dedupe does (which copy is kept does not matter here: the file repeats no id).
 */
const duckSql = (file: string, dedupe = false) => `
  SELECT userId AS id,
    1 * count(*) FILTER (WHERE name = 'login')
    + 3 * count(*) FILTER (WHERE name = 'feature_used')
    + 0.1 * coalesce(sum(properties.minutes) FILTER (WHERE name = 'session_ended'), 0)
    + 2 * count(DISTINCT epoch_ms("timestamp") // ${DAY_MS}) AS raw
  FROM (
    SELECT ${dedupe ? 'DISTINCT ON (userId, eventId)' : ''} * FROM read_json('${file.replaceAll("'", "''")}',
      format = 'newline_delimited', columns = {
        eventId: 'VARCHAR', name: 'VARCHAR', userId: 'VARCHAR', accountId: 'VARCHAR',
        "timestamp": 'TIMESTAMPTZ', properties: 'STRUCT(minutes DOUBLE, tier VARCHAR)'
      })
    WHERE epoch_ms("timestamp") >= ${AS_OF - WINDOW_DAYS * DAY_MS} AND epoch_ms("timestamp") < ${AS_OF}
  )
  GROUP BY userId`;

/**
 * `PULSE_BENCH_ENGINE=file` (a comma list of throughput, file, memory) runs only those parts of this section;
 * `PULSE_BENCH_FILE_EVENTS=1000000` sets the file's size (users: a tenth of it) even with --quick, so the scale
 * effects the quick 200k file hides show without the rest of the section (see also PULSE_BENCH_FILE_THREADS).
 */
const parts = process.env.PULSE_BENCH_ENGINE?.split(',');
const fileEvents = Number(process.env.PULSE_BENCH_FILE_EVENTS) || undefined;
/** Repetitions of the file rows (odd: the median repetition's ratio counts, see pairedRatio). */
const FILE_REPS = 7;
/** `PULSE_BENCH_FILE_THREADS=1` (a comma list): the thread counts of the file rows (default 1 and one per core). */
const fileThreads = process.env.PULSE_BENCH_FILE_THREADS?.split(',').map(Number);

async function fileRows(quick: boolean, rows: BenchRow[], notes: string[]): Promise<void> {
  const count = fileEvents ?? (quick ? 200_000 : 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bench-'));
  const file = join(dir, 'events.jsonl');
  const cores = availableParallelism();
  try {
    const { bytes } = await writeJsonlFile(file, {
      seed: 2,
      events: count,
      users: fileEvents !== undefined ? Math.max(1, Math.floor(count / 10)) : quick ? 10_000 : 100_000,
      asOf: AS_OF,
      windowDays: WINDOW_DAYS,
    });
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    const scoreDuck = async (dedupe = false): Promise<Map<string, number>> => {
      const result = await connection.runAndReadAll(duckSql(file, dedupe));
      return new Map(result.getRowObjectsJS().map((r) => [String(r.id), Number(r.raw)]));
    };
    const reps = quick ? 1 : FILE_REPS;
    const cpuNotes: string[] = [];
    const bestNotes: string[] = [];
    const ratioNotes: string[] = [];
    // Each call's run is released once its scores are out, as a worker that scores again does (array-pool.ts).
    const ours = (model: Model, threads: number, dedupe: boolean) => async () => {
      const run = await scoreJsonlFile(file, model, { asOf: AS_OF, dedupe, threads });
      const scores = run.finish();
      run.release();
      return scores;
    };

    await scoreDuck(); // warm the file cache for both sides
    for (const threads of fileThreads ?? [1, cores]) {
      await connection.run(`SET threads = ${threads}`);
      // Paired: each repetition runs DuckDB on `threads` threads, then each of ours on as many, back to back, so
      // every side sees the same machine (a shared host's speed drifts over seconds); each side's best run counts.
      const variants = [
        { label: `DuckDB ${threads}t`, run: () => scoreDuck() },
        { label: `ours ${threads}t dedupe off`, run: ours(SIMPLE, threads, false) },
        { label: `ours ${threads}t dedupe on`, run: ours(SIMPLE, threads, true) },
        // The full model (caps, decay, tiers, weeks, penalties, Berlin days): more engine work than DuckDB's query.
        { label: `ours ${threads}t full`, run: ours(FULL, threads, true) },
        { label: `DuckDB ${threads}t with dedupe`, run: () => scoreDuck(true) },
      ];
      const best = variants.map(() => ({ ms: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY }));
      const times = variants.map((): number[] => []);
      let duck = new Map<string, number>();
      for (let rep = 0; rep < reps; rep++) {
        for (const [k, variant] of variants.entries()) {
          const cpu = process.cpuUsage();
          const start = performance.now();
          const value = await variant.run();
          const ms = performance.now() - start;
          const used = process.cpuUsage(cpu);
          best[k]!.ms = Math.min(best[k]!.ms, ms);
          times[k]!.push(ms);
          best[k]!.cpuMs = Math.min(best[k]!.cpuMs, (used.user + used.system) / 1000);
          // Each of ours is checked against DuckDB (the simple model's), then let go, as a caller scoring again would.
          if (k === 0) duck = value as Map<string, number>;
          else if (k < 3) checkEqual(value as RawScore[], duck);
          else if (k === 4) checkSame(value as Map<string, number>, duck);
        }
      }
      for (const [k, variant] of variants.entries()) {
        cpuNotes.push(`${variant.label} ${Math.round(best[k]!.cpuMs)}`);
        if (k > 0)
          bestNotes.push(`${variant.label} ${Math.round(best[k]!.ms)} (DuckDB ${threads}t ${Math.round(best[0]!.ms)})`);
      }
      const name = `DuckDB read_json + GROUP BY (${threads} thread${threads === 1 ? '' : 's'})`;
      for (const [k, dedupe] of [
        [1, false],
        [2, true],
      ] as const) {
        const paired = pairedRatio(times[k]!, times[0]!);
        ratioNotes.push(`${variants[k]!.label} ${paired.all.map((r) => r.toFixed(2)).join(' ')}`);
        rows.push({
          metric: `JSONL file → raw scores, ${threads} thread${threads === 1 ? '' : 's'}, dedupe ${dedupe ? 'on' : 'off'} (time)`,
          value: paired.ms,
          unit: 'ms',
          target: 'ratio <= 1.5 (goal: <= 1.0, parity)',
          baseline: { name, value: paired.baselineMs },
          ratio: paired.ratio,
        });
        if (threads === 1 && !dedupe)
          rows.push({
            metric: 'JSONL file → raw scores, 1 thread, throughput',
            value: (count / best[k]!.ms) * 1000,
            unit: 'events/s',
          });
      }
      const againstDedupe = pairedRatio(times[2]!, times[4]!);
      rows.push({
        metric: `JSONL file → raw scores, ${threads} thread${threads === 1 ? '' : 's'}, dedupe on, against DuckDB deduplicating too (time)`,
        value: againstDedupe.ms,
        unit: 'ms',
        baseline: {
          name: `DuckDB SELECT DISTINCT ON (userId, eventId) + GROUP BY (${threads} thread${threads === 1 ? '' : 's'})`,
          value: againstDedupe.baselineMs,
        },
        ratio: againstDedupe.ratio,
      });
      const full = pairedRatio(times[3]!, times[0]!);
      rows.push({
        metric: `JSONL file → raw scores, full model, ${threads} thread${threads === 1 ? '' : 's'}, dedupe on (time)`,
        value: full.ms,
        unit: 'ms',
        baseline: { name: `${name}, simple model's query`, value: full.baselineMs },
        ratio: full.ratio,
      });
    }
    await readerRows(file, bytes, quick, rows);
    notes.push(
      `file: ${count.toLocaleString('en-US')} events, ${(bytes / 1e6).toFixed(0)} MB; raw scores equal to DuckDB's for every ` +
        `user (|Δ| ≤ 1e-6) at every thread count; ${reps} repetitions in this process, each DuckDB then ours back to ` +
        "back; ratio = our time / DuckDB's in the same repetition, the median of the repetitions' ratios (a shared " +
        "host's speed drifts over seconds: each ratio compares calls a second or two apart, where each side's best " +
        `time may come from a different phase); its times are the rows' values; ${cores} = os.availableParallelism(); ` +
        'ours: scoreJsonlFile (byte-level reader; 2 threads: a reading worker and this thread counting; more: ranges ' +
        'and an exact state merge)',
      `file: each repetition's ratio against DuckDB, sorted: ${ratioNotes.join('; ')}`,
      `file: each side's best time, ms: ${bestNotes.join(', ')}`,
      `file: process CPU ms (all threads, best run): ${cpuNotes.join(', ')}`,
    );
    connection.closeSync();
    duck.closeSync();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The reader alone (no engine) against JSON.parse alone, both over the same file already in the page cache. */
async function readerRows(file: string, bytes: number, quick: boolean, rows: BenchRow[]): Promise<void> {
  const reps = quick ? 1 : 3;
  const best = {
    reader: Number.POSITIVE_INFINITY,
    projected: Number.POSITIVE_INFINITY,
    parse: Number.POSITIVE_INFINITY,
  };
  let events = 0;
  for (let i = 0; i < reps; i++) {
    let start = performance.now();
    const content = readFileSync(file);
    let at = 0;
    for (let nl = content.indexOf(10); nl >= 0; nl = content.indexOf(10, at)) {
      JSON.parse(content.toString('utf8', at, nl));
      at = nl + 1;
    }
    best.parse = Math.min(best.parse, performance.now() - start);
    for (const keys of [undefined, propertyKeysOf(SIMPLE)]) {
      start = performance.now();
      events = 0;
      for await (const page of readJsonlEvents(file, { propertyKeys: keys })) events += page.length;
      const ms = performance.now() - start;
      if (keys === undefined) best.reader = Math.min(best.reader, ms);
      else best.projected = Math.min(best.projected, ms);
    }
  }
  const mbs = (ms: number) => bytes / 1e6 / (ms / 1000);
  const parse = { name: 'JSON.parse of each line (file read whole, split at \\n)', value: mbs(best.parse) };
  rows.push({
    metric: `reader alone, every property built (${events.toLocaleString('en-US')} events)`,
    value: mbs(best.reader),
    unit: 'MB/s (1 thread)',
    baseline: parse,
    ratio: mbs(best.reader) / parse.value,
  });
  rows.push({
    metric: 'reader alone, only the properties the model reads',
    value: mbs(best.projected),
    unit: 'MB/s (1 thread)',
    baseline: parse,
    ratio: mbs(best.projected) / parse.value,
  });
}

/**
 * Ours against a baseline measured in the same repetitions (`ours[i]` right after `baseline[i]`): the repetition
 * whose ratio is the median, its two times and its ratio, and every repetition's ratio (sorted).
 */
function pairedRatio(
  ours: number[],
  baseline: number[],
): { ms: number; baselineMs: number; ratio: number; all: number[] } {
  const reps = ours.map((ms, i) => ({ ms, baselineMs: baseline[i]!, ratio: ms / baseline[i]! }));
  reps.sort((a, b) => a.ratio - b.ratio);
  return { ...reps[Math.floor(reps.length / 2)]!, all: reps.map((r) => r.ratio) };
}

/** Fails the bench loudly: a speed number over wrong results is worthless. */
/** DuckDB's two queries agree (the file repeats no event id, so deduplicating changes nothing). */
function checkSame(deduped: Map<string, number>, duck: Map<string, number>): void {
  if (deduped.size !== duck.size) throw new Error(`DuckDB with dedupe: ${deduped.size} users, without: ${duck.size}`);
  for (const [id, raw] of duck)
    if (Math.abs((deduped.get(id) ?? Number.NaN) - raw) > 1e-6) throw new Error(`DuckDB with dedupe differs for ${id}`);
}

function checkEqual(ours: RawScore[], duck: Map<string, number>): void {
  const problems: string[] = [];
  if (ours.length !== duck.size) problems.push(`${ours.length} entities scored, DuckDB has ${duck.size}`);
  for (const r of ours) {
    const expected = duck.get(r.entityId);
    if (expected === undefined || Math.abs(expected - r.rawScore) > 1e-6) {
      problems.push(`${r.entityId}: engine ${r.rawScore}, DuckDB ${expected}`);
      if (problems.length > 5) break;
    }
  }
  if (problems.length > 0) throw new Error(`engine and DuckDB disagree on raw scores:\n  ${problems.join('\n  ')}`);
}

interface RssReport {
  entities: number;
  events: number;
  baselineRss: number;
  /** Peak while events stream in: the engine's state. */
  stateRss: number;
  /** Peak through eachRawScore() + finalizeScore() one entity at a time (as a writer would consume them). */
  streamedRss: number;
  /** Peak through finish() + finalizeScores(): every finished score held in memory at once. */
  materialisedRss: number;
}

async function memoryRows(quick: boolean, rows: BenchRow[], notes: string[]): Promise<void> {
  const entities = quick ? 100_000 : 1_000_000;
  const n = entities.toLocaleString('en-US');
  const target = quick ? undefined : '<= 1024';
  for (const model of ['simple', 'full']) {
    const r = await runChild(model, entities, 3);
    const mib = (bytes: number) => bytes / 2 ** 20;
    rows.push({
      metric: `peak RSS at ${n} entities, ${model} model: state`,
      value: mib(r.stateRss),
      unit: 'MiB',
      target,
    });
    rows.push({
      metric: `bytes per entity, ${model} model: state`,
      value: (r.stateRss - r.baselineRss) / r.entities,
      unit: 'B',
    });
    rows.push({
      metric: `peak RSS at ${n} entities, ${model} model: scores streamed`,
      value: mib(r.streamedRss),
      unit: 'MiB',
      target,
    });
    rows.push({
      metric: `peak RSS at ${n} entities, ${model} model: all scores in memory`,
      value: mib(r.materialisedRss),
      unit: 'MiB',
    });
  }
  notes.push(
    `memory: one child process per model, ${n} users × 3 events streamed in pages of 10,000, dedupe off (as ` +
      'the workers run: the store holds each id once); RSS sampled after every page. "streamed": eachRawScore() + ' +
      'finalizeScore() one at a time, as a writer consumes them; "all scores in memory": finish() + ' +
      'finalizeScores() holding every finished score (contributions, coverage, …) at once',
  );
}

function runChild(model: string, entities: number, eventsPerEntity: number): Promise<RssReport> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const self = fileURLToPath(import.meta.url);
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', self, '--rss-child', model, String(entities), String(eventsPerEntity)],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) fail(new Error(`memory child exited with ${code}`));
      else done(JSON.parse(out.trim().split('\n').at(-1)!) as RssReport);
    });
  });
}

/** In the child: stream the events into one run and report RSS (nothing else lives in this process). */
function rssChild(modelName: string, entities: number, eventsPerEntity: number): void {
  const model = MODELS[modelName]!;
  const asOf = new Date(AS_OF).toISOString();
  const baselineRss = process.memoryUsage().rss;
  let peak = baselineRss;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const run = new ScoringRun(model, { asOf: AS_OF, dedupe: false });
  const events = generateEvents({
    seed: 3,
    events: entities * eventsPerEntity,
    users: entities,
    asOf: AS_OF,
    windowDays: WINDOW_DAYS,
    outOfWindowShare: 0,
    distribution: 'cycle',
  });
  let page: ScoringEvent[] = [];
  for (const e of events) {
    page.push(e);
    if (page.length === 10_000) {
      run.add(page);
      page = [];
      sample();
    }
  }
  run.add(page);
  sample();
  const stateRss = peak;

  const normalize = createNormalizer(model);
  let streamed = 0;
  for (const raw of run.eachRawScore()) {
    finalizeScore(model, raw, { asOf, normalize });
    if (++streamed % 10_000 === 0) sample();
  }
  sample();
  const streamedRss = peak;

  const scores = finalizeScores(model, run.finish(), asOf);
  sample();
  if (scores.length !== entities || streamed !== entities) {
    throw new Error(`scored ${scores.length} (streamed ${streamed}) entities, expected ${entities}`);
  }
  const report: RssReport = {
    entities: run.entityCount,
    events: run.stats.counted,
    baselineRss,
    stateRss,
    streamedRss,
    materialisedRss: peak,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

export const bench: BenchFn = async ({ quick }) => {
  const rows: BenchRow[] = [];
  const notes: string[] = [
    `machine load average at start: ${loadavg()[0]?.toFixed(2)} (numbers are noisy on a busy host)`,
  ];
  const wanted = (part: string) => parts === undefined || parts.includes(part);
  if (wanted('throughput')) throughputRows(quick, rows, notes);
  if (wanted('file')) await fileRows(quick, rows, notes);
  if (wanted('memory')) await memoryRows(quick, rows, notes);
  return { name: 'engine', rows, notes };
};

const childAt = process.argv.indexOf('--rss-child');
if (childAt >= 0) {
  const [model, entities, perEntity] = process.argv.slice(childAt + 1);
  rssChild(model!, Number(entities), Number(perEntity));
}
