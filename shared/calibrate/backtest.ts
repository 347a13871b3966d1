import { DateTime } from 'luxon';
import { bandOf, createNormalizer } from '../domain/engine/finalize.js';
import type { ScoringRun } from '../domain/engine/scoring-run.js';
import type { RawScore } from '../domain/engine/types.js';
import type { Model } from '../domain/model/schema.js';
import { DAY_MS, minusCalendarDays, resolveAsOf } from '../domain/time.js';
import { defaultThreads } from '../files/score-jsonl.js';
import { CalibrateError, CalibrateUsageError } from './errors.js';
import type { Outcome } from './outcomes.js';
import { replayFileInParallel } from './parallel-replay.js';
import { BacktestReplay, type ReplayPlan } from './replay.js';
import { type EventSource, type EventStats, emptyStats, fileEventSource, fileSize, recordIssue } from './sources.js';

export interface BacktestOptions {
  model: Model;
  /** Native events (docs/data-model.md#ingest-contract-details), one JSON object a line (or give `source`). */
  eventsFile?: string | undefined;
  /** Where the events come from (a file or an event store); overrides `eventsFile`. */
  source?: EventSource | undefined;
  outcomes: readonly Outcome[];
  horizonDays: number;
  /** Outcomes whose entity never appears in the events: `error` (default) or `skip` them and say so. */
  unknownEntities?: 'error' | 'skip' | undefined;
  pageSize?: number | undefined;
  /**
   * A file source: worker threads replaying it (docs/calibrate.md#threads). Default: one per core for files of
   * PARALLEL_MIN_BYTES or more, else 1. Results are the same for any number.
   */
  threads?: number | undefined;
  /** Called after each page with the progress so far (bytes of a file, shards of a store) and the total. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** One outcome with the entity's score as of `outcome_date − horizon`. */
export interface BacktestRow {
  outcome: Outcome;
  /** T, epoch ms: only events strictly before it counted. */
  asOf: number;
  /** The as-of date in the model's zone (the last day the score covers). */
  asOfDate: string;
  raw: RawScore;
  score: number;
  band: string;
}

/** Where the scores came from: a replay of events (a file or a store) or published snapshots. */
export interface BacktestSource {
  kind: 'file' | 'store' | 'snapshots';
  /** For messages and reports: a file name, "the local store in .pulse", an s3:// or folder location. */
  label: string;
  /** Store: the time range read (epoch ms, [from, to)). */
  range?: { from: number; to: number } | undefined;
}

/** Snapshot mode: which partitions were read and which model versions had published them. */
export interface SnapshotUse {
  /** Partition dates (dt) read. */
  dates: string[];
  /** Model versions found in the manifests read. */
  versions: number[];
  /** Outcomes scored from an earlier partition because the exact one was missing. */
  fallbacks: number;
  /** Signals of the model that no snapshot row had a contribution for (their value reads as 0). */
  missingSignals: string[];
}

export interface BacktestResult {
  rows: BacktestRow[];
  /** Outcomes left out because their entity is unknown (--skip-unknown). */
  skipped: Outcome[];
  /** Outcomes that could not be scored at all (snapshot mode: no partition for their date), with why. */
  unscored: { outcome: Outcome; reason: string }[];
  source: BacktestSource;
  events: EventStats;
  /** Distinct as-of instants (one scoring run each; snapshot mode: partitions read). */
  runs: number;
  /** Threads that replayed the events: more than 1 only for a file (docs/calibrate.md#threads). */
  threads?: number | undefined;
  /** Rows whose window starts before the first event: less than a full window of history. */
  partialHistory: number;
  snapshots?: SnapshotUse | undefined;
}

/**
 * Score every outcome's entity as of its outcome date minus the horizon, replaying the events once: a file whole,
 * or an event store shard by shard for the range the outcomes need (earliest window start to latest outcome).
 *
 * Outcomes are grouped by as-of instant; each distinct as-of is one ScoringRun, and a single pass over the events
 * feeds each event only to the runs that score its entity, so the cost is one read whatever the number of as-of
 * dates. The engine's window ends at T, so no event at or after an as-of ever counts (no peeking).
 *
 * The outcomes file chooses who is scored: the model's `appliesTo` is not applied (a JSONL file has no traits).
 * An entity with an outcome but no events before its as-of is scored as an inactive known entity (its penalties
 * show, docs/models.md#semantics-exact); one that never appears in the file at all is an error (usually an id or entity_type
 * mismatch), or skipped with `unknownEntities: 'skip'`.
 */
export async function backtest(options: BacktestOptions): Promise<BacktestResult> {
  const { model, outcomes, horizonDays } = options;
  const source =
    options.source ??
    (options.eventsFile !== undefined ? fileEventSource(options.eventsFile, options.pageSize ?? 10_000) : undefined);
  if (!source) throw new CalibrateUsageError('no events to replay: give an events file or an event store');
  const scoringModel: Model = { ...model, appliesTo: undefined };
  const level = model.level;
  checkLevels(model, outcomes);
  if (outcomes.length === 0) throw new CalibrateError('there are no outcomes to score');

  // One run per distinct as-of instant; each entity knows the runs that score it.
  const asOfOf = outcomes.map((o) => asOfFor(o.outcomeDate, horizonDays, model.timezone));
  const asOfs = [...new Set(asOfOf)];
  const runIndex = new Map(asOfs.map((asOf, r) => [asOf, r]));
  const runsOfEntity = new Map<string, number[]>();
  outcomes.forEach((o, i) => {
    const r = runIndex.get(asOfOf[i]!)!;
    const list = runsOfEntity.get(o.entityId) ?? [];
    if (!list.includes(r)) list.push(r);
    runsOfEntity.set(o.entityId, list);
  });
  const plan: ReplayPlan = { model: scoringModel, asOfs, entities: [...runsOfEntity], dedupe: !source.unique };

  // A store is read for the range the outcomes need: from the earliest window (or inactivity lookback) to the
  // latest outcome, so entities active only between their as-of and their outcome are known, like in a file.
  const range = { level, from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
  const lookbacks = new BacktestReplay({ ...plan, entities: [] }, false).runs;
  for (const run of lookbacks) range.from = Math.min(range.from, run.lookbackFrom);
  outcomes.forEach((o, i) => {
    range.to = Math.max(range.to, asOfOf[i]!, outcomeInstant(o.outcomeDate, model.timezone));
  });
  const stats = emptyStats();
  let replay: BacktestReplay | undefined;
  let threadsUsed = 1;
  if (source.file !== undefined) {
    const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads(fileSize(source.file))));
    if (threads > 1) {
      const parallel = await replayFileInParallel(source.file, plan, threads, (issue) => recordIssue(stats, issue), {
        pageSize: options.pageSize,
      });
      replay = parallel.replay;
      stats.lines = parallel.lines;
      threadsUsed = parallel.threads;
      const size = fileSize(source.file);
      options.onProgress?.(size, size);
    }
  }
  if (replay === undefined) {
    replay = new BacktestReplay(plan, true);
    for await (const { events, done, total } of source.pages(range, stats)) {
      replay.add(events);
      options.onProgress?.(done, total);
    }
  }
  const { seen, firstAt, lastAt, runs: replayRuns } = replay;
  const runs = new Map(asOfs.map((asOf, r) => [asOf, replayRuns[r]!]));
  stats.firstAt = Number.isFinite(firstAt) ? firstAt : null;
  stats.lastAt = Number.isFinite(lastAt) ? lastAt : null;
  if (stats.firstAt === null || stats.lastAt === null) {
    throw new CalibrateError(
      source.kind === 'file'
        ? `${source.label} holds no valid events (${stats.lines} line(s), ${stats.invalid} invalid${stats.invalidSamples[0] ? `; line ${stats.invalidSamples[0].line}: ${stats.invalidSamples[0].message}` : ''})`
        : `${source.label} holds no ${level} events between ${iso(range.from)} and ${iso(range.to)} (the window before the earliest as-of to the latest outcome): ingest the history first, or pass --events <file.jsonl>`,
    );
  }

