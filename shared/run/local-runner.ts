import type { RunRecord } from '../ports/run-store.js';
import { mapLimit } from './concurrency.js';
import { type RunDeps, silentLogger } from './deps.js';
import { failRun, finaliseRun } from './finalise.js';
import { type BackfillRequest, createBackfill, createRun, planRun, type RunRequest } from './plan.js';
import { runShard } from './worker.js';

export interface RunProgress {
  runId: string;
  /** As-of date of the run being executed (a backfill reports each of its dates). */
  date: string;
  phase: 'scoring' | 'finalising' | 'done';
  shardsDone: number;
  shardCount: number;
}

export interface LocalRunnerOptions {
  /** Shards scored at once (default 4). */
  concurrency?: number | undefined;
  onProgress?: ((progress: RunProgress) => void) | undefined;
}

/**
 * Runs in one process with the same plan → workers → finalise code the state machine runs in AWS: shards are
 * scored concurrently (bounded), then finalised. Executions are queued one at a time, so two runs of a model never
 * interleave their writes.
 */
export class LocalRunner {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly concurrency: number;

  constructor(
    private readonly deps: RunDeps,
    private readonly options: LocalRunnerOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** Create a run and execute it to the end: the record says succeeded or failed (with the error). */
  async run(request: RunRequest): Promise<RunRecord> {
    const run = await createRun(this.deps, request);
    return this.enqueue(run.runId);
  }

  async backfill(request: BackfillRequest): Promise<RunRecord> {
    const run = await createBackfill(this.deps, request);
    return this.enqueue(run.runId);
  }

  /** What POST /v1/runs does locally: create the record(s) now, execute in the background. */
  async submit(request: RunRequest | BackfillRequest): Promise<RunRecord> {
    const run = 'from' in request ? await createBackfill(this.deps, request) : await createRun(this.deps, request);
    void this.enqueue(run.runId);
    return run;
  }

  /** Resolves when every submitted execution has ended. */
  async idle(): Promise<void> {
    for (;;) {
      const pending = this.queue;
      await pending;
      if (pending === this.queue) return;
    }
  }

  /** Execute an existing run or backfill (queued behind any other execution). */
  enqueue(runId: string): Promise<RunRecord> {
    const next = this.queue.then(() => this.execute(runId));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async execute(runId: string): Promise<RunRecord> {
    const log = this.deps.logger ?? silentLogger;
    let target: string | null = runId;
    while (target !== null) {
      const plan = await planRun(this.deps, target);
      if (plan.done) break;
      const run = (await this.deps.runs.get(plan.runId))!;
      const progress = (phase: RunProgress['phase'], shardsDone: number) =>
        this.options.onProgress?.({
          runId: plan.runId,
          date: run.date,
          phase,
          shardsDone,
          shardCount: plan.shardCount,
        });
      try {
        let done = 0;
        progress('scoring', 0);
        await mapLimit(plan.items, this.concurrency, async (item) => {
          const result = await runShard(this.deps, item);
          progress('scoring', ++done);
          return result;
        });
        progress('finalising', done);
        const result = await finaliseRun(this.deps, plan.runId);
        progress('done', done);
        target = result.next;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.warn('run failed', { runId: plan.runId, error: message });
        await failRun(this.deps, plan.runId, message);
        break;
      }
    }
    return (await this.deps.runs.get(runId))!;
  }
}
