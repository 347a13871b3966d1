import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AttributeValue, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoEventStore, eventFromItem, eventItem } from '../../shared/adapters/dynamodb/event-store.js';
import { shardPartition, utcDaysOverlapping } from '../../shared/adapters/dynamodb/keys.js';
import { DirectorySnapshotStore } from '../../shared/adapters/fs/snapshot-store.js';
import { InMemoryAlertSink, InMemoryAlertStore } from '../../shared/adapters/memory/alert-sink.js';
import { InMemoryEntityStore } from '../../shared/adapters/memory/entity-store.js';
import { InMemoryRunStore } from '../../shared/adapters/memory/run-store.js';
import { InMemoryScoreStore } from '../../shared/adapters/memory/score-store.js';
import { createNormalizer, finalizeScore } from '../../shared/domain/engine/finalize.js';
import { ScoringRun } from '../../shared/domain/engine/scoring-run.js';
import type { EntityScore } from '../../shared/domain/engine/types.js';
import type { ScoringEvent } from '../../shared/domain/event.js';
import { modelContentHash } from '../../shared/domain/model/load.js';
import { type Model, ModelSchema } from '../../shared/domain/model/schema.js';
import { seededRandom } from '../../shared/domain/random.js';
import { shardOf } from '../../shared/domain/shard.js';
import { DAY_MS } from '../../shared/domain/time.js';
import type { EventStore, ReadShardQuery } from '../../shared/ports/event-store.js';
import type { ScoreStore } from '../../shared/ports/score-store.js';
import { LocalRunner } from '../../shared/run/local-runner.js';
import { encodeSnapshotParquet } from '../../shared/run/snapshot.js';
import { scoreShard } from '../../shared/run/worker.js';
import { activeDaysTiers, sessionMinutes } from '../../test/support/engine.js';
import type { BenchFn, BenchRow } from '../types.js';

export const AS_OF = Date.parse('2026-03-01T00:00:00Z');
const WINDOW_DAYS = 30;
/** About 1 MB of items, where DynamoDB ends a Query page. */
export const ITEMS_PER_PAGE = 4000;
/** Shards of the events table in these benches (the default deployment's count). */
const BENCH_SHARDS = 16;
const EVENT_NAMES = [
  'login',
  'project_created',
  'core_feature_used',
  'session_ended',
  'feature_used',
  'report_exported',
];

export function benchModel(normalize: 'target' | 'percentile'): Model {
  return ModelSchema.parse({
    name: 'bench',
    version: 1,
    level: 'user',
    windowDays: WINDOW_DAYS,
    signals: [
      { name: 'projects', event: 'project_created', weight: 4 },
      { name: 'core-use', event: 'core_feature_used', weight: 5, capPerDay: 3, decay: { halfLifeDays: 14 } },
      { name: 'active-weeks', event: 'login', aggregate: 'distinctWeeks', weight: 2 },
      sessionMinutes('minutes', 0.1),
      { name: 'premium', event: 'feature_used', where: { tier: 'premium' }, weight: 10 },
      activeDaysTiers('active-days', [
        [0, 0],
        [5, 10],
      ]),
    ],
    penalties: [
      { name: 'no-report', absent: 'report_exported', points: -20 },
      { name: 'inactive', inactiveDays: 14, points: -15 },
    ],
    normalize: normalize === 'target' ? { method: 'target', target: 200 } : { method: 'percentile' },
    bands: [{ name: 'low' }, { name: 'medium', min: 40 }, { name: 'high', min: 70 }],
    alerts: { drop: { points: 15 }, bandChange: true },
  });
}

function properties(name: string, r: () => number): Record<string, unknown> | undefined {
  if (name === 'session_ended') return { minutes: Math.floor(r() * 60) };
  if (name === 'feature_used') return { tier: r() < 0.3 ? 'premium' : 'basic', feature: `f${Math.floor(r() * 20)}` };
  if (name === 'core_feature_used') return { feature: `core-${Math.floor(r() * 5)}` };
  return undefined;
}

/** `count` user ids that the events table places in `shard` (of BENCH_SHARDS). */
function usersOfShard(count: number, shard: number): string[] {
  const users: string[] = [];
  for (let u = 0; users.length < count; u++) {
    const userId = `user-${u}`;
    if (shardOf(userId, BENCH_SHARDS) === shard) users.push(userId);
  }
  return users;
}