  // Entities that never appear in the events are almost always an id or entity_type mismatch. A store also knows
  // entities through identify/group calls: those are scored as inactive, like an entity seen only later.
  const unseen = [...new Set(outcomes.filter((o) => !seen.has(o.entityId)).map((o) => o.entityId))];
  if (unseen.length > 0 && source.known) for (const id of await source.known(level, unseen)) seen.add(id);
  const unknown = outcomes.filter((o) => !seen.has(o.entityId));
  if (unknown.length > 0 && (options.unknownEntities ?? 'error') === 'error') {
    const sample = unknown.slice(0, 5).map((o) => `"${o.entityId}" (line ${o.line})`);
    const where =
      source.kind === 'file'
        ? source.label
        : `${source.label} (no ${level} events from ${iso(range.from).slice(0, 10)} to ${iso(range.to).slice(0, 10)}, no identify/group record)`;
    throw new CalibrateError(
      `${unknown.length} of ${outcomes.length} outcome entities never appear in ${where}: ${sample.join(', ')}${unknown.length > 5 ? ', …' : ''}. Check that entity_id matches the events' ${level === 'user' ? 'userId' : 'accountId'}, or pass --skip-unknown to leave them out`,
    );
  }
  const first = stats.firstAt;
  const last = stats.lastAt;
  const outside = outcomes
    .map((o, i) => ({ o, asOf: asOfOf[i]! }))
    .filter(({ o, asOf }) => seen.has(o.entityId) && (asOf <= first || asOf > last + DAY_MS));
  if (outside.length > 0) {
    const { o, asOf } = outside[0]!;
    const where =
      asOf <= first ? `before the first event (${iso(first)})` : `more than a day after the last event (${iso(last)})`;
    throw new CalibrateError(
      `${outside.length} outcome date(s) fall outside the events${source.kind === 'file' ? '' : ` of ${source.label}`}: line ${o.line} (${o.outcomeDate}) is scored as of ${iso(asOf)}, ${where}. Each outcome is scored as of outcome_date − ${horizonDays} days, so the events must cover the time before every as-of; ${source.kind === 'file' ? 'export a longer events history' : 'ingest a longer history'}, change --horizon-days, or drop those outcomes`,
    );
  }

