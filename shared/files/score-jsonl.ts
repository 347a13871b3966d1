import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { propertyKeysOf } from '../domain/engine/compile.js';
import type { EventIdSetExport } from '../domain/engine/event-id-set.js';
import { ScoringRun, type ScoringRunOptions, type ScoringRunState } from '../domain/engine/scoring-run.js';
import { eventIdentity, type ScoringEvent } from '../domain/event.js';
import type { Model, Traits } from '../domain/model/schema.js';
import type { EntityLevel } from '../ports/event-store.js';
import { type WireMemory, WireReader, wireMemory } from './event-wire.js';
import { FIELDS_BATCH, type JsonlReadIssue, readJsonlFieldBatches, readJsonlFields } from './jsonl-events.js';
import { runInPool } from './worker-pool.js';

export interface ScoreJsonlOptions {
  /** T, epoch ms (see ScoringRunOptions). */
  asOf: number;
  /**
   * 1: one pass on this thread. 2: a pipeline, a worker thread reading the lines and this one counting them. More:
   * the file is cut into that many byte ranges at line boundaries; this thread scores the first and a worker thread
   * each other one, and the parts are merged here. Raw scores are the same either way (docs/calibrate.md#threads).
   * Default (`defaultThreads`): one per core (os.availableParallelism()) for files of PARALLEL_MIN_BYTES or more,
   * else 1.
   */
  threads?: number | undefined;
  /** Drop repeated event ids across the whole file (default on), exactly as one run would: the first one counts. */
  dedupe?: boolean | undefined;
  /** Lines that are not valid native events, in file order, with their line numbers in the whole file. */
  onIssue?: ((issue: JsonlReadIssue) => void) | undefined;
  /** User id → the account the user was last grouped with (ScoringRunOptions.accountOf), as data worker threads can get. */
  accounts?: ReadonlyMap<string, string> | undefined;
  /** Traits by entity id (ScoringRunOptions.traitsOf), as data. */
  traits?:
    | { user?: ReadonlyMap<string, Traits> | undefined; account?: ReadonlyMap<string, Traits> | undefined }
    | undefined;
}

/** What a worker needs: plain data only (functions do not cross threads). */
export interface RangeJob {
  file: string;
  model: Model;
  start: number;
  end: number;
  options: Omit<ScoreJsonlOptions, 'onIssue' | 'threads'>;
}

/**
 * A task of the scoring pool (docs/calibrate.md#threads): score the job's range, skipping events whose id is in
 * `skip` (ids an earlier part took; given only when scoring a part again).
 */
export interface ScorePartTask {
  job: RangeJob;
  skip?: string[] | undefined;
}

/**
 * The reading half of a pipelined scoring (docs/calibrate.md#threads): read the whole file and write its events
 * onto the wire in `memory` (messages on `port`); events outside [from, to) go as their timestamp only, and event
 * ids go only when `ids` (a run that dedupes).
 */
export interface ReadTask {
  read: {
    file: string;
    propertyKeys: string[];
    from: number;
    to: number;
    ids: boolean;
    memory: WireMemory;
    port: MessagePort;
  };
}

/** A part scored by a worker: its state, ready to merge unless an earlier part took some of its event ids. */
export interface ScoredPart {
  /** The worker thread that scored it. */
  threadId: number;
  lines: number;
  /** Invalid lines, numbered within the part (none reported when scoring a part again). */
  issues: JsonlReadIssue[];
  /** The event ids the part took (null without dedupe, or when scoring a part again). */
  seen: EventIdSetExport | null;
  state: ScoringRunState;
}

/**
 * Score a JSONL file of native events with `model`: the run, fed every event of the file, ready for `finish()` or
 * `eachRawScore()` (and `addKnown` first if need be).
 *
 * With threads > 1, dedupe stays exact across parts: each part dedupes its own lines and reports the ids it took;
 * ids taken by an earlier part (in file order) are duplicates in a later one, which then scores its range again
 * skipping them (a second pass of that part only, and only when the file repeats ids across parts). So the first
 * occurrence in the file counts, as in one run, whatever the repeats contain.
 */
export async function scoreJsonlFile(file: string, model: Model, options: ScoreJsonlOptions): Promise<ScoringRun> {
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads(statSync(file).size)));
  if (threads === 1) {
    const { run } = await scoreRange(
      { file, model, start: 0, end: Number.POSITIVE_INFINITY, options },
      options.onIssue,
    );
    return run;
  }
  if (threads === 2) return scorePipelined(file, model, options);
  return scoreInParallel(file, model, options, threads);
}

