// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { eventFromItem } from '../../shared/adapters/dynamodb/event-store.js';
import { seededRandom } from '../../shared/domain/random.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/local/config.js';
import { readServerInfo } from '../../shared/local/data-dir.js';
import {
  Api,
  type Child,
  DAY,
  dateOf,
  E2E_MODELS,
  type LocalServerEnv,
  onFreePorts,
  startLocalServer,
  tempDir,
  today,
} from './support.js';

/**
 * Ctrl-C is unlucky input too (docs/local-mode.md#stopping): the real server process gets SIGINT at a random point
 * (seeded; the seed is in the suite's name, rerun one with PULSE_TEST_SEED=<seed>) of concurrent ingest, of the demo
 * load and of a backfill. Each time it must exit 0 with no stack trace, and after a restart on the same data dir
 * every event acknowledged with a 202 is stored, retries do not double-count, the demo completes with each event
 * once, and the run ends.
 */

const SEED = Number(process.env.PULSE_TEST_SEED ?? Date.now() % 1_000_000);
const random = seededRandom(SEED);
const between = (min: number, max: number) => Math.round(min + random() * (max - min));

/** An ISO instant `daysAgo` days before today at 10:00 UTC plus `second` seconds. */
const at = (daysAgo: number, second: number) =>
  new Date(today - daysAgo * DAY + 36_000_000 + second * 1000).toISOString();

const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

/** SIGINT and wait; the code and what the process wrote. */
async function interrupt(server: Child): Promise<{ code: number | null; output: string }> {
  server.process.kill('SIGINT');
  const code = await Promise.race([
    server.exited,
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 120_000)),
  ]);
  if (code === 'hung') {
    server.process.kill('SIGKILL');
    throw new Error(`the server did not stop within 120 s of SIGINT:\n${server.output()}`);
  }
  return { code, output: server.output() };
}

