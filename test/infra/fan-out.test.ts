import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../shared/adapters/memory/event-store.js';
import { fanOut } from '../../shared/run/fan-out.js';
import { createRun, planRun } from '../../shared/run/plan.js';
import { model } from '../support/engine.js';
import { memoryDeps } from '../support/run-fixture.js';
import { REPO_MODELS, synthApp, Template } from './support.js';

/** The Distributed Map state of the synthesised run state machine. */
function mapState(context: Record<string, unknown>): { MaxConcurrency: number; ItemBatcher?: unknown } {
  const { service } = synthApp({ 'pulse:modelsDir': REPO_MODELS, ...context });
  const [sm] = Object.values(Template.fromStack(service).findResources('AWS::StepFunctions::StateMachine'));
  const body = sm!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text).States.ScoreShards;
}

/** The items the plan step writes for a run over `shards` shards. */
async function planItems(shards: number): Promise<{ runId: string; shard: number }[]> {
  const usage = model({ name: 'usage', signals: [{ name: 'logins', event: 'login', weight: 1 }] });
  const deps = { ...memoryDeps([usage]), events: new InMemoryEventStore(shards, 100) };
  const run = await createRun(deps, { model: 'usage', asOf: '2026-03-01' });
  const plan = await planRun(deps, run.runId);
  return JSON.parse(new TextDecoder().decode((await deps.objects.get(plan.itemsKey))!));
}

describe('fan-out follows the data (docs/operations.md#runs)', () => {
  it('plans a 1,000-shard, 500M-event window into 1,000 items of 500k events, each well inside one invocation', async () => {
    // Arrange: the deployed Map and the plan's own output.
    const map = mapState({ 'pulse:shardCount': 1000 });
    const items = await planItems(1000);

    // Act
    const plan = fanOut({ items: items.length, maxConcurrency: map.MaxConcurrency, eventsPerWindow: 500_000_000 });

    // Assert
    expect(map.ItemBatcher).toBeUndefined();
    expect(new Set(items.map((i) => i.shard)).size).toBe(1000);
    expect(plan).toMatchObject({
      items: 1000,
      concurrency: 500,
      waves: 2,
      eventsPerItem: 500_000,
      invocationsPerItem: 1,
    });
    expect(plan.eventsPerItem).toBeLessThan(plan.eventBudgetPerInvocation);
    // 500 workers would read ~366k units/s: the events table's default on-demand quota (40k) is the limit, and
    // the window still takes about three minutes; with the quota raised, under a minute.
    expect(plan.readUnitsPerSecond).toBeGreaterThan(40_000);
    expect(plan.wallSeconds).toBeLessThan(5 * 60);
    const raised = fanOut({
      items: items.length,
      maxConcurrency: map.MaxConcurrency,
      eventsPerWindow: 500_000_000,
      tableReadUnitsPerSecond: 400_000,
    });
    expect(raised.wallSeconds).toBeLessThan(60);
  }, 300_000);

  it('shows why the old layout failed and the new one does not: 180M events over 16 shards', async () => {
    // Arrange
    const map = mapState({});
    const items = await planItems(16);

    // Act
    const plan = fanOut({ items: items.length, maxConcurrency: map.MaxConcurrency, eventsPerWindow: 180_000_000 });
    const oldLayout = fanOut({ items: 4, maxConcurrency: 16, eventsPerWindow: 180_000_000 });

    // Assert: 4 batches of 4 shards needed 45M events an invocation, far past one 15-minute Lambda.
    expect(oldLayout.eventsPerItem).toBeGreaterThan(oldLayout.eventBudgetPerInvocation);
    // Now 16 workers at once, 11.25M events each: each fits one invocation (and would checkpoint if it did not).
    expect(plan).toMatchObject({
      items: 16,
      concurrency: 16,
      waves: 1,
      eventsPerItem: 11_250_000,
      invocationsPerItem: 1,
    });
  }, 300_000);

  it('counts the invocations a shard needs when it outgrows one, instead of timing out', () => {
    const plan = fanOut({ items: 16, maxConcurrency: 16, eventsPerWindow: 1_000_000_000 });

    expect(plan.eventsPerItem).toBe(62_500_000);
    expect(plan.invocationsPerItem).toBe(Math.ceil(62_500_000 / plan.eventBudgetPerInvocation));
    expect(plan.invocationsPerItem).toBeGreaterThan(1);
  }, 300_000);

  it('sets one worker per shard by default and refuses a concurrency no shard could use', () => {
    expect(mapState({ 'pulse:shardCount': 64 }).MaxConcurrency).toBe(64);
    expect(mapState({ 'pulse:shardCount': 64, 'pulse:maxConcurrency': 32 }).MaxConcurrency).toBe(32);
    expect(() => mapState({ 'pulse:shardCount': 16, 'pulse:maxConcurrency': 32 })).toThrow(
      /maxConcurrency 32 exceeds the 16 shards/,
    );
  }, 300_000);
});