/** One shard's events as the events table stores them (eventItem), grouped by day partition, in DynamoDB's wire format. */
export function shardItems(
  users: number,
  eventsPerUserDay: number,
  shard: number,
): Map<string, Record<string, AttributeValue>[]> {
  const r = seededRandom(42);
  const userIds = usersOfShard(users, shard);
  const days = new Map<string, Record<string, AttributeValue>[]>();
  for (let d = 1; d <= WINDOW_DAYS; d++) {
    const dayStart = AS_OF - d * DAY_MS;
    const items: Record<string, AttributeValue>[] = [];
    userIds.forEach((userId, u) => {
      const n = Math.floor(r() * eventsPerUserDay * 2);
      for (let i = 0; i < n; i++) {
        const name = EVENT_NAMES[Math.floor(r() * EVENT_NAMES.length)]!;
        const timestamp = dayStart + Math.floor(r() * DAY_MS);
        const eventId = `${d}-${u}-${i}`;
        const event: ScoringEvent = { eventId, name, userId, accountId: `acct-${u % 97}`, timestamp };
        const props = properties(name, r);
        if (props) event.properties = props;
        items.push(eventItem(event, BENCH_SHARDS, 400, timestamp));
      }
    });
    days.set(shardPartition('user', shard, dayStart), items);
  }
  return days;
}

/** A DynamoDB client whose HTTP layer answers Query calls with pre-encoded response bodies (SDK parsing included). */
export function wireClient(days: Map<string, Record<string, AttributeValue>[]>): DynamoDBClient {
  const encoder = new TextEncoder();
  const pages = new Map<string, Uint8Array[]>();
  for (const [key, items] of days) {
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < Math.max(1, items.length); i += ITEMS_PER_PAGE) {
      const page = items.slice(i, i + ITEMS_PER_PAGE);
      const last = i + ITEMS_PER_PAGE < items.length;
      const body: Record<string, unknown> = { Items: page, Count: page.length, ScannedCount: page.length };
      if (last) body.LastEvaluatedKey = { pk: { S: key }, sk: { S: `page:${bodies.length + 1}` } };
      bodies.push(encoder.encode(JSON.stringify(body)));
    }
    pages.set(key, bodies);
  }
  const empty = encoder.encode(JSON.stringify({ Items: [], Count: 0, ScannedCount: 0 }));
  return new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const text =
          typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body as Uint8Array);
        const input = JSON.parse(text) as {
          ExpressionAttributeValues: Record<string, { S: string }>;
          ExclusiveStartKey?: { sk: { S: string } };
        };
        const key = input.ExpressionAttributeValues[':pk']!.S;
        const index = input.ExclusiveStartKey ? Number(input.ExclusiveStartKey.sk.S.slice(5)) : 0;
        const body = pages.get(key)?.[index] ?? empty;
        return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body } };
      },
    } as unknown as DynamoDBClient['config']['requestHandler'],
  });
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function workerThroughput(quick: boolean): Promise<BenchRow[]> {
  const users = quick ? 1500 : 5000;
  const model = benchModel('target');
  const days = shardItems(users, 4, 3);
  const total = [...days.values()].reduce((sum, items) => sum + items.length, 0);
  const client = wireClient(days);
  const events = new DynamoEventStore({ client, tableName: 'events', shardCount: BENCH_SHARDS });
  const stores = { entities: new InMemoryEntityStore(BENCH_SHARDS), scores: new InMemoryScoreStore(BENCH_SHARDS) };
  const sdkEvents = new SdkDecodedEvents(client);

  // The same worker over the same responses, with the items decoded the SDK's way; rounds interleaved.
  let best = 0;
  let sdkBest = 0;
  let scored = 0;
  for (let round = 0; round < 3; round++) {
    let start = process.hrtime.bigint();
    const result = await scoreShard({ ...stores, events }, model, AS_OF, 3);
    best = Math.max(best, result.events / seconds(start));
    start = process.hrtime.bigint();
    const viaSdk = await scoreShard({ ...stores, events: sdkEvents }, model, AS_OF, 3);
    sdkBest = Math.max(sdkBest, viaSdk.events / seconds(start));
    if (result.events !== total || viaSdk.events !== total)
      throw new Error(`read ${result.events} and ${viaSdk.events} of ${total} events`);
    if (JSON.stringify(result.raws) !== JSON.stringify(viaSdk.raws)) throw new Error('the two decoders disagree');
    scored = result.raws.length;
  }

  // Baseline: the engine alone on the same events already parsed, in the same page sizes.
  const parsed: ScoringEvent[][] = [];
  for (const items of days.values()) {
    for (let i = 0; i < items.length; i += ITEMS_PER_PAGE)
      parsed.push(items.slice(i, i + ITEMS_PER_PAGE).map(eventFromItem));
  }
  let baseline = 0;
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    const run = new ScoringRun(model, { asOf: AS_OF, dedupe: false });
    for (const page of parsed) run.add(page);
    run.finish();
    baseline = Math.max(baseline, total / seconds(start));
  }
  return [
    {
      metric: `worker: events/s, one shard (${total.toLocaleString('en-US')} events, ${scored.toLocaleString('en-US')} users, Query wire JSON via the SDK)`,
      value: best,
      unit: 'events/s',
      target: '>= 300,000',
      baseline: { name: 'engine on pre-parsed events', value: baseline },
      ratio: best / baseline,
    },
    {
      metric: 'worker: the same, items decoded by the SDK (QueryCommand output, then eventFromItem)',
      value: sdkBest,
      unit: 'events/s',
      baseline: { name: 'worker as shipped (items read from the response text)', value: best },
      ratio: sdkBest / best,
    },
  ];
}