/** Every event in the events table of the running server on `dataDir` (through its DynamoDB endpoint). */
async function storedEvents(dataDir: string): Promise<{ userId: string; eventId: string }[]> {
  const info = readServerInfo(dataDir);
  if (!info?.dynamoUrl) throw new Error('no running server on the data dir');
  const client = new DynamoDBClient({ endpoint: info.dynamoUrl, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const events: { userId: string; eventId: string }[] = [];
  try {
    for await (const page of paginateScan({ client }, { TableName: info.eventsTable ?? 'pulse-events' })) {
      for (const item of page.Items ?? []) {
        const event = eventFromItem(item);
        events.push({ userId: event.userId, eventId: event.eventId });
      }
    }
  } finally {
    client.destroy();
  }
  return events;
}

const keyOf = (e: { userId: string; eventId: string }) => `${e.userId}\u0000${e.eventId}`;

describe(`SIGINT at a random point (seed ${SEED})`, () => {
  const dirs: { remove(): void }[] = [];
  const servers: Child[] = [];
  const track = (server: Child) => {
    servers.push(server);
    return server;
  };

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    for (const dir of dirs) dir.remove();
  });

  /** A new data dir (removed after the suite) and the server's settings for it on free ports. */
  async function newDataDir(prefix: string, modelsDir?: string): Promise<{ path: string; env: LocalServerEnv }> {
    const data = tempDir(prefix);
    dirs.push(data);
    const env = await onFreePorts({ dataDir: data.path, apiToken: 'stop-token', writeKey: 'stop-key', modelsDir });
    return { path: data.path, env };
  }

  const apiOf = (env: LocalServerEnv) => new Api(`http://127.0.0.1:${env.port}`, env.apiToken, env.writeKey);

  it('during concurrent ingest: exit 0, no stack trace; after a restart every acknowledged event is stored and resends count once', async () => {
    // Arrange: four clients posting batches of 25 distinct events as fast as the server answers.
    const data = await newDataDir('pulse-stop-ingest-', E2E_MODELS);
    const env = data.env;
    const server = track(await startLocalServer(env));
    const api = apiOf(env);
    const batchOf = (client: number, batch: number) =>
      Array.from({ length: 25 }, (_, i) => ({
        eventId: `c${client}-b${batch}-e${i}`,
        name: 'login',
        userId: `c${client}-u${i % 5}`,
        timestamp: at(2, batch),
      }));
    const acked: { client: number; batch: number; accepted: number }[] = [];
    const unacked: { client: number; batch: number; answer: string }[] = [];
    let firstAck: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      firstAck = resolve;
    });
    const clients = [0, 1, 2, 3].map(async (client) => {
      for (let batch = 0; batch < 2_000; batch++) {
        try {
          const answer = await api.post('/v1/events', { events: batchOf(client, batch) }, 'write');
          if (answer.status === 202) {
            acked.push({ client, batch, accepted: answer.body.accepted });
            firstAck();
            continue;
          }
          unacked.push({ client, batch, answer: `${answer.status} ${answer.body?.type ?? ''}` });
        } catch (error) {
          unacked.push({ client, batch, answer: (error as Error).message });
        }
        return;
      }
    });
    await started;
    const delay = between(0, 2_500);

    // Act
    await new Promise((r) => setTimeout(r, delay));
    const stopped = await interrupt(server);
    await Promise.all(clients);
    const restarted = track(await startLocalServer(env));
    const afterRestart = new Set((await storedEvents(data.path)).map(keyOf));
    const resent = [];
    for (const { client, batch } of unacked) {
      resent.push(await api.post('/v1/events', { events: batchOf(client, batch) }, 'write'));
    }
    const final = await storedEvents(data.path);
    await restarted.stop('SIGINT');

    // Assert
    const context = `seed ${SEED}, SIGINT ${delay} ms after the first 202, ${acked.length} batches acknowledged`;
    expect(stopped.code, context).toBe(0);
    expect(stopped.output, context).not.toMatch(STACK_TRACE);
    expect(stopped.output, context).toContain('Pulse stopped');
    expect(acked.length, context).toBeGreaterThan(0);
    const lost = acked
      .flatMap(({ client, batch }) => batchOf(client, batch))
      .filter((event) => !afterRestart.has(keyOf(event)));
    expect(lost, context).toEqual([]);
    // Refusals while stopping are 503s the client may resend (or the connection was refused once closed).
    for (const { answer } of unacked) expect(answer, context).not.toMatch(/^(4\d\d|500)/);
    for (const answer of resent) {
      expect(answer.status, context).toBe(202);
      expect(answer.body.accepted + answer.body.duplicates, context).toBe(25);
    }
    const sent = [...acked, ...unacked].length * 25;
    expect(final, context).toHaveLength(sent);
    expect(new Set(final.map(keyOf)).size, context).toBe(sent);
    const acceptedInTotal = acked.reduce((n, a) => n + a.accepted, 0) + resent.reduce((n, r) => n + r.body.accepted, 0);
    expect(acceptedInTotal, context).toBe(sent);
  }, 300_000);

  it('during a backfill: exit 0; the restart resumes the backfill, which succeeds with one history row per date', async () => {
    // Arrange
    const data = await newDataDir('pulse-stop-run-', E2E_MODELS);
    const env = data.env;
    const server = track(await startLocalServer(env));
    const api = apiOf(env);
    const events = Array.from({ length: 30 }, (_, day) =>
      Array.from({ length: 10 }, (__, u) => ({
        eventId: `d${day}-u${u}`,
        name: 'login',
        userId: `u${u}`,
        timestamp: at(day + 1, u),
      })),
    ).flat();
    for (let i = 0; i < events.length; i += 100) {
      const answer = await api.post('/v1/events', { events: events.slice(i, i + 100) }, 'write');
      expect(answer.status).toBe(202);
    }
    const started = await api.post('/v1/runs', { model: 'activity', from: dateOf(20), to: dateOf(1) });
    expect(started.status).toBe(202);
    const delay = between(0, 4_000);

    // Act
    await new Promise((r) => setTimeout(r, delay));
    const stopped = await interrupt(server);
    const restarted = track(await startLocalServer(env));
    let run: any;
    const deadline = Date.now() + 180_000;
    do {
      await new Promise((r) => setTimeout(r, 250));
      run = (await api.get(`/v1/runs/${started.body.runId}`)).body;
    } while (run.status !== 'succeeded' && run.status !== 'failed' && Date.now() < deadline);
    const history = await api.get('/v1/scores/user/u3/history?model=activity');
    await restarted.stop('SIGINT');

    // Assert
    const context = `seed ${SEED}, SIGINT ${delay} ms after POST /v1/runs`;
    expect(stopped.code, context).toBe(0);
    expect(stopped.output, context).not.toMatch(STACK_TRACE);
    expect(run, context).toMatchObject({ status: 'succeeded', error: null });
    // One row per date (asOf is the end of each date), none twice although a date may have been scored twice.
    const asOfs = history.body.items.map((h: any) => h.asOf);
    expect(asOfs, context).toHaveLength(20);
    expect(new Set(asOfs).size, context).toBe(20);
    if (/unfinished run/.test(stopped.output)) expect(restarted.output(), context).toContain(started.body.runId);
  }, 300_000);

  it('during the demo: exit 0, no stack trace; `npm start -- --demo` again completes it with every demo event once', async () => {
    // Arrange
    const data = await newDataDir('pulse-stop-demo-');
    const env = data.env;
    const server = track(await startLocalServer(env, ['--demo']));
    await server.waitFor(/Loading the demo: .* (\d+) events/, 60_000);
    const delay = between(0, 25_000);

    // Act
    await new Promise((r) => setTimeout(r, delay));
    const stopped = await interrupt(server);
    const markerAtStop = JSON.parse(readFileSync(join(data.path, 'demo.json'), 'utf8'));
    const restarted = track(await startLocalServer(env, ['--demo']));
    await restarted.waitFor(/Demo ready in [\d.]+ s\./, 480_000);
    const marker = JSON.parse(readFileSync(join(data.path, 'demo.json'), 'utf8'));
    const stored = await storedEvents(data.path);
    const api = apiOf(env);
    const scores = await api.get('/v1/scores?model=account&limit=5');
    await restarted.stop('SIGINT');

    // Assert
    const context = `seed ${SEED}, SIGINT ${delay} ms into the demo load (marker then: ${JSON.stringify(markerAtStop)})`;
    expect(stopped.code, context).toBe(0);
    expect(stopped.output, context).not.toMatch(STACK_TRACE);
    expect(stopped.output, context).toContain('Pulse stopped');
    expect(marker, context).toMatchObject({ status: 'loaded', today: markerAtStop.today });
    expect(stored, context).toHaveLength(marker.events);
    expect(new Set(stored.map(keyOf)).size, context).toBe(marker.events);
    expect(scores.body.items, context).toHaveLength(5);
  }, 600_000);
});
