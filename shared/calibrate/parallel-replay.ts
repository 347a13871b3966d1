import type { Worker } from 'node:worker_threads';
import type { ScoringRunState } from '../domain/engine/scoring-run.js';
import type { JsonlReadIssue } from '../files/jsonl-events.js';
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
      /** Per run (plan.asOfs order): the event identities the part counted, first seen first. */
      eventIds: (readonly string[])[];
    }
  | { type: 'state'; states: ScoringRunState[] };

/** The parent's answer to `scored`: per run, identities an earlier part counted; null: stop, nothing more needed. */
export type ReplayRequest = { skips: string[][] } | null;

/**
 * Replay a JSONL file for a backtest on `threads` worker threads, exactly as one BacktestReplay over the whole
 * file would (docs/calibrate.md#threads): the file is cut at line boundaries, each worker replays its byte range
 * into every as-of run, and the parts merge here in file order. Presence, first/last event time, line counts and
 * invalid lines (numbered in the whole file) combine directly. Dedupe stays exact across parts as in
 * scoreJsonlFile: a part whose runs counted an identity an earlier part already counted replays its range again
 * skipping those (first occurrence in file order counts).
 *
 * Account level: an event without accountId belongs to the account its user's latest earlier line named, which
 * may sit in an earlier part. When a part has such an event before naming the user's account itself, and an
 * earlier part named one, the part alone cannot attribute it: this returns null and the caller replays on one
 * thread. (A user no earlier line names is unattributed either way, so exports with every accountId set, or with
 * users that never name one, stay parallel.)
 */
export async function replayFileInParallel(
  file: string,
  plan: ReplayPlan,
  threads: number,
  onIssue: (issue: JsonlReadIssue) => void,
  options: { pageSize?: number | undefined } = {},
): Promise<{ replay: BacktestReplay; lines: number } | null> {
  const bounds = splitAtLines(file, threads);
  const ts = import.meta.url.endsWith('.ts');
  const entry = new URL(`./replay-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  const workers: Worker[] = await Promise.all(
    bounds.slice(0, -1).map((start, i) =>
      startWorkerAt(entry, {
        file,
        start,
        end: bounds[i + 1]!,
        plan,
        pageSize: options.pageSize,
      } satisfies ReplayJob),
    ),
  );
  try {
    const scored = await Promise.all(workers.map((w) => nextReply<ReplayReply>(w)));
    const parts = scored.map((reply) => {
      if (reply.type !== 'scored') throw new Error('replay worker: unexpected reply');
      return reply;
    });
    if (plan.model.level === 'account' && !partsAttributeExactly(parts)) {
      for (const worker of workers) worker.postMessage(null satisfies ReplayRequest);
      return null;
    }
    const replay = new BacktestReplay(plan, true);
    let lines = 0;
    const skips: string[][][] = [];
    for (const part of parts) {
      for (const issue of part.issues) onIssue({ ...issue, line: issue.line + lines });
      lines += part.lines;
      for (const id of part.seen) replay.seen.add(id);
      replay.firstAt = Math.min(replay.firstAt, part.firstAt);
      replay.lastAt = Math.max(replay.lastAt, part.lastAt);
      // Identities an earlier part counted: here they are duplicates (the part replays again without them).
      skips.push(replay.runs.map((run, r) => run.addSeenEventIds(part.eventIds[r] ?? [])));
    }
    const states = workers.map((worker, i) => {
      const reply = nextReply<ReplayReply>(worker);
      worker.postMessage({ skips: skips[i]! } satisfies ReplayRequest);
      return reply;
    });
    for (const pending of states) {
      const reply = await pending;
      if (reply.type !== 'state') throw new Error('replay worker: unexpected reply');
      reply.states.forEach((state, r) => {
        replay.runs[r]!.importState(state);
      });
    }
    return { replay, lines };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Account level: no part has an event needing a user's account that only an earlier part named. */
function partsAttributeExactly(parts: readonly { unresolved: string[]; named: string[] }[]): boolean {
  const named = new Set<string>();
  for (const part of parts) {
    for (const user of part.unresolved) if (named.has(user)) return false;
    for (const user of part.named) named.add(user);
  }
  return true;
}