/**
 * Files from this size up are scored in parallel by default. Each worker costs about 0.3–0.5 s of CPU whatever the
 * file (its start, its code warming up, its state's export and merge), so on 2 cores a second thread only pays back
 * once half the file takes longer than that: measured slower on 4 and 26 MB files, faster on 133 MB
 * (docs/calibrate.md#threads).
 */
export const PARALLEL_MIN_BYTES = 64 * 2 ** 20;

/** Threads for a file of `size` bytes when the caller does not say: one per core for large files, else 1. */
export function defaultThreads(size: number): number {
  return size >= PARALLEL_MIN_BYTES ? availableParallelism() : 1;
}

/** ScoringRunOptions' lookups from the data form; `expectedEvents` sizes the dedupe set. */
function runOptions(options: RangeJob['options'], expectedEvents?: number | undefined): ScoringRunOptions {
  const { accounts, traits } = options;
  return {
    asOf: options.asOf,
    dedupe: options.dedupe,
    expectedEvents,
    accountOf: accounts === undefined ? undefined : (userId: string) => accounts.get(userId),
    traitsOf:
      traits === undefined
        ? undefined
        : (level: EntityLevel, id: string) => (level === 'user' ? traits.user : traits.account)?.get(id),
  };
}

/**
 * Parse and score bytes [start, end) (end may be Infinity). Events in range whose id is in `skip` count as
 * duplicates (an earlier part of the file took them).
 */
export async function scoreRange(
  job: RangeJob,
  onIssue?: ((issue: JsonlReadIssue) => void) | undefined,
  skip?: ReadonlySet<string> | undefined,
): Promise<{ run: ScoringRun; lines: number }> {
  const run = new ScoringRun(job.model, runOptions(job.options, estimatedLines(job.file, job.start, job.end)));
  const skipping = skip !== undefined && skip.size > 0;
  const skipped = (userId: string, eventId: string, ts: number): boolean => {
    if (!skip!.has(eventIdentity({ userId, eventId }))) return false;
    if (!(ts >= run.lookbackFrom && ts < run.asOf)) return false;
    run.stats.duplicates++;
    return true;
  };
  const readOptions = {
    onIssue,
    start: job.start,
    end: Number.isFinite(job.end) ? job.end : undefined,
    propertyKeys: propertyKeysOf(job.model),
  };
  const onEvent = (event: ScoringEvent) => {
    if (!skipping || !skipped(event.userId, event.eventId, event.timestamp)) run.add([event]);
  };
  const lines = skipping
    ? await readJsonlFields(
        job.file,
        readOptions,
        (fields) => {
          if (!skipped(fields.userId, fields.eventIdText(), fields.timestamp)) run.addFields(fields);
        },
        onEvent,
      )
    : await readJsonlFieldBatches(job.file, readOptions, (batch, count) => run.addFieldsBatch(batch, count), onEvent);
  return { run, lines };
}

/** About how many lines bytes [start, end) of the file hold, from the line lengths of its first 64 KiB. */
export function estimatedLines(file: string, start: number, end: number): number {
  const fd = openSync(file, 'r');
  try {
    const size = Math.min(end, fstatSync(fd).size) - start;
    if (size <= 0) return 0;
    const sample = Buffer.alloc(Math.min(size, 1 << 16));
    const read = readSync(fd, sample, 0, sample.length, start);
    let lines = 0;
    for (let at = sample.indexOf(10); at >= 0 && at < read; at = sample.indexOf(10, at + 1)) lines++;
    return lines === 0 ? 1 : Math.ceil((size * lines) / read);
  } finally {
    closeSync(fd);
  }
}

/** Byte offsets [0, …, size] cutting the file into `parts` ranges, each boundary just after a `\n`. */
export function splitAtLines(file: string, parts: number): number[] {
  const size = statSync(file).size;
  const bounds = [0];
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    for (let k = 1; k < parts; k++) {
      let at = Math.max(bounds[bounds.length - 1]!, Math.floor((size * k) / parts));
      let cut = size;
      // A boundary at `at` is fine if the byte before it is a newline; look for the next one otherwise.
      for (let pos = Math.max(0, at - 1); pos < size; ) {
        const n = readSync(fd, buffer, 0, buffer.length, pos);
        if (n <= 0) break;
        const nl = buffer.subarray(0, n).indexOf(10);
        if (nl >= 0) {
          cut = pos + nl + 1;
          break;
        }
        pos += n;
      }
      at = cut;
      bounds.push(at);
    }
  } finally {
    closeSync(fd);
  }
  bounds.push(size);
  return bounds;
}

