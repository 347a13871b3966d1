import { parentPort, workerData } from 'node:worker_threads';
import { eventIdSetTransferables } from '../domain/engine/event-id-set.js';
import { stateTransferables } from '../domain/engine/scoring-run.js';
import type { JsonlReadIssue } from './jsonl-events.js';
import { type RangeJob, scoreRange, type WorkerReply } from './score-jsonl.js';

/**
 * A worker of scoreJsonlFile: score one byte range and reply with its line count, issues, the event ids it took
 * and its state; then, if asked (ids an earlier range took, to skip), score the range again without them and reply
 * with that state.
 */
const job = workerData as RangeJob;
const port = parentPort!;
const issues: JsonlReadIssue[] = [];
// No top-level await: the worker is bundled as CommonJS when started from the TypeScript source.
void scoreRange(job, (issue) => issues.push(issue)).then((first) => {
  const seen = first.run.takeEventIds();
  // Sent with the ids, so that the usual case (no id of this range taken earlier) needs no second round.
  const state = first.run.exportState();
  const reply: WorkerReply = { type: 'scored', lines: first.lines, issues, seen, state };
  port.postMessage(reply, [...(seen === null ? [] : eventIdSetTransferables(seen)), ...stateTransferables(state)]);
  port.once('message', async ({ skip }: { skip: string[] }) => {
    const { run } = await scoreRange(job, undefined, new Set(skip));
    const again = run.exportState();
    const message: WorkerReply = { type: 'state', state: again };
    port.postMessage(message, stateTransferables(again));
  });
});
