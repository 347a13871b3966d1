// biome-ignore-all lint/suspicious/noExplicitAny: HTTP response bodies are untyped JSON; the assertions check their shape.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_PATHS } from '../../shared/http/ingest-paths.js';
import {
  engineAvailable,
  LOCAL_ENGINES,
  type LocalEngine,
  type LocalServerOnEngine,
  startLocalServerOn,
} from '../support/local-server.js';
import { Api, tempDir } from './support.js';

/**
 * Hostile and unlucky input against the real local server (docs/api.md#limits, #dates, #pagination): what an
 * attacker holding a write key, or an unlucky client, can send. Nothing valid is lost, nothing answers 5xx, nothing
 * blocks the server. Run on each DynamoDB engine local mode supports: dynalite (the embedded default, which counts
 * key sizes in UTF-16 units) and DynamoDB Local (byte-accurate key and item limits, as in AWS).
 */

const DAY = 86_400_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const YESTERDAY = new Date(today - DAY).toISOString().slice(0, 10);
/** An instant yesterday (UTC), minute `m` after 10:00: inside every window, never in the future. */
const at = (m: number) => new Date(today - DAY + 10 * 3_600_000 + m * 60_000).toISOString();

const MODELS: Record<string, string> = {
  'activity.yaml': `name: activity
version: 1
level: user
windowDays: 7
timezone: UTC
cadence: daily
signals:
  - { name: logins, event: login, weight: 10 }
bands:
  - { name: low }
  - { name: high, min: 50 }
`,
  'accounts.yaml': `name: accounts
version: 1
level: account
windowDays: 7
timezone: UTC
cadence: daily
signals:
  - { name: logins, event: login, weight: 1 }
bands:
  - { name: all }
`,
};

/** 64 emoji: 256 UTF-8 bytes (the most an id may have) but only 128 UTF-16 units. */
const LONGEST_ID = '😀'.repeat(64);
/** 256 emoji: 1,024 UTF-8 bytes, past the limit (accepted with 202 before the limits existed). */
const TOO_LONG_ID = '😀'.repeat(256);

/** JSON text of an object nested `levels` deep, built as text (JSON.stringify would recurse that deep). */
const deepJson = (levels: number) => `${'{"a":'.repeat(levels)}{"leaf":true}${'}'.repeat(levels)}`;

