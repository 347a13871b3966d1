// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { eventFromItem } from '../../shared/adapters/dynamodb/event-store.js';
import { seededRandom } from '../../shared/domain/random.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/local/config.js';
import { readServerInfo } from '../../shared/local/data-dir.js';
import { type Child, onFreePorts, startLocalServer, tempDir } from './support.js';

/**
 * Local ingest's guarantees on the real server (`npm start`), whose events go straight into the embedded store's
 * LevelDB in groups (docs/local-mode.md#ingest-throughput): concurrent resends of the same batches are accepted
 * once and duplicates otherwise, bad events are refused one by one, and every event acknowledged with a 202 is
 * still there after the process is killed with SIGKILL at a random point (seeded: rerun with PULSE_TEST_SEED).
 */

const SEED = Number(process.env.PULSE_TEST_SEED ?? Date.now() % 1_000_000);
const random = seededRandom(SEED);
const BATCHES = 24;
const PER_BATCH = 60;
const BAD_PER_BATCH = 2;
const VALID = PER_BATCH - BAD_PER_BATCH;
const now = Date.now() - 60_000;

/** Batch `b` of a phase: VALID good events (users spread over shards, half with an account) and 2 bad ones. */
function batch(phase: string, b: number): unknown[] {
  const events: unknown[] = Array.from({ length: VALID }, (_, i) => ({
    eventId: `${phase}-${b}-${i}`,
    name: 'login',
    userId: `user-${(b * 31 + i) % 97}`,
    ...(i % 2 === 0 ? { accountId: `acct-${i % 5}` } : {}),
    timestamp: new Date(now - i * 1000).toISOString(),
    properties: { b, i },
  }));
  events.splice(7, 0, { eventId: `${phase}-${b}-bad-a`, name: 'login', timestamp: new Date(now).toISOString() });
  events.splice(20, 0, { eventId: `${phase}-${b}-bad-b`, name: 'login', userId: 'u', timestamp: 'yesterday' });
  return events;
}

interface Answer {
  batch: number;
  status: number;
  accepted: number;
  duplicates: number;
  rejected: number[];
}

async function post(base: string, writeKey: string, b: number, events: unknown[]): Promise<Answer | undefined> {
  try {
    const response = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ events }),
    });
    const body = (await response.json()) as any;
    return {
      batch: b,
      status: response.status,
      accepted: body.accepted ?? 0,
      duplicates: body.duplicates ?? 0,
      rejected: (body.rejected ?? []).map((r: { index: number }) => r.index),
    };
  } catch {
    return undefined; // the server was killed before it answered
  }
}

/** Every copy of every stored event (userId, eventId), scanned through the running server's DynamoDB endpoint. */
async function storedKeys(dataDir: string): Promise<string[]> {
  const info = readServerInfo(dataDir);
  if (!info?.dynamoUrl) throw new Error('no running server on the data dir');
  const client = new DynamoDBClient({ endpoint: info.dynamoUrl, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const keys: string[] = [];
  try {
    for await (const page of paginateScan({ client }, { TableName: info.eventsTable ?? 'pulse-events' })) {
      for (const item of page.Items ?? []) {
        const event = eventFromItem(item);
        keys.push(`${event.userId}\u0000${event.eventId}`);
      }
    }
  } finally {
    client.destroy();
  }
  return keys;
}

const keysOf = (phase: string, b: number) =>
  (batch(phase, b).slice() as { userId?: string; eventId: string; timestamp: string }[])
    .filter((e) => e.userId !== undefined && e.timestamp !== 'yesterday')
    .map((e) => `${e.userId}\u0000${e.eventId}`);

describe(`local ingest: exactly once under concurrent resends, nothing acknowledged lost on SIGKILL (seed ${SEED})`, () => {
  const dir = tempDir('pulse-ingest-durability-');
  const servers: Child[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    dir.remove();
  });

  it('accepts each event once across concurrent resends, refuses the bad ones, and keeps every 202 through SIGKILL', async () => {
    // Arrange
    const env = await onFreePorts({ dataDir: dir.path, apiToken: 'durable-token', writeKey: 'durable-key' });
    const base = `http://127.0.0.1:${env.port}`;
    let server = await startLocalServer(env);
    servers.push(server);

    // Act 1: every batch sent twice at once (16 requests in flight).
    const sends = Array.from({ length: BATCHES * 2 }, (_, i) => i % BATCHES);
    const first: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < sends.length) {
          const b = sends[next++]!;
          const answer = await post(base, env.writeKey, b, batch('one', b));
          if (answer) first.push(answer);
        }
      }),
    );

    // Assert 1: per batch, the two answers share its valid events between accepted and duplicates; bad ones
    // refused at their own index each time.
    expect(first).toHaveLength(BATCHES * 2);
    for (let b = 0; b < BATCHES; b++) {
      const pair = first.filter((a) => a.batch === b);
      expect(pair.map((a) => a.status)).toEqual([202, 202]);
      expect(pair[0]!.accepted + pair[1]!.accepted).toBe(VALID);
      expect(pair[0]!.duplicates + pair[1]!.duplicates).toBe(VALID);
      for (const a of pair) expect(a.rejected).toEqual([7, 20]);
    }

    // Act 2: the second phase under load, SIGKILL after a random number of answers.
    const killAfter = 2 + Math.floor(random() * BATCHES);
    const second: Answer[] = [];
    next = 0;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < BATCHES) {
          const b = next++;
          const answer = await post(base, env.writeKey, b, batch('two', b));
          if (answer) {
            second.push(answer);
            if (second.length === killAfter) server.process.kill('SIGKILL');
          }
        }
      }),
    );
    await load;
    await server.exited;
    const acknowledged = second.filter((a) => a.status === 202);
    server = await startLocalServer({ ...env, port: env.port });
    servers.push(server);
    const afterKill = new Set(await storedKeys(dir.path));

    // Assert 2: every event of every batch answered 202 before the kill is stored.
    expect(acknowledged.length).toBeGreaterThanOrEqual(Math.min(killAfter, BATCHES));
    for (const a of acknowledged) {
      expect(a.accepted + a.duplicates).toBe(VALID);
      for (const key of keysOf('two', a.batch)) expect(afterKill.has(key)).toBe(true);
    }

    // Act 3: the client resends the whole second phase (retry after a lost answer).
    const resent: Answer[] = [];
    for (let b = 0; b < BATCHES; b++) resent.push((await post(base, env.writeKey, b, batch('two', b)))!);
    const final = await storedKeys(dir.path);

    // Assert 3: everything stored once; nothing was reported accepted twice.
    for (const a of resent) expect(a.status).toBe(202);
    const distinct = new Set(final);
    expect(final.length).toBe(distinct.size);
    expect(distinct.size).toBe(BATCHES * VALID * 2);
    const acceptedTwo = [...acknowledged, ...resent].reduce((n, a) => n + a.accepted, 0);
    expect(acceptedTwo).toBeLessThanOrEqual(BATCHES * VALID);
    for (const b of resent) expect(b.accepted + b.duplicates).toBe(VALID);
  }, 300_000);
});
