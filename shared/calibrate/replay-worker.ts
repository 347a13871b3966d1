import { parentPort, workerData } from 'node:worker_threads';
import { eventIdSetTransferables } from '../domain/engine/event-id-set.js';
import { stateTransferables } from '../domain/engine/scoring-run.js';
import type { JsonlReadIssue } from '../files/jsonl-events.js';
import { type ReplayJob, type ReplayReply, type ReplayRequest, replayRange } from './parallel-replay.js';
import { BacktestReplay } from './replay.js';

/**
 * A worker of replayFileInParallel: replay one byte range into every as-of run and reply with what the parent
 * merges (presence, times, account names, the event ids each run counted, each run's state); then, if asked (ids
 * earlier ranges counted, per run), replay the range again without them and reply with those states.
 */
const job = workerData as ReplayJob;
const port = parentPort!;
const issues: JsonlReadIssue[] = [];
const replay = new BacktestReplay(job.plan, false);
// No top-level await: the worker is bundled as CommonJS when started from the TypeScript source.
void replayRange(replay, job, (issue) => issues.push(issue)).then((lines) => {
  const eventIds = replay.runs.map((run) => run.takeEventIds());
  const states = replay.runs.map((run) => run.exportState());
  const reply: ReplayReply = {
    type: 'scored',
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
  const transfer = [
    ...eventIds.flatMap((ids) => (ids === null ? [] : eventIdSetTransferables(ids))),
    ...states.flatMap(stateTransferables),
  ];
  port.postMessage(reply, transfer);
  port.once('message', async (request: ReplayRequest) => {
    const again = new BacktestReplay(job.plan, false);
    await replayRange(
      again,
      job,
      undefined,
      request.skips.map((ids) => new Set(ids)),
    );
    const runs = again.runs.map((run) => run.exportState());
    const message: ReplayReply = { type: 'state', states: runs };
    port.postMessage(message, runs.flatMap(stateTransferables));
  });
});
