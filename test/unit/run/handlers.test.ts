import { describe, expect, it } from 'vitest';
import { makeFinaliseHandler, makePlanHandler, makeWorkerHandler } from '../../../shared/run/handlers.js';
import { weeklyLogins } from '../../support/engine.js';
import { events, memoryDeps } from '../../support/run-fixture.js';

const usage = weeklyLogins('usage', { perLogin: 2, high: 5 });

describe('the run state machine steps as handlers', () => {
  it('plan → workers (batched, as runs started before one item per shard) → finalise with small JSON payloads, looping over a backfill', async () => {
    // Arrange
    const deps = memoryDeps([usage]);
    await deps.events.putEvents([...events('a', 'login', '2026-03-01', 3), ...events('b', 'login', '2026-03-02', 1)]);
    const plan = makePlanHandler(deps, 'bucket');
    const worker = makeWorkerHandler(deps);
    const finalise = makeFinaliseHandler(deps);

    // Act: what the state machine does, step by step.
    let input: unknown = { model: 'usage', from: '2026-03-01', to: '2026-03-02' };
    const payloads: unknown[] = [];
    for (let guard = 0; guard < 10; guard++) {
      const planned = await plan(input);
      payloads.push(planned);
      if (planned.done) break;
      const items = JSON.parse(new TextDecoder().decode((await deps.objects.get(planned.itemsKey))!)) as unknown[];
      payloads.push(await worker({ Items: items.slice(0, 2) }), await worker({ Items: items.slice(2) }));
      const result = await finalise({ runId: planned.runId });
      payloads.push(result);
      if (result.done) break;
      input = { runId: result.next };
    }

    // Assert
    const backfillId = (payloads[0] as { parentRunId: string }).parentRunId;
    const backfill = await deps.runs.get(backfillId);
    expect(backfill).toMatchObject({ kind: 'backfill', status: 'succeeded', counts: { entities: 3 } });
    expect(payloads.every((p) => JSON.stringify(p).length < 2048)).toBe(true);
    expect(payloads[0]).toMatchObject({ bucket: 'bucket', shardCount: 4, done: false });
    expect(payloads.at(-1)).toMatchObject({ status: 'succeeded', done: true, next: null });
  });

  it('marks the run failed with the Lambda error message when the state machine reports an error', async () => {
    const deps = memoryDeps([usage]);
    const planned = await makePlanHandler(deps, 'bucket')({ model: 'usage', asOf: '2026-03-01' });

    const result = await makeFinaliseHandler(deps)({
      runId: planned.runId,
      error: {
        Error: 'Error',
        Cause: JSON.stringify({ errorMessage: 'reading events: failed after 8 attempts', trace: [] }),
      },
    });

    expect(result).toMatchObject({ status: 'failed', done: true });
    expect(await deps.runs.get(planned.runId)).toMatchObject({
      status: 'failed',
      error: 'reading events: failed after 8 attempts',
    });
  });

  it('rejects malformed step input naming the field', async () => {
    const deps = memoryDeps([usage]);

    await expect(makeWorkerHandler(deps)({ Items: [{ runId: 'x', shard: -1 }] })).rejects.toThrow(
      /worker: invalid input: .*shard/,
    );
    await expect(makePlanHandler(deps, 'b')({ model: 'usage', asOf: 5 })).rejects.toThrow(/plan: invalid input/);
  });
});
