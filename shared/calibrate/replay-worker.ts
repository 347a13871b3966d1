import { threadId } from 'node:worker_threads';
import { eventIdSetTransferables } from '../domain/engine/event-id-set.js';
import { stateTransferables } from '../domain/engine/scoring-run.js';
import type { JsonlReadIssue } from '../files/jsonl-events.js';
import { movable } from '../files/worker-pool.js';
import { type ReplayedPart, type ReplayTask, replayRange } from './parallel-replay.js';
import { BacktestReplay } from './replay.js';

/**
 * A task of replayFileInParallel's worker pool (docs/calibrate.md#threads): replay one byte range into every as-of
 * run and return what the caller merges (presence, times, account names, the event ids each run counted, each run's
 * state), typed arrays moved. Replaying a range again without the ids earlier ranges counted (`skips`, per run) is
 * a task of its own: nothing is kept here between tasks.
 */
export default async function replayPartTask({ job, skips }: ReplayTask): Promise<ReplayedPart> {
  const replay = new BacktestReplay(job.plan, false);
  if (skips !== undefined) {
    const lines = await replayRange(
      replay,
      job,
      undefined,
      skips.map((ids) => new Set(ids)),
    );
    const states = replay.runs.map((run) => run.exportState());
    const part: ReplayedPart = {
      threadId,
      lines,
      issues: [],
      seen: [],
      firstAt: replay.firstAt,
      lastAt: replay.lastAt,
      unresolved: [],
      named: [],
      eventIds: [],
      states,
    };
    return movable(part, states.flatMap(stateTransferables));
  }
  const issues: JsonlReadIssue[] = [];
  const lines = await replayRange(replay, job, (issue) => issues.push(issue));
  const eventIds = replay.runs.map((run) => run.takeEventIds());
  const states = replay.runs.map((run) => run.exportState());
  const part: ReplayedPart = {
    threadId,
    lines,
    issues,
    seen: [...replay.seen],
    firstAt: replay.firstAt,
    lastAt: replay.lastAt,
    unresolved: [...replay.unresolved],
    named: job.plan.model.level === 'account' ? [...replay.accountOfUser.keys()] : [],
    eventIds,
    states,
  };
  return movable(part, [
    ...eventIds.flatMap((ids) => (ids === null ? [] : eventIdSetTransferables(ids))),
    ...states.flatMap(stateTransferables),
  ]);
}