/**
 * The scoring workers' module: built next to this file, or its TypeScript source (see runInPool). A function: this
 * module is bundled into the workers too, where import.meta.url is not set.
 */
export function scoreWorkerEntry(): URL {
  return new URL(`./score-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
}

/** Score one part on a worker of the process's scoring pool. */
export function scorePart(task: ScorePartTask, signal?: AbortSignal): Promise<ScoredPart> {
  return runInPool<ScoredPart>(scoreWorkerEntry(), task, undefined, signal);
}

/**
 * Two threads as a pipeline (docs/calibrate.md#threads): a worker reads the lines (the byte reader), this thread
 * counts them (dedupe, rows, signals) and finishes. Each thread does its half of every event once, where two range
 * parts would each make a row for nearly every user and then merge them. Exactly one run's result: the events
 * come in file order.
 */
async function scorePipelined(file: string, model: Model, options: ScoreJsonlOptions): Promise<ScoringRun> {
  const { onIssue, threads: _threads, ...data } = options;
  const run = new ScoringRun(model, runOptions(data, estimatedLines(file, 0, Number.POSITIVE_INFINITY)));
  const propertyKeys = [...propertyKeysOf(model)];
  const memory = wireMemory();
  const { port1, port2 } = new MessageChannel();
  const stop = new AbortController();
  const task: ReadTask = {
    read: { file, propertyKeys, from: run.lookbackFrom, to: run.asOf, ids: data.dedupe !== false, memory, port: port2 },
  };
  const reading = runInPool<{ lines: number }>(scoreWorkerEntry(), task, [port2], stop.signal);
  reading.catch(() => undefined);
  const reader = new WireReader(memory, port1, propertyKeys, FIELDS_BATCH);
  try {
    await reader.readAll(
      {
        batch: (batch, count) => run.addFieldsBatch(batch, count),
        event: (event) => run.add([event]),
        issue: (issue) => onIssue?.(issue),
      },
      reading,
    );
    await reading;
    return run;
  } catch (error) {
    stop.abort();
    throw error;
  } finally {
    reader.release();
    port1.close();
  }
}

async function scoreInParallel(
  file: string,
  model: Model,
  options: ScoreJsonlOptions,
  threads: number,
): Promise<ScoringRun> {
  const { onIssue, threads: _threads, ...data } = options;
  const bounds = splitAtLines(file, threads);
  const jobs = bounds
    .slice(1, -1)
    .map((start, i): RangeJob => ({ file, model, start, end: bounds[i + 2]!, options: data }));
  // A failed call stops its other parts (their workers end; the pool starts new ones when next needed).
  const stop = new AbortController();
  // Parts 1… go to the pool's workers first; this thread scores part 0 meanwhile. Awaited in order below; a failure
  // of a later part meanwhile is not unhandled.
  const parts = jobs.map((job) => scorePart({ job }, stop.signal));
  for (const part of parts) part.catch(() => undefined);
  try {
    // Part 0's issues come first in the file: they go out as they come, with their own line numbers.
    const own = await scoreRange({ file, model, start: 0, end: bounds[1]!, options: data }, onIssue);
    const run = own.run;
    let lineOffset = own.lines;
    const states: (ScoringRunState | Promise<ScoringRunState>)[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = await parts[i]!;
      for (const issue of part.issues) onIssue?.({ ...issue, line: issue.line + lineOffset });
      lineOffset += part.lines;
      // Ids an earlier part took (this run holds them all): here they are duplicates, so the part is scored again
      // without them (a task of its own: it reads the range again). The last part's ids are needed by no later part.
      const skip = part.seen === null ? [] : run.heldEventIds(part.seen);
      if (part.seen !== null && i + 1 < parts.length) run.addEventIds(part.seen);
      if (skip.length === 0) states.push(part.state);
      else {
        const again = scorePart({ job: jobs[i]!, skip }, stop.signal).then((rescored) => rescored.state);
        again.catch(() => undefined);
        states.push(again);
      }
    }
    // In file order, as one run would have seen them.
    for (const pending of states) {
      run.importState(await pending);
    }
    return run;
  } catch (error) {
    stop.abort();
    throw error;
  }
}
