import { PulseError } from '../domain/errors.js';
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

/** The runner is stopping (the server shuts down): it starts no new run. */
export class RunnerStoppedError extends PulseError {
  constructor() {
    super('the runner is stopping: no new run starts', { kind: 'runs-unavailable', status: 503 });
    this.name = 'RunnerStoppedError';
  }
}

/**
 * Runs in one process with the same plan → workers → finalise code the state machine runs in AWS: shards are
 * scored concurrently (bounded), then finalised. Executions are queued one at a time, so two runs of a model never
 * interleave their writes.
 */
export class LocalRunner {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly concurrency: number;
  private stopping = false;
  /** Runs handed to this runner that have not ended (succeeded or failed) yet. */
  private readonly unfinished = new Set<string>();

  constructor(
    private readonly deps: RunDeps,
    private readonly options: LocalRunnerOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** Create a run and execute it to the end: the record says succeeded or failed (with the error). */
  async run(request: RunRequest): Promise<RunRecord> {
    this.refuseWhenStopping();
    const run = await createRun(this.deps, request);
    return this.enqueue(run.runId);
  }

  async backfill(request: BackfillRequest): Promise<RunRecord> {
    this.refuseWhenStopping();
    const run = await createBackfill(this.deps, request);
    return this.enqueue(run.runId);
  }

  /** What POST /v1/runs does locally: create the record(s) now, execute in the background. */
  async submit(request: RunRequest | BackfillRequest): Promise<RunRecord> {
    this.refuseWhenStopping();
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

  /**
   * Stop at the next checkpoint: no new run starts, a run in progress ends after the shards already being scored
   * (a backfill after its current date). What did not end stays queued/running in the run store and is listed by
   * `unfinishedRuns()`; executing it again resumes it (a backfill from its first unfinished date, a run re-plans).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.idle();
  }

  /** Runs handed to this runner that have not ended: after stop(), the ones to resume later. */
  unfinishedRuns(): string[] {
    return [...this.unfinished];
  }

  private refuseWhenStopping(): void {
    if (this.stopping) throw new RunnerStoppedError();
  }

  /** Execute an existing run or backfill (queued behind any other execution). */
  enqueue(runId: string): Promise<RunRecord> {
    this.unfinished.add(runId);
    const next = this.queue.then(() => this.execute(runId));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async execute(runId: string): Promise<RunRecord> {
    let ended = true;
    try {
      const record = await this.executeUntilStopped(runId);
      ended = record.status === 'succeeded' || record.status === 'failed';
      return record;
    } finally {
      // A run that cannot be planned (e.g. gone from the store) is not worth resuming either.
      if (ended) this.unfinished.delete(runId);
    }
  }

  private async executeUntilStopped(runId: string): Promise<RunRecord> {
    const log = this.deps.logger ?? silentLogger;
    let target: string | null = runId;
    while (target !== null && !this.stopping) {
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
        let skipped = 0;
        progress('scoring', 0);
        await mapLimit(plan.items, this.concurrency, async (item) => {
          // Checkpoint: a stop lets the shards in flight finish (never abandons a write) and starts no more.
          if (this.stopping) {
            skipped++;
            return;
          }
          await runShard(this.deps, item);
          progress('scoring', ++done);
        });
        if (skipped > 0) {
          log.info('run stopped at a checkpoint; it resumes on the next start', {
            runId: plan.runId,
            shardsDone: done,
            shardCount: plan.shardCount,
          });
          break;
        }
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
