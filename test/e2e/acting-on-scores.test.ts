// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { at, dateOf, embeddedS3, logins, parquetRows, runPulse, serverEnv, useLocalServer } from './support.js';

/**
 * Acting on scores against the real local server (`npm start`'s process on free ports, a temp data dir): alert
 * delivery to a loopback webhook receiver, with reasons, and a receiver that fails.
 */

describe('acting on scores, on the local server', () => {
  const receiver = new WebhookReceiver<any>();
  // The server is configured with the receiver's URL through the environment, as a user would.
  const local = useLocalServer('act', async () => {
    await receiver.start('/alerts');
    return { PULSE_ALERT_WEBHOOK_URL: receiver.url };
  });

  beforeAll(async () => {
    // w1 logs in 6 times 12 days ago, w2 6 times 5 days ago, w3 6 times 8 days ago.
    const ingest = await local.api.post(
      '/v1/events',
      { events: [...logins('w1', 6, 12), ...logins('w2', 6, 5), ...logins('w3', 6, 8)] },
      'write',
    );
    expect(ingest.status).toBe(202);
  }, 120_000);

  /** The rows of a snapshot partition, read by DuckDB from the embedded S3 as a BI tool would. */
  async function snapshotRows(model: string, date: string): Promise<Record<string, unknown>[]> {
    const s3 = embeddedS3(local.env);
    try {
      const prefix = `snapshots/model=${model}/dt=${date}/`;
      const columns = 'entity_id, score, raw_score, band, override';
      return await parquetRows(s3, prefix, local.data.path, columns, 'ORDER BY entity_id');
    } finally {
      s3.destroy();
    }
  }

  afterAll(() => receiver.stop());

  it('POSTs each alert to the webhook with its reasons, and /v1/alerts carries the same reasons', async () => {
    // Arrange: w1 scores 60 (high) as of 8 days ago.
    expect((await local.api.run({ model: 'activity', asOf: dateOf(8) })).status).toBe('succeeded');
    const before = receiver.bodies.length;

    // Act: as of 4 days ago w1's logins left the window: 60 → 0.
    const run = await local.api.run({ model: 'activity', asOf: dateOf(4) });

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
    const listed = await local.api.get(`/v1/alerts?model=activity&since=${dateOf(5)}`);
    const w1 = listed.body.items.filter((a: any) => a.entityId === 'w1');
    expect(w1).toHaveLength(2);
    expect(w1[0].reasons).toEqual(delivered[0].detail.reasons);
  });

  it('a receiver answering 500 does not fail the run: the failure is recorded on it', async () => {
    // Arrange
    receiver.answer(500);
    const before = receiver.bodies.length;

    // Act: as of yesterday w3's logins (8 days ago) left the window: 60 → 0.
    const run = await local.api.run({ model: 'activity', asOf: dateOf(1) });

    // Assert
    expect(run.status).toBe('succeeded');
    expect(run.alerts.fired).toBeGreaterThan(0);
    expect(run.alerts.failed).toBe(run.alerts.fired);
    expect(run.alerts.errors).toEqual(expect.arrayContaining(['webhook answered HTTP 500']));
    expect(receiver.bodies.length).toBeGreaterThan(before + 1); // retried
    const scores = await local.api.get('/v1/scores/user/w3?model=activity');
    expect(scores.body.scores[0]).toMatchObject({ score: 0, band: 'low' });
    receiver.answer(200);
  });
  describe('manual overrides', () => {
    const put = async (entity: string, body: Record<string, unknown>) => {
      const response = await fetch(`${local.api.base}/v1/overrides/${entity}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${local.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    };

    it('refuses a past or missing expiry and an unknown band, naming the field', async () => {
      // Act
      const past = await put('user/w2', {
        model: 'activity',
        band: 'low',
        reason: 'call with the customer',
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      });
      const missing = await put('user/w2', { model: 'activity', band: 'low', reason: 'x' });
      const band = await put('user/w2', {
        model: 'activity',
        band: 'platinum',
        reason: 'x',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      const level = await put('account/w2', {
        model: 'activity',
        band: 'low',
        reason: 'x',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });

      // Assert
      expect(past.status).toBe(400);
      expect(past.body.errors).toEqual([{ path: 'expiresAt', message: 'must be in the future' }]);
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0].path).toBe('expiresAt');
      expect(band.status).toBe(400);
      expect(band.body.errors[0]).toMatchObject({ path: 'band', message: expect.stringContaining('low, high') });
      expect(level.status).toBe(400);
      expect(level.body.errors[0].path).toBe('model');
      expect((await local.api.get('/v1/overrides?model=activity')).body.items).toEqual([]);
    });

    it('holds until it expires: runs publish the overridden band, keep rawScore, and raise no BandChanged', async () => {
      // Arrange: w2 scores 60 (high) as of yesterday; a customer-success manager knows better, for a short while.
      const expiresAt = new Date(Date.now() + 20_000).toISOString();
      const set = await put('user/w2', {
        model: 'activity',
        band: 'low',
        reason: 'renewal call went badly',
        expiresAt,
      });
      expect(set.status).toBe(200);
      const listed = await local.api.get('/v1/overrides?model=activity');
      const alertsBefore = receiver.bodies.length;

      // Act: re-run yesterday while the override holds.
      const held = await local.api.run({ model: 'activity', asOf: dateOf(1) });
      const during = await local.api.get('/v1/scores/user/w2?model=activity');
      const history = await local.api.get('/v1/scores/user/w2/history?model=activity');
      const snapshot = await snapshotRows('activity', dateOf(1));

      // Assert
      expect(listed.body.items).toEqual([
        expect.objectContaining({ entityType: 'user', entityId: 'w2', band: 'low', expiresAt }),
      ]);
      expect(held.status).toBe('succeeded');
      expect(during.body.scores[0]).toMatchObject({
        score: 60,
        rawScore: 60,
        band: 'low',
        contributions: [{ signal: 'logins', value: 6, points: 60 }],
        override: { band: 'low', reason: 'renewal call went badly', expiresAt },
      });
      expect(history.body.items.at(-1)).toMatchObject({ band: 'low', override: { band: 'low' } });
      const w2 = snapshot.find((r) => r.entity_id === 'w2')!;
      expect(w2).toMatchObject({ band: 'low', raw_score: 60 });
      expect(JSON.parse(String(w2.override))).toMatchObject({ band: 'low', expiresAt });
      expect(snapshot.find((r) => r.entity_id === 'w1')!.override).toBeNull();
      const w2Alerts = receiver.bodies
        .slice(alertsBefore)
        .filter((b) => b.detail.entity.id === 'w2' && b['detail-type'] === 'BandChanged');
      expect(w2Alerts).toEqual([]);

      // Act: once it expired, it ends by itself.
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now() + 500)));
      const after = await local.api.run({ model: 'activity', asOf: dateOf(1) });
      const ended = await local.api.get('/v1/scores/user/w2?model=activity');

      // Assert
      expect(after.status).toBe('succeeded');
      expect(ended.body.scores[0]).toMatchObject({ score: 60, band: 'high', override: null });
      expect((await local.api.get('/v1/overrides?model=activity')).body.items).toEqual([]);
    }, 90_000);

    it('DELETE ends an override at once; a second DELETE is a 404', async () => {
      // Arrange
      await put('user/w3', {
        model: 'activity',
        score: 99,
        reason: 'strategic account',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      const del = (entity: string) =>
        fetch(`${local.api.base}/v1/overrides/${entity}?model=activity`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${local.token}` },
        });

      // Act
      const first = await del('user/w3');
      const second = await del('user/w3');

      // Assert
      expect(first.status).toBe(204);
      expect(second.status).toBe(404);
      expect((await local.api.get('/v1/overrides')).body.items).toEqual([]);
    });
  });

  describe('per-entity export', () => {
    it('GET /v1/entities/{type}/{id}/export holds its events, traits, scores, history and alerts; other entities stay out', async () => {
      // Act
      const exported = await local.api.get('/v1/entities/user/w1/export');
      const unknown = await local.api.get('/v1/entities/user/nobody/export');

      // Assert
      expect(exported.status).toBe(200);
      const body = exported.body;
      expect(body).toMatchObject({
        entityType: 'user',
        entityId: 'w1',
      });
      // Traits come from identify calls; w1 only sent events, so it has no entity record.
      expect(body).toHaveProperty('entity', null);
      expect(body.events.map((e: any) => e.eventId).sort()).toEqual(
        logins('w1', 6, 12)
          .map((e) => e.eventId)
          .sort(),
      );
      expect(body.events[0]).toMatchObject({ name: 'login', userId: 'w1', timestamp: at(12, 0) });
      expect(body.scores.map((s: any) => s.model)).toEqual(['activity']);
      expect(body.history.length).toBeGreaterThanOrEqual(3);
      expect(body.alerts.map((a: any) => a.type).sort()).toEqual(['BandChanged', 'ScoreDropped']);
      expect(JSON.stringify(body)).not.toContain('"w2"');
      expect(unknown.status).toBe(404);
    });

    it('pulse export writes the same JSON to a file', async () => {
      // Act
      const out = join(local.data.path, 'w1.json');
      const result = await runPulse(['export', 'user', 'w1', '--out', out], serverEnv(local.env));

      // Assert
      expect(result.code).toBe(0);
      const file = JSON.parse(readFileSync(out, 'utf8'));
      expect(file.events).toHaveLength(6);
      expect(file.entityId).toBe('w1');
    });
  });

  describe('the pulse CLI reads scores and alerts', () => {
    const pulse = (...args: string[]) => runPulse(args, serverEnv(local.env));

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
