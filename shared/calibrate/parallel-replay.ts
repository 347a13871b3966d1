import { propertyKeysOf } from '../domain/engine/compile.js';
import type { EventIdSetExport } from '../domain/engine/event-id-set.js';
import type { ScoringRunState } from '../domain/engine/scoring-run.js';
import { type JsonlReadIssue, readJsonlEvents } from '../files/jsonl-events.js';
import { nextReply, splitAtLines, startWorkerAt } from '../files/score-jsonl.js';
import { BacktestReplay, type ReplayPlan } from './replay.js';

/** What a replay worker needs: plain data only. */
export interface ReplayJob {
  file: string;
  start: number;
  end: number;
  plan: ReplayPlan;
  pageSize?: number | undefined;
}

export type ReplayReply =
  | {
      type: 'scored';
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
  | { type: 'state'; states: ScoringRunState[] };

/** The parent's request after `scored`, only when an earlier part counted some of the part's ids: per run, those ids. */
export type ReplayRequest = { skips: string[][] };

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
  const ts = import.meta.url.endsWith('.ts');
  const entry = new URL(`./replay-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  // Workers first (each takes 0.1–0.4 s to start); this thread replays range 0 meanwhile.
  const started = bounds.slice(1, -1).map((start, i) =>
    startWorkerAt(entry, {
      file,
      start,
      end: bounds[i + 2]!,
      plan,
      pageSize: options.pageSize,
    } satisfies ReplayJob),
  );
  // Listening from the start: a reply with no listener yet would be lost.
  const firstReplies = started.map((worker) => worker.then((w) => nextReply<ReplayReply>(w)));
  for (const reply of firstReplies) reply.catch(() => undefined);
  try {
    // Range 0's issues come first in the file: they go out as they come, with their own line numbers.
    const replay = new BacktestReplay(plan, true);
    let lines = await replayRange(replay, { file, start: 0, end: bounds[1]!, pageSize: options.pageSize }, onIssue);
    const workers = await Promise.all(started);
    const parts = (await Promise.all(firstReplies)).map((reply) => {
      if (reply.type !== 'scored') throw new Error('replay worker: unexpected reply');
      return reply;
    });
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
      // Ids an earlier part counted (the runs here hold them all): in this part they are duplicates, so it replays
      // again without them. The last part's ids are needed by no later part.
      const skips = replay.runs.map((run, r) => {
        const ids = part.eventIds[r] ?? null;
        if (ids === null) return [];
        const held = run.heldEventIds(ids);
        if (i + 1 < parts.length) run.addEventIds(ids);
        return held;
      });
      if (skips.every((ids) => ids.length === 0)) states.push(part.states);
      else {
        const worker = workers[i]!;
        const again = nextReply<ReplayReply>(worker).then((second) => {
          if (second.type !== 'state') throw new Error('replay worker: unexpected reply');
          return second.states;
        });
        again.catch(() => undefined);
        worker.postMessage({ skips } satisfies ReplayRequest);
        states.push(again);
      }
    });
    for (const pending of states) {
      (await pending).forEach((state, r) => {
        replay.runs[r]!.importState(state);
      });
    }
    return { replay, lines, threads };
  } finally {
    await Promise.all(started.map((w) => w.then((worker) => worker.terminate()).catch(() => undefined)));
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
