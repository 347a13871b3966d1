import { threadId } from 'node:worker_threads';
import { eventIdSetTransferables } from '../domain/engine/event-id-set.js';
import { stateTransferables } from '../domain/engine/scoring-run.js';
import { WireWriter } from './event-wire.js';
import { type JsonlReadIssue, readJsonlFieldBatches } from './jsonl-events.js';
import { type ReadTask, type ScoredPart, type ScorePartTask, scoreRange } from './score-jsonl.js';
import { movable } from './worker-pool.js';

/**
 * A task of scoreJsonlFile's worker pool (docs/calibrate.md#threads): score one byte range and return its line
 * count, issues, the event ids it took and its state, their typed arrays moved to the caller. Scoring a part again
 * without the ids an earlier part took (`skip`) is a task of its own: nothing is kept here between tasks.
 */
export default async function scorePartTask(task: ScorePartTask | ReadTask): Promise<ScoredPart | { lines: number }> {
  if ('read' in task) return readTask(task);
  const { job, skip } = task;
  if (skip !== undefined) {
    const { run, lines } = await scoreRange(job, undefined, new Set(skip));
    const state = run.exportState();
    run.release(); // the state is a copy: the run's memory serves this worker's next task (docs/architecture.md#memory)
    return movable({ threadId, lines, issues: [], seen: null, state }, stateTransferables(state));
  }
  const issues: JsonlReadIssue[] = [];
  const { run, lines } = await scoreRange(job, (issue) => issues.push(issue));
  const seen = run.takeEventIds();
  // Sent with the ids, so that the usual case (no id of this range taken earlier) needs no second task.
  const state = run.exportState();
  run.release();
  return movable({ threadId, lines, issues, seen, state }, [
    ...(seen === null ? [] : eventIdSetTransferables(seen)),
    ...stateTransferables(state),
  ]);
}

/**
 * The reading half of a pipelined scoring (docs/calibrate.md#threads): read the file's lines with the byte reader
 * and write each event, invalid line and validated event onto the wire, in file order, for the thread that counts.
 */
async function readTask({ read }: ReadTask): Promise<{ lines: number }> {
  const writer = new WireWriter(read.memory, read.port, read.propertyKeys, read.from, read.to, read.ids);
  try {
    const lines = await readJsonlFieldBatches(
      read.file,
      { propertyKeys: new Set(read.propertyKeys), onIssue: (issue) => writer.addIssue(issue) },
      (batch, count) => writer.addBatch(batch, count),
      (event) => writer.addEvent(event),
    );
    writer.end();
    return { lines };
  } catch (error) {
    writer.fail();
    throw error;
  }
}
