import { eventItem } from '../../shared/adapters/dynamodb/event-store.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { seededRandom } from '../../shared/domain/random.js';
import { DEFAULT_LIMITS } from '../../shared/ingest/limits.js';
import { normaliseNative } from '../../shared/ingest/native.js';
import type { BenchFn } from '../types.js';

/**
 * Ingest throughput in one process, storage mocked: parse + validate + normalise + key + marshal to the
 * BatchWriteItem wire format, for 500-event requests. Baseline: bare JSON.parse of the same bodies.
 */
const NOW = Date.UTC(2026, 10, 1, 12);
const NAMES = ['login', 'project_created', 'report_exported', 'teammate_invited', 'core_feature_used', 'session_ended'];

function makeBodies(count: number, withIds: boolean): string[] {
  const rand = seededRandom(42);
  const bodies: string[] = [];
  for (let b = 0; b < count; b++) {
    const events = Array.from({ length: 500 }, (_, i) => {
      const user = Math.floor(rand() * 50_000);
      const event: Record<string, unknown> = {
        name: NAMES[Math.floor(rand() * NAMES.length)],
        userId: `user-${user}`,
        timestamp: new Date(NOW - Math.floor(rand() * 86_400_000)).toISOString(),
        properties: { plan: rand() < 0.5 ? 'pro' : 'trial', minutes: Math.floor(rand() * 90), source: 'web' },
      };
      if (withIds) event.eventId = `evt-${b}-${i}-${Math.floor(rand() * 1e9).toString(36)}`;
      if (rand() < 0.5) event.accountId = `acct-${user % 2_000}`;
      return event;
    });
    bodies.push(JSON.stringify({ events }));
  }
  return bodies;
}

/**
 * Best throughput (events/s) of each workload over interleaved short rounds: on a shared machine the best round
 * is the one least disturbed, and interleaving keeps the ratio fair when the load changes during the run.
 */
function measure(
  bodies: string[],
  seconds: number,
  workloads: Record<string, (body: string) => number>,
): Record<string, number> {
  const best: Record<string, number> = {};
  for (const [name, work] of Object.entries(workloads)) {
    for (const body of bodies) work(body); // warm-up
    best[name] = 0;
  }
  const rounds = Math.max(3, Math.round(seconds / 0.25));
  for (let round = 0; round < rounds; round++) {
    for (const [name, work] of Object.entries(workloads)) {
      let events = 0;
      const start = performance.now();
      for (const body of bodies) events += work(body);
      const rate = events / ((performance.now() - start) / 1000);
      if (rate > best[name]!) best[name] = rate;
    }
  }
  return best;
}

/** Parse, validate, normalise, key and marshal to DynamoDB items: what an ingest request costs before I/O. */
function ingestPipeline(body: string): number {
  const batch = normaliseNative(JSON.parse(body), { now: NOW, limits: DEFAULT_LIMITS, bodyBytes: body.length });
  let items = 0;
  for (const event of batch.events) if (eventItem(event, 16, 400).pk) items++;
  if (items !== 500 || batch.rejected.length > 0) throw new Error('bench body was not accepted whole');
  return items;
}

/** The same, plus serialising the BatchWriteItem requests as the SDK puts them on the wire. */
function ingestPipelineWithWire(body: string): number {
  const batch = normaliseNative(JSON.parse(body), { now: NOW, limits: DEFAULT_LIMITS, bodyBytes: body.length });
  let bytes = 0;
  for (let i = 0; i < batch.events.length; i += 25) {
    const items = batch.events
      .slice(i, i + 25)
      .map((e: ScoringEvent) => ({ PutRequest: { Item: eventItem(e, 16, 400) } }));
    bytes += JSON.stringify({ RequestItems: { events: items } }).length;
  }
  if (bytes === 0 || batch.rejected.length > 0) throw new Error('bench body was not accepted whole');
  return batch.events.length;
}

const baseline = (body: string) => (JSON.parse(body) as { events: unknown[] }).events.length;

export const bench: BenchFn = async ({ quick }) => {
  const seconds = quick ? 1 : 4;
  const withIds = makeBodies(quick ? 4 : 10, true);
  const hashed = makeBodies(quick ? 4 : 10, false);

  const a = measure(withIds, seconds, { baseline, pipeline: ingestPipeline, wire: ingestPipelineWithWire });
  const b = measure(hashed, seconds / 2, { baseline, pipeline: ingestPipeline });
  const row = (metric: string, value: number, base: number) => ({
    metric,
    value,
    unit: 'events/s/core',
    target: '>= 200,000',
    baseline: { name: 'JSON.parse only', value: base },
    ratio: value / base,
  });

  return {
    name: 'ingest',
    rows: [
      row('validate+normalise+key+marshal, events with ids', a.pipeline!, a.baseline!),
      row('same, events without ids (content-hash ids)', b.pipeline!, b.baseline!),
      row('with ids, plus BatchWriteItem wire JSON', a.wire!, a.baseline!),
    ],
    notes: [
      '500-event requests (~200 B an event, half with an accountId), storage mocked, one core; best of interleaved rounds.',
      'ratio = throughput / bare JSON.parse throughput of the same bodies, measured in the same rounds.',
    ],
  };
};