  const rawOf = new Map<ScoringRun, Map<string, RawScore>>();
  for (const run of runs.values()) rawOf.set(run, new Map(run.finish().map((r) => [r.entityId, r])));
  const kept: { outcome: Outcome; asOf: number; raw: RawScore }[] = [];
  const skipped: Outcome[] = [];
  outcomes.forEach((o, i) => {
    if (!seen.has(o.entityId)) {
      skipped.push(o);
      return;
    }
    const run = runs.get(asOfOf[i]!)!;
    const raw = rawOf.get(run)!.get(o.entityId);
    if (!raw) throw new CalibrateError(`internal: no score for "${o.entityId}" (line ${o.line})`);
    kept.push({ outcome: o, asOf: asOfOf[i]!, raw });
  });
  // Percentile ranks need a population: every backtested score forms one (the runs only hold outcome entities).
  const normalize = createNormalizer(
    model,
    kept.map((k) => k.raw.rawScore),
  );
  const rows: BacktestRow[] = kept.map(({ outcome, asOf, raw }) => {
    const score = normalize(raw.rawScore);
    return { outcome, asOf, asOfDate: resolveAsOf(asOf, model.timezone).date, raw, score, band: bandOf(model, score) };
  });
  // A ranged read starts at the earliest window: events on its first day mean the history goes back further.
  const historyFrom = source.ranged && first < range.from + DAY_MS ? Number.NEGATIVE_INFINITY : first;
  const partialHistory = rows.filter(
    (r) => minusCalendarDays(r.asOf, model.windowDays, model.timezone) < historyFrom,
  ).length;
  return {
    rows,
    skipped,
    unscored: [],
    source: {
      kind: source.kind,
      label: source.label,
      range: source.ranged ? { from: range.from, to: range.to } : undefined,
    },
    events: stats,
    runs: runs.size,
    threads: threadsUsed,
    partialHistory,
  };
}

/** Outcomes for another entity type than the model scores are an error naming their lines. */
export function checkLevels(model: Model, outcomes: readonly Outcome[]): void {
  const level = model.level;
  const mismatched = outcomes.filter((o) => o.entityType !== level);
  if (mismatched.length === 0) return;
  const lines = mismatched.slice(0, 5).map((o) => o.line);
  throw new CalibrateError(
    `${mismatched.length} outcome(s) are for entity_type "${mismatched[0]!.entityType}" but model "${model.name}" scores ${level}s (lines ${lines.join(', ')}${mismatched.length > 5 ? ', …' : ''}): use outcomes for ${level}s or a ${mismatched[0]!.entityType}-level model`,
  );
}

/** When the outcome happened: a date D means the end of D in the model's zone; an instant is itself. */
function outcomeInstant(outcomeDate: string, timezone: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(outcomeDate) ? resolveAsOf(outcomeDate, timezone).instant : Date.parse(outcomeDate);
}

/** T for an outcome: a date D gives the end of (D − horizon) in the model's zone; an instant, the instant − horizon. */
export function asOfFor(outcomeDate: string, horizonDays: number, timezone: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(outcomeDate)) {
    const day = DateTime.fromISO(outcomeDate, { zone: timezone }).minus({ days: horizonDays }).toISODate()!;
    return resolveAsOf(day, timezone).instant;
  }
  return minusCalendarDays(Date.parse(outcomeDate), horizonDays, timezone);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
