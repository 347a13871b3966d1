// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import type { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ScoringEvent } from '../../../shared/domain/event.js';
import { apiRoutes } from '../../../shared/http/api-routes.js';
import { createApp } from '../../../shared/http/app.js';
import { staticWriteKeys } from '../../../shared/http/auth.js';
import { LocalRunner } from '../../../shared/run/local-runner.js';
import { shadowRun } from '../../../shared/run/shadow.js';
import { model, weeklyLogins } from '../../support/engine.js';
import { type MemoryDeps, memoryDeps } from '../../support/run-fixture.js';

const TOKEN = 'test-token';
const NOW = Date.parse('2026-03-10T12:00:00Z');

const activity = weeklyLogins('activity', { perLogin: 10, high: 50, drop: 15 });
const accounts = model({
  name: 'accounts',
  level: 'account',
  windowDays: 7,
  signals: [{ name: 'logins', event: 'login', weight: 1 }],
  bands: [{ name: 'all' }],
});

let counter = 0;
function logins(userId: string, date: string, count: number): ScoringEvent[] {
  const start = Date.parse(`${date}T10:00:00Z`);
  return Array.from({ length: count }, (_, i) => ({
    eventId: `ev-${++counter}`,
    name: 'login',
    userId,
    accountId: 'acme',
    timestamp: start + i * 60_000,
  }));
}

interface Fixture {
  app: Hono;
  deps: MemoryDeps;
  runner: LocalRunner;
}

function fixture(): Fixture {
  const deps = memoryDeps([activity, accounts], NOW, { pageSize: 50 });
  const runner = new LocalRunner(deps);
  const app = createApp({
    ingest: {
      events: deps.events,
      entities: deps.entities,
      writeKeys: staticWriteKeys(['wk']),
      telemetry: { record() {} },
    },
    apiRoutes: apiRoutes({
      auth: { mode: 'token', token: TOKEN },
      models: () => [...deps.models.values()],
      scores: deps.scores,
      runs: deps.runs,
      alerts: deps.alertStore,
      entities: deps.entities,
      launcher: { start: (request) => runner.submit(request) },
      shadow: (request) => shadowRun(deps, request),
      clock: () => NOW,
    }),
  });
  return { app, deps, runner };
}

