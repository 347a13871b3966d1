// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Api, at, dateOf, runPulse, serverEnv, startLocalServer, useLocalServer } from './support.js';

/**
 * Local mode end to end, the way the README drives it: `npm start`'s server as a child process on free ports in a
 * temp data dir, real HTTP, stopped with SIGTERM and started again on the same data.
 */

// Five users, u1..u5 with 1..5 logins twelve days ago (score 10 × logins under the 7-day `activity` model).
const OLD = 12;
const FIRST_RUN = dateOf(10);
const SECOND_RUN = dateOf(2);
const loginEvents = () =>
  [1, 2, 3, 4, 5].flatMap((n) =>
    Array.from({ length: n }, (_, i) => ({
      eventId: `e2e-u${n}-${i}`,
      name: 'login',
      userId: `u${n}`,
      timestamp: at(OLD, i),
    })),
  );

describe('local mode over HTTP', () => {
  const local = useLocalServer('e2e');

  it('prints the URL, token and write key, and answers /healthz without credentials', async () => {
    // Act
    const health = await local.api.get('/healthz', {});

    // Assert
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(local.server.output()).toContain(`http://127.0.0.1:${local.env.port}`);
    expect(local.server.output()).toContain(local.token);
    expect(local.server.output()).toContain(local.writeKey);
  });

  it('answers 401 problem+json without or with wrong credentials', async () => {
    // Act
    const none = await local.api.get('/v1/models', {});
    const wrong = await local.api.get('/v1/scores?model=activity', { authorization: 'Bearer wrong' });
    const ingest = await new Api(local.api.base, local.token, 'wrong-key').post(
      '/v1/events',
      { events: loginEvents() },
      'write',
    );

    // Assert
    expect(none.status).toBe(401);
    expect(none.type).toContain('application/problem+json');
    expect(wrong.status).toBe(401);
    expect(ingest.status).toBe(401);
  });

  it('ingests, runs and serves scores, paginated highest first', async () => {
    // Arrange
    const identify = await local.api.post(
      '/v1/identify',
      { userId: 'u1', traits: { plan: 'pro' }, messageId: 'e2e-id-1' },
      'write',
    );
    const ingest = await local.api.post('/v1/events', { events: loginEvents() }, 'write');

    // Act
    const run = await local.api.run({ model: 'activity', asOf: FIRST_RUN });
    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await local.api.get(
        `/v1/scores?model=activity&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      pages.push(page.body);
      cursor = page.body.nextCursor;
    } while (cursor);
    const one = await local.api.get('/v1/scores/user/u4?model=activity');

    // Assert
    expect(identify.status).toBe(200);
    expect(ingest).toMatchObject({ status: 202, body: { accepted: 15, duplicates: 0, rejected: [] } });
    expect(run).toMatchObject({ status: 'succeeded', counts: { entities: 5, events: 15 }, error: null });
    expect(run.snapshot.manifest).toContain(`snapshots/model=activity/dt=${FIRST_RUN}/_manifest.json`);
    expect(pages).toHaveLength(3);
    expect(pages.flatMap((p) => p.items.map((i: any) => [i.entityId, i.score]))).toEqual([
      ['u5', 50],
      ['u4', 40],
      ['u3', 30],
      ['u2', 20],
      ['u1', 10],
    ]);
    expect(one.body.scores[0]).toMatchObject({
      score: 40,
      band: 'low',
      contributions: [{ signal: 'logins', value: 4, points: 40 }],
      coverage: { events: 4 },
    });
  });

  it('keeps one history row per run and raises alerts after a drop', async () => {
    // Act: the logins leave the 7-day window by the second run.
    const run = await local.api.run({ model: 'activity', asOf: SECOND_RUN });
    const history = await local.api.get('/v1/scores/user/u5/history?model=activity');
    const alerts = await local.api.get(`/v1/alerts?model=activity&since=${FIRST_RUN}`);

    // Assert
    expect(run.status).toBe('succeeded');
    expect(history.body.items.map((h: any) => [h.asOf.slice(0, 10), h.score, h.delta])).toEqual([
      [dateOf(9), 50, null],
      [dateOf(1), 0, -50],
    ]);
    const u5 = alerts.body.items.filter((a: any) => a.entityId === 'u5').map((a: any) => a.type);
    expect(u5.sort()).toEqual(['BandChanged', 'ScoreDropped']);
    expect(alerts.body.items.find((a: any) => a.entityId === 'u5')).toMatchObject({
      previousScore: 50,
      score: 0,
      previousBand: 'high',
      band: 'low',
    });
  });

  it.each([
    ['/v1/scores?model=activity&limit=5000', 'limit'],
    ['/v1/scores?model=activity&band=ultra', 'band'],
    ['/v1/scores/robot/u1', 'entityType'],
    ['/v1/alerts?since=soon', 'since'],
  ])('answers 400 naming the parameter: %s', async (path, parameter) => {
    const res = await local.api.get(path);
    expect(res.status).toBe(400);
    expect(res.type).toContain('application/problem+json');
    expect(res.body.errors[0].path).toBe(parameter);
  });

  it('serves an OpenAPI document generated from the schemas', async () => {
    const res = await local.api.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.paths['/v1/scores/{entityType}/{entityId}/history'].get.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['entityType', 'entityId', 'model', 'from', 'to']),
    );
  });

  it('pulse ingest reports accepted/duplicates/rejected and resumes from its checkpoint', async () => {
    // Arrange: 1200 events (3 batches) plus one bad line; a checkpoint as left by a run interrupted after line 500.
    const lines = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify({ eventId: `cli-${i}`, name: 'login', userId: `cli-u${i % 40}`, timestamp: at(3, i % 600) }),
    );
    lines.splice(700, 0, '{"name": "login", "userId": "x"'); // line 701: not JSON
    const file = join(local.data.path, 'events.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const checkpoint = `${file}.checkpoint.json`;
    writeFileSync(
      checkpoint,
      JSON.stringify({
        version: 1,
        file,
        size: readFileSync(file).length,
        line: 500,
        accepted: 500,
        duplicates: 0,
        rejected: 0,
        updatedAt: '',
      }),
    );
    const cliEnv = serverEnv(local.env);

    // Act: resume (lines 501…1201 only), then send the whole file again.
    const resumed = await runPulse(['ingest', file, '--url', local.api.base, '--write-key', local.writeKey], cliEnv);
    const again = await runPulse(['ingest', file, '--url', local.api.base, '--write-key', local.writeKey], cliEnv);

    // Assert
    expect(resumed.output).toContain('resuming after line 500');
    expect(resumed.output).toContain('accepted 1200, duplicates 0, rejected 1');
    expect(resumed.output).toContain('line 701: not JSON');
    expect(resumed.code).toBe(1);
    expect(existsSync(checkpoint)).toBe(false);
    expect(again.output).toContain('accepted 500, duplicates 700, rejected 1');
  });

  it('pulse scores lists the local server’s scores as a table', async () => {
    // Act: no --url: finds the server running on PULSE_DATA_DIR.
    const result = await runPulse(['scores', '--model', 'activity', '--limit', '3'], serverEnv(local.env));

    // Assert
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/TYPE\s+ID\s+SCORE\s+BAND\s+DELTA/);
    expect(result.output.split('\n').filter((l) => l.startsWith('user')).length).toBe(3);
  });

  it('stops cleanly on SIGTERM without losing an acknowledged event, and keeps the data across a restart', async () => {
    // Arrange: 16 batches of 100 events in flight when SIGTERM arrives.
    const batches = Array.from({ length: 16 }, (_, b) =>
      Array.from({ length: 100 }, (_, i) => ({
        eventId: `stop-${b}-${i}`,
        name: 'login',
        userId: `s${i}`,
        timestamp: at(1, i),
      })),
    );
    const inFlight = batches.map((events) => local.api.post('/v1/events', { events }, 'write').catch(() => undefined));
    await inFlight[0];

    // Act
    const code = await local.server.stop('SIGTERM');
    const answers = await Promise.all(inFlight);
    const stopped = local.server.output();
    local.server = await startLocalServer(local.env);
    const after = await local.api.get('/v1/scores/user/u5/history?model=activity');
    const events = await local.api.post('/v1/events', { events: loginEvents() }, 'write');
    const acknowledged = batches.filter((_, b) => answers[b]?.status === 202);
    const resent = await Promise.all(acknowledged.map((events) => local.api.post('/v1/events', { events }, 'write')));

    // Assert
    expect(code).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const r of resent) expect(r.body).toMatchObject({ accepted: 0, duplicates: 100 });
    expect(stopped).toContain('Pulse stopped: every acknowledged event is stored.');
    expect(after.body.items).toHaveLength(2);
    expect(events.body).toMatchObject({ accepted: 0, duplicates: 15 });
  });
});
