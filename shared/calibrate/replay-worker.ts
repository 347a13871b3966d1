import { parentPort, workerData } from 'node:worker_threads';
import { propertyKeysOf } from '../domain/engine/compile.js';
import { stateTransferables } from '../domain/engine/scoring-run.js';
import { type JsonlReadIssue, readJsonlEvents } from '../files/jsonl-events.js';
import type { ReplayJob, ReplayReply, ReplayRequest } from './parallel-replay.js';
import { BacktestReplay } from './replay.js';

/**
 * A worker of replayFileInParallel: replay one byte range into every as-of run, report what the parent merges
 * directly, then on the reply (identities earlier parts counted, per run) export the runs' states.
 */
const job = workerData as ReplayJob;
const port = parentPort!;

async function replayRange(
  onIssue: ((issue: JsonlReadIssue) => void) | undefined,
  skips?: ReadonlySet<string>[],
): Promise<{ replay: BacktestReplay; lines: number }> {
  const replay = new BacktestReplay(job.plan, false);
  const pages = readJsonlEvents(job.file, {
    pageSize: job.pageSize,
    onIssue,
    start: job.start,
    end: job.end,
    propertyKeys: propertyKeysOf(job.plan.model),
  });
  for (;;) {
    const next = await pages.next();
    if (next.done) return { replay, lines: next.value };
    replay.add(next.value, skips);
  }
}

const issues: JsonlReadIssue[] = [];
// No top-level await: the worker is bundled as CommonJS when started from the TypeScript source.
void replayRange((issue) => issues.push(issue)).then(({ replay, lines }) => {
  const reply: ReplayReply = {
    type: 'scored',
    lines,
    issues,
    seen: [...replay.seen],
    firstAt: replay.firstAt,
    lastAt: replay.lastAt,
    unresolved: [...replay.unresolved],
    named: job.plan.model.level === 'account' ? [...replay.accountOfUser.keys()] : [],
    eventIds: replay.runs.map((run) => run.seenEventIds()),
  };
  port.postMessage(reply);
  port.once('message', async (request: ReplayRequest) => {
    if (request === null) return;
    const again = request.skips.some((ids) => ids.length > 0);
    const runs = again
      ? (
          await replayRange(
            undefined,
            request.skips.map((ids) => new Set(ids)),
          )
        ).replay.runs
      : replay.runs;
    const states = runs.map((run) => run.exportState());
    const message: ReplayReply = { type: 'state', states };
    port.postMessage(message, states.flatMap(stateTransferables));
  });
});
