import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DateTime } from 'luxon';
import { bandOf, createNormalizer } from '../domain/engine/finalize.js';
import { ScoringRun } from '../domain/engine/scoring-run.js';
import type { RawScore } from '../domain/engine/types.js';
import type { ScoringEvent } from '../domain/event.js';
import type { Model } from '../domain/model/schema.js';
import { DAY_MS, minusCalendarDays, resolveAsOf } from '../domain/time.js';
import { parseEventLine } from '../files/jsonl-events.js';
import { CalibrateError, CalibrateUsageError } from './errors.js';
import type { Outcome } from './outcomes.js';

export interface BacktestOptions {
  model: Model;
  /** Native events (PRODUCT §5), one JSON object a line. */
  eventsFile: string;
  outcomes: readonly Outcome[];
  horizonDays: number;
  /** Outcomes whose entity never appears in the events: `error` (default) or `skip` them and say so. */
  unknownEntities?: 'error' | 'skip' | undefined;
  pageSize?: number | undefined;
  /** Called after each page with the bytes read so far and the file size. */
  onProgress?: ((bytesRead: number, totalBytes: number) => void) | undefined;
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

export interface BacktestResult {
  rows: BacktestRow[];
  skipped: Outcome[];
  events: {
    lines: number;
    invalid: number;
    /** First few invalid lines (line number and reason; never the line's content). */
    invalidSamples: { line: number; message: string }[];
    firstAt: number | null;
    lastAt: number | null;
  };
  /** Distinct as-of instants (one scoring run each). */
  runs: number;
  /** Rows whose window starts before the first event: less than a full window of history. */
  partialHistory: number;
}

/**
 * Score every outcome's entity as of its outcome date minus the horizon, replaying the events file once.
 *
 * Outcomes are grouped by as-of instant; each distinct as-of is one ScoringRun, and a single pass over the file
 * feeds each event only to the runs that score its entity, so the cost is one read of the file whatever the number
 * of as-of dates. The engine's window ends at T, so no event at or after an as-of ever counts (no peeking).
 *
 * The outcomes file chooses who is scored: the model's `appliesTo` is not applied (a JSONL file has no traits).
 * An entity with an outcome but no events before its as-of is scored as an inactive known entity (its penalties
 * show, PRODUCT §3.7); one that never appears in the file at all is an error (usually an id or entity_type
 * mismatch), or skipped with `unknownEntities: 'skip'`.
 */
export async function backtest(options: BacktestOptions): Promise<BacktestResult> {
  const { model, outcomes, horizonDays } = options;
  const scoringModel: Model = { ...model, appliesTo: undefined };
  const level = model.level;
  const mismatched = outcomes.filter((o) => o.entityType !== level);
  if (mismatched.length > 0) {
    const lines = mismatched.slice(0, 5).map((o) => o.line);
    throw new CalibrateError(
      `${mismatched.length} outcome(s) are for entity_type "${mismatched[0]!.entityType}" but model "${model.name}" scores ${level}s (lines ${lines.join(', ')}${mismatched.length > 5 ? ', …' : ''}): use outcomes for ${level}s or a ${mismatched[0]!.entityType}-level model`,
    );
  }

  // One run per distinct as-of instant; each entity knows the runs that score it.
  const runs = new Map<number, ScoringRun>();
  const asOfOf = outcomes.map((o) => asOfFor(o.outcomeDate, horizonDays, model.timezone));
  const runsOfEntity = new Map<string, ScoringRun[]>();
  const accountOfUser = new Map<string, string>();
  const accountOf = (userId: string): string | undefined => accountOfUser.get(userId);
  outcomes.forEach((o, i) => {
    const asOf = asOfOf[i]!;
    let run = runs.get(asOf);
    if (!run) {
      run = new ScoringRun(scoringModel, { asOf, accountOf, dedupe: true });
      runs.set(asOf, run);
    }
    run.addKnown([{ entityId: o.entityId }]);
    const list = runsOfEntity.get(o.entityId) ?? [];
    if (!list.includes(run)) list.push(run);
    runsOfEntity.set(o.entityId, list);
  });

  const seen = new Set<string>();
  const stats: BacktestResult['events'] = { lines: 0, invalid: 0, invalidSamples: [], firstAt: null, lastAt: null };
  const buckets = new Map<ScoringRun, ScoringEvent[]>();
  const flush = (): void => {
    for (const [run, events] of buckets) if (events.length > 0) run.add(events);
    buckets.clear();
  };
  let firstAt = Number.POSITIVE_INFINITY;
  let lastAt = Number.NEGATIVE_INFINITY;
  for await (const { events, bytesRead, totalBytes } of readEventPages(
    options.eventsFile,
    options.pageSize ?? 10_000,
    stats,
  )) {
    for (const event of events) {
      if (event.timestamp < firstAt) firstAt = event.timestamp;
      if (event.timestamp > lastAt) lastAt = event.timestamp;
      let entityId: string | undefined;
      if (level === 'user') entityId = event.userId;
      else {
        if (event.accountId !== undefined) accountOfUser.set(event.userId, event.accountId);
        entityId = event.accountId ?? accountOfUser.get(event.userId);
      }
      if (entityId === undefined) continue;
      const targets = runsOfEntity.get(entityId);
      if (!targets) continue;
      seen.add(entityId);
      for (const run of targets) {
        let bucket = buckets.get(run);
        if (!bucket) {
          bucket = [];
          buckets.set(run, bucket);
        }
        bucket.push(event);
      }
    }
    flush();
    options.onProgress?.(bytesRead, totalBytes);
  }
  stats.firstAt = Number.isFinite(firstAt) ? firstAt : null;
  stats.lastAt = Number.isFinite(lastAt) ? lastAt : null;
  if (stats.firstAt === null || stats.lastAt === null) {
    throw new CalibrateError(
      `${options.eventsFile} holds no valid events (${stats.lines} line(s), ${stats.invalid} invalid${stats.invalidSamples[0] ? `; line ${stats.invalidSamples[0].line}: ${stats.invalidSamples[0].message}` : ''})`,
    );
  }

  // Entities that never appear in the events are almost always an id or entity_type mismatch.
  const unknown = outcomes.filter((o) => !seen.has(o.entityId));
  if (unknown.length > 0 && (options.unknownEntities ?? 'error') === 'error') {
    const sample = unknown.slice(0, 5).map((o) => `"${o.entityId}" (line ${o.line})`);
    throw new CalibrateError(
      `${unknown.length} of ${outcomes.length} outcome entities never appear in ${options.eventsFile}: ${sample.join(', ')}${unknown.length > 5 ? ', …' : ''}. Check that entity_id matches the events' ${level === 'user' ? 'userId' : 'accountId'}, or pass --skip-unknown to leave them out`,
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
      `${outside.length} outcome date(s) fall outside the events: line ${o.line} (${o.outcomeDate}) is scored as of ${iso(asOf)}, ${where}. Each outcome is scored as of outcome_date − ${horizonDays} days, so the events must cover the time before every as-of; export a longer events history, change --horizon-days, or drop those outcomes`,
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
  const partialHistory = rows.filter((r) => minusCalendarDays(r.asOf, model.windowDays, model.timezone) < first).length;
  return { rows, skipped, events: stats, runs: runs.size, partialHistory };
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

interface EventPage {
  events: ScoringEvent[];
  bytesRead: number;
  totalBytes: number;
}

/** Stream valid events in pages with the bytes read so far (for progress); invalid lines are counted, not fatal. */
async function* readEventPages(
  file: string,
  pageSize: number,
  stats: BacktestResult['events'],
): AsyncGenerator<EventPage> {
  let totalBytes: number;
  try {
    totalBytes = statSync(file).size;
  } catch (error) {
    throw new CalibrateUsageError(
      `--events ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let page: ScoringEvent[] = [];
  for await (const line of lines) {
    stats.lines++;
    if (line.trim() === '') continue;
    const event = parseEventLine(line);
    if (typeof event === 'string') {
      stats.invalid++;
      // JSON.parse messages quote the line: keep only the kind of problem, never event content.
      const message = event.startsWith('not JSON') ? 'not JSON' : event;
      if (stats.invalidSamples.length < 5) stats.invalidSamples.push({ line: stats.lines, message });
      continue;
    }
    page.push(event);
    if (page.length >= pageSize) {
      yield { events: page, bytesRead: stream.bytesRead, totalBytes };
      page = [];
    }
  }
  yield { events: page, bytesRead: totalBytes, totalBytes };
}