/**
 * The shard's day partitions read with plain QueryCommands, items decoded by the SDK and then eventFromItem:
 * how DynamoEventStore.readShard decoded pages before it read items straight from the response text.
 */
class SdkDecodedEvents implements EventStore {
  readonly shardCount = BENCH_SHARDS;

  constructor(private readonly client: DynamoDBClient) {}

  async putEvents(): Promise<never> {
    throw new Error('read only');
  }

  async *readShard(query: ReadShardQuery): AsyncIterable<ScoringEvent[]> {
    for (const day of utcDaysOverlapping(query.from, query.to)) {
      const pk = shardPartition(query.level, query.shard, day);
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: 'events',
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': 'pk' },
            ExpressionAttributeValues: { ':pk': { S: pk } },
            ExclusiveStartKey: startKey,
          }),
        );
        startKey = page.LastEvaluatedKey;
        const events = (page.Items ?? []).map(eventFromItem);
        if (events.length > 0) yield events;
      } while (startKey);
    }
  }
}

function sampleScores(n: number): EntityScore[] {
  const model = benchModel('target');
  const r = seededRandom(7);
  const normalize = createNormalizer(model);
  const out: EntityScore[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const contributions = model.signals.map((s) => {
      const value = Math.floor(r() * 20);
      return { signal: s.name, value, points: value * (s.weight ?? 1) };
    });
    const raw = {
      entityType: 'user' as const,
      entityId: `user-${i}`,
      accountId: `acct-${i % 997}`,
      rawScore: contributions.reduce((sum, c) => sum + c.points, 0),
      contributions,
      penalties: r() < 0.2 ? [{ rule: 'inactive', points: -15 }] : [],
      coverage: {
        activeDays: 5,
        observedDays: 30,
        events: 40,
        firstSeenAt: AS_OF - 20 * DAY_MS,
        lastSeenAt: AS_OF - DAY_MS,
      },
    };
    const previous = {
      score: r() * 100,
      band: 'medium',
      asOf: '2026-02-28T00:00:00.000Z',
      contributions,
      penalties: [],
    };
    out[i] = finalizeScore(model, raw, { asOf: new Date(AS_OF).toISOString(), normalize, previous });
  }
  return out;
}

function snapshotThroughput(quick: boolean): BenchRow[] {
  const scores = sampleScores(quick ? 20_000 : 100_000);
  let best = 0;
  let bytes = 0;
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    bytes = encodeSnapshotParquet(scores).byteLength;
    best = Math.max(best, scores.length / seconds(start));
  }
  return [
    {
      metric: `snapshot: Parquet rows/s (${scores.length.toLocaleString('en-US')} rows, snappy)`,
      value: best,
      unit: 'rows/s',
    },
    { metric: 'snapshot: bytes per row', value: bytes / scores.length, unit: 'B' },
  ];
}

/** Events generated on the fly per shard (a store that holds nothing, so RSS is the run's own). */
class SyntheticEvents implements EventStore {
  constructor(
    readonly shardCount: number,
    private readonly entities: number,
  ) {}

  async putEvents(): Promise<never> {
    throw new Error('read only');
  }