const auth = { authorization: `Bearer ${TOKEN}` };
async function get(app: Hono, path: string, headers: Record<string, string> = auth) {
  const response = await app.request(path, { headers });
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as any };
}
async function post(app: Hono, path: string, body: unknown) {
  const response = await app.request(path, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('scores API auth', () => {
  const { app } = fixture();
  const routes = [
    '/v1/scores?model=activity',
    '/v1/scores/user/u1',
    '/v1/scores/user/u1/history',
    '/v1/models',
    '/v1/runs/x',
    '/v1/alerts',
    '/openapi.json',
  ];

  it.each(routes)('answers 401 problem+json without credentials: %s', async (path) => {
    // Act
    const res = await get(app, path, {});

    // Assert
    expect(res.status).toBe(401);
    expect(res.type).toContain('application/problem+json');
    expect(res.body.items).toBeUndefined();
  });

  it.each(routes)('answers 401 with a wrong token: %s', async (path) => {
    const res = await get(app, path, { authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
  });

  it('refuses the write key as an API credential and the API token on ingest', async () => {
    // Act
    const withWriteKey = await get(app, '/v1/models', {
      authorization: `Basic ${Buffer.from('wk:').toString('base64')}`,
    });
    const ingest = await app.request('/v1/events', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [] }),
    });

    // Assert
    expect(withWriteKey.status).toBe(401);
    expect(ingest.status).toBe(401);
  });

  it('serves /healthz without credentials', async () => {
    const res = await get(app, '/healthz', {});
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});

describe('scores API', () => {
  let f: Fixture;

  beforeEach(async () => {
    f = fixture();
    // Arrange: five users with 1..5 logins on 2026-03-01 (score = 10 × logins), all in account acme.
    for (let i = 1; i <= 5; i++) await f.deps.events.putEvents(logins(`u${i}`, '2026-03-01', i));
    await f.runner.run({ model: 'activity', asOf: '2026-03-01' });
  });

  it('returns one entity with contributions, penalties, coverage and trend', async () => {
    // Act
    const res = await get(f.app, '/v1/scores/user/u3?model=activity');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.entityType).toBe('user');
    expect(res.body.scores).toHaveLength(1);
    const s = res.body.scores[0];
    expect(s).toMatchObject({
      model: 'activity',
      modelVersion: 1,
      score: 30,
      rawScore: 30,
      band: 'low',
      previousScore: null,
    });
    expect(s.contributions).toEqual([{ signal: 'logins', value: 3, points: 30 }]);
    expect(s.penalties).toEqual([]);
    expect(s.coverage.events).toBe(3);
    expect(Array.isArray(s.reasons)).toBe(true);
  });

  it('answers 404 for an entity never seen', async () => {
    const res = await get(f.app, '/v1/scores/user/ghost');
    expect(res.status).toBe(404);
    expect(res.type).toContain('application/problem+json');
  });

  it('answers 200 with no scores for a known entity not scored yet', async () => {
    // Arrange
    await f.deps.entities.upsert([{ entityType: 'user', entityId: 'newbie', traits: { plan: 'pro' }, seenAt: NOW }]);

    // Act
    const res = await get(f.app, '/v1/scores/user/newbie');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.scores).toEqual([]);
    expect(res.body.traits).toEqual({ plan: 'pro' });
  });

  it('lists scores highest first across pages with an opaque cursor', async () => {
    // Act
    const first = await get(f.app, '/v1/scores?model=activity&limit=2');
    const second = await get(
      f.app,
      `/v1/scores?model=activity&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    const third = await get(
      f.app,
      `/v1/scores?model=activity&limit=2&cursor=${encodeURIComponent(second.body.nextCursor)}`,
    );

    // Assert
    const ids = [...first.body.items, ...second.body.items, ...third.body.items].map((i: any) => i.entityId);
    expect(ids).toEqual(['u5', 'u4', 'u3', 'u2', 'u1']);
    expect(third.body.nextCursor).toBeNull();
    expect(first.body.items[0]).toEqual({
      entityType: 'user',
      entityId: 'u5',
      model: 'activity',
      score: 50,
      band: 'high',
      delta: null,
    });
  });

  it('filters the list by band', async () => {
    const res = await get(f.app, '/v1/scores?model=activity&band=high');
    expect(res.body.items.map((i: any) => i.entityId)).toEqual(['u5']);
  });

  it.each([
    ['/v1/scores?model=activity&limit=0', 'limit'],
    ['/v1/scores?model=activity&limit=abc', 'limit'],
    ['/v1/scores?model=activity&limit=1001', 'limit'],
    ['/v1/scores?model=activity&band=purple', 'band'],
    ['/v1/scores?model=nope', 'model'],
    ['/v1/scores', 'model'],
    ['/v1/scores?model=activity&cursor=garbage', 'cursor'],
    ['/v1/scores?model=activity&sort=asc', 'sort'],
    ['/v1/scores/robot/u1', 'entityType'],
    ['/v1/scores/user/u1/history?from=yesterday', 'from'],
    ['/v1/scores/user/u1/history?from=2026-03-05&to=2026-03-01', 'from'],
    ['/v1/alerts?since=last-week', 'since'],
    ['/v1/scores/user/u1/history?from=2026-02-30', 'from'],
    ['/v1/scores/user/u1/history?to=2026-13-01', 'to'],
    ['/v1/scores/user/u1/history?from=2026-03-01T24:30:00Z', 'from'],
    ['/v1/scores/user/u1/history?from=2026-03-01T10:00:00', 'from'],
    ['/v1/alerts?since=2026-02-30', 'since'],
    ['/v1/alerts?since=0000-01-01', 'since'],
  ])('answers 400 naming the parameter: %s', async (path, parameter) => {
    // Act
    const res = await get(f.app, path);

    // Assert
    expect(res.status).toBe(400);
    expect(res.type).toContain('application/problem+json');
    expect(res.body.errors.map((e: any) => e.path)).toContain(parameter);
  });

  it('keeps one history item per run, oldest first, and fires alerts after a drop', async () => {
    // Arrange: a second run a week later; u5's logins have left the 7-day window.
    await f.deps.events.putEvents(logins('u1', '2026-03-07', 1));
    await f.runner.run({ model: 'activity', asOf: '2026-03-08' });

    // Act
    const history = await get(f.app, '/v1/scores/user/u5/history?model=activity');
    const ranged = await get(f.app, '/v1/scores/user/u5/history?model=activity&from=2026-03-02');
    const alerts = await get(f.app, '/v1/alerts?since=2026-03-01&model=activity');
    const current = await get(f.app, '/v1/scores/user/u5');

    // Assert
    expect(history.body.items.map((i: any) => [i.asOf, i.score, i.delta])).toEqual([
      ['2026-03-02T00:00:00.000Z', 50, null],
      ['2026-03-09T00:00:00.000Z', 0, -50],
    ]);
    expect(ranged.body.items).toHaveLength(1);
    const u5 = alerts.body.items.filter((a: any) => a.entityId === 'u5');
    expect(u5.map((a: any) => a.type).sort()).toEqual(['BandChanged', 'ScoreDropped']);
    expect(u5[0]).toMatchObject({ model: 'activity', score: 0, previousScore: 50, band: 'low', previousBand: 'high' });
    expect(current.body.scores[0]).toMatchObject({ previousScore: 50, delta: -50, previousBand: 'high' });
    expect(current.body.scores[0].reasons[0]).toMatchObject({ name: 'logins', delta: -50 });
  });

  it('lists the active models', async () => {
    const res = await get(f.app, '/v1/models');
    expect(res.body.items.map((m: any) => m.name)).toEqual(['activity', 'accounts']);
    expect(res.body.items[0]).toMatchObject({
      level: 'user',
      windowDays: 7,
      bands: [
        { name: 'low', min: null },
        { name: 'high', min: 50 },
      ],
    });
  });

  it('lists the latest runs newest first, each with its band counts, histogram and movers', async () => {
    // Arrange
    const first = await post(f.app, '/v1/runs', { model: 'activity', asOf: '2026-03-01' });
    await f.runner.idle();
    const second = await post(f.app, '/v1/runs', { model: 'accounts', asOf: '2026-03-01' });
    await f.runner.idle();

    // Act
    const all = await get(f.app, '/v1/runs?limit=10');
    const one = await get(f.app, '/v1/runs?model=activity');
    const bad = await get(f.app, '/v1/runs?model=nope');

    // Assert
    expect(all.status).toBe(200);
    expect(all.body.items.map((r: any) => r.runId)).toEqual(
      expect.arrayContaining([first.body.runId, second.body.runId]),
    );
    expect(new Set(one.body.items.map((r: any) => r.model))).toEqual(new Set(['activity']));
    expect(one.body.items.map((r: any) => r.runId)).toContain(first.body.runId);
    const latest = one.body.items.find((r: any) => r.runId === first.body.runId);
    const summary = latest.summary;
    const scored = latest.counts.entities;
    expect(summary.bands.map((b: any) => b.band)).toEqual(['low', 'high']);
    expect(summary.bands.reduce((n: number, b: any) => n + b.count, 0)).toBe(scored);
    expect(summary.histogram.reduce((n: number, b: any) => n + b.count, 0)).toBe(scored);
    expect(latest.alerts).toMatchObject({ failed: 0 });
    expect(bad.status).toBe(400);
  });

  it('starts a run (202) that GET /v1/runs follows to succeeded', async () => {
    // Act
    const started = await post(f.app, '/v1/runs', { model: 'accounts', asOf: '2026-03-01' });
    await f.runner.idle();
    const run = await get(f.app, `/v1/runs/${started.body.runId}`);

    // Assert
    expect(started.status).toBe(202);
    expect(started.body.status).toBe('queued');
    expect(run.body).toMatchObject({ runId: started.body.runId, model: 'accounts', status: 'succeeded', error: null });
    expect(run.body.counts).toEqual({ entities: 1, events: 15, skipped: 0 });
    expect(run.body.snapshot.manifest).toMatch(
      /^s3:\/\/test-bucket\/snapshots\/model=accounts\/dt=2026-03-01\/_manifest\.json$/,
    );
  });

  it('starts a backfill and reports its progress by date', async () => {
    // Act
    const started = await post(f.app, '/v1/runs', { model: 'activity', from: '2026-03-01', to: '2026-03-03' });
    await f.runner.idle();
    const run = await get(f.app, `/v1/runs/${started.body.runId}`);

    // Assert
    expect(started.status).toBe(202);
    expect(run.body).toMatchObject({ kind: 'backfill', status: 'succeeded', progress: { done: 3, total: 3 } });
    expect(run.body.runs).toHaveLength(3);
  });

  it.each([
    [{ model: 'nope', asOf: '2026-03-01' }, 'model'],
    [{ model: 'activity', asOf: 'tomorrow' }, 'asOf'],
    [{ model: 'activity' }, 'asOf'],
    [{ model: 'activity', from: '2026-03-01' }, 'to'],
    [{ model: 'activity', asOf: '2026-03-01', from: '2026-03-01', to: '2026-03-02' }, 'asOf'],
    [{ model: 'activity', from: '2026-03-05', to: '2026-03-01' }, 'from'],
    [{ model: 'activity', from: '2024-01-01', to: '2026-03-01' }, 'to'],
    [{ model: 'activity', asOf: '2026-03-01', extra: 1 }, 'extra'],
    [{ model: 'activity', from: '2026-02-30', to: '2026-03-01' }, 'from'],
    [{ model: 'activity', from: '2026-02-01', to: '2026-02-29' }, 'to'],
    [{ model: 'activity', asOf: '2026-02-30' }, 'asOf'],
    [{ model: 'activity', from: '2026-03-01T00:00:00Z', to: '2026-03-02' }, 'from'],
    [{ model: 'activity', from: '1000-01-01', to: '2999-12-31' }, 'to'],
  ])('rejects a bad run request naming the field: %j', async (body, field) => {
    const res = await post(f.app, '/v1/runs', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: any) => e.path)).toContain(field);
  });

  it('answers malformed JSON and an empty key with a 400 naming the body or the key', async () => {
    // Act
    const malformed = await f.app.request('/v1/runs', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"model":',
    });
    const emptyKey = await post(f.app, '/v1/runs', { model: 'activity', asOf: '2026-03-01', '': 1 });

    // Assert
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).errors.map((e: any) => e.path)).toEqual(['(body)']);
    expect(emptyKey.body.errors).toEqual([{ path: '""', message: 'is not a parameter of this route' }]);
  });

  it('refuses a 2,000-year backfill naming the limit, before creating any run', async () => {
    // Act
    const res = await post(f.app, '/v1/runs', { model: 'activity', from: '1000-01-01', to: '2999-12-31' });
    const runs = await get(f.app, '/v1/runs?limit=100');

    // Assert
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'to', message: expect.stringMatching(/at most 366 dates \(got 730,?485\)/) },
    ]);
    expect(runs.body.items.filter((r: any) => r.runId.includes('10000101'))).toEqual([]);
  });

  it('answers 404 for an unknown run', async () => {
    const res = await get(f.app, '/v1/runs/nope');
    expect(res.status).toBe(404);
  });

  it('shadow-runs a draft and reports band changes without publishing', async () => {
    // Arrange: a draft that doubles the weight (u3: 30 → 60 crosses into high).
    const draft = { ...activity, version: 2, signals: [{ name: 'logins', event: 'login', weight: 20 }] };
    const before = await get(f.app, '/v1/scores?model=activity');

    // Act
    const res = await post(f.app, '/v1/models/activity/shadow', { draft, asOf: '2026-03-01' });
    const after = await get(f.app, '/v1/scores?model=activity');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.changes.map((c: any) => c.entityId).sort()).toEqual(['u3', 'u4']);
    expect(after.body).toEqual(before.body);
  });

  it('rejects an invalid draft naming the field', async () => {
    const res = await post(f.app, '/v1/models/activity/shadow', { draft: { ...activity, windowDays: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: any) => e.path)).toContain('draft.windowDays');
  });

  it('generates /openapi.json from the route schemas', async () => {
    // Act
    const res = await get(f.app, '/openapi.json');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/scores/{entityType}/{entityId}',
        '/v1/scores',
        '/v1/scores/{entityType}/{entityId}/history',
        '/v1/models',
        '/v1/runs',
        '/v1/runs/{runId}',
        '/v1/alerts',
        '/healthz',
        '/v1/models/{name}/shadow',
      ]),
    );
    const params = res.body.paths['/v1/scores'].get.parameters.map((p: any) => p.name);
    expect(params).toEqual(['model', 'band', 'limit', 'cursor']);
    expect(res.body.components.schemas.EntityScore.required).toEqual(
      expect.arrayContaining(['contributions', 'penalties', 'coverage', 'reasons', 'previousScore', 'delta']),
    );
  });
});
