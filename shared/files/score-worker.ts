import { threadId } from 'node:worker_threads';
import { eventIdSetTransferables } from '../domain/engine/event-id-set.js';
import { stateTransferables } from '../domain/engine/scoring-run.js';
import type { JsonlReadIssue } from './jsonl-events.js';
import { type ScoredPart, type ScorePartTask, scoreRange } from './score-jsonl.js';
import { movable } from './worker-pool.js';

/**
 * A task of scoreJsonlFile's worker pool (docs/calibrate.md#threads): score one byte range and return its line
 * count, issues, the event ids it took and its state, their typed arrays moved to the caller. Scoring a part again
 * without the ids an earlier part took (`skip`) is a task of its own: nothing is kept here between tasks.
 */
export default async function scorePartTask({ job, skip }: ScorePartTask): Promise<ScoredPart> {
  if (skip !== undefined) {
    const { run, lines } = await scoreRange(job, undefined, new Set(skip));
    const state = run.exportState();
    return movable({ threadId, lines, issues: [], seen: null, state }, stateTransferables(state));
  }
  const issues: JsonlReadIssue[] = [];
  const { run, lines } = await scoreRange(job, (issue) => issues.push(issue));
  const seen = run.takeEventIds();
  // Sent with the ids, so that the usual case (no id of this range taken earlier) needs no second task.
  const state = run.exportState();
  return movable({ threadId, lines, issues, seen, state }, [
    ...(seen === null ? [] : eventIdSetTransferables(seen)),
    ...stateTransferables(state),
  ]);
}
