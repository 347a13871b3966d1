import { propertyKeysOf } from '../domain/engine/compile.js';
import type { EventIdSetExport } from '../domain/engine/event-id-set.js';
import type { ScoringRunState } from '../domain/engine/scoring-run.js';
import { type JsonlReadIssue, readJsonlEvents } from '../files/jsonl-events.js';
import { splitAtLines } from '../files/score-jsonl.js';
import { runInPool } from '../files/worker-pool.js';
import { BacktestReplay, type ReplayPlan } from './replay.js';

/** What a replay worker needs: plain data only. */
export interface ReplayJob {
  file: string;
  start: number;
  end: number;
  plan: ReplayPlan;
  pageSize?: number | undefined;
}

/** A task of the replay pool: replay the job's range; with `skips` (per run, ids earlier parts counted), again without them. */
export interface ReplayTask {
  job: ReplayJob;
  skips?: string[][] | undefined;
}

/** A range replayed by a worker (with `skips`: only `threadId` and `states` are filled). */
export interface ReplayedPart {
  /** The worker thread that replayed it. */
  threadId: number;
  lines: number;
  issues: JsonlReadIssue[];
  /** Outcome entities the part has events of. */
  seen: string[];
  firstAt: number;
  lastAt: number;
  /** Account level: users with an event without accountId before the part named their account. */
  unresolved: string[];
  /** Account level: users some event of the part named an account for. */
  named: string[];
  /** Per run (plan.asOfs order): the event ids the part counted (ScoringRun.takeEventIds), null without dedupe. */
  eventIds: (EventIdSetExport | null)[];
  /** Per run: its state, ready to merge unless an earlier part counted some of the part's event ids. */
  states: ScoringRunState[];
}

/**
 * The replay workers' module: built next to this file, or its TypeScript source (see runInPool). A function: this
 * module is bundled into the workers too, where import.meta.url is not set.
 */
export function replayWorkerEntry(): URL {
  return new URL(`./replay-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
}

/** Replay one range on a worker of the process's replay pool. */
export function replayPart(task: ReplayTask, signal?: AbortSignal): Promise<ReplayedPart> {
  return runInPool<ReplayedPart>(replayWorkerEntry(), task, undefined, signal);
}

/**
 * Replay a JSONL file for a backtest on `threads` threads, exactly as one BacktestReplay over the whole file would
 * (docs/calibrate.md#threads): the file is cut at line boundaries; this thread replays the first range and a worker
 * each other one into every as-of run, and the parts merge here in file order. Presence, first/last event time,
 * line counts and invalid lines (numbered in the whole file) combine directly. Dedupe stays exact across parts as
 * in scoreJsonlFile: a part whose runs counted an event id an earlier part already counted replays its range again
 * skipping those (first occurrence in file order counts).
 *
 * Account level: an event without accountId belongs to the account its user's latest earlier line named, which
 * may sit in an earlier part. When a part has such an event before naming the user's account itself, and an
 * earlier part named one, the part alone cannot attribute it: then the workers' parts are dropped and this thread
 * replays the rest of the file after range 0 itself (`threads` in the result: 1). (A user no earlier line names is
 * unattributed either way, so exports with every accountId set, or with users that never name one, stay parallel.)
 */
export async function replayFileInParallel(
  file: string,
  plan: ReplayPlan,
  threads: number,
  onIssue: (issue: JsonlReadIssue) => void,
  options: { pageSize?: number | undefined } = {},
): Promise<{ replay: BacktestReplay; lines: number; threads: number }> {
  const bounds = splitAtLines(file, threads);
  const jobs = bounds
    .slice(1, -1)
    .map((start, i): ReplayJob => ({ file, start, end: bounds[i + 2]!, plan, pageSize: options.pageSize }));
  // A failed call stops its other parts (their workers end; the pool starts new ones when next needed).
  const stop = new AbortController();
  // Ranges 1… go to the pool's workers first; this thread replays range 0 meanwhile.
  const started = jobs.map((job) => replayPart({ job }, stop.signal));
  for (const part of started) part.catch(() => undefined);
  try {
    // Range 0's issues come first in the file: they go out as they come, with their own line numbers.
    const replay = new BacktestReplay(plan, true);
    let lines = await replayRange(replay, { file, start: 0, end: bounds[1]!, pageSize: options.pageSize }, onIssue);
    const parts = await Promise.all(started);
    if (plan.model.level === 'account' && !partsAttributeExactly([...replay.accountOfUser.keys()], parts)) {
      // The parts cannot be merged exactly: this thread goes on from where range 0 ended, as one replay would.
      const offset = lines;
      const onRestIssue = (issue: JsonlReadIssue) => onIssue({ ...issue, line: issue.line + offset });
      const rest = { file, start: bounds[1]!, end: bounds.at(-1)!, pageSize: options.pageSize };
      lines += await replayRange(replay, rest, onRestIssue);
      return { replay, lines, threads: 1 };
    }
    const states: (ScoringRunState[] | Promise<ScoringRunState[]>)[] = [];
    parts.forEach((part, i) => {
      for (const issue of part.issues) onIssue({ ...issue, line: issue.line + lines });
      lines += part.lines;
      for (const id of part.seen) replay.seen.add(id);
      replay.firstAt = Math.min(replay.firstAt, part.firstAt);
      replay.lastAt = Math.max(replay.lastAt, part.lastAt);
      // Ids an earlier part counted (the runs here hold them all): in this part they are duplicates, so it is
      // replayed again without them (a task of its own). The last part's ids are needed by no later part.
      const skips = replay.runs.map((run, r) => {
        const ids = part.eventIds[r] ?? null;
        if (ids === null) return [];
        const held = run.heldEventIds(ids);
        if (i + 1 < parts.length) run.addEventIds(ids);
        return held;
      });
      if (skips.every((ids) => ids.length === 0)) states.push(part.states);
      else {
        const again = replayPart({ job: jobs[i]!, skips }, stop.signal).then((replayed) => replayed.states);
        again.catch(() => undefined);
        states.push(again);
      }
    });
    for (const pending of states) {
      (await pending).forEach((state, r) => {
        replay.runs[r]!.importState(state);
      });
    }
    return { replay, lines, threads };
  } catch (error) {
    stop.abort();
    throw error;
  }
}

/**
 * Replay bytes [start, end) of the file into `replay`; events whose id is in `skips[r]` count as duplicates in run
 * r (an earlier range counted them). Returns the range's line count.
 */
export async function replayRange(
  replay: BacktestReplay,
  range: Omit<ReplayJob, 'plan'>,
  onIssue: ((issue: JsonlReadIssue) => void) | undefined,
  skips?: ReadonlySet<string>[],
): Promise<number> {
  const pages = readJsonlEvents(range.file, {
    pageSize: range.pageSize,
    onIssue,
    start: range.start,
    end: range.end,
    propertyKeys: propertyKeysOf(replay.model),
  });
  for (;;) {
    const next = await pages.next();
    if (next.done) return next.value;
    replay.add(next.value, skips);
  }
}

/**
 * Account level: no part has an event needing a user's account that only an earlier part named (range 0, replayed
 * here, named `first`).
 */
function partsAttributeExactly(first: string[], parts: readonly { unresolved: string[]; named: string[] }[]): boolean {
  const named = new Set<string>(first);
  for (const part of parts) {
    for (const user of part.unresolved) if (named.has(user)) return false;
    for (const user of part.named) named.add(user);
  }
  return true;
}
