import { parentPort, workerData } from 'node:worker_threads';
import { eventIdSetTransferables } from '../domain/engine/event-id-set.js';
import { stateTransferables } from '../domain/engine/scoring-run.js';
import type { JsonlReadIssue } from './jsonl-events.js';
import { type RangeJob, scoreRange, type WorkerReply } from './score-jsonl.js';

/**
 * A worker of scoreJsonlFile: score one byte range, report its line count, issues and the event ids it took, then
 * on the reply (ids an earlier range took, to skip) export the run's state.
 */
const job = workerData as RangeJob;
const port = parentPort!;
const issues: JsonlReadIssue[] = [];
// No top-level await: the worker is bundled as CommonJS when started from the TypeScript source.
void scoreRange(job, (issue) => issues.push(issue)).then((first) => {
  const seen = first.run.takeEventIds();
  const reply: WorkerReply = { type: 'scored', lines: first.lines, issues, seen };
  port.postMessage(reply, seen === null ? [] : eventIdSetTransferables(seen));
  port.once('message', async ({ skip }: { skip: string[] }) => {
    const run = skip.length === 0 ? first.run : (await scoreRange(job, undefined, new Set(skip))).run;
    const state = run.exportState();
    const message: WorkerReply = { type: 'state', state };
    port.postMessage(message, stateTransferables(state));
  });
});
