// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, type Child, freePort, ROOT, runPulse, serverEnv, startLocalServer, tempDir } from './support.js';

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
  let env: Parameters<typeof startLocalServer>[0];

  beforeAll(async () => {
    await receiver.start();
    env = {
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
  describe('the pulse CLI reads scores and alerts', () => {
    const pulse = (...args: string[]) => runPulse(args, serverEnv(env));

    it('pulse show prints the score, band, reasons, contributions and history; --json and --csv parse', async () => {
      // Act
      const table = await pulse('show', 'user', 'w1', '--model', 'activity');
      const json = await pulse('show', 'user', 'w1', '--json');
      const csv = await pulse('show', 'user', 'w2', '--model', 'activity', '--csv');

      // Assert
      expect(table.code).toBe(0);
      expect(table.output).toMatch(/user w1 — activity v1/);
      expect(table.output).toMatch(/score 0\s+band low/);
      expect(table.output).toContain('History');
      expect(json.code).toBe(0);
      const shown = JSON.parse(json.output);
      expect(shown).toMatchObject({ entityType: 'user', entityId: 'w1' });
      expect(shown.scores[0].history.map((h: any) => h.score)).toEqual([60, 0, 0]);
      expect(shown.scores[0].contributions).toEqual([{ signal: 'logins', value: 0, points: 0 }]);
      expect(csv.code).toBe(0);
      const rows = parseCsv(csv.output, { columns: true });
      expect(rows).toEqual([
        expect.objectContaining({ entity_id: 'w2', model: 'activity', part: 'signal', name: 'logins', points: '60' }),
      ]);
    });

    it('pulse show exits 1 for an entity without a score, 2 for a bad type', async () => {
      const missing = await pulse('show', 'user', 'nobody');
      const bad = await pulse('show', 'team', 'x');
      expect(missing.code).toBe(1);
      expect(missing.output).toContain('404');
      expect(bad.code).toBe(2);
      expect(bad.output).toContain('user or account');
    });

    it('pulse alerts lists alerts with reasons; --json and --csv parse', async () => {
      // Act
      const table = await pulse('alerts', '--model', 'activity', '--since', dateOf(5));
      const json = await pulse('alerts', '--since', dateOf(5), '--json');
      const csv = await pulse('alerts', '--since', dateOf(5), '--csv');

      // Assert
      expect(table.code).toBe(0);
      expect(table.output).toMatch(/ScoreDropped\s+user w1\s+60 → 0\s+high → low\s+logins -60/);
      const items = JSON.parse(json.output).items;
      expect(items.length).toBeGreaterThanOrEqual(3);
      const rows = parseCsv(csv.output, { columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength(items.length);
      const w1 = rows.find((r) => r.entity_id === 'w1' && r.type === 'BandChanged')!;
      expect(w1).toMatchObject({ score: '0', previous_score: '60', band: 'low', previous_band: 'high' });
      expect(JSON.parse(w1.reasons!)).toEqual([
        { kind: 'signal', name: 'logins', previousPoints: 60, points: 0, delta: -60 },
      ]);
    });

    it('pulse scores --json and --csv hold the same rows; both flags together is bad usage', async () => {
      // Act
      const json = await pulse('scores', '--model', 'activity', '--json');
      const csv = await pulse('scores', '--model', 'activity', '--csv');
      const both = await pulse('scores', '--json', '--csv');

      // Assert
      expect(json.code).toBe(0);
      const items = JSON.parse(json.output).items;
      const rows = parseCsv(csv.output, { columns: true }) as Record<string, string>[];
      expect(rows.map((r) => [r.entity_id, Number(r.score), r.band])).toEqual(
        items.map((i: any) => [i.entityId, i.score, i.band]),
      );
      expect(rows.find((r) => r.entity_id === 'w2')).toMatchObject({ model: 'activity', score: '60', band: 'high' });
      expect(both.code).toBe(2);
      expect(both.output).toContain('--json or --csv');
    });

    it('pulse run without --as-of scores the last complete day, as a scheduled run does', async () => {
      // Act
      const run = await pulse('run', 'activity');

      // Assert
      expect(run.code).toBe(0);
      expect(run.output).toContain(`(as of ${dateOf(1)})`);
    });
  });
});
