import { describe, expect, it } from 'vitest';
import { LocalRunner, RunnerStoppedError, type RunProgress } from '../../../shared/run/local-runner.js';
import { weeklyLogins } from '../../support/engine.js';
import { events, memoryDeps } from '../../support/run-fixture.js';

/** Stopping the local runner (docs/local-mode.md#stopping): a checkpoint, nothing half-written, resumable. */

const usage = weeklyLogins('usage', { perLogin: 2, high: 5 });

async function depsWithEvents() {
  const deps = memoryDeps([usage]);
  for (let u = 0; u < 12; u++) {
    await deps.events.putEvents(events(`user-${u}`, 'login', '2026-03-08', u + 1));
  }
  return deps;
}

const scoresOf = (deps: Awaited<ReturnType<typeof depsWithEvents>>) =>
  deps.scores
    .allCurrent('usage')
    .map((s) => [s.entityId, s.rawScore])
    .sort();

describe('stopping the local runner', () => {
  it('stops a run after the shards in flight, leaves it running and listed, and a later execution completes it exactly', async () => {
    // Arrange
    const deps = await depsWithEvents();
    const reference = await depsWithEvents();
    await new LocalRunner(reference).run({ model: 'usage', asOf: '2026-03-09' });
    let stopping: Promise<void> | undefined;
    const runner = new LocalRunner(deps, {
      concurrency: 1,
      onProgress: (p: RunProgress) => {
        if (p.phase === 'scoring' && p.shardsDone === 1) stopping ??= runner.stop();
      },
    });

    // Act
    const stopped = await runner.run({ model: 'usage', asOf: '2026-03-09' });
    await stopping;
    const unfinished = runner.unfinishedRuns();
    const resumed = await new LocalRunner(deps).enqueue(stopped.runId);

    // Assert
    expect(stopped.status).toBe('running');
    expect(unfinished).toEqual([stopped.runId]);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.counts).toEqual({ entities: 12, events: 78, skipped: 0 });
    expect(scoresOf(deps)).toEqual(scoresOf(reference));
  });

  it('stops a backfill between dates; resuming it scores only the dates left', async () => {
    // Arrange
    const deps = await depsWithEvents();
    const finished: string[] = [];
    let stopping: Promise<void> | undefined;
    const runner = new LocalRunner(deps, {
      onProgress: (p) => {
        if (p.phase !== 'done') return;
        finished.push(p.date);
        stopping ??= runner.stop();
      },
    });

    // Act
    const stopped = await runner.backfill({ model: 'usage', from: '2026-03-05', to: '2026-03-08' });
    await stopping;
    const afterStop = await Promise.all((stopped.runs ?? []).map((id) => deps.runs.get(id)));
    const resumedDates: string[] = [];
    const resumed = await new LocalRunner(deps, {
      onProgress: (p) => {
        if (p.phase === 'done') resumedDates.push(p.date);
      },
    }).enqueue(stopped.runId);

    // Assert
    expect(stopped.status).toBe('running');
    expect(finished).toEqual(['2026-03-05']);
    expect(afterStop.map((r) => r?.status)).toEqual(['succeeded', 'queued', 'queued', 'queued']);
    expect(resumed.status).toBe('succeeded');
    expect(resumedDates).toEqual(['2026-03-06', '2026-03-07', '2026-03-08']);
  });

  it('refuses new runs once stopping, and lists nothing when everything ended', async () => {
    // Arrange
    const deps = await depsWithEvents();
    const runner = new LocalRunner(deps);
    await runner.run({ model: 'usage', asOf: '2026-03-09' });

    // Act
    await runner.stop();

    // Assert
    expect(runner.unfinishedRuns()).toEqual([]);
    await expect(runner.run({ model: 'usage', asOf: '2026-03-09' })).rejects.toBeInstanceOf(RunnerStoppedError);
    await expect(runner.submit({ model: 'usage', asOf: '2026-03-09' })).rejects.toBeInstanceOf(RunnerStoppedError);
    await expect(runner.backfill({ model: 'usage', from: '2026-03-01', to: '2026-03-02' })).rejects.toBeInstanceOf(
      RunnerStoppedError,
    );
  });
});
