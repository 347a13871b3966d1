// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, type Child, freePort, ROOT, startLocalServer, tempDir } from './support.js';

/**
 * Acting on scores against the real local server (`npm start`'s process on free ports, a temp data dir): alert
 * delivery to a loopback webhook receiver, with reasons, and a receiver that fails.
 */

const DAY = 86_400_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const dateOf = (daysAgo: number) => new Date(today - daysAgo * DAY).toISOString().slice(0, 10);
const at = (daysAgo: number, minute: number) =>
  new Date(today - daysAgo * DAY + 10 * 3_600_000 + minute * 60_000).toISOString();

/** `n` logins of `userId` on the day `daysAgo` (the `activity` model: 10 points a login, 7-day window). */
const logins = (userId: string, n: number, daysAgo: number) =>
  Array.from({ length: n }, (_, i) => ({
    eventId: `${userId}-${daysAgo}-${i}`,
    name: 'login',
    userId,
    timestamp: at(daysAgo, i),
  }));

/** A loopback webhook receiver; `status` is what it answers next. */
class Receiver {
  readonly bodies: any[] = [];
  status = 200;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      req.on('end', () => {
        this.bodies.push(JSON.parse(text));
        res.statusCode = this.status;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

describe('acting on scores, on the local server', () => {
  const data = tempDir('pulse-act-');
  const token = 'act-api-token';
  const writeKey = 'act-write-key';
  const receiver = new Receiver();
  let server: Child;
  let api: Api;

  beforeAll(async () => {
    await receiver.start();
    const env = {
      port: await freePort(),
      s3Port: await freePort(),
      dataDir: data.path,
      apiToken: token,
      writeKey,
      modelsDir: join(ROOT, 'test/e2e/fixtures/models'),
      // The receiver is configured through the environment, as a user would.
      extra: { PULSE_ALERT_WEBHOOK_URL: receiver.url },
    };
    server = await startLocalServer(env);
    api = new Api(`http://127.0.0.1:${env.port}`, token, writeKey);
    // w1 logs in 6 times 12 days ago, w2 6 times 5 days ago, w3 6 times 8 days ago.
    const ingest = await api.post(
      '/v1/events',
      { events: [...logins('w1', 6, 12), ...logins('w2', 6, 5), ...logins('w3', 6, 8)] },
      'write',
    );
    expect(ingest.status).toBe(202);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await receiver.stop();
    data.remove();
  });

  it('POSTs each alert to the webhook with its reasons, and /v1/alerts carries the same reasons', async () => {
    // Arrange: w1 scores 60 (high) as of 8 days ago.
    expect((await api.run({ model: 'activity', asOf: dateOf(8) })).status).toBe('succeeded');
    const before = receiver.bodies.length;

    // Act: as of 4 days ago w1's logins left the window: 60 → 0.
    const run = await api.run({ model: 'activity', asOf: dateOf(4) });

    // Assert
    expect(run.status).toBe('succeeded');
    expect(run.alerts).toMatchObject({ failed: 0 });
    expect(run.alerts.published).toBe(run.alerts.fired);
    const delivered = receiver.bodies.slice(before).filter((b) => b.detail.entity.id === 'w1');
    expect(delivered.map((b) => b['detail-type']).sort()).toEqual(['BandChanged', 'ScoreDropped']);
    for (const body of delivered) {
      expect(body).toMatchObject({
        source: 'pulse',
        detail: { model: 'activity', score: 0, previous: 60, bands: { current: 'low', previous: 'high' } },
      });
      expect(body.detail.reasons).toEqual([
        { kind: 'signal', name: 'logins', previousPoints: 60, points: 0, delta: -60 },
      ]);
    }
    const listed = await api.get(`/v1/alerts?model=activity&since=${dateOf(5)}`);
    const w1 = listed.body.items.filter((a: any) => a.entityId === 'w1');
    expect(w1).toHaveLength(2);
    expect(w1[0].reasons).toEqual(delivered[0].detail.reasons);
  });

  it('a receiver answering 500 does not fail the run: the failure is recorded on it', async () => {
    // Arrange
    receiver.status = 500;
    const before = receiver.bodies.length;

    // Act: as of yesterday w3's logins (8 days ago) left the window: 60 → 0.
    const run = await api.run({ model: 'activity', asOf: dateOf(1) });

    // Assert
    expect(run.status).toBe('succeeded');
    expect(run.alerts.fired).toBeGreaterThan(0);
    expect(run.alerts.failed).toBe(run.alerts.fired);
    expect(run.alerts.errors).toEqual(expect.arrayContaining(['webhook answered HTTP 500']));
    expect(receiver.bodies.length).toBeGreaterThan(before + 1); // retried
    const scores = await api.get('/v1/scores/user/w3?model=activity');
    expect(scores.body.scores[0]).toMatchObject({ score: 0, band: 'low' });
    receiver.status = 200;
  });
});