/** A raw HTTP request (any method, a body of `bytes` bytes even on GET), answered with status and JSON body. */
function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  bytes: number,
): Promise<{ status: number; type: string; body: any }> {
  return new Promise((resolve, reject) => {
    const body = Buffer.alloc(bytes, 0x20); // spaces: only the size matters, it is refused before parsing
    const req = httpRequest(
      `${url}${path}`,
      {
        method,
        // A fresh connection each: the server closes one after a 413 rather than read the rest of the upload.
        agent: false,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(bytes) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (e.g. an HTML page): kept as text
          }
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: parsed });
        });
      },
    );
    // The server may answer 413 and close before the whole body is written: that is the point.
    // (writing may then fail with EPIPE/ECONNRESET: the answer still arrives, else this fails after a grace period).
    req.on('error', (error) => setTimeout(() => reject(error), 5_000).unref());
    req.end(body);
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function hostileSuite(engine: LocalEngine) {
  const models = tempDir('pulse-hostile-models-');
  let local: LocalServerOnEngine;
  let api: Api;
  const write = () => ({ authorization: `Basic ${Buffer.from(`${local.writeKey}:`).toString('base64')}` });
  const bearer = () => ({ authorization: `Bearer ${local.apiToken}` });
  const send = (path: string, body: unknown) => api.post(path, body, 'write');

  beforeAll(async () => {
    mkdirSync(models.path, { recursive: true });
    for (const [file, text] of Object.entries(MODELS)) writeFileSync(join(models.path, file), text);
    local = await startLocalServerOn(engine, { modelsDir: models.path });
    api = new Api(local.url, local.apiToken, local.writeKey);
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    models.remove();
  });

  it('refuses ids past 256 UTF-8 bytes by name, stores the longest allowed, and two runs of each model succeed', async () => {
    // Act
    const response = await send('/v1/events', {
      events: [
        { eventId: 'long-user', name: 'login', userId: TOO_LONG_ID, timestamp: at(0) },
        { eventId: 'long-account', name: 'login', userId: 'u-long', accountId: TOO_LONG_ID, timestamp: at(1) },
        { eventId: TOO_LONG_ID, name: 'login', userId: 'u-long', timestamp: at(2) },
        { eventId: LONGEST_ID, name: 'login', userId: LONGEST_ID, accountId: LONGEST_ID, timestamp: at(3) },
        { eventId: 'fine', name: 'login', userId: 'u-fine', accountId: 'acme', timestamp: at(4) },
      ],
    });
    const runs = [];
    for (const model of ['activity', 'accounts', 'activity', 'accounts']) {
      runs.push(await api.run({ model, asOf: YESTERDAY }));
    }
    const scored = await api.get(`/v1/scores/user/${encodeURIComponent(LONGEST_ID)}?model=activity`);

    // Assert
    expect(response.status).toBe(202);
    expect(response.body.accepted).toBe(2);
    expect(response.body.rejected.map((r: any) => [r.index, r.errors.map((e: any) => e.path)])).toEqual([
      [0, ['userId']],
      [1, ['accountId']],
      [2, ['eventId']],
    ]);
    expect(JSON.stringify(response.body.rejected)).toContain('256');
    for (const run of runs) {
      expect(run).toMatchObject({ status: 'succeeded', error: null, counts: { skipped: 0 } });
    }
    expect(scored.status).toBe(200);
    expect(scored.body.scores[0]).toMatchObject({ model: 'activity', score: 10 });
  });

  it('refuses a 5,000-deep event alone and stores the 10 good events beside it', async () => {
    // Arrange
    const good = Array.from({ length: 10 }, (_, i) => ({
      eventId: `deep-good-${i}`,
      name: 'login',
      userId: `deep-u${i}`,
      timestamp: at(10 + i),
    }));
    const bad = `{"eventId":"deep-bad","name":"login","userId":"deep-x","timestamp":"${at(30)}","properties":${deepJson(5_000)}}`;
    const body = `{"events":[${[...good.slice(0, 5).map((g) => JSON.stringify(g)), bad, ...good.slice(5).map((g) => JSON.stringify(g))].join(',')}]}`;
    const post = async () => {
      const response = await fetch(`${local.url}/v1/events`, {
        method: 'POST',
        headers: { ...write(), 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, body: (await response.json()) as any };
    };

    // Act: the same request twice, as a retrying client would.
    const first = await post();
    const retry = await post();

    // Assert
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ accepted: 10, duplicates: 0 });
    expect(first.body.rejected).toHaveLength(1);
    expect(first.body.rejected[0].index).toBe(5);
    expect(JSON.stringify(first.body.rejected[0].errors)).toMatch(/properties.*32/);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 10 });
  });

  it('refuses trait growth past the limits with 4xx naming traits; other users in the same Segment batch are stored', async () => {
    // Arrange: 200 traits, then 100 more (past 256), then one trait past 64 KB in total.
    const traits = (prefix: string, n: number, size = 8) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v'.repeat(size)]));
    const track = (userId: string, n: number) => ({
      type: 'track',
      event: 'login',
      userId,
      messageId: `trait-track-${userId}-${n}`,
      timestamp: at(40 + n),
    });

    // Act
    const grown = await send('/v1/batch', {
      batch: [{ type: 'identify', userId: 'hoarder', messageId: 'trait-1', traits: traits('a', 200) }, track('t1', 1)],
    });
    const past = await send('/v1/batch', {
      batch: [
        track('t2', 2),
        { type: 'identify', userId: 'hoarder', messageId: 'trait-2', traits: traits('b', 100) },
        track('t3', 3),
      ],
    });
    // Each call within the 32 KB event limit; together past 64 KB of traits on the third.
    const bulk = [];
    for (const prefix of ['c', 'e']) {
      bulk.push(
        await send('/v1/identify', {
          userId: 'hoarder',
          messageId: `trait-${prefix}`,
          traits: traits(prefix, 20, 1_400),
        }),
      );
    }
    const heavy = await send('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'hoarder', messageId: 'trait-3', traits: traits('f', 10, 1_400) },
        track('t4', 4),
      ],
    });
    const alone = await send('/v1/identify', { userId: 'hoarder', messageId: 'trait-4', traits: traits('d', 300) });
    const later = await send('/v1/track', track('hoarder', 5));
    const resend = await send('/v1/batch', { batch: [track('t2', 2), track('t3', 3), track('t4', 4)] });

    // Assert
    expect(grown).toMatchObject({ status: 200, body: { success: true } });
    expect(bulk.map((b) => b.status)).toEqual([200, 200]);
    for (const refused of [past, heavy]) {
      expect(refused.status).toBe(400);
      expect(refused.body.errors.map((e: any) => e.path)).toEqual([expect.stringMatching(/^batch\[\d\]\.traits$/)]);
    }
    expect(past.body).toMatchObject({ accepted: 2, rejected: [{ index: 1 }] });
    expect(heavy.body).toMatchObject({ accepted: 1, rejected: [{ index: 0 }] });
    expect(heavy.body.errors[0].message).toMatch(/65,536|64 KB/);
    expect(alone.status).toBe(400);
    expect(alone.body.errors[0].path).toBe('traits');
    expect(later).toMatchObject({ status: 200, body: { success: true } });
    expect(resend.body).toEqual({ success: true }); // the neighbours were stored: a resend is all duplicates
  });

  it('keeps two users’ events that share an event id as two events', async () => {
    // Act
    const first = await send('/v1/events', {
      events: [
        { eventId: 'shared-id', name: 'login', userId: 'share-a', timestamp: at(60) },
        { eventId: 'shared-id', name: 'login', userId: 'share-b', timestamp: at(61) },
      ],
    });
    const again = await send('/v1/events', {
      events: [
        { eventId: 'shared-id', name: 'login', userId: 'share-b', timestamp: at(61) },
        { eventId: 'shared-id', name: 'login', userId: 'share-a', timestamp: at(60) },
      ],
    });

    // Assert
    expect(first.body).toMatchObject({ accepted: 2, duplicates: 0, rejected: [] });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 2, rejected: [] });
  });

  it('refuses impossible event timestamps by field (native and Segment), storing the valid events beside them', async () => {
    // Act
    const native = await send('/v1/events', {
      events: [
        { eventId: 'ts-good', name: 'login', userId: 'ts-u', timestamp: at(70) },
        { eventId: 'ts-feb30', name: 'login', userId: 'ts-u', timestamp: '2026-02-30T10:00:00Z' },
        { eventId: 'ts-hour24', name: 'login', userId: 'ts-u', timestamp: '2026-03-01T24:30:00Z' },
      ],
    });
    const segment = await send('/v1/batch', {
      batch: [
        { type: 'track', messageId: 'ts-seg-good', event: 'login', userId: 'ts-s', timestamp: at(71) },
        {
          type: 'track',
          messageId: 'ts-seg-bad',
          event: 'login',
          userId: 'ts-s',
          originalTimestamp: '2025-02-29T00:00:00Z',
        },
      ],
    });

    // Assert: each impossible date is refused alone, naming its field; nothing rolls over into another day.
    expect(native.status).toBe(202);
    expect(native.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(native.body.rejected.map((r: any) => r.index)).toEqual([1, 2]);
    expect(JSON.stringify(native.body.rejected)).toMatch(/timestamp/);
    // A Segment batch with a refused message answers 400 with what was stored (docs/api.md#segment-compatible-routes).
    expect(segment.status).toBe(400);
    expect(segment.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(segment.body.errors).toEqual([expect.objectContaining({ path: 'batch[1].originalTimestamp' })]);
  });

  it('accepts 20 concurrent resends of one event exactly once in total', async () => {
    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        send('/v1/events', { events: [{ eventId: 'race-1', name: 'login', userId: 'racer', timestamp: at(70) }] }),
      ),
    );

    // Assert
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(answers.reduce((n, a) => n + a.body.accepted, 0)).toBe(1);
    expect(answers.reduce((n, a) => n + a.body.duplicates, 0)).toBe(19);
  });

  it('accepts each of two users racing with one event id exactly once', async () => {
    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send('/v1/events', {
          events: [{ eventId: 'race-2', name: 'login', userId: i % 2 ? 'racer-a' : 'racer-b', timestamp: at(71) }],
        }),
      ),
    );

    // Assert
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(answers.reduce((n, a) => n + a.body.accepted, 0)).toBe(2);
    expect(answers.reduce((n, a) => n + a.body.duplicates, 0)).toBe(18);
  });

  it.each([
    ['GET', '/v1/scores/user/u-fine/history?from=2026-02-30', 'from'],
    ['GET', '/v1/scores/user/u-fine/history?to=2026-04-31', 'to'],
    ['GET', '/v1/alerts?since=2026-02-30', 'since'],
    ['GET', '/v1/alerts?since=2026-03-01T24:00:01Z', 'since'],
    ['POST', '/v1/runs', 'from', { model: 'activity', from: '2026-02-30', to: '2026-03-05' }],
    ['POST', '/v1/runs', 'to', { model: 'activity', from: '2026-02-01', to: '2026-02-29' }],
    ['POST', '/v1/runs', 'asOf', { model: 'activity', asOf: '2026-02-30' }],
    [
      'PUT',
      '/v1/overrides/user/u-fine',
      'expiresAt',
      { model: 'activity', band: 'high', reason: 'x', expiresAt: '2027-02-30' },
    ],
    ['POST', '/v1/models/activity/shadow', 'asOf', { draft: {}, asOf: '2026-02-30' }],
  ])('answers an impossible date with 400 naming the field: %s %s → %s', async (method, path, field, body?) => {
    // Act
    const response = await fetch(`${local.url}${path}`, {
      method,
      headers: { ...bearer(), 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const problem = (await response.json()) as any;

    // Assert
    expect(response.status).toBe(400);
    expect(problem.errors.map((e: any) => e.path)).toContain(field);
  });

  it('refuses a 2,000-year backfill with 400 naming the limit while /healthz keeps answering', async () => {
    // Act: the backfill and health checks at the same time.
    const backfill = api.post('/v1/runs', { model: 'activity', from: '1000-01-01', to: '2999-12-31' });
    const health = Promise.all(Array.from({ length: 5 }, () => fetch(`${local.url}/healthz`)));
    const [refused, checks] = await Promise.all([backfill, health]);
    const listed = await api.get('/v1/runs?model=activity&limit=100');

    // Assert
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: 'to', message: expect.stringContaining('at most 366 dates') }]);
    expect(checks.map((c) => c.status)).toEqual([200, 200, 200, 200, 200]);
    expect(listed.body.items.some((r: any) => r.kind === 'backfill')).toBe(false);
  });

  it.each([
    [
      'score cursor with a band index of -1e6',
      '/v1/scores?model=activity&cursor=',
      () => b64({ m: 'activity', f: null, b: -1e6, a: Array(8).fill(null) }),
    ],
    [
      'score cursor past the bands',
      '/v1/scores?model=activity&cursor=',
      () => b64({ m: 'activity', f: null, b: 7, a: Array(8).fill(null) }),
    ],
    [
      'score cursor of another model',
      '/v1/scores?model=activity&cursor=',
      () => b64({ m: 'accounts', f: null, b: 0, a: Array(8).fill(null) }),
    ],
    [
      'score cursor with empty keys',
      '/v1/scores?model=activity&cursor=',
      () => b64({ m: 'activity', f: null, b: 0, a: Array(8).fill('') }),
    ],
    ['alerts cursor ["","",""]', '/v1/alerts?cursor=', () => b64(['', '', ''])],
    ['alerts cursor of empty keys per model', '/v1/alerts?cursor=', () => b64(['', ''])],
    ['alerts cursor that is not JSON', '/v1/alerts?cursor=', () => 'bm90IGpzb24'],
    ['cursor of 10,000 characters', '/v1/scores?model=activity&cursor=', () => 'A'.repeat(10_000)],
  ])('refuses a crafted cursor at once with 400 naming cursor: %s', async (_, path, cursor) => {
    // Act
    const response = await api.get(`${path}${encodeURIComponent(cursor())}`);

    // Assert
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: any) => e.path)).toEqual(['cursor']);
  });

  it('answers 413 with a problem to an oversized body on every route, whatever the method', async () => {
    // Arrange: every route the API documents, plus ingest, the dashboard forms, /healthz and an unknown path.
    const doc = await api.get('/openapi.json');
    const routes: [string, string, Record<string, string>, number][] = [];
    for (const [path, operations] of Object.entries<any>(doc.body.paths)) {
      const concrete = path
        .replace('{entityType}', 'user')
        .replace('{entityId}', 'u-fine')
        .replace('{runId}', 'r1')
        .replace('{name}', 'activity');
      for (const method of Object.keys(operations)) routes.push([method.toUpperCase(), concrete, bearer(), 300_000]);
    }
    for (const path of INGEST_PATHS) {
      routes.push(['POST', path, write(), 600_000]);
    }
    routes.push(['POST', '/login', {}, 300_000], ['POST', '/logout', {}, 300_000], ['POST', '/nowhere', {}, 300_000]);

    // Act
    const answers = [];
    for (const [method, path, headers, bytes] of routes) {
      answers.push([method, path, await rawRequest(local.url, method, path, headers, bytes)] as const);
    }

    // Assert
    expect(routes.length).toBeGreaterThan(20);
    for (const [method, path, answer] of answers) {
      expect([method, path, answer.status]).toEqual([method, path, 413]);
      expect(answer.type, `${method} ${path}`).toContain('application/problem+json');
      expect(answer.body, `${method} ${path}`).toMatchObject({ type: 'urn:pulse:problem:payload-too-large' });
    }
    expect((await fetch(`${local.url}/healthz`)).status).toBe(200);
  });
}

for (const engine of LOCAL_ENGINES) {
  const reason = engineAvailable(engine) ? '' : ' (skipped: no java on PATH for DynamoDB Local)';
  describe.skipIf(!engineAvailable(engine))(`hostile input against the local server on ${engine}${reason}`, () => {
    hostileSuite(engine);
  });
}