  async *readShard(query: ReadShardQuery): AsyncIterable<ScoringEvent[]> {
    const r = seededRandom(query.shard + 1);
    let page: ScoringEvent[] = [];
    for (let u = 0; u < this.entities; u++) {
      const userId = `user-${u}`;
      if (shardOf(userId, this.shardCount) !== query.shard) continue;
      const n = 1 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) {
        const name = EVENT_NAMES[Math.floor(r() * EVENT_NAMES.length)]!;
        const timestamp = AS_OF - 1 - Math.floor(r() * WINDOW_DAYS * DAY_MS);
        if (timestamp < query.from || timestamp >= query.to) continue;
        page.push({ eventId: `${u}-${i}`, name, userId, timestamp, properties: properties(name, r) });
        if (page.length === ITEMS_PER_PAGE) {
          yield page;
          page = [];
        }
      }
    }
    if (page.length > 0) yield page;
  }
}

/** Scores written are counted, not kept (the table is the store in AWS). */
class CountingScores implements ScoreStore {
  written = 0;
  async getCurrent() {
    return [];
  }
  async *listCurrentShard() {}
  async list() {
    return { items: [], nextCursor: null };
  }
  async history() {
    return [];
  }
  async latestBefore() {
    return new Map();
  }
  async write(rows: readonly unknown[]): Promise<never[]> {
    this.written += rows.length;
    return [];
  }
}

/** Child process: one whole run (16 shards, 4 at a time, percentile) over `entities` users; prints RSS. */
async function rssChild(entities: number): Promise<void> {
  const model = benchModel('percentile');
  const root = mkdtempSync(join(tmpdir(), 'pulse-bench-'));
  const scores = new CountingScores();
  const start = process.hrtime.bigint();
  try {
    const runner = new LocalRunner(
      {
        models: new Map([['bench', { model, file: 'bench.yaml', contentHash: modelContentHash(model) }]]),
        events: new SyntheticEvents(BENCH_SHARDS, entities),
        entities: new InMemoryEntityStore(BENCH_SHARDS),
        scores,
        runs: new InMemoryRunStore(),
        objects: new DirectorySnapshotStore(root),
        alertSink: new InMemoryAlertSink(),
        alertStore: new InMemoryAlertStore(),
      },
      { concurrency: 4 },
    );
    const run = await runner.run({ model: 'bench', asOf: '2026-02-28' });
    if (run.status !== 'succeeded') throw new Error(run.error ?? 'run failed');
    const out = {
      entities: run.counts.entities,
      events: run.counts.events,
      seconds: seconds(start),
      maxRssKb: process.resourceUsage().maxRSS,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function peakRss(quick: boolean): { rows: BenchRow[]; notes: string[] } {
  const entities = quick ? 100_000 : 1_000_000;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--rss-child', String(entities)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    },
  );
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    return { rows: [], notes: [`peak RSS run failed: ${child.stderr.split('\n').slice(0, 3).join(' ')}`] };
  }
  const result = JSON.parse(line) as { entities: number; events: number; seconds: number; maxRssKb: number };
  return {
    rows: [
      {
        metric: `run: peak RSS, ${result.entities.toLocaleString('en-US')} entities, ${result.events.toLocaleString('en-US')} events (16 shards, 4 at a time, percentile)`,
        value: result.maxRssKb / 1024,
        unit: 'MB',
        target: '<= 1,024',
      },
      { metric: 'run: wall time of that run (in-process, 2 cores)', value: result.seconds, unit: 's' },
      {
        metric: 'run: entities finalised per second (whole run)',
        value: result.entities / result.seconds,
        unit: 'entities/s',
      },
    ],
    notes: [],
  };
}

export const bench: BenchFn = async ({ quick }) => {
  const rows: BenchRow[] = [...(await workerThroughput(quick)), ...snapshotThroughput(quick)];
  const rss = peakRss(quick);
  rows.push(...rss.rows);
  return {
    name: 'recompute',
    rows,
    notes: [
      'worker = DynamoEventStore.readShard over a DynamoDB client whose HTTP handler returns pre-encoded ~1 MB Query pages, so SDK parsing and item decoding are measured; the baseline scores the same events already parsed',
      'worker, items decoded by the SDK: the same worker and responses read with plain QueryCommands (the SDK parses every item, then eventFromItem), in interleaved rounds; raw scores checked equal',
      'peak RSS is measured in a fresh child process; the events are generated on the fly and scores are counted, not kept, so it is the run pipeline’s own memory',
      `load average when measured: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')} on ${cpus().length} cores (other processes depress these numbers)`,
      ...rss.notes,
    ],
  };
};

export const internals = { shardItems, wireClient };

if (process.argv[2] === '--rss-child') await rssChild(Number(process.argv[3]));
